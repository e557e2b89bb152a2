"""Queued messages (all, or those deferred for one reason) with hold / release / delete.

Of this machine's Postfix, or of a fleet host's (``fleet`` and ``host``): then the messages are
that host's agent's listing, the confirmation names the host, each action goes to its agent
(refused first by ``Fleet.refusal``), and the list is asked for again after it.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from mailtui.fleet.fleet import Fleet, HostQueue
from mailtui.system.queue import QueuedMessage
from mailtui.system.units import human_age, human_bytes, plural
from mailtui.ui.panes.base import read_only_bindings
from mailtui.ui.screens.dialog import Dialog

#: key -> (action, verb shown in the confirmation)
ACTIONS = {"h": ("hold", "Hold"), "r": ("release", "Release"), "d": ("delete", "Delete")}


class QueueScreen(Dialog[None]):
    DEFAULT_CSS = """
    QueueScreen > .dialog-box { width: 120; height: 80%; }
    QueueScreen DataTable { height: 1fr; }
    QueueScreen #queue-reason { height: auto; max-height: 4; color: $text-muted; }
    """
    WRITE_ACTIONS = frozenset({"act"})
    BINDINGS = read_only_bindings(
        [
            Binding("h", "act('h')", "Hold"),
            Binding("r", "act('r')", "Release"),
            Binding("d", "act('d')", "Delete"),
        ],
        WRITE_ACTIONS,
    )
    HELP_TITLE = "Mail queue"

    def __init__(
        self,
        title: str,
        messages: list[QueuedMessage],
        now: float,
        *,
        postfix_dir: str,
        read_only: bool,
        fleet: Fleet | None = None,
        host: str = "",
        reason: str = "",
        total: int | None = None,
    ) -> None:
        super().__init__()
        self.postfix_dir = postfix_dir  # [postfix] config_dir: which Postfix the actions go to
        self.read_only = read_only
        self.fleet = fleet  # with host: the messages are that host's, the actions go to its agent
        self.host = host
        self.deferral = reason  # a deferral reason's dialog: what is asked for again after an action
        self.title_text = title
        self.messages = {m.queue_id: m for m in messages}
        self.total = len(self.messages) if total is None else total  # the host's listing may be capped
        self.now = now
        self.table: DataTable[Text] = DataTable(cursor_type="row", id="queue-table")
        self.reason = Static("", markup=False, id="queue-reason")
        self.box = Vertical(classes="dialog-box")

    def compose(self) -> ComposeResult:
        with self.box:
            self.box.border_subtitle = Content("h hold · r release · d delete · esc/q close")
            yield self.table
            yield self.reason

    def on_mount(self) -> None:
        self.table.add_columns("queue id", "queue", "age", "size", "sender", "recipients")
        self._fill()
        self.table.focus()

    def _fill(self) -> None:
        shown = len(self.messages)
        count = f"{shown} of {plural(self.total, 'message')}" if self.total > shown else plural(shown, "message")
        # a long reason is cut so that the count still shows in the border
        title = self.title_text if len(self.title_text) <= 72 else self.title_text[:71] + "…"
        self.box.border_title = Content(f"{title} · {count}")
        self.table.clear()
        for m in self.messages.values():
            self.table.add_row(
                Text(m.queue_id),
                Text(m.queue),
                Text(human_age(self.now - m.arrival)),
                Text(human_bytes(m.size)),
                Text(m.sender or "<>"),
                Text(", ".join(r.address for r in m.recipients)),
                key=m.queue_id,
            )

    def selected(self) -> QueuedMessage | None:
        if self.table.row_count == 0:
            return None
        key = self.table.coordinate_to_cell_key(Coordinate(self.table.cursor_row, 0)).row_key.value
        return self.messages.get(key or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        m = self.selected()
        reasons = sorted({r.reason for r in m.recipients if r.reason}) if m else []
        self.reason.update(Content("\n".join(reasons)))

    def action_act(self, key: str) -> None:
        from mailtui.ui.screens.confirm import ConfirmScreen

        if self.read_only:
            self.notify("read-only mode: queue actions are disabled", severity="warning", markup=False)
            return
        message = self.selected()
        if message is None:
            return
        action, verb = ACTIONS[key]
        if self.fleet is not None:
            refused = self.fleet.refusal(self.host, action)
            if refused:  # before any question: a read-only or disconnected host is not asked
                self.notify(refused, severity="warning", markup=False)
                return
        question = Content.assemble(
            f"{verb} message ", (message.queue_id, "bold"), " from ", (message.sender or "<>", "bold")
        )
        if self.fleet is not None:
            question = Content.assemble(question, " on host ", (self.host, "bold"))
        question = Content.assemble(question, "?")

        def done(yes: bool | None) -> None:
            if yes:
                self._run(action, message.queue_id)

        self.app.push_screen(ConfirmScreen(question, verb), done)

    @work(thread=True, group="queue-action", exit_on_error=False)
    def _run(self, action: str, queue_id: str) -> None:
        if self.fleet is not None:
            self._run_remote(self.fleet, action, queue_id)
            return
        from mailtui.system.queue_actions import QueueActionError, change

        try:
            result, severity = change(action, queue_id, self.postfix_dir), "information"
        except QueueActionError as exc:
            result, severity = str(exc), "error"
        self.app.call_from_thread(self.notify, result, severity=severity, markup=False)
        if severity == "information":
            self.app.call_from_thread(self._mark, queue_id, action)

    def _run_remote(self, fleet: Fleet, action: str, queue_id: str) -> None:
        """The action on the host's agent, then the host's list again (a message that vanished
        meanwhile is one line, and leaves the list)."""
        from mailtui.fleet.link import RemoteError
        from mailtui.system.queue_actions import QueueActionError

        try:
            result, severity = f"{self.host}: {fleet.queue_action(self.host, action, queue_id)}", "information"
        except (RemoteError, QueueActionError, ConnectionError, TimeoutError, KeyError) as exc:
            result, severity = str(exc).strip("'\""), "error"
        self.app.call_from_thread(self.notify, result, severity=severity, markup=False)
        try:
            listed = fleet.queue(self.host, self.deferral)
        except (RemoteError, ConnectionError, TimeoutError, KeyError) as exc:
            self.app.call_from_thread(self.notify, str(exc).strip("'\""), severity="error", markup=False)
            return
        self.app.call_from_thread(self.refill, listed)

    def refill(self, listed: HostQueue) -> None:
        """The host's list as asked for again: the highlighted message stays highlighted."""
        current = self.selected()
        self.messages = {m.queue_id: m for m in listed.messages}
        self.total, self.now = listed.total, listed.taken
        self._fill()
        if current is not None and current.queue_id in self.messages:
            self.table.move_cursor(row=list(self.messages).index(current.queue_id))

    def _mark(self, queue_id: str, action: str) -> None:
        state = {"hold": "hold", "release": "deferred", "delete": "deleted"}[action]
        row = list(self.messages).index(queue_id)
        self.table.update_cell_at(Coordinate(row, 1), Text(state, "bold"))
