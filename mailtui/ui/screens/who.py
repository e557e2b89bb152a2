"""The "who is complaining?" lookup: a timeline of one user, address, IP or host, explained."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from mailtui.logs.live import LiveEntry
from mailtui.logs.who import WhoResult, conversation, lookup
from mailtui.ui.screens.dialog import Dialog
from mailtui.ui.widgets.log_lines import SEVERITY_MARK


def timeline_content(result: WhoResult) -> Content:
    if not result.lines:
        return Content(f"Nothing in the loaded lines mentions {result.query}.")
    parts = [Content.styled(f"{result.query}: {len(result.lines)} lines, {len(result.problems)} problems",
                            "bold")]
    last = None
    for t in result.lines:
        conv = t.keys[0] if t.keys else None
        if conv != last:
            parts.append(Content(""))
            last = conv
        when = datetime.fromtimestamp(t.record.timestamp).strftime("%H:%M:%S") if t.record.timestamp else "--:--:--"
        severity = t.match.recognizer.severity if t.match else "info"
        mark, style = SEVERITY_MARK[severity]
        parts.append(Content.assemble((mark, style), " ", (when, "dim"), " ",
                                      (t.record.program[:24].ljust(24), "$secondary"), " ", t.record.message))
        if t.match is not None and t.match.recognizer.rank >= 1:
            parts.append(Content.assemble("    → ", (t.match.recognizer.title, "bold"), ": ", t.match.summary))
            if t.note:
                parts.append(Content.assemble("    → ", (t.note, "$warning")))
    if result.truncated:
        parts.append(Content.styled("(timeline cut)", "italic"))
    return Content("\n").join(parts)


class TimelineScreen(Dialog[None]):
    """A large modal holding a scrollable timeline; closed with escape."""

    DEFAULT_CSS = """
    TimelineScreen { align: center middle; }
    TimelineScreen > Vertical {
        width: 120; max-width: 98%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    TimelineScreen VerticalScroll { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class WhoScreen(TimelineScreen):

    def __init__(self, entries: list[LiveEntry], query: str = "") -> None:
        super().__init__()
        self.entries = entries
        self.initial = query
        self.result: WhoResult | None = None
        self.body = Static(Content("Type an email address, user name, IP or host name, then Enter."),
                           markup=False)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Who is complaining?"
            yield Input(value=self.initial, placeholder="osakana@example.net, 203.0.113.7, alice …",
                        id="who-query")
            with VerticalScroll():
                yield self.body

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.initial:
            self.search(self.initial)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.search(event.value)

    def search(self, query: str) -> None:
        self.body.update(Content.styled(f"searching {len(self.entries):,} lines…", "italic"))
        self.run_worker(lambda: self._lookup(query), thread=True, exclusive=True, exit_on_error=False)

    def _lookup(self, query: str) -> None:
        entries = self.entries
        result = lookup(lambda: ((e.record, e.match) for e in entries), query)
        self.app.call_from_thread(self._show, result)

    def _show(self, result: WhoResult) -> None:
        self.result = result
        self.body.update(timeline_content(result))



class ConversationScreen(TimelineScreen):
    """Every line of the selected line's conversation (queue ID, smtpd connection, Dovecot session)."""

    BINDINGS = [Binding("c", "dismiss", "Close")]

    def __init__(self, entries: list[LiveEntry], target: LiveEntry) -> None:
        super().__init__()
        self.entries = entries
        self.target = target
        self.result: WhoResult | None = None
        self.body = Static(Content.styled(f"collecting from {len(entries):,} lines…", "italic"), markup=False)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Conversation"
            with VerticalScroll():
                yield self.body

    def on_mount(self) -> None:
        self.run_worker(self._collect, thread=True, exit_on_error=False)

    def _collect(self) -> None:
        entries = self.entries
        result = conversation(lambda: ((e.record, e.match) for e in entries), self.target.record)
        self.app.call_from_thread(self._show, result)

    def _show(self, result: WhoResult) -> None:
        self.result = result
        self.body.update(timeline_content(result))

