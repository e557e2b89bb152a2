"""The Logs pane: every configured source, tailed live, recognized lines marked by severity.

``/`` opens the filter line (see mailtui.ui.logfilter for its words), ``s`` searches with
the same words and ``n``/``N`` go to the next/previous match, ``c`` shows the selected line's
whole conversation (queue ID, smtpd connection, Dovecot session), ``y`` copies the selected
line to the clipboard (OSC 52; Enter then ``y`` copies a whole diagnosis), ``p`` pauses and resumes
following, ``end`` jumps to the newest line, Enter explains the selected line, ``W`` wraps long
lines (and unwraps them), left/right scroll an unwrapped view sideways.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input

from mailtui.analysis.live import LiveEntry
from mailtui.ui.logfilter import FilterError, Predicate, compile_filter
from mailtui.ui.panes.base import KeyInput, Pane
from mailtui.ui.widgets.log_lines import LogLines


class LogsPane(Pane):
    """Fed by the app's tail worker (``add``), not polled."""

    TITLE = "Logs"
    PANE_ID = "logs"
    DEFAULT_CSS = """
    LogsPane #log-filter { display: none; height: 3; }
    LogsPane.-filtering #log-filter { display: block; }
    """
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "search", "Search"),
        Binding("n", "find(True)", "Next match", show=False),
        Binding("N", "find(False)", "Previous match", show=False),
        Binding("c", "conversation", "Conversation"),
        Binding("y", "copy_line", "Copy"),
        Binding("p", "pause", "Pause"),
        # w is "who?" everywhere; W wraps (left/right scroll sideways while not wrapping)
        Binding("W", "toggle_wrap", "Wrap"),
    ]
    ENTER_HELP = "Explain the selected line (what happened, why, settings, fix)"
    MOVE_KEYS = " ← →"
    MOVE_HELP = ", ← → sideways"

    def __init__(self, max_lines: int = 20000) -> None:
        super().__init__()
        self.lines = LogLines(max_lines=max_lines, id="log-lines")
        self.filter_input = KeyInput(
            placeholder="words: text !text re:REGEX sev:warn prog:smtpd host:mx1 known",
            id="log-filter",
            open_class="-filtering",
        )
        self.sources: list[str] = []
        self.filter_text = ""
        self.search_text = ""
        self._search: Predicate | None = None  # compiled search predicate
        self._input_mode = "filter"  # what the input line is editing: "filter" or "search"

    def compose_body(self) -> ComposeResult:
        yield self.lines
        yield self.filter_input

    def add(self, batch: list[LiveEntry]) -> None:
        self.lines.add(batch)

    def set_sources(self, names: list[str], problems: list[str]) -> None:
        self.sources = names
        self._retitle()
        if problems:
            self.set_status("; ".join(problems), problem=True)
        elif not names:
            self.set_status("no log found: pass --log PATH or set [logs] in the config (mailtui config)", problem=True)
        else:
            self.set_status("")
        self.status.display = bool(problems) or not names

    def action_filter(self) -> None:
        self._open_input("filter", self.filter_text)

    def action_search(self) -> None:
        self._open_input("search", self.search_text)

    def _open_input(self, mode: str, value: str) -> None:
        self._input_mode = mode
        self.filter_input.placeholder = (
            "search (same words as the filter), then n / N"
            if mode == "search"
            else "words: text !text re:REGEX sev:warn prog:smtpd host:mx1 known"
        )
        self.open_input(self.filter_input, value)

    def action_find(self, forward: bool) -> None:
        if self._search is None:
            self.action_search()
            return
        if not self.lines.find(self._search, forward):
            self.notify(f"no line matches {self.search_text}", markup=False)
        self._retitle()

    def action_copy_line(self) -> None:
        """The selected raw line to the terminal's clipboard (OSC 52: works over SSH)."""
        entry = self.lines.selected
        if entry is None:
            self.notify("select a line first (up/down)", markup=False)
            return
        self.app.copy_to_clipboard(entry.record.line)
        self.notify("line copied to the clipboard (OSC 52)", markup=False)

    def action_conversation(self) -> None:
        from mailtui.ui.screens.who import ConversationScreen

        entry = self.lines.selected
        if entry is None:
            self.notify("select a line first (up/down)", markup=False)
            return
        self.app.push_screen(ConversationScreen(list(self.lines.entries), entry))

    def action_toggle_wrap(self) -> None:
        self.lines.set_wrap(not self.lines.wrap)
        self._retitle()

    def action_pause(self) -> None:
        if self.lines.following:
            self.lines.set_following(False)
        else:
            self.lines.action_follow()
        self._retitle()

    @on(Input.Submitted, "#log-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            predicate = compile_filter(event.value)
        except FilterError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return  # the line stays open to fix it
        self.close_input(self.filter_input)
        if self._input_mode == "search":
            self.search_text = event.value.strip()
            self._search = predicate if self.search_text else None
            if self._search is not None:
                self.action_find(False)  # the newest match first, as an admin reads a log
        else:
            self.filter_text = event.value.strip()
            self.lines.set_filter(predicate)
        self._retitle()

    def on_log_lines_follow_changed(self, message: LogLines.FollowChanged) -> None:
        self._retitle()

    def _retitle(self) -> None:
        state = "following" if self.lines.following else f"paused · +{self.lines.pending} new (end)"
        title = f"Logs · {state} · {', '.join(self.sources) or 'no source'}"
        if self.lines.wrap:
            title += " · wrapped (W)"
        if self.filter_text:
            title += f" · filter: {self.filter_text}"
        if self.search_text:
            title += f" · search: {self.search_text} (n/N)"
        # a plain str border title is parsed as markup: a filter like re:[/x would crash it
        self.border_title = Content(title)
