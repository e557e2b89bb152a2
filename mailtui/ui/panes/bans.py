"""The Bans pane: every fail2ban jail at once, banned IPs with time left and reverse DNS name,
why the selected IP is banned, the live stream of bans, IP search, unban and manual ban.

Keys: ``/`` search an IP across all jails, ``s`` sort the jails, ``u`` unban the selected IP
(``U`` in every jail), ``b`` ban an IP in the selected jail (these ask first and are disabled
by --read-only). Enter (or ``o``) on a jail opens its detail: thresholds, 30 days of bans, repeat
offenders (screens/jail.py); the highlighted jail's addresses failing without a ban yet are listed
under its bans as room allows, and its bans per day are drawn in the bottom border
(widgets/ban_history.py). Those come from fail2ban/insight.py, read every INSIGHT_SECONDS.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from mailtui.analysis.live import LiveEntry
from mailtui.containers.bans import ApplianceBans
from mailtui.fail2ban.insight import JailInsight
from mailtui.fail2ban.pending import Pending
from mailtui.fail2ban.rdns import ReverseNames
from mailtui.fail2ban.source import BansResult
from mailtui.fail2ban.status import BannedIP, format_left
from mailtui.fail2ban.why import BanEvent, BanReason, event_of, why_banned
from mailtui.fleet.fleet import Fleet, split_jail
from mailtui.settings import Settings
from mailtui.system.units import HOUR_SLOTS, HourCounts, fail2ban_span, plural, sparkline
from mailtui.ui.messages import NodeMessage
from mailtui.ui.panes.base import (
    KeyInput,
    PaneTable,
    PolledPane,
    SourceResult,
    read_only_bindings,
    read_only_state,
    refill_table,
)
from mailtui.ui.widgets.ban_history import history_strip

# a table of 20,000 rows costs the UI over a second per refresh; nobody scrolls it: / finds any IP
MAX_ROWS_PER_JAIL = 50
MAX_ROWS = 400
FULL_EVERY = 12  # polls between complete re-reads of every jail's IP list
#: s cycles through these orders of the jails
SORTS = {
    "name": lambda j: j.name,
    "banned": lambda j: (-j.currently_banned, j.name),
    "failed": lambda j: (-j.currently_failed, j.name),
    "total banned": lambda j: (-j.total_banned, j.name),
}
EVENTS_KEPT = 500
#: what the bans/h trend counts: a restart's "Restore Ban" and an action's "Reban" are not new bans
NEW_BANS = ("Ban", "Increase Ban")
INSIGHT_SECONDS = 30.0  # between reads of thresholds, history and pending failures (database + socket)


def _since(ts: float | None, now: float) -> str:
    if not ts:
        return "?"
    fmt = "%H:%M:%S" if now - ts < 86400 else "%b %d %H:%M"
    return datetime.fromtimestamp(ts).strftime(fmt)


def headline(bans: BansResult) -> tuple[str, str]:
    """The Bans status line and the path in it that may be shortened.

    With the socket: the version. Without it, ``BansResult.headline()``: whether fail2ban runs
    and where the bans shown come from, as of when (a log two days old must not read like the
    server's state now)."""
    snap = bans.snapshot
    if bans.mode == "socket":
        version = f"fail2ban {snap.version}" if snap is not None and snap.version else "fail2ban"
        note = bans.reason if bans.reason.startswith(("demo", "fleet")) else "socket"
        return f"{version} · {note}", ""
    return bans.headline(), bans.source_file


def fit_status(text: str, path: str, suffix: str, width: int) -> tuple[str, str]:
    """The status that fits one line of ``width``, and what goes to the border title instead.

    In order: the whole headline and the suffix (the sort order), the headline alone, and then
    the headline's first clause ("fail2ban is not running") moved to the border title with the
    rest as the status. ``path`` counts at its shortest (``…/fail2ban.log``): set_status
    shortens it to what fits."""
    shortest = len(path) - len("…/" + path.rsplit("/", 1)[-1]) if path and len(path) > 16 else 0

    def fits(candidate: str) -> bool:
        return len(candidate) - shortest <= width

    for candidate in (text + suffix, text):
        if fits(candidate):
            return candidate, ""
    head, sep, tail = text.partition(" — ")
    if sep:
        tail = tail[:1].upper() + tail[1:]
        # a trailing "; ..." clause goes before the path has to shrink to its file name
        short = tail.split("; ", 1)[0]
        return (tail if fits(tail) or short == tail else short), head
    return text, ""


def _left_cell(left: float | None, mode: str) -> Text:
    """Time left, or that it is unknown: fail2ban.log says when a ban started, not for how long
    (the ban database does; without it, neither the end nor the ban time is known, and `? left`
    read like a glitch)."""
    if left is None:
        return Text("end unknown", "dim")
    if left == float("inf"):
        return Text("permanent")
    if left <= 0:  # its end has passed: a log read as of its last line can still list it
        return Text("ended", "dim")
    return Text(f"{format_left(left)} left")


def pending_cells(p: Pending, now: float) -> tuple[str, str]:
    """Pending.describe() ("3/5 — banned after 2 more within 7 min") split for the table: the
    failures in the "failed" column (``3/5``), what is left beside the address (``2 more ≤7m``:
    within 7 minutes); the whole sentence shows below when the row is highlighted."""
    if p.maxretry is None:
        return "failing", str(p.failures)
    # as wide as "9m19s left" at most: the first column keeps its width and the counts stay in view
    within = p.window_left(now).replace(" min", "m").replace(" h", "h").replace(" days", "d")
    return f"{p.left} more" + (f" ≤{within}" if p.window_ends is not None else ""), f"{p.failures}/{p.maxretry}"


def _hm(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else "--:--:--"


class BansPane(PolledPane):
    TITLE = "Bans"
    PANE_ID = "bans"
    DEFAULT_POLL_SECONDS = 5.0
    WRITE_ACTIONS = frozenset({"unban", "ban"})
    BINDINGS = read_only_bindings(
        [
            Binding("u", "unban", "Unban"),
            Binding("U", "unban(True)", "Unban everywhere", show=False),
            Binding("b", "ban", "Ban IP"),
            Binding("slash", "search", "Find IP", key_display="/"),
            Binding("s", "sort", "Sort"),
            Binding("y", "copy_ip", "Copy IP", show=False),
            Binding("o", "jail_detail", "Jail detail", show=False),
            Binding("escape", "clear_search", "Clear search", show=False),
        ],
        WRITE_ACTIONS,
    )
    # the table takes the rows it needs first (every jail and its banned IPs); the explanation
    # below gets what is left, and none when the pane is short
    DEFAULT_CSS = """
    BansPane #bans-search { display: none; height: 3; }
    BansPane.-searching #bans-search { display: block; }
    BansPane #bans-table { height: auto; max-height: 100%; }
    BansPane #bans-why { height: 1fr; min-height: 0; color: $text-muted; }
    """
    ENTER_HELP = "Jail detail (also o): thresholds, bans per day for 30 days, who is close to a ban, repeat offenders"

    class InsightRead(NodeMessage):
        """A new read of the jails' settings and history (the Problems pane takes their ignoreip:
        it may arrive after the last log line, so it cannot wait for the next batch)."""

        LATEST_ONLY = True

        def __init__(self, pane: BansPane, insight: JailInsight) -> None:
            super().__init__(pane)
            self.insight = insight

    def __init__(
        self,
        settings: Settings,
        *,
        log_entries: Callable[[], Iterable[LiveEntry]] = tuple,
        source: Any = None,
        fleet: Fleet | None = None,
    ) -> None:
        """``log_entries``: the lines the Logs pane holds, read (on the UI thread) to say why an IP
        is banned; ``source``: the demo's captured fail2ban (None: the real one); ``fleet``: the
        [[hosts]] of the config (every host's jails, with a host column)."""
        super().__init__()
        self.source = source
        self.fleet = fleet
        self.settings = settings  # fail2ban's socket and log, the resolver, read-only, the poll interval
        self.log_entries = log_entries
        self.search_input = KeyInput(
            placeholder="IP address to find in every jail, then Enter (esc: back)",
            id="bans-search",
            open_class="-searching",
        )
        self.table = PaneTable(cursor_type="row", id="bans-table")
        self.why = Static("", markup=False, id="bans-why")
        self.result: BansResult | None = None
        self.ip_filter = ""
        self.events: deque[BanEvent] = deque(maxlen=EVENTS_KEPT)
        # counted apart from the events kept: a wave of bans outnumbers EVENTS_KEPT in minutes
        self.ban_rate: dict[str, HourCounts] = {}
        self.rdns: ReverseNames | None = None
        self._polls = 0
        self.sort = "name"
        self._keys: list[str] = []
        self.expanded = ""  # the jail whose banned IPs are listed: the highlighted row's
        self._rebuilding = False
        self._cells: list[list[str]] = []
        self.appliance: ApplianceBans | None = None  # set by collect() on a container host
        self.insight: JailInsight | None = None  # history, thresholds, pending: read_insight()
        self._insight_read = float("-inf")  # time.monotonic() of the last read
        self._insight_told: JailInsight | None = None  # the read last posted as InsightRead

    def compose_body(self) -> ComposeResult:
        yield self.search_input
        yield self.table
        yield self.why

    def on_mount(self) -> None:
        # a banned IP is written in the first column, where nothing can cut it; what a narrow pane
        # loses on the right is the reverse name, then the ban's start
        host = ("host",) if self.fleet is not None else ()
        self._columns = self.table.add_columns(
            "jail / banned IP · left", *host, "failed", "banned", "bans/h", "ban time", "since", "name"
        )
        self.poll_seconds = self.settings.ui.refresh_seconds
        self.rdns = ReverseNames(self.settings.dns.nameserver)
        # PolledPane.on_mount starts the first poll (Textual runs each class's handler in the MRO)

    # -- data ------------------------------------------------------------------------------------
    def collect(self) -> SourceResult:
        from mailtui.fail2ban.source import read_bans

        source = self.source
        if source is not None:  # the demo's captured snapshot
            bans = source.collect()
            self._collect_insight(bans)
            return SourceResult(data=bans)
        if self.fleet is not None:  # what each host's agent sent last (jails named host/jail)
            return SourceResult(data=self.fleet.bans())
        # unchanged jails keep their IP lists between polls; every FULL_EVERY polls all are re-read
        self._polls += 1
        last = self.result.snapshot if self.result is not None and self.result.mode == "socket" else None
        previous = last if self._polls % FULL_EVERY else None
        from mailtui.containers.bans import appliance_bans

        # mailcow's netfilter (its API) or docker-mailserver's fail2ban when the server is an appliance
        self.appliance = appliance_bans(self.settings)
        bans = (
            self.appliance.result
            if self.appliance is not None
            else read_bans(self.settings.fail2ban.socket, self.settings.logs.fail2ban, previous=previous)
        )
        if bans.snapshot is not None and self.rdns is not None:
            self.rdns.resolve([b.ip for j in bans.snapshot.jails for b in j.banned])
        if self.appliance is None:
            self._collect_insight(bans)
        return SourceResult(data=bans)

    def _collect_insight(self, bans: BansResult) -> None:
        """In the poll's thread: thresholds, history and pending failures, every INSIGHT_SECONDS
        (the database and one socket call per setting per jail are not worth every poll)."""
        import time

        from mailtui.fail2ban.insight import read_insight

        if bans.snapshot is None or time.monotonic() - self._insight_read < INSIGHT_SECONDS:
            return
        self._insight_read = time.monotonic()
        banned = {j.name: [b.ip for b in j.banned] for j in bans.snapshot.jails}
        source = self.source
        now = self.app.clock()  # type: ignore[attr-defined]
        if source is not None:  # the demo: captured with its snapshot
            self.insight = source.insight(now) if hasattr(source, "insight") else None
            return
        f2b = self.settings
        self.insight = read_insight(f2b.fail2ban.socket, f2b.logs.fail2ban, banned, now=now)

    def add_log_entries(self, batch: list[LiveEntry]) -> None:
        """Ban/Unban lines from the live tail: the event stream and the bans-per-hour trend."""
        changed = False
        for entry in batch:
            event = event_of(entry.record, entry.match)
            if event is not None:
                self.events.append(event)
                if event.action in NEW_BANS and event.timestamp:
                    # in a fleet the jails are host/jail, and the entry says which host it came from
                    jail = f"{entry.host}/{event.jail}" if getattr(self, "fleet", None) and entry.host else event.jail
                    self.ban_rate.setdefault(jail, HourCounts()).add(event.timestamp)
                changed = True
        if changed and self.result is not None:
            self._fill()

    def show(self, result: SourceResult) -> None:
        if result.error:
            self.set_status(f"fail2ban: not connected — {result.error}", problem=True)
            return
        self.result = result.data
        if self.insight is not None and self.insight is not self._insight_told:
            self._insight_told = self.insight
            self.post_message(self.InsightRead(self, self.insight))
        self._fill()

    def _fill(self) -> None:
        bans = self.result
        assert bans is not None
        if bans.snapshot is None:
            self.set_status(f"fail2ban: not connected — {bans.reason}", problem=True)
            self.table.clear()
            self._keys = []
            return
        snap = bans.snapshot
        status, squeeze = headline(bans)
        status, flag = fit_status(
            status, squeeze, f" · sorted by {self.sort} (s)", self.status.size.width or max(20, self.size.width - 4)
        )
        now = self.app.clock()  # type: ignore[attr-defined]
        if self.ip_filter:
            hits = snap.find_ip(self.ip_filter)
            where = ", ".join(f"{j.name} ({_left_cell(b.time_left(now), bans.mode).plain})" for j, b in hits)
            status = (
                f"{self.ip_filter}: " + (f"banned in {where}" if hits else "not banned in any jail") + " (esc clears)"
            )
        self.set_status(status, problem=bans.mode == "log", squeeze=squeeze)
        rows: list[tuple[list[Text], str]] = []

        def add(*cells: Text, key: str) -> None:
            if self.fleet is not None:  # the host column, from the jail's host/jail name in the key
                host, _ = split_jail(key.split(":", 2)[1])
                cells = (cells[0], Text(host, "cyan"), *cells[1:])
            rows.append((list(cells), key))

        budget = MAX_ROWS
        insight = self.insight
        pending_at = -1  # where the highlighted jail's pending addresses go: under its bans
        ordered = sorted(snap.jails, key=SORTS[self.sort])
        if ordered and self.expanded not in {j.name for j in ordered}:
            self.expanded = ordered[0].name
        for jail in ordered:
            shown = [b for b in jail.banned if not self.ip_filter or b.ip == self.ip_filter]
            if self.ip_filter and not shown:
                continue
            if not self.ip_filter and jail.name != self.expanded:
                shown = []  # only the selected jail lists its IPs: every jail stays on screen
            limit = max(0, min(MAX_ROWS_PER_JAIL, budget))
            # the bans that end last are the newest: show those
            hidden = len(shown) - limit
            shown = sorted(shown, key=lambda b: b.ends or 0.0, reverse=True)[:limit] if hidden > 0 else shown
            budget -= len(shown)
            rate = self.ban_rate.get(jail.name)
            trend = sparkline(rate.last_hour(now) if rate is not None else [0] * HOUR_SLOTS, HOUR_SLOTS)
            add(
                Text(split_jail(jail.name)[1] if self.fleet is not None else jail.name, "bold"),
                Text(f"{jail.currently_failed}/{jail.total_failed}"),
                Text(f"{jail.currently_banned}/{jail.total_banned}"),
                Text(trend, "yellow"),
                Text(""),
                Text(""),
                Text(""),
                key=f"jail:{jail.name}",
            )
            for ban in shown:
                name = self.rdns.get(ban.ip) if self.rdns else ""
                # banned here, trusted (ignoreip) by another jail: one of the two is wrong
                trusted = insight.trusted_by(jail.name, ban.ip) if insight is not None else []
                if trusted:
                    name = f"⚑ in ignoreip of {', '.join(trusted)}" + (f" · {name}" if name else "")
                # the IP and its time left share the first cell: a narrow pane cuts neither
                # ban.shown(): fail2ban with usedns = raw can ban any text; it is shown sanitized and
                # marked, and never reaches a lookup or markup
                add(
                    Text.assemble(
                        ("  ⚑ ", "bold red") if trusted else ("  ▸ ", "dim"),
                        (ban.shown().ljust(15), "" if ban.is_ip else "red"),
                        " ",
                        _left_cell(ban.time_left(now), bans.mode),
                    ),
                    Text(""),
                    Text(""),
                    Text(""),
                    Text(fail2ban_span(ban.ban_time) if ban.ban_time is not None else ""),
                    Text(_since(ban.ban_start, now)),
                    Text(name, "red" if trusted else "dim"),
                    key=f"ip:{jail.name}:{ban.ip}",
                )
            if hidden > 0:
                add(
                    Text(f"  … {hidden:,} more", "dim italic"),
                    Text(""),
                    Text(""),
                    Text(""),
                    Text("/ finds any IP", "dim"),
                    Text(""),
                    Text(""),
                    key=f"more:{jail.name}",
                )
            if jail.name == self.expanded and not self.ip_filter:
                pending_at = len(rows)
        if pending_at >= 0 and insight is not None:
            rows[pending_at:pending_at] = self._pending_rows(insight.pending_of(self.expanded), len(rows), now)
        keys = [key for _, key in rows]
        if keys == self._keys:
            # the same rows as last poll: change only the cells that changed (time left, mostly);
            # rebuilding hundreds of rows every poll re-lays out the table
            for (cells, key), before in zip(rows, self._cells):
                for column, cell, old in zip(self._columns, cells, before):
                    if cell.plain != old:
                        self.table.update_cell(key, column, cell)
        else:
            # the highlighted jail or IP stays highlighted wherever it moved (u acts on it)
            self._rebuilding = True
            try:
                refill_table(self.table, rows)
            finally:
                self._rebuilding = False
            self._keys = keys
        self._cells = [[c.plain for c in cells] for cells, _ in rows]
        banned = sum(j.currently_banned for j in snap.jails)
        # the highlighted jail's bans per day in the bottom border: no row is taken from the jails
        counts = insight.per_day(self.expanded) if insight is not None else None
        self.border_subtitle = history_strip(self.expanded, counts, max(0, self.size.width - 4))
        title = f"Bans · {plural(len(snap.jails), 'jail')} · {banned} banned"
        self.border_title = Content.assemble(title, (f" · {flag}" if flag else "", "bold $warning"))
        if not self.table.row_count or not self._selected_key().startswith("ip:"):
            if not self._show_pending():
                self._show_events()

    def _pending_rows(self, waiting: list[Pending], taken: int, now: float) -> list[tuple[list[Text], str]]:
        """Failing-but-not-banned addresses of the highlighted jail, as many as fit below every
        jail row (the table's rows come first; the rest are in the jail detail)."""
        searching = 3 if self.has_class("-searching") else 0
        free = self.size.height - 2 - searching - taken  # the status line and the table's header
        if not waiting or free <= 0:
            return []
        shown = waiting if len(waiting) <= free else waiting[: free - 1]
        empty = [Text("") for _ in range(6)]
        rows = []
        for p in shown:
            left, failed = pending_cells(p, now)
            first = Text.assemble(("  ◦ ", "dim"), (BannedIP(p.ip).shown().ljust(15), "yellow"), " ", (left, "yellow"))
            rows.append(([first, Text(failed, "yellow"), *empty[1:]], f"pending:{p.jail}:{p.ip}"))
        if len(shown) < len(waiting):
            rows.append(
                ([Text(f"  … {len(waiting) - len(shown)} more failing (Enter)", "dim italic"), *empty], "pmore:")
            )
        return rows

    def on_resize(self) -> None:
        if self.result is not None:  # what the status line can hold depends on the width
            self.call_after_refresh(self._fill)

    # -- selection and why ---------------------------------------------------------------------------
    def _selected_key(self) -> str:
        return self.table.selected_key()

    def selected_ban(self) -> tuple[str, str] | None:
        key = self._selected_key()
        if not key.startswith("ip:"):
            return None
        _, jail, ip = key.split(":", 2)
        return jail, ip

    def selected_jail(self) -> str | None:
        key = self._selected_key()
        return key.split(":", 2)[1] if key else None

    def _show_events(self) -> None:
        recent = list(self.events)[-6:]
        if not recent:
            self.why.update(Content("No ban events seen in the logs yet."))
            return
        lines = [Content.styled("Recent ban events", "bold")]
        for e in reversed(recent):
            lines.append(
                Content.assemble(
                    (_hm(e.timestamp), "dim"),
                    " ",
                    (e.jail, "bold"),
                    " ",
                    (e.action, "red" if e.action != "Unban" else "green"),
                    " ",
                    e.ip,
                )
            )
        self.why.update(Content("\n").join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._rebuilding:
            return
        jail = self.selected_jail()
        if jail and jail != self.expanded and self.result is not None:
            self.expanded = jail
            self._fill()
        chosen = self.selected_ban()
        if chosen is None:
            if not self._show_pending():
                self._show_events()
            return
        jail, ip = chosen
        self._why(list(self.log_entries()), ip, jail)  # copied here, in the UI thread that appends to it

    def _show_pending(self) -> bool:
        key = self._selected_key()
        if not key.startswith("pending:") or self.insight is None:
            return False
        _, jail, ip = key.split(":", 2)
        for p in self.insight.pending_of(jail):
            if p.ip == ip:
                text = p.describe(self.app.clock())  # type: ignore[attr-defined]
                self.why.update(
                    Content.assemble(
                        (BannedIP(ip).shown(), "bold"),
                        f" is failing in {jail}, not banned yet: {text} (from fail2ban's Found lines)",
                    )
                )
                return True
        return False

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jail_detail()

    def action_jail_detail(self) -> None:
        from mailtui.ui.screens.jail import JailScreen

        snap = self.result.snapshot if self.result is not None else None
        name = self.selected_jail() or self.expanded
        jail = next((j for j in snap.jails if j.name == name), None) if snap is not None else None
        if jail is None:
            self.notify("fail2ban is not connected: no jail to show", markup=False)
            return
        self.app.push_screen(JailScreen(jail, self.insight, self.app.clock()))  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="bans-why", exit_on_error=False)
    def _why(self, entries: list[LiveEntry], ip: str, jail: str) -> None:
        reason = why_banned(((e.record, e.match) for e in entries), ip, jail)
        self.app.call_from_thread(self._show_why, reason, jail)

    def _show_why(self, reason: BanReason, jail: str) -> None:
        if self.selected_ban() != (jail, reason.ip):
            return  # the cursor moved on meanwhile
        name = self.rdns.get(reason.ip) if self.rdns else ""
        head = f"Why {BannedIP(reason.ip).shown()}{f' ({name})' if name else ''} is banned in {jail}"
        lines = [Content.styled(head, "bold")]
        for rec, _ in reason.found[-5:]:
            lines.append(Content.assemble((_hm(rec.timestamp), "dim"), " fail2ban ", rec.message))
        # the lines a recognizer calls a problem are the reason; connects and disconnects are not
        problems = [(r, m) for r, m in reason.mail if m is not None and m.recognizer.rank >= 1]
        shown = (problems or reason.mail)[-8:]
        for rec, match in shown:
            title = f" → {match.recognizer.title}" if match is not None and match.recognizer.rank >= 1 else ""
            lines.append(
                Content.assemble(
                    (_hm(rec.timestamp), "dim"), " ", (rec.program, "cyan"), " ", rec.message, (title, "yellow")
                )
            )
        if len(reason.mail) > len(shown):
            lines.append(
                Content.styled(
                    f"(+{len(reason.mail) - len(shown)} more lines about {reason.ip}: w looks them all up)", "dim"
                )
            )
        if len(lines) == 1:
            lines.append(
                Content(
                    "The lines that caused it are older than what the log view holds "
                    "(mailtui bans --ip reads the whole logs)."
                )
            )
        self.why.update(Content("\n").join(lines))

    # -- search ------------------------------------------------------------------------------------
    def action_search(self) -> None:
        self.open_input(self.search_input, self.ip_filter)

    @on(Input.Submitted, "#bans-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.search_ip(event.value.strip()):
            self.close_input(self.search_input)

    def search_ip(self, ip: str) -> bool:
        """Show only ``ip`` in every jail ("" shows all); False (and a message) if it is no IP."""
        import ipaddress

        if ip:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                self.notify(
                    f"{ip!r} is not an IP address (like 203.0.113.7 or 2001:db8::1)", severity="error", markup=False
                )
                return False
        self.ip_filter = ip
        if self.result is not None:
            self._fill()
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":  # otherwise escape restores a maximized pane
            return bool(self.ip_filter)
        return read_only_state(self, action, self.WRITE_ACTIONS)

    def action_clear_search(self) -> None:
        self.search_ip("")

    def action_copy_ip(self) -> None:
        chosen = self.selected_ban()
        if chosen is None:
            self.notify("select a banned IP first", markup=False)
            return
        self.app.copy_to_clipboard(chosen[1])
        self.notify(f"{chosen[1]} copied to the clipboard (OSC 52)", markup=False)

    def action_sort(self) -> None:
        order = list(SORTS)
        self.sort = order[(order.index(self.sort) + 1) % len(order)]
        if self.result is not None:
            self._fill()

    # -- actions -----------------------------------------------------------------------------------
    def action_unban(self, everywhere: bool = False) -> None:
        from mailtui.ui.screens.confirm import ConfirmScreen

        if self.settings.ui.read_only:
            self.notify("read-only mode: unban is disabled", severity="warning", markup=False)
            return
        chosen = self.selected_ban()
        if chosen is None:
            self.notify("select a banned IP first", markup=False)
            return
        blocked = self.result.actions_disabled if self.result is not None else ""
        if blocked:  # before the question: a yes that cannot be carried out is wasted
            self.notify(f"cannot unban now: {blocked}", severity="warning", markup=False)
            return
        jail, ip = chosen
        if self.fleet is not None:
            self._fleet_unban(jail, ip, everywhere)
            return
        where = ("every jail", "") if everywhere else (f"jail {jail}", jail)
        found = self.appliance
        if found is not None and found.mailcow is not None:
            where = (f"mailcow's netfilter at {found.mailcow.url}", "")
        host = "" if found is None else (" (docker-mailserver's fail2ban)" if found.mailcow is None else "")
        question = Content.assemble(
            "Unban ",
            (ip, "bold"),
            " in ",
            (where[0], "bold"),
            host,
            "?\nfail2ban also deletes this IP's ban history."
            if found is None or found.mailcow is None
            else "?\nmailcow lifts the ban within seconds.",
        )

        def done(yes: bool | None) -> None:
            if yes:
                self._act("unban", where[1], ip)

        self.app.push_screen(ConfirmScreen(question, "Unban"), done)

    def _fleet_unban(self, name: str, ip: str, everywhere: bool) -> None:
        """Unban on the host the row came from, asked first naming that host."""
        from mailtui.ui.screens.confirm import ConfirmScreen

        assert self.fleet is not None
        host, jail = split_jail(name)
        refused = self.fleet.refusal(host, "unban")
        if refused:
            self.notify(refused, severity="warning", markup=False)
            return
        question = Content.assemble(
            "Unban ",
            (BannedIP(ip).shown(), "bold"),
            " in ",
            ("every jail" if everywhere else f"jail {jail}", "bold"),
            " on host ",
            (host, "bold"),
            "?\nfail2ban there also deletes this IP's ban history.",
        )

        def done(yes: bool | None) -> None:
            if yes:
                self._act("unban", "" if everywhere else name, ip, host=host)

        self.app.push_screen(ConfirmScreen(question, "Unban"), done)

    def action_ban(self) -> None:
        from mailtui.ui.screens.ban import BanScreen

        if self.settings.ui.read_only:
            self.notify("read-only mode: ban is disabled", severity="warning", markup=False)
            return
        snap = self.result.snapshot if self.result else None
        if snap is None or not snap.jails:
            self.notify("fail2ban is not connected: nothing to ban in", markup=False)
            return
        jail = self.selected_jail() or snap.jails[0].name

        def chosen(answer: tuple[str, str] | None) -> None:
            from mailtui.ui.screens.confirm import ConfirmScreen

            if answer is None:
                return
            ip, where = answer
            host, jail = split_jail(where) if self.fleet is not None else ("", where)
            refused = self.fleet.refusal(host, "ban") if self.fleet is not None else ""
            if refused:
                self.notify(refused, severity="warning", markup=False)
                return
            question = Content.assemble(
                "Ban ",
                (ip, "bold"),
                " in jail ",
                (jail, "bold"),
                *((" on host ", (host, "bold")) if host else ()),
                "?\nIts actions run as for any ban (a firewall rule, usually).",
            )

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._act("ban", where, ip, host=host)

            self.app.push_screen(ConfirmScreen(question, "Ban"), confirmed)

        self.app.push_screen(BanScreen([j.name for j in snap.jails], jail), chosen)

    @work(thread=True, group="bans-act", exit_on_error=False)
    def _act(self, action: str, jail: str, ip: str, host: str = "") -> None:
        from mailtui.containers.mailcow import MailcowError
        from mailtui.fail2ban.actions import ActionRefused, ban, unban

        if host and self.fleet is not None:  # to the host the row came from, through its agent
            self._remote_act(action, split_jail(jail)[1] if jail else "", ip, host)
            return

        socket = self.settings.fail2ban.socket
        found = self.appliance
        try:
            if action == "unban" and found is not None:
                from mailtui.containers.bans import unban as appliance_unban

                message, severity = appliance_unban(found, ip, jail or None), "information"
            elif found is not None and found.mailcow is not None:
                message, severity = "ban: mailcow bans through its own netfilter rules, not from here", "warning"
            elif found is not None and action == "ban":
                ban(found.socket, ip, jail)
                message, severity = f"banned {ip} in {jail}", "information"
            elif action == "ban":
                ban(socket, ip, jail)
                message, severity = f"banned {ip} in {jail}", "information"
            else:
                count = unban(socket, ip, jail or None)
                message, severity = f"unbanned {ip} in {jail or 'every jail'} ({count})", "information"
        except (ActionRefused, MailcowError) as exc:
            message, severity = str(exc), "error"
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)
        self.app.call_from_thread(self.start_poll)

    def _remote_act(self, action: str, jail: str, ip: str, host: str) -> None:
        from mailtui.fleet.link import RemoteError

        assert self.fleet is not None
        params: dict[str, Any] = {"ip": ip, **({"jail": jail} if jail else {})}
        try:
            result = self.fleet.host(host).call(action, **params)
        except (RemoteError, ConnectionError, TimeoutError, KeyError) as exc:
            message, severity = str(exc).strip("'\""), "error"
        else:
            where = f"jail {jail}" if jail else "every jail"
            done = (
                f"unbanned {BannedIP(ip).shown()} in {where} on {host}"
                if action == "unban"
                else f"banned {ip} in {where} on {host}"
            )
            message, severity = done + (f" ({result})" if isinstance(result, int) else ""), "information"
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)
        self.app.call_from_thread(self.start_poll)
