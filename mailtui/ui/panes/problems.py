"""The Problems pane: recognized problems grouped by recognizer, most severe and recent first."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import DataTable

from mailtui.logs.live import LiveEntry
from mailtui.recognizers.model import Recognizer
from mailtui.ui.panes.base import Pane, SourceResult
from mailtui.ui.widgets.log_lines import SEVERITY_MARK


@dataclass
class ProblemGroup:
    recognizer: Recognizer
    count: int = 0
    last: float = 0.0
    last_entry: LiveEntry | None = None
    who: Counter[str] = field(default_factory=Counter)


def _ago(ts: float, now: float) -> str:
    d = max(0, int(now - ts))
    return f"{d}s ago" if d < 60 else f"{d // 60}m ago" if d < 3600 else f"{d // 3600}h ago"


class ProblemsPane(Pane):
    TITLE = "Problems"
    PANE_ID = "problems"
    POLLED = False

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, ProblemGroup] = {}
        self.table = DataTable(cursor_type="row", zebra_stripes=False, id="problems-table")

    def compose_body(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.add_columns("", "count", "problem", "who", "last")
        self.set_status("no problems recognized yet")

    def add(self, batch: list[LiveEntry]) -> None:
        changed = False
        for entry in batch:
            m = entry.match
            if m is None or m.recognizer.rank < 1:
                continue
            group = self.groups.get(m.recognizer.id)
            if group is None:
                group = self.groups[m.recognizer.id] = ProblemGroup(m.recognizer)
            group.count += 1
            group.last = entry.record.timestamp or time.time()
            group.last_entry = entry
            who = m.fields.get("user") or m.fields.get("client_ip")
            if who:
                group.who[who] += 1
            changed = True
        if changed:
            self.refresh_table()

    def ordered(self) -> list[ProblemGroup]:
        return sorted(self.groups.values(), key=lambda g: (-g.recognizer.rank, -g.last))

    def refresh_table(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.table.clear()
        for group in self.ordered():
            mark, style = SEVERITY_MARK[group.recognizer.severity]
            who = ", ".join(f"{k} ×{n}" for k, n in group.who.most_common(2))
            # cells are Text objects: DataTable would parse plain strings as markup
            self.table.add_row(Text(mark, style), Text(str(group.count)), Text(group.recognizer.title),
                               Text(who), Text(_ago(group.last, now)), key=group.recognizer.id)
        self.status.display = not self.groups
        self.border_title = Content(f"Problems · {sum(g.count for g in self.groups.values())} recognized")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        group = self.groups.get(str(event.row_key.value))
        if group is not None and group.last_entry is not None:
            from mailtui.ui.screens.explain import ExplainScreen

            self.app.push_screen(ExplainScreen(group.last_entry))

    def show(self, result: SourceResult) -> None:  # not polled
        pass
