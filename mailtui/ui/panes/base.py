"""Base classes of the panes: a bordered, maximizable box with a status line (``Pane``), and
one that polls its own data source (``PolledPane``).

A polled pane's source runs in a thread worker. The worker only collects a plain object and
posts it back as a message; the pane renders it on the UI thread and then schedules the next
poll, so polls never overlap and a slow source never blocks the screen or another pane. Panes
fed by the app (Logs, Problems) or by a check the admin starts (DNS) are plain panes.

The focus model lives here too: focusing a pane focuses its main widget (a table or the
log view), never an input; an input line (``KeyInput``) takes focus only when its key
opens it and gives back the value it had on escape. Tables move with the arrows and
j/k/g/G/Home/End/PgUp/PgDn and keep the selected row by identity across refills
(``refill_table``). Actions that change the server are hidden from the footer under
--read-only, and their key then says why it does nothing (``read_only_bindings``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, WorkerState

from mailtui.ui.messages import NodeMessage

#: the action every read-only-refused key runs instead (see read_only_bindings)
REFUSE_ACTION = "refuse_read_only"


def read_only_bindings(bindings: Sequence[BindingType], write_actions: Iterable[str]) -> list[BindingType]:
    """``bindings`` plus, for each one that changes the server, a hidden twin that runs under
    --read-only instead and says why nothing happens. ``check_action`` hides the original
    (so the footer does not offer it) and enables the twin only when read-only."""
    writes = set(write_actions)
    out = list(bindings)
    for b in bindings:
        if isinstance(b, Binding) and b.action.split("(", 1)[0] in writes:
            what = b.description.lower() or b.action
            out.append(replace(b, action=f"{REFUSE_ACTION}({what!r})", show=False, id=None))
    return out


def read_only_state(node: Any, action: str, write_actions: Iterable[str]) -> bool | None:
    """check_action for nodes with write actions: hide them under --read-only, show the twin then."""
    read_only = bool(getattr(node.app, "read_only", False))
    if action in write_actions:
        return not read_only
    if action == REFUSE_ACTION:
        return read_only
    return True


def refuse(node: Widget | App[Any], what: str) -> None:
    node.notify(
        f"read-only mode: {what} is disabled (started with --read-only or --demo)", severity="warning", markup=False
    )


#: where a failed worker's traceback goes (Textual's devtools console and TEXTUAL_LOG get it too)
log = logging.getLogger("mailtui.ui")


def notify_failed_worker(node: Widget | App[Any], event: Worker.StateChanged) -> None:
    """A worker that died of an exception becomes a visible one-line notification and a log entry
    with its traceback, not silence.

    Every node that runs workers with ``exit_on_error=False`` (the panes, the dialogs, the app)
    hands its ``Worker.StateChanged`` here: that message does not bubble, so no single handler
    up the DOM would see them all. ``ReportsFailedWorkers`` is that handler."""
    if event.state is not WorkerState.ERROR:
        return
    worker = event.worker
    error = worker.error
    what = worker.group if worker.group != "default" else worker.name
    text = f"{what} failed: {type(error).__name__}: {error}"
    node.notify(text, severity="error", markup=False)
    exc_info = (type(error), error, error.__traceback__) if isinstance(error, BaseException) else None
    log.error("%s (worker %r of %s)", text, worker.name, type(node).__name__, exc_info=exc_info)
    node.log.error(text)


class ReportsFailedWorkers:
    """Mixin for every node that runs workers: a failed one is said on screen and logged."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        assert isinstance(self, (Widget, App))
        notify_failed_worker(self, event)


