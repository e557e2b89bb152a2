"""The DNS pane marks what changed since the previous run of a domain's check, kept under XDG_STATE_HOME.

The findings come from a source that hands the pane fixed findings (as the demo's replay does):
what is under test is the comparison, the marks and where the previous run is kept; the checks
themselves are tested against the DNS lab (test_dns_checks.py, test_check_diff.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from mailtui.dns.diff import state_file
from mailtui.dns.model import Finding
from mailtui.dns.run import CheckReport
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.dns import DnsPane
from tests.helpers import settle, until
from tests.ui_apps import FIXED_SUMMARY, FixedServices

FIRST = [
    Finding(
        "mx.resolves",
        "Mail routing",
        "ok",
        "MX mail.example.test resolves to 127.0.0.1",
        data={"host": "mail.example.test"},
    ),
    Finding("spf.record", "Sender authentication", "warn", "SPF ends in ~all (softfail)"),
    Finding("dmarc.record", "Sender authentication", "ok", "DMARC p=reject"),
]
SECOND = [
    FIRST[0],  # unchanged
    Finding("spf.record", "Sender authentication", "fail", "no SPF record"),  # status and wording changed
    FIRST[2],  # unchanged
    Finding("mta-sts.policy", "Transport security", "warn", "MTA-STS policy in testing mode"),  # new
]


class Source:
    """Findings handed to the pane one by one, as a check (or the demo) delivers them."""

    def __init__(self) -> None:
        self.domain = "example.test"
        self.runs = [FIRST, SECOND]
        self.note = ""

    def check(self, domain: str, on_finding: Callable[[Finding], None] | None = None) -> CheckReport:
        report = CheckReport(domain, domain, "127.0.0.1")
        for f in self.runs.pop(0):
            report.findings.append(f)
            if on_finding is not None:
                on_finding(f)
        return report


def summaries(pane: DnsPane) -> dict[str, str]:
    return {str(pane.table.get_row_at(i)[1]): pane._ordered[i].id for i in range(pane.table.row_count)}


async def test_a_changed_finding_is_marked_and_an_unchanged_one_is_not(isolated_config, tmp_path: Path) -> None:
    app = MailTuiApp(
        isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices(), dns=Source()
    )
    path = state_file("example.test")
    assert str(path).startswith(os.environ["XDG_STATE_HOME"])  # never the user's ~/.local/state in a test
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DnsPane)
        await settle(pilot)
        await until(pilot, lambda: pane.done and path.exists(), what="the first run saved")
        # the first run has nothing to compare with: no marks
        assert all(not s.startswith(("new: ", "was ", "changed: ")) for s in summaries(pane)), summaries(pane)
        saved = json.loads(path.read_text())
        assert [c["id"] for c in saved["checks"]] == [f.id for f in FIRST] and saved["saved"] > 0
        await pilot.press("5")
        await pilot.press("r")
        await until(pilot, lambda: pane.done and pane.changes.compared, what="the second run compared")
        await pilot.pause(0.1)
        rows = summaries(pane)
        assert rows["was warn: no SPF record"] == "spf.record", rows
        assert rows["new: MTA-STS policy in testing mode"] == "mta-sts.policy"
        assert rows["MX mail.example.test resolves to 127.0.0.1"] == "mx.resolves"  # unchanged: no mark
        assert rows["DMARC p=reject"] == "dmarc.record"
        status = str(getattr(pane.status.render(), "plain", ""))
        assert "2 changed since " in status, status
        # the detail of the changed finding says what it was
        pane.table.focus()
        pane.table.move_cursor(row=pane._ordered.index(SECOND[1]))
        await pilot.pause(0.1)
        detail = str(getattr(pane.query_one("#dns-detail", Static).render(), "plain", ""))
        assert "Changed since the previous run" in detail and "was WARN — SPF ends in ~all (softfail)" in detail
        # and this run is the previous one now
        assert [c["status"] for c in json.loads(path.read_text())["checks"]][1] == "fail"


def test_an_unreadable_previous_run_is_one_line_and_replaced(isolated_config, tmp_path: Path) -> None:
    from mailtui.ui.widgets.dns_changes import DnsChanges

    path = state_file("example.test")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    changes = DnsChanges()
    changes.compute("example.test", FIRST)
    assert changes.by_finding == {} and "\n" not in changes.status() and "not a JSON check report" in changes.status()
    assert json.loads(path.read_text())["domain"] == "example.test"


async def test_the_demo_marks_changes_against_its_captured_previous_run(isolated_config) -> None:
    """The demo's previous run is a real check of the DNS lab before three mistakes; nothing is saved."""
    from mailtui.demo.dns import DemoDns

    app = MailTuiApp(
        isolated_config,
        watch_tty=False,
        stack_summary=lambda: FIXED_SUMMARY,
        services=FixedServices(),
        dns=DemoDns(step=0),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DnsPane)
        await settle(pilot)
        await until(pilot, lambda: pane.done and pane.changes.compared, what="the demo's check compared")
        await pilot.pause(0.1)
        rows = summaries(pane)
        assert rows["was ok: 11 DNS lookups (the limit is 10): permerror"] == "spf", rows
        assert rows["new: MX target mx.broken.test is an alias (CNAME to mail.good.test)"].startswith("mx")
        unmarked = [s for s in rows if not s.startswith(("new: ", "was ", "changed: "))]
        assert len(unmarked) == len(rows) - 7 and any("SRV" in s for s in unmarked), rows  # the unchanged stay plain
        assert pane.changes.gone == 4 and "7 changed since the previous run (4 gone)" in str(
            getattr(pane.status.render(), "plain", "")
        )
        assert not state_file("broken.test").exists()  # the demo keeps nothing
