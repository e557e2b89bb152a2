"""The Problems pane: recognized problems grouped by recognizer, most severe and recent first.

On top, when there are any, the failures no fail2ban jail counted (fail2ban/uncaught.py's
UncaughtTracker over the same live tail; the row and its explanation: screens/uncaught.py).
When the problems come from more than one host (central syslog, a journal directory, a fleet),
the groups are per host and recognizer, with a host column (issue 19); with one host the pane is
as it always was.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable

from mailtui.analysis.live import LiveEntry
from mailtui.core.record import host_label, several_hosts
from mailtui.fail2ban.uncaught import UncaughtTracker
from mailtui.recognizers.model import Recognizer
from mailtui.system.units import HOUR_SLOTS, HourCounts, sparkline
from mailtui.ui.messages import NodeMessage
from mailtui.ui.panes.base import Pane, PaneTable, refill_table
from mailtui.ui.widgets.log_lines import SEVERITY_MARK, host_names


@dataclass
class ProblemGroup:
    recognizer: Recognizer
    count: int = 0
    last: float = 0.0
    last_entry: LiveEntry | None = None
    who: Counter[str] = field(default_factory=Counter)
    ips: Counter[str] = field(default_factory=Counter)
    buckets: HourCounts = field(default_factory=HourCounts)  # the last hour, for the trend
    samples: deque[LiveEntry] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    host: str | None = None  # the host of a per-host group; None: every host's lines

    def add(self, entry: LiveEntry, when: float) -> None:
        """One more line of this problem, seen at ``when``.

        The pane stays open for weeks, and a brute-force campaign brings thousands of new
        addresses a day: who is counted is capped (the most frequent are kept, WHO_KEPT of
        them, once twice as many have gathered); the trend keeps only its last hour.
        """
        self.count += 1
        self.last = when
        self.last_entry = entry
        fields = entry.fields
        who = fields.get("user") or fields.get("client_ip")
        if who:
            _tally(self.who, who)
        if fields.get("client_ip"):
            _tally(self.ips, fields["client_ip"])
        self.buckets.add(when)
        self.samples.append(entry)

    def overview(self) -> Content:
        """Count, who is affected and the latest sample lines: the top of the group's explanation."""
        parts = [Content.assemble(("Seen".ljust(15), "bold"), f"{self.count} time{'s' if self.count != 1 else ''}")]
        if self.host is not None:
            parts.append(Content.assemble(("Host".ljust(15), "bold"), host_label(self.host)))
        if self.who:
            parts.append(
                Content.assemble(
                    ("Affected".ljust(15), "bold"), ", ".join(f"{k} ×{n}" for k, n in self.who.most_common(8))
                )
            )
        if self.ips and set(self.ips) != set(self.who):
            parts.append(
                Content.assemble(
                    ("Addresses".ljust(15), "bold"), ", ".join(f"{k} ×{n}" for k, n in self.ips.most_common(8))
                )
            )
        for i, entry in enumerate(reversed(self.samples)):
            parts.append(Content.assemble(("Latest lines" if i == 0 else "").ljust(15), (entry.record.line, "dim")))
        return Content("\n").join(parts)


REDRAW_SECONDS = 0.5
SAMPLES = 5  # latest lines kept per group for its explanation
WHO_KEPT = 1000  # distinct users/addresses counted per problem (the pane shows the top 8)


def _tally(counter: Counter[str], key: str) -> None:
    counter[key] += 1
    if len(counter) > 2 * WHO_KEPT:
        for rare, _ in counter.most_common()[WHO_KEPT:]:
            del counter[rare]


def _key(group: ProblemGroup) -> str:
    """A row's key: the recognizer, and the host for a per-host group."""
    rid = group.recognizer.id
    return rid if group.host is None else f"{rid}@{group.host}"


def trend(group: ProblemGroup, now: float) -> str:
    return sparkline(group.buckets.last_hour(now), HOUR_SLOTS)


def _ago(ts: float, now: float) -> str:
    d = max(0, int(now - ts))
    return f"{d}s ago" if d < 60 else f"{d // 60}m ago" if d < 3600 else f"{d // 3600}h ago"


