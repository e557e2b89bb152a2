"""The "who is complaining?" lookup: a timeline of one user, address, IP or host, explained.

One timeline in time order across every source, under a summary (addresses, users, first and
last seen, logins that worked or failed, problems by kind); each problem with its context
diagnosis settled against the live configuration (the app's Explainer).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from mailtui.analysis.live import LiveEntry
from mailtui.analysis.who import Pair, WhoResult, conversation, lookup
from mailtui.core.record import several_hosts
from mailtui.ui.screens.dialog import Dialog
from mailtui.ui.widgets.log_lines import NARROW_HOST_WIDTH, SEVERITY_MARK, host_names

GAP = 60  # seconds of silence that start a new paragraph


def _pairs(entries: list[LiveEntry]) -> Iterator[Pair]:
    """(record, match) of each entry: a LiveEntry is its own match (it offers what Match offers)."""
    return cast("Iterator[Pair]", ((e.record, e.match) for e in entries))


def timeline_content(result: WhoResult, summary: bool = True) -> Content:
    if not result.lines:
        return Content(f"Nothing in the loaded lines mentions {result.query}.")
    parts = [Content.styled(f"{result.query}: {len(result.lines)} lines, {len(result.problems)} problems", "bold")]
    if summary:
        parts += [Content.styled(f"  {line}", "$text-muted") for line in result.summary().text_lines()]
    # several hosts (a message relayed between ours, a user on the MX and the IMAP host): each line says which
    hosts = host_names(result.hosts) if several_hosts(result.hosts) else {}
    width = max(len(n) for n in hosts.values()) if hosts else 0
    width = min(width, NARROW_HOST_WIDTH * 2)
    last_ts: float | None = None
    for t in result.lines:
        ts = t.record.timestamp
        if last_ts is None or (ts is not None and ts - last_ts >= GAP):
            parts.append(Content(""))
        last_ts = ts if ts is not None else last_ts
        when = datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else "--:--:--"
        headline = t.headline
        mark, style = SEVERITY_MARK[headline.severity if headline else "info"]
        parts.append(
            Content.assemble(
                (mark, style),
                " ",
                (when, "dim"),
                " ",
                (hosts[t.record.host][:width].ljust(width) + " " if hosts else "", "$accent"),
                (t.record.program[:24].ljust(24), "$secondary"),
                " ",
                t.record.message,
            )
        )
        if t.match is not None and headline is not None and headline.rank >= 1:
            parts.append(Content.assemble("    → ", (headline.title, "bold"), ": ", t.match.summary))
            if t.note:
                parts.append(Content.assemble("    → ", (t.note, "$warning")))
    if result.truncated:
        parts.append(Content.styled("(timeline cut)", "italic"))
    return Content("\n").join(parts)


class TimelineScreen(Dialog[None]):
    """A large modal holding a scrollable timeline; closed with escape."""

    class Ready(Message):
        """A lookup finished (posted by its worker; dropped if the screen is gone by then)."""

        def __init__(self, result: WhoResult) -> None:
            super().__init__()
            self.result = result

    def on_timeline_screen_ready(self, message: TimelineScreen.Ready) -> None:
        message.stop()
        self._show(message.result)

    def _show(self, result: WhoResult) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_result(self, result: WhoResult) -> None:
        if not get_current_worker().is_cancelled:  # a newer query took over
            self.post_message(self.Ready(result))

    DEFAULT_CSS = """
    TimelineScreen > .dialog-box { width: 120; height: 90%; }
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
        self.body = Static(Content("Type an email address, user name, IP or host name, then Enter."), markup=False)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Who is complaining?"
            yield Input(value=self.initial, placeholder="osakana@example.net, 203.0.113.7, alice …", id="who-query")
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
        self._lookup(query)  # exclusive: a newer query cancels the one still searching

    @work(thread=True, exclusive=True, group="who", exit_on_error=False)
    def _lookup(self, query: str) -> None:
        entries = self.entries
        explainer = getattr(self.app, "explainer", None)
        settle = explainer.settle if explainer is not None else None
        self._post_result(lookup(lambda: _pairs(entries), query, settle))

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
        with Vertical(classes="dialog-box") as box:
            box.border_title = "Conversation"
            with VerticalScroll():
                yield self.body

    def on_mount(self) -> None:
        self._collect()

    @work(thread=True, group="conversation", exit_on_error=False)
    def _collect(self) -> None:
        entries = self.entries
        explainer = getattr(self.app, "explainer", None)
        settle = explainer.settle if explainer is not None else None
        self._post_result(conversation(lambda: _pairs(entries), self.target.record, settle))

    def _show(self, result: WhoResult) -> None:
        self.result = result
        self.body.update(timeline_content(result, summary=False))
