"""The dashboard's Textual plumbing (issue 18): exclusive workers, messages, failures on screen.

These run the real app (Pilot) with fixed sources where the machine's own would differ; the
sources themselves are tested against the rig elsewhere.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.app import App, ComposeResult

from mailtui.dns.model import Finding
from mailtui.dns.run import CheckReport
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes import DnsPane
from mailtui.ui.widgets.log_lines import LogLines
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


# -- LogLines -----------------------------------------------------------------------------------------
def test_row_strip_still_meets_the_strip_internals_it_was_written_for() -> None:
    """RowStrip overrides Strip.crop_extend because Strip caches its own exact-size crop in
    _crop_extend_cache (a cycle that made dropped rows wait for a full collection). If this fails,
    Textual changed Strip: read RowStrip's docstring again and re-check against the new version
    (STRIP_INTERNALS_CHECKED names the one it was checked against)."""
    import textual
    from rich.segment import Segment
    from textual.strip import Strip

    from mailtui.ui.widgets.log_lines import STRIP_INTERNALS_CHECKED, RowStrip

    assert "_crop_extend_cache" in Strip.__slots__
    plain = Strip([Segment("abcdef")])
    same = plain.crop_extend(0, plain.cell_length, None)
    # the behaviour RowStrip avoids: the cached answer refers back to its own strip
    assert plain._crop_extend_cache.get((0, plain.cell_length, None)) is same
    row = RowStrip([Segment("abcdef")])
    assert row.crop_extend(0, row.cell_length, None) is row
    assert row._crop_extend_cache.get((0, row.cell_length, None)) is None
    assert [s.text for s in row.crop_extend(1, 3, None)] == ["bc"]  # other crops are Strip's own
    assert STRIP_INTERNALS_CHECKED.split(".")[0] == textual.__version__.split(".")[0], (
        f"RowStrip was checked against Textual {STRIP_INTERNALS_CHECKED}, this is {textual.__version__}"
    )


def _entries(n: int) -> list[Any]:
    from mailtui.analysis.live import LiveEntry
    from mailtui.logs.envelope import EnvelopeParser

    parser = EnvelopeParser(record_type=LiveEntry)
    return [
        parser.parse(f"Feb 19 10:00:{i % 60:02d} mx postfix/smtpd[{100 + i}]: connect from h{i}[192.0.2.9]")
        for i in range(n)
    ]


class LinesApp(App[None]):
    CSS = "LogLines > .log-lines--program { color: #ff0000; }"  # an app restyles a part

    def compose(self) -> ComposeResult:
        yield LogLines(id="log-lines")


async def test_a_cursor_move_redraws_two_rows_and_keeps_the_rest_cached() -> None:
    app = LinesApp()
    async with app.run_test(size=(100, 20)) as pilot:
        lines = app.query_one(LogLines)
        lines.add(_entries(60))
        await pilot.pause(0.3)
        lines.action_cursor(-1)  # the newest line is highlighted, nothing scrolls
        await pilot.pause(0.1)
        rendered: list[int] = []
        real = lines.render_line

        def counted(y: int) -> Any:
            strip = real(y)
            rendered.append(y)
            return strip

        lines.render_line = counted  # type: ignore[method-assign]
        cached = len(lines._cache)
        lines.action_cursor(-1)
        await pilot.pause(0.2)
        bottom = lines.scrollable_content_region.height - 1
        assert sorted(set(rendered)) == [bottom - 1, bottom], rendered  # the line left, the line reached
        assert len(lines._cache) >= cached  # nothing thrown away
        row = real(bottom - 1)
        assert any(
            s.style is not None and s.style.bgcolor is not None and s.style.bgcolor.triplet == (68, 68, 68) for s in row
        )
        program = [s for s in row if s.text.startswith("postfix/smtpd")]
        assert program and program[0].style is not None and program[0].style.color.triplet == (255, 0, 0)


# -- panes --------------------------------------------------------------------------------------------
async def test_only_polled_panes_poll_and_a_newer_result_replaces_a_queued_one(isolated_config) -> None:
    from mailtui.ui.panes import BansPane, LogsPane, ProblemsPane, ServicesPane
    from mailtui.ui.panes.base import PolledPane, SourceResult

    app = MailTuiApp(isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        polled = {type(w.node) for w in app.workers if w.group == "poll"}
        assert {type(p) for p in app.query(PolledPane)} == {BansPane, ServicesPane}
        for cls in (LogsPane, ProblemsPane, DnsPane):  # fed by the app or started by the admin
            assert not isinstance(app.query_one(cls), PolledPane)
        assert polled <= {BansPane, ServicesPane}
        pane = app.query_one(ServicesPane)
        older, newer = SourceResult(error="older poll"), SourceResult(error="newer poll")
        shown: list[SourceResult] = []
        real = pane.show
        pane.show = lambda result: (shown.append(result), real(result))[1]  # type: ignore[method-assign]
        # both queued before the pane reads either: only the newer is shown
        pane.post_message(PolledPane.Collected(pane, older))
        pane.post_message(PolledPane.Collected(pane, newer))
        await pilot.pause(0.3)
        assert [r for r in shown if r in (older, newer)] == [newer]
        assert "newer poll" in str(pane.status.render())
