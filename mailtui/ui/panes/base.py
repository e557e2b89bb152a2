"""Base class of every pane: a bordered, maximizable box with a status line.

A pane owns a data source that runs in a thread worker. The worker only collects a
plain object and posts it back as a message; the pane renders it on the UI thread and
then schedules the next poll, so polls never overlap and a slow source never blocks
the screen or another pane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static


@dataclass(frozen=True)
class SourceResult:
    """What a poll produced: data, or the reason there is none."""

    data: Any = None
    error: str = ""


class Pane(Vertical, can_focus=True):
    """A dashboard pane. Subclasses set TITLE/PANE_ID and override ``collect``/``show``."""

    ALLOW_MAXIMIZE = True
    TITLE: ClassVar[str] = ""
    PANE_ID: ClassVar[str] = ""
    #: seconds between polls; 0 means poll once at mount.
    POLL_SECONDS: float = 0.0  # a pane may set its own from the config
    #: False for panes fed by the app (the log panes) instead of their own poll.
    POLLED: ClassVar[bool] = True

    DEFAULT_CSS = """
    Pane {
        border: round $primary-darken-2;
        border-title-color: $text;
        height: 1fr;
        padding: 0 1;
        &:focus-within { border: round $accent; }
        .pane-status { color: $text-muted; }
        .pane-status.-problem { color: $warning; }
    }
    """

    class Collected(Message):
        """A poll finished (posted from the worker thread)."""

        def __init__(self, pane: Pane, result: SourceResult) -> None:
            super().__init__()
            self.pane = pane
            self.result = result

    def __init__(self) -> None:
        super().__init__(id=self.PANE_ID)
        self.border_title = Content(self.TITLE)
        self.status = Static("", markup=False, classes="pane-status")
        self._next_poll: Timer | None = None
        self._status_shown: tuple[str, bool] | None = None

    def compose_body(self):  # pragma: no cover - overridden
        return []

    def compose(self):
        yield self.status
        yield from self.compose_body()

    def on_mount(self) -> None:
        if self.POLLED:
            self.start_poll()

    def on_focus(self) -> None:
        # the pane is focusable so empty panes can be selected and maximized; when it holds a
        # focusable widget (log view, table), that widget takes the keys
        child = next((w for w in self.query("*") if w.focusable and w is not self), None)
        if child is not None:
            child.focus()

    def start_poll(self) -> None:
        self.run_worker(self._poll_thread, thread=True, exclusive=True,
                        group=f"poll-{self.PANE_ID}", exit_on_error=False)

    def _poll_thread(self) -> None:
        try:
            result = self.collect()
        except Exception as exc:  # noqa: BLE001 - a failing source must not take the app down
            result = SourceResult(error=f"{type(exc).__name__}: {exc}")
        self.post_message(self.Collected(self, result))

    def on_pane_collected(self, message: Pane.Collected) -> None:
        if message.pane is not self:
            return
        message.stop()
        self.show(message.result)
        if self.POLL_SECONDS > 0 and self.is_mounted:
            # an extra poll (after an action) must not start a second chain of timers
            if self._next_poll is not None:
                self._next_poll.stop()
            self._next_poll = self.set_timer(self.POLL_SECONDS, self.start_poll)

    # -- to override -------------------------------------------------------------------------
    def collect(self) -> SourceResult:
        """Runs in a worker thread: gather data, touch no widget."""
        return SourceResult(error="no data source")

    def show(self, result: SourceResult) -> None:
        """Runs on the UI thread with the latest result."""
        self.set_status(result.error, problem=bool(result.error))

    def set_status(self, text: str, problem: bool = False) -> None:
        # an unchanged status is not re-set: Static.update re-lays out the screen
        if (text, problem) == self._status_shown:
            return
        self._status_shown = (text, problem)
        self.status.update(Content(text))
        self.status.set_class(problem, "-problem")
