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
    POLL_SECONDS: ClassVar[float] = 0.0
    #: False for panes fed by the app (the log panes) instead of their own poll.
    POLLED: ClassVar[bool] = True

    DEFAULT_CSS = """
    Pane {
        border: round $primary-darken-2;
        border-title-color: $text;
        height: 1fr;
        padding: 0 1;
        &:focus-within { border: round $accent; }
        /* one line whatever the width: a long path is shortened in its middle (set_status) */
        .pane-status { color: $text-muted; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
        .pane-status.-problem { color: $warning; }
        /* a horizontal scrollbar would take a row from a short pane: the keys scroll sideways */
        DataTable { scrollbar-size-horizontal: 0; }
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
        self._status_shown: tuple[str, bool, str, int] | None = None
        self._status_text: tuple[str, bool, str] = ("", False, "")

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

    def set_status(self, text: str, problem: bool = False, squeeze: str = "") -> None:
        """One line of status. ``squeeze`` is a part of ``text`` (a path) that is shortened in
        its middle when the line is wider than the pane, so its start and its file name stay."""
        self._status_text = (text, problem, squeeze)
        width = self.status.size.width or max(20, self.size.width - 4)
        # an unchanged status is not re-set: Static.update re-lays out the screen
        if (text, problem, squeeze, width) == self._status_shown:
            return
        self._status_shown = (text, problem, squeeze, width)
        if squeeze and squeeze in text and len(text) > width:
            # at least "…/file.name": the file name says what it is
            room = max(min(len(squeeze), len(squeeze.rsplit("/", 1)[-1]) + 2), len(squeeze) - (len(text) - width))
            text = text.replace(squeeze, middle_ellipsis(squeeze, room), 1)
        self.status.update(Content(text))
        self.status.set_class(problem, "-problem")

    def on_resize(self) -> None:
        if self._status_text[2]:  # the squeezed part depends on the width
            self.call_after_refresh(lambda: self.set_status(*self._status_text))


def middle_ellipsis(text: str, width: int) -> str:
    """``/tmp/mailtui-demo-x1y2/fail2ban.log`` in ``width`` characters: ``/tmp/…/fail2ban.log``.

    A path keeps its last component whole when it can (the file name says what it is), and as
    much of its start as fits."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    _, sep, tail = text.rpartition("/")
    if sep and len(tail) + 2 <= width:
        tail = sep + tail
        return text[: width - len(tail) - 1] + "…" + tail
    keep = width - 1
    front = (keep + 1) // 2
    return text[:front] + "…" + text[len(text) - (keep - front):]
