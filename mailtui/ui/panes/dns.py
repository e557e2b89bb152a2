"""The DNS & autoconfig pane: a domain, its findings grouped, details of the selected one.

The check runs in an exclusive thread worker with its own event loop; findings are posted as
they are made (``Found``, then ``Finished`` or ``Failed``) and drawn in batches (one table
rebuild per UI tick, not per finding). A new check cancels the one still running: what the
cancelled worker still sends is dropped, so findings of two domains never mix. A finished
check is compared with the domain's previous one (widgets/dns_changes.py): what changed is marked.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Input, Static
from textual.worker import Worker, get_current_worker

from mailtui.dns.model import GROUPS, RANK, Finding
from mailtui.settings import Settings
from mailtui.system.units import plural
from mailtui.ui.messages import NodeMessage
from mailtui.ui.panes.base import KeyInput, Pane, PaneTable, refill_table
from mailtui.ui.widgets.dns_changes import DnsChanges

#: the order findings are listed in: what fails, what could not be checked, warnings, then the rest
STATUS_ORDER = {"fail": 0, "error": 1, "timeout": 1, "warn": 2, "not_offered": 3, "ok": 4, "info": 5}


def ordered_findings(findings: list[Finding]) -> list[Finding]:
    """Worst first (fail → warn → ok → info), in the report's group order within a status."""
    return sorted(findings, key=lambda f: (STATUS_ORDER[f.status], GROUPS.index(f.group)))


MARK = {
    "ok": ("✓", "green"),
    "info": ("·", "dim"),
    "not_offered": ("∅", "cyan"),
    "warn": ("!", "yellow"),
    "fail": ("✗", "bold red"),
    "timeout": ("⌛", "magenta"),
    "error": ("?", "magenta"),
}