class ProblemsPane(Pane):
    TITLE = "Problems"
    PANE_ID = "problems"
    BINDINGS = [
        Binding("b", "bans", "IP in Bans"),
        Binding("l", "who", "Look up"),
        Binding("y", "copy_line", "Copy line", show=False),
    ]
    ENTER_HELP = "Explain the problem (count, who, latest lines, fix)"

    class ExplainRequested(NodeMessage):
        """Explain this group's latest line (the app opens it with the Logs pane's lines as context)."""

        def __init__(self, pane: ProblemsPane, entry: LiveEntry, overview: Content) -> None:
            super().__init__(pane)
            self.entry = entry
            self.overview = overview

    def __init__(self, *, bans_source: Any = None) -> None:
        """``bans_source``: the demo's captured fail2ban, whose logs judge the failures no jail counted."""
        super().__init__()
        self.bans_source = bans_source
        self.groups: dict[str, ProblemGroup] = {}
        # the same lines per (recognizer, host): the rows once more than one host has problems
        self.by_host: dict[tuple[str, str], ProblemGroup] = {}
        self.hosts: Counter[str] = Counter()  # problem lines per host
        self._rows: dict[str, ProblemGroup] = {}  # row key -> group, of the rows shown
        self._host_mode = False
        self.table = PaneTable(cursor_type="row", zebra_stripes=False, id="problems-table")
        self.uncaught = UncaughtTracker()  # failures no jail counted, judged as fail2ban's lines arrive

    def compose_body(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self._dirty = False
        self._drawn = 0.0
        self.set_interval(REDRAW_SECONDS, self._redraw)
        self._columns = self.table.add_columns("", "count", "last hour", "problem", "who", "last")
        self._keys: list[str] = []
        self.set_status("no problems recognized yet")
        source = self.bans_source
        if source is not None and hasattr(source, "uncaught_tracker"):  # the demo: judged on its captured logs
            self.uncaught = source.uncaught_tracker()
            self._dirty = True

    def add(self, batch: list[LiveEntry]) -> None:
        changed = False
        for entry in batch:
            m = entry.match
            self.uncaught.add(entry.record, m)
            if entry.record.family == "fail2ban":
                changed = True  # a later fail2ban line lets waiting lines be judged
            if m is None or m.recognizer.rank < 1:
                continue
            group = self.groups.get(m.recognizer.id)
            if group is None:
                group = self.groups[m.recognizer.id] = ProblemGroup(m.recognizer)
            when = entry.record.timestamp or self.app.clock()  # type: ignore[attr-defined]
            group.add(entry, when)
            host = entry.record.host
            self.hosts[host] += 1
            per_host = self.by_host.get((m.recognizer.id, host))
            if per_host is None:
                per_host = self.by_host[m.recognizer.id, host] = ProblemGroup(m.recognizer, host=host)
            per_host.add(entry, when)
            changed = True
        if changed:
            # rebuilding the table costs more than counting: at most REDRAW_SECONDS apart
            self._dirty = True
            if time.monotonic() - self._drawn >= REDRAW_SECONDS:
                self._redraw()

    def redraw_soon(self) -> None:
        """Something shown changed outside a log batch (the jails' ignoreip): drawn on the next
        redraw tick, like every other change, not in the middle of one."""
        self._dirty = True

    def _redraw(self) -> None:
        if self._dirty or self.uncaught.ready(self.app.clock()):  # type: ignore[attr-defined]
            self._dirty = False
            self._drawn = time.monotonic()
            self.refresh_table()

    @property
    def host_mode(self) -> bool:
        """Problems of more than one host: a row per host and problem, with a host column."""
        return several_hosts(self.hosts)

    def ordered(self) -> list[ProblemGroup]:
        groups = self.by_host.values() if self.host_mode else self.groups.values()
        return sorted(groups, key=lambda g: (-g.recognizer.rank, -g.last))

    def refresh_table(self, now: float | None = None) -> None:
        now = self.app.clock() if now is None else now  # type: ignore[attr-defined]
        host_mode = self.host_mode
        if host_mode != self._host_mode:
            self._host_mode = host_mode
            self.table.clear(columns=True)
            names = ("", "count", "last hour", "host", "problem", "who", "last")
            self._columns = self.table.add_columns(*(names if host_mode else names[:3] + names[4:]))
            self._keys = []
        ordered = self.ordered()
        shown = host_names(sorted(self.hosts)) if host_mode else {}
        self._rows = {_key(g): g for g in ordered}
        rows = {_key(g): self._cells(g, now, shown) for g in ordered}
        missed = self.uncaught.judge(now)
        if missed.kinds:  # the failures no jail counted come first: they are what nobody is watching
            from mailtui.ui.screens.uncaught import ROW_KEY, row_cells

            cells = row_cells(missed, _ago(missed.judged_until or now, now))
            if host_mode:  # the host column: the tracker judges every host's lines together
                cells.insert(3, Text(""))
            rows = {ROW_KEY: cells, **rows}
        keys = list(rows)
        if keys == self._keys:
            # same groups in the same order: change the cells, which costs no re-layout
            for key, cells in rows.items():
                for column, cell in zip(self._columns, cells):
                    self.table.update_cell(key, column, cell)
        else:
            # groups re-sort as lines arrive: the highlighted group stays highlighted (b acts on it)
            refill_table(self.table, [(cells, key) for key, cells in rows.items()])
            self._keys = keys
        self.status.display = not rows
        missed_lines = sum(k.count for k in missed.kinds)
        title = f"Problems · {sum(g.count for g in self.groups.values())} recognized"
        if host_mode:
            title += f" · {len(self.hosts)} hosts"
        if missed_lines:
            title += f" · {missed_lines} no jail counted"
        self.border_title = Content(title)

    @staticmethod
    def _cells(group: ProblemGroup, now: float, hosts: dict[str, str] | None = None) -> list[Text]:
        mark, style = SEVERITY_MARK[group.recognizer.severity]
        who = ", ".join(f"{k} ×{n}" for k, n in group.who.most_common(2))
        # cells are Text objects: DataTable would parse plain strings as markup
        host = [Text(hosts.get(group.host or "", host_label(group.host or "")), "magenta")] if hosts else []
        return [
            Text(mark, style),
            Text(str(group.count)),
            Text(trend(group, now), "yellow"),
            *host,
            # the catch-all's groups: title says "(not explained yet)", italic sets them apart
            Text(group.recognizer.title, "" if group.recognizer.explained else "italic"),
            Text(who),
            Text(_ago(group.last, now)),
        ]

    def selected_group(self) -> ProblemGroup | None:
        return self._rows.get(self.table.selected_key())

    def action_copy_line(self) -> None:
        group = self.selected_group()
        if group is None or group.last_entry is None:
            self.notify("no problem selected", markup=False)
            return
        self.app.copy_to_clipboard(group.last_entry.record.line)
        self.notify("latest line of this problem copied to the clipboard (OSC 52)", markup=False)

    def _selected_addresses(self) -> tuple[Counter[str], Counter[str]]:
        """The highlighted row's client addresses and users (the row of failures no jail counted:
        its kinds' addresses together)."""
        from mailtui.ui.screens.uncaught import ROW_KEY

        if self.table.selected_key() == ROW_KEY:
            ips: Counter[str] = Counter()
            for kind in self.uncaught.report.kinds:
                ips.update(kind.addresses)
            return ips, Counter()
        group = self.selected_group()
        return (group.ips, group.who) if group is not None else (Counter(), Counter())

    def action_bans(self) -> None:
        """Jump to the Bans pane, searching the row's most frequent client address."""
        ips, _ = self._selected_addresses()
        if not ips:
            self.notify("this problem has no client address", markup=False)
            return
        ip = ips.most_common(1)[0][0]
        self.app.action_show_pane("bans")  # type: ignore[attr-defined]
        self.app.panes["bans"].search_ip(ip)  # type: ignore[attr-defined]

    def action_who(self) -> None:
        ips, who = self._selected_addresses()
        if not (who or ips):
            self.notify("this problem names no user or address", markup=False)
            return
        top = (who or ips).most_common(1)[0][0]
        self.app.action_who(top)  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from mailtui.ui.screens.uncaught import ROW_KEY, UncaughtScreen

        if event.row_key.value == ROW_KEY:
            self.app.push_screen(UncaughtScreen(self.uncaught.report))
            return
        group = self._rows.get(str(event.row_key.value))
        if group is not None and group.last_entry is not None:
            self.post_message(self.ExplainRequested(self, group.last_entry, group.overview()))