class KeyInput(Input):
    """An input line that takes focus only when its key opens it (``/``, ``d``, ``s``).

    Until then it is not focusable, so Tab, a click or a pane switch can never land in it and
    no global key is ever typed into it. Escape (or leaving it) puts back the value it had
    when opened and posts ``Closed``; Enter posts Input.Submitted as usual and the pane
    decides whether to close it (an invalid value keeps it open, with a message).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    class Closed(NodeMessage):
        """The input was left without submitting (escape or focus moved away)."""

        def __init__(self, key_input: KeyInput) -> None:
            super().__init__(key_input)
            self.key_input = key_input

    def __init__(self, *args: Any, open_class: str = "-editing", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.can_focus = False
        #: the CSS class the owning pane carries while this input is open (it is shown then)
        self.open_class = open_class
        self.is_open = False
        self._before = ""

    def open(self, value: str | None = None) -> None:
        self._before = self.value if value is None else value
        self.value = self._before
        self.is_open = True
        self.can_focus = True
        self.screen.set_focus(self)  # at once: the text typed right after "/" belongs in here
        self.cursor_position = len(self.value)

    def close(self) -> None:
        """Make it unfocusable again (the value stays as it is)."""
        self.is_open = False
        self.can_focus = False

    def action_cancel(self) -> None:
        self.value = self._before
        self.close()
        self.post_message(self.Closed(self))

    def on_blur(self, event: events.Blur) -> None:
        # focus moved elsewhere (a click, Tab to another pane): the same as escape; a dialog
        # pushed on top, or the terminal window losing focus (Textual then blurs and later
        # refocuses the widget), is not leaving it
        if self.is_open and self.app.app_focus and self.screen is self.app.screen:
            self.action_cancel()


class PaneTable(DataTable[Any]):
    """A DataTable with the keys every list in the dashboard shares."""

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("g,home", "scroll_top", "First", show=False),
        Binding("G,end", "scroll_bottom", "Last", show=False),
    ]

    def selected_key(self) -> str:
        if self.row_count == 0:
            return ""
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value or "")


def refill_table(table: DataTable[Any], rows: Sequence[tuple[Sequence[Text], str]]) -> None:
    """Replace every row, keeping the highlighted row by its key (not its position).

    Rows re-sort as data changes; an action (b, u, Enter) must act on the row the admin chose,
    so the cursor follows that row. A key that is gone leaves the cursor at the same position.
    Keys must be unique; a repeated one gets a suffix.
    """
    before = table.cursor_row
    chosen = ""
    if table.row_count:
        chosen = str(table.coordinate_to_cell_key(Coordinate(before, 0)).row_key.value or "")
    table.clear()
    seen: dict[str, int] = {}
    index = -1
    for i, (cells, key) in enumerate(rows):
        n = seen.get(key, 0)
        seen[key] = n + 1
        unique = key if n == 0 else f"{key}#{n}"
        table.add_row(*cells, key=unique)
        if unique == chosen:
            index = i
    if not table.row_count:
        return
    table.move_cursor(row=index if index >= 0 else min(before, table.row_count - 1), animate=False)


@dataclass(frozen=True)
class SourceResult:
    """What a poll produced: data, or the reason there is none."""

    data: Any = None
    error: str = ""


class Pane(ReportsFailedWorkers, Vertical, can_focus=True):
    """A dashboard pane. Subclasses set TITLE/PANE_ID and compose their body."""

    ALLOW_MAXIMIZE = True
    TITLE: ClassVar[str] = ""
    PANE_ID: ClassVar[str] = ""

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

    def __init__(self) -> None:
        super().__init__(id=self.PANE_ID)
        self.border_title = Content(self.TITLE)
        self.status = Static("", markup=False, classes="pane-status")
        self._status_shown: tuple[str, bool, str, int] | None = None
        self._status_text: tuple[str, bool, str] = ("", False, "")

    def compose_body(self):  # pragma: no cover - overridden
        return []

    def compose(self):
        yield self.status
        yield from self.compose_body()

    #: actions that change a server: hidden and refused under --read-only
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()
    #: what Enter does on the pane's main widget, for the help screen ("" = nothing)
    ENTER_HELP: ClassVar[str] = ""
    #: keys and words added to the help's "move in the list" row
    MOVE_KEYS: ClassVar[str] = ""
    MOVE_HELP: ClassVar[str] = ""

    def main_widget(self) -> Widget | None:
        """The widget that takes the pane's keys: its table or log view, never an input."""
        for widget in self.query("*"):
            if widget.can_focus and not isinstance(widget, Input) and widget.display:
                return widget
        return None

    def focus_main(self) -> None:
        # at once, not with Widget.focus() (which waits a moment): a key typed right after the
        # one that chose this pane ("4/", "3b") must reach this pane, not the one before
        self.screen.set_focus(self.main_widget() or self)

    def on_focus(self, event: events.Focus) -> None:
        # the pane is focusable so empty panes can be selected and maximized; its main widget
        # takes the keys
        target = self.main_widget()
        if target is not None:
            target.focus()

    def open_input(self, key_input: KeyInput, value: str | None = None) -> None:
        self.add_class(key_input.open_class)
        key_input.open(value)

    def close_input(self, key_input: KeyInput) -> None:
        key_input.close()
        self.remove_class(key_input.open_class)
        if self.app.focused is None or self.app.focused is key_input:
            self.focus_main()

    def on_key_input_closed(self, message: KeyInput.Closed) -> None:
        message.stop()
        self.close_input(message.key_input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return read_only_state(self, action, self.WRITE_ACTIONS)

    def action_refuse_read_only(self, what: str) -> None:
        refuse(self, what)

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


class PolledPane(Pane):
    """A pane that polls its own source: ``collect`` in a thread worker, ``show`` on the UI thread.

    ``poll_seconds`` is the pause between polls (0: poll once at mount); each pane instance sets
    its own (from the config), the class only gives the default.
    """

    DEFAULT_POLL_SECONDS: ClassVar[float] = 0.0

    class Collected(NodeMessage):
        """A poll finished (posted from the worker thread); a newer result replaces a queued one."""

        LATEST_ONLY = True

        def __init__(self, pane: PolledPane, result: SourceResult) -> None:
            super().__init__(pane)
            self.result = result

    def __init__(self) -> None:
        super().__init__()
        self.poll_seconds = self.DEFAULT_POLL_SECONDS
        self._next_poll: Timer | None = None

    def on_mount(self) -> None:
        self.start_poll()

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def start_poll(self) -> None:
        """Collect once in a thread worker and post the result (exclusive: a poll started after an
        action marks the one still running as cancelled; whichever result comes last is shown)."""
        try:
            result = self.collect()
        except Exception as exc:  # noqa: BLE001 - a failing source must not take the app down
            result = SourceResult(error=f"{type(exc).__name__}: {exc}")
        self.post_message(self.Collected(self, result))

    def on_polled_pane_collected(self, message: PolledPane.Collected) -> None:
        if message.node is not self:
            return
        message.stop()
        self.show(message.result)
        if self.poll_seconds > 0 and self.is_mounted:
            # an extra poll (after an action) must not start a second chain of timers
            if self._next_poll is not None:
                self._next_poll.stop()
            self._next_poll = self.set_timer(self.poll_seconds, self.start_poll)

    # -- to override -------------------------------------------------------------------------
    def collect(self) -> SourceResult:
        """Runs in a worker thread: gather data, touch no widget."""
        return SourceResult(error="no data source")

    def show(self, result: SourceResult) -> None:
        """Runs on the UI thread with the latest result."""
        self.set_status(result.error, problem=bool(result.error))


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
    return text[:front] + "…" + text[len(text) - (keep - front) :]