class DnsPane(Pane):
    TITLE = "DNS"
    PANE_ID = "dns"
    BINDINGS = [Binding("d", "edit_domain", "Domain"), Binding("r", "rerun", "Re-run check")]

    # the domain input shows only while it is edited (d); in the wide layout the pane is a strip
    # of its worst findings, and the selected finding's detail shows when there is room for it
    # (one pane per screen, or maximized)
    DEFAULT_CSS = """
    DnsPane #dns-domain { height: 3; display: none; }
    DnsPane.-editing #dns-domain { display: block; }
    DnsPane #dns-table { height: 1fr; }
    DnsPane #dns-detail { height: 1fr; min-height: 3; max-height: 12; color: $text-muted; display: none; }
    Screen.-narrow DnsPane #dns-detail, DnsPane.-maximized #dns-detail { display: block; }
    """

    class CheckNews(NodeMessage):
        """News from the check of one domain, sent by its worker (stale once that is cancelled)."""

        def __init__(self, pane: DnsPane, worker: Worker[None]) -> None:
            super().__init__(pane)
            self.worker = worker

    class Found(CheckNews):
        """One finding made."""

        def __init__(self, pane: DnsPane, worker: Worker[None], finding: Finding) -> None:
            super().__init__(pane, worker)
            self.finding = finding

    class Finished(CheckNews):
        """The check is complete (every finding was sent before this)."""

    class Failed(CheckNews):
        """The check could not run to its end: a bad domain or resolver, said in one line."""

        def __init__(self, pane: DnsPane, worker: Worker[None], error: str) -> None:
            super().__init__(pane, worker)
            self.error = error

    def __init__(self, settings: Settings, *, replay: Any = None) -> None:
        super().__init__()
        self.settings = settings  # [dns] domain, name server, CA file, blocklists; Postfix/Dovecot configs
        self.replay = replay  # the demo's captured check (None: checks for real)
        self.domain_input = KeyInput(
            placeholder="domain to check, then Enter (esc: back)", id="dns-domain", open_class="-editing"
        )
        self.table = PaneTable(cursor_type="row", show_header=False, id="dns-table")
        self.detail = Static("", markup=False, id="dns-detail")
        self.findings: list[Finding] = []
        self.domain = ""
        self._dirty = False
        self._ordered: list[Finding] = []
        self.done = False  # the check of self.domain has finished
        self.changes = DnsChanges()  # since the previous run of this domain's check
        self._summary = ("", False)

    def compose_body(self) -> ComposeResult:
        yield self.domain_input
        yield self.table
        yield self.detail

    def on_mount(self) -> None:
        # the summary before the group: in a strip, what is wrong matters more than where
        self.table.add_columns("", "finding", "group")
        self.set_status("press d to type a domain to check (r re-runs)")
        self._default_domain()
        self.set_interval(0.2, self._flush)

    @work(thread=True, group="dns-default", exit_on_error=False)
    def _default_domain(self) -> None:
        from mailtui.dns.context import default_domain

        replay = self.replay
        domain = replay.domain if replay is not None else default_domain(self.settings)
        if domain:
            self.app.call_from_thread(self.start_check, domain)

    @on(Input.Submitted, "#dns-domain")
    def domain_submitted(self, event: Input.Submitted) -> None:
        from mailtui.dns.names import domain_problem

        event.stop()
        domain = event.value.strip().rstrip(".")
        if not domain:
            self.domain_input.action_cancel()
            return
        problem = domain_problem(domain)
        if problem:  # nothing is queried; the input stays open to fix it
            self.notify(problem, severity="error", markup=False)
            return
        self.close_input(self.domain_input)
        self.start_check(domain)

    def action_edit_domain(self) -> None:
        self.open_input(self.domain_input, self.domain)

    def action_rerun(self) -> None:
        if self.domain:
            self.start_check(self.domain)

    def start_check(self, domain: str) -> None:
        self.domain = domain
        self.domain_input.value = domain
        self.findings = []
        self.done = False
        self.changes = DnsChanges()
        self._dirty = True
        self.set_status(f"checking {domain}…")
        self._check(domain)  # exclusive: the check of the previous domain is cancelled

    @work(thread=True, exclusive=True, group="dns-check", exit_on_error=False)
    def _check(self, domain: str) -> None:
        from mailtui.dns.context import options_from_settings
        from mailtui.dns.run import check_domain

        worker = get_current_worker()

        def send(news: DnsPane.CheckNews) -> None:
            if not worker.is_cancelled:  # a newer check took over
                self.post_message(news)

        def arrived(finding: Finding) -> None:
            send(self.Found(self, worker, finding))

        replay = self.replay
        try:
            if replay is not None:  # the demo: a captured check, no network
                report = replay.check(domain, on_finding=arrived)
            else:
                report = check_domain(options_from_settings(self.settings, domain), on_finding=arrived)
        except Exception as exc:  # noqa: BLE001 - a bad domain or resolver is a status line
            send(self.Failed(self, worker, str(exc)))
            return
        send(self.Finished(self, worker) if report else self.Failed(self, worker, "no report"))

    @staticmethod
    def _current(message: DnsPane.CheckNews) -> bool:
        """False for news sent just before a newer check cancelled its worker, and still queued."""
        message.stop()
        return not message.worker.is_cancelled

    def on_dns_pane_found(self, message: DnsPane.Found) -> None:
        if self._current(message):
            self.findings.append(message.finding)
            self._dirty = True

    def on_dns_pane_failed(self, message: DnsPane.Failed) -> None:
        if not self._current(message):
            return
        self.done = True
        self._flush(force=True)
        self.set_status(f"{self.domain}: {message.error}", problem=True)

    def on_dns_pane_finished(self, message: DnsPane.Finished) -> None:
        if not self._current(message):
            return
        self.done = True
        self._flush(force=True)
        counts = {s: sum(f.status == s for f in self.findings) for s in ("fail", "timeout", "error", "warn")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no problems"
        note = getattr(self.replay, "note", "")
        self._summary = (
            f"{self.domain}: {plural(len(self.findings), 'finding')}, {summary}{f' · {note}' if note else ''}",
            any(counts.values()),
        )
        self.set_status(f"{self._summary[0]} (r re-runs, d domain)", problem=self._summary[1])
        self._compare(list(self.findings), self.changes)

    @work(thread=True, exclusive=True, group="dns-changes", exit_on_error=False)
    def _compare(self, findings: list[Finding], changes: DnsChanges) -> None:
        """The finished check against the previous run (the demo: against its captured earlier check)."""
        replay = self.replay
        # the demo compares with its captured earlier check and keeps nothing; any other source uses the state file
        previous = getattr(replay, "previous", None)
        changes.compute(self.domain, findings, previous() if previous else None, save=previous is None)
        self.app.call_from_thread(self._show_changes, changes)

    def _show_changes(self, changes: DnsChanges) -> None:
        if changes is not self.changes:
            return  # a newer check started meanwhile (each check starts with its own DnsChanges)
        text = changes.status()
        if text:
            self.set_status(f"{self._summary[0]} · {text} (r re-runs, d domain)", problem=self._summary[1])
        self._flush(force=True)

    def _flush(self, force: bool = False) -> None:
        if not self._dirty and not force:
            return
        self._dirty = False
        ordered = ordered_findings(self.findings)
        rows = []
        for f in ordered:
            mark, style = MARK[f.status]
            rows.append(([Text(mark, style), self.changes.summary_cell(f), Text(f.group, "dim")], f.id))
        self._ordered = ordered
        refill_table(self.table, rows)  # findings stream in: the highlighted one stays highlighted
        bad = sum(RANK[f.status] >= 2 for f in self.findings)
        if not self.domain:
            title = "DNS"
        elif not self.done:  # "0 problems" before anything was checked would be a false all-clear
            title = f"DNS · {self.domain} · checking… ({plural(len(self.findings), 'finding')} so far)"
        else:
            title = f"DNS · {self.domain} · {plural(bad, 'problem')}"
        self.border_title = Content(title)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        ordered = self._ordered
        if event.cursor_row < len(ordered):
            f = ordered[event.cursor_row]
            self.detail.update(
                Content.assemble(
                    (f"{f.status.upper()} ", MARK[f.status][1]),
                    (f.id, "bold"),
                    "\n",
                    f.summary,
                    "\n",
                    f.detail,
                    self.changes.detail(f),
                )
            )
