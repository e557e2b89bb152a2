"""The dashboard's Textual plumbing (issue 18): exclusive workers, messages, failures on screen.

These run the real app (Pilot) with fixed sources where the machine's own would differ; the
sources themselves are tested against the rig elsewhere.
"""

from __future__ import annotations

import threading
from typing import Any

from mailtui.dns.model import Finding
from mailtui.dns.run import CheckReport
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes import DnsPane
from tests.helpers import settle, until
from tests.ui_apps import FIXED_SUMMARY, FixedServices


class GatedDns:
    """A DNS source whose check of ``slow.test`` waits until released: a check still running
    when the admin starts another one."""

    domain = ""  # no check at start
    note = ""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.slow_started = threading.Event()
        self.slow_sent = threading.Event()

    def check(self, domain: str, on_finding: Any = None) -> CheckReport:
        if domain == "slow.test":
            self.slow_started.set()
            self.release.wait(10)
        report = CheckReport(domain, domain, "127.0.0.1")
        for n in range(3):
            finding = Finding(
                f"{domain}-{n}", "Mail routing", "warn" if domain == "slow.test" else "ok", f"{domain} {n}"
            )
            report.findings.append(finding)
            on_finding(finding)
        if domain == "slow.test":
            self.slow_sent.set()
        return report


async def test_a_new_dns_check_cancels_the_running_one_and_drops_its_findings(isolated_config) -> None:
    source = GatedDns()
    app = MailTuiApp(
        isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices(), dns=source
    )
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        pane = app.query_one(DnsPane)
        pane.start_check("slow.test")
        await until(pilot, source.slow_started.is_set, what="the first check to start")
        slow = [w for w in app.workers if w.group == "dns-check"]
        pane.start_check("fast.test")
        await until(pilot, lambda: pane.done, what="the second check to finish")
        assert all(w.is_cancelled for w in slow)
        source.release.set()  # the first check ends now and sends its findings
        await until(pilot, source.slow_sent.is_set, what="the first check to send its findings")
        await pilot.pause(0.3)
        assert [f.id for f in pane.findings] == ["fast.test-0", "fast.test-1", "fast.test-2"]
        status = str(pane.status.render())
        assert status.startswith("fast.test: 3 findings, no problems"), status


async def test_a_bans_worker_that_raises_is_said_on_screen_and_logged(isolated_config, monkeypatch, caplog) -> None:
    """_why and _act run with exit_on_error=False: an exception they do not expect must not vanish."""
    import mailtui.fail2ban.actions
    import mailtui.ui.panes.bans
    from mailtui.ui.panes import BansPane

    def broken_why(*_: object) -> None:
        raise RuntimeError("the log view changed under the reader")

    def broken_unban(*_: object) -> int:
        raise ConnectionResetError("fail2ban closed the socket mid-reply")

    monkeypatch.setattr(mailtui.ui.panes.bans, "why_banned", broken_why)
    monkeypatch.setattr(mailtui.fail2ban.actions, "unban", broken_unban)
    app = MailTuiApp(isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        pane = app.query_one(BansPane)
        caplog.clear()
        for worker in (pane._why([], "203.0.113.7", "dovecot"), pane._act("unban", "dovecot", "203.0.113.7")):
            await until(pilot, lambda w=worker: w.is_finished, what=f"{worker.name} to finish")
        await pilot.pause(0.2)
        shown = [str(n.message) for n in app._notifications]
        assert "bans-why failed: RuntimeError: the log view changed under the reader" in shown, shown
        assert "bans-act failed: ConnectionResetError: fail2ban closed the socket mid-reply" in shown, shown
        logged = [r for r in caplog.records if r.name == "mailtui.ui" and r.levelname == "ERROR"]
        assert len(logged) == 2, [r.getMessage() for r in caplog.records]
        # with the traceback: where it broke, not only what
        assert all(r.exc_info and r.exc_info[1] is not None for r in logged)
        assert "broken_why" in caplog.text and "broken_unban" in caplog.text
        assert app.is_running
