"""The Logs pane: every configured source, tailed live, recognized lines marked by severity."""

from __future__ import annotations

from textual.app import ComposeResult

from mailtui.logs.live import LiveEntry
from mailtui.ui.panes.base import Pane, SourceResult
from mailtui.ui.widgets.log_lines import LogLines


class LogsPane(Pane):
    TITLE = "Logs"
    PANE_ID = "logs"
    POLLED = False  # fed by the app's tail worker

    def __init__(self, max_lines: int = 20000) -> None:
        super().__init__()
        self.lines = LogLines(max_lines=max_lines, id="log-lines")
        self.sources: list[str] = []

    def compose_body(self) -> ComposeResult:
        yield self.lines

    def add(self, batch: list[LiveEntry]) -> None:
        self.lines.add(batch)

    def set_sources(self, names: list[str], problems: list[str]) -> None:
        self.sources = names
        self._retitle()
        if problems:
            self.set_status("; ".join(problems), problem=True)
        elif not names:
            self.set_status("no log found: pass --log PATH or set [logs] in the config (mailtui config)",
                            problem=True)
        else:
            self.set_status("")
        self.status.display = bool(problems) or not names

    def on_log_lines_follow_changed(self, message: LogLines.FollowChanged) -> None:
        self._retitle()

    def _retitle(self) -> None:
        state = "following" if self.lines.following else f"paused · +{self.lines.pending} new (end)"
        self.border_title = f"Logs · {state} · {', '.join(self.sources) or 'no source'}"

    def show(self, result: SourceResult) -> None:  # not polled
        pass
