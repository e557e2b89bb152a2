"""The DNS & autoconfig pane: a domain, its findings grouped, details of the selected one.

The check runs in a thread worker with its own event loop; findings are posted as they
are made and drawn in batches (one table rebuild per UI tick, not per finding).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from mailtui.dns.model import GROUPS, RANK, Finding
from mailtui.ui.panes.base import KeyInput, Pane, PaneTable, refill_table

MARK = {"ok": ("✓", "green"), "info": ("·", "dim"), "not_offered": ("∅", "cyan"), "warn": ("!", "yellow"),
        "fail": ("✗", "bold red"), "timeout": ("⌛", "magenta"), "error": ("?", "magenta")}


class DnsPane(Pane):
    TITLE = "DNS"
    PANE_ID = "dns"
    POLLED = False
    BINDINGS = [Binding("d", "edit_domain", "Domain"), Binding("r", "rerun", "Re-run check")]

    DEFAULT_CSS = """
    DnsPane #dns-domain { display: none; height: 3; }
    DnsPane.-editing #dns-domain { display: block; }
    DnsPane #dns-table { height: 2fr; }
    DnsPane #dns-detail { height: 1fr; min-height: 3; color: $text-muted; }
    """

    class Arrived(Message):
        def __init__(self, finding: Finding | None, done: bool = False, error: str = "") -> None:
            super().__init__()
            self.finding = finding
            self.done = done
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.domain_input = KeyInput(placeholder="domain to check, then Enter (esc: back)", id="dns-domain",
                                     open_class="-editing")
        self.table = PaneTable(cursor_type="row", id="dns-table")
        self.detail = Static("", markup=False, id="dns-detail")
        self.findings: list[Finding] = []
        self.domain = ""
        self._dirty = False
        self._run = 0
        self._ordered: list[Finding] = []

    def compose_body(self) -> ComposeResult:
        yield self.domain_input
        yield self.table
        yield self.detail

    def on_mount(self) -> None:
        self.table.add_columns("", "group", "finding")
        self.set_status("press d to type a domain to check (r re-runs)")
        self.run_worker(self._default_domain, thread=True, exit_on_error=False, group="dns-default")
        self.set_interval(0.2, self._flush)

    def _default_domain(self) -> None:
        from mailtui.dns.context import default_domain

        domain = default_domain(self.app.cfg)  # type: ignore[attr-defined]
        if domain:
            self.app.call_from_thread(self.start_check, domain)

    def on_input_submitted(self, event: Input.Submitted) -> None:
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
        self._run += 1
        run = self._run
        self._dirty = True
        self.set_status(f"checking {domain}…")
        self.run_worker(lambda: self._check(domain, run), thread=True, exclusive=True, group="dns-check",
                        exit_on_error=False)

    def _check(self, domain: str, run: int) -> None:
        from mailtui.dns.context import options_from_config
        from mailtui.dns.run import check_domain

        def arrived(finding: Finding) -> None:
            if run == self._run:
                self.post_message(self.Arrived(finding))

        try:
            report = check_domain(options_from_config(self.app.cfg, domain), on_finding=arrived)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a bad domain or resolver is a status line
            self.post_message(self.Arrived(None, done=True, error=str(exc)))
            return
        if run == self._run:
            self.post_message(self.Arrived(None, done=True,
                                           error="" if report else "no report"))

    def on_dns_pane_arrived(self, message: DnsPane.Arrived) -> None:
        message.stop()
        if message.finding is not None:
            self.findings.append(message.finding)
            self._dirty = True
            return
        self._flush()
        if message.error:
            self.set_status(f"{self.domain}: {message.error}", problem=True)
            return
        counts = {s: sum(f.status == s for f in self.findings) for s in ("fail", "warn", "timeout", "error")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no problems"
        self.set_status(f"{self.domain}: {len(self.findings)} findings, {summary} (r re-runs, d domain)",
                        problem=any(counts.values()))

    def _flush(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        ordered = sorted(self.findings, key=lambda f: (GROUPS.index(f.group), -RANK[f.status]))
        rows = []
        for f in ordered:
            mark, style = MARK[f.status]
            rows.append(([Text(mark, style), Text(f.group, "dim"), Text(f.summary)], f.id))
        self._ordered = ordered
        refill_table(self.table, rows)  # findings stream in: the highlighted one stays highlighted
        bad = sum(RANK[f.status] >= 2 for f in self.findings)
        self.border_title = Content(f"DNS · {self.domain} · {bad} problems" if self.domain else "DNS")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        ordered = self._ordered
        if event.cursor_row < len(ordered):
            f = ordered[event.cursor_row]
            self.detail.update(Content.assemble((f"{f.status.upper()} ", MARK[f.status][1]), (f.id, "bold"),
                                                "\n", f.summary, "\n", f.detail))
