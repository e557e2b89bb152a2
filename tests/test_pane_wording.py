"""What the panes say (issue 15 items 10, 13, 15), headless: plurals, "checking…" instead of
"0 problems", DNS findings worst first, the top bar telling installed from running, the demo's
DNS check replayed without the network, one-line statuses."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable

from mailtui.demo.dns import DemoDns
from mailtui.dns.model import Finding
from mailtui.ui.panes.base import middle_ellipsis
from mailtui.ui.panes.dns import DnsPane, ordered_findings
from tests.helpers import settle, until
from tests.ui_apps import make_app

BAD_PLURAL = re.compile(r"\b1 (problems|alerts|msgs|jails|findings|ports|bans)\b")


def test_findings_are_listed_worst_first() -> None:
    findings = [
        Finding(f"x{i}", group, status, f"{status} {i}")
        for i, (group, status) in enumerate(
            [
                ("Mail routing", "ok"),
                ("Mail routing", "info"),
                ("Consistency", "warn"),
                ("Client discovery", "fail"),
                ("Mail routing", "warn"),
                ("Mail routing", "fail"),
            ]
            + [("Mail routing", "info")] * 16
        )
    ]
    ordered = [f.status for f in ordered_findings(findings)]
    assert ordered[:6] == ["fail", "fail", "warn", "warn", "ok", "info"]
    # within a status, the report's group order
    assert [f.group for f in ordered_findings(findings)[:2]] == ["Mail routing", "Client discovery"]


def test_middle_ellipsis_keeps_the_file_name() -> None:
    path = "/tmp/mailtui-demo-yrjqqyl0/a/b/fail2ban.log"
    for width in range(14, len(path)):
        short = middle_ellipsis(path, width)
        assert len(short) == width and short.endswith("/fail2ban.log") and "…" in short
    assert middle_ellipsis(path, len(path)) == path


class _SlowReplay(DemoDns):
    """The demo's replay, held after its first finding until released."""

    def __init__(self) -> None:
        super().__init__(step=0)
        import threading

        self.release = threading.Event()

    def check(self, domain, on_finding=None):
        def held(finding: Finding) -> None:
            if on_finding is not None:
                on_finding(finding)
            self.release.wait(10)

        return super().check(domain, held)


async def test_dns_says_checking_not_zero_problems_and_replays_offline(isolated_config, monkeypatch) -> None:
    import mailtui.dns.run as run

    def no_network(*args, **kwargs):
        raise AssertionError("the demo must not run a real check")

    monkeypatch.setattr(run, "check_domain", no_network)
    replay = _SlowReplay()
    app = make_app(isolated_config)
    app.dns_source = replay
    async with app.run_test(size=(120, 35)) as pilot:
        pane = app.query_one(DnsPane)
        for _ in range(50):
            if pane.findings:
                break
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        title = str(pane.border_title)
        assert "broken.test" in title and "checking…" in title and "0 problems" not in title, title
        replay.release.set()
        for _ in range(100):
            if pane.done:
                break
            await pilot.pause(0.1)
        await pilot.pause(0.3)
        title = str(pane.border_title)
        assert title == "DNS · broken.test · 19 problems", title
        status = str(pane.status.render())
        assert "44 findings, 18 fail, 1 timeout, 3 warn" in status and "demo: a captured check" in status
        table = app.query_one("#dns-table", DataTable)
        marks = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert marks[:18] == ["✗"] * 18 and marks.index("!") < marks.index("✓") < marks.index("·")


async def test_top_bar_and_services_wording(isolated_config) -> None:
    """The fixed report has Dovecot installed but stopped, three deferred messages and alerts."""
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        # "not running" needs two messages: the versions worker's and the Services poll's
        # DaemonsSeen, which the app handles after that poll's worker has ended
        bar = await until(
            pilot,
            lambda: "(installed, not running)" in (text := str(app.query_one("#topbar").render())) and text,
            what="the top bar with the Services pane's finding",
        )
        assert "Dovecot 2.3.19.1 (installed, not running)" in bar, bar
        assert "Postfix 3.7.11 ·" in bar and "Postfix 3.7.11 (" not in bar
        services = app.query_one("#services")
        assert "3 msgs" in str(app.query_one("#services-table", DataTable).get_row("queue")[1])
        assert not BAD_PLURAL.search(str(services.border_title))


@pytest.mark.parametrize(
    ("n", "word", "expected"),
    [
        (1, "alert", "1 alert"),
        (2, "alert", "2 alerts"),
        (1, "msg", "1 msg"),
        (0, "problem", "0 problems"),
        (3, "address", "3 addresses"),
    ],
)
def test_plural(n: int, word: str, expected: str) -> None:
    from mailtui.system.units import plural

    assert plural(n, word) == expected


def test_time_left_is_said_not_question_marked() -> None:
    from mailtui.ui.panes.bans import _left_cell

    assert _left_cell(None, "log").plain == "end unknown"
    assert _left_cell(float("inf"), "socket").plain == "permanent"
    assert _left_cell(65, "socket").plain == "1m05s left"
    assert _left_cell(0.0, "log").plain == "ended"


def test_a_headline_too_long_for_the_line_puts_its_first_clause_in_the_border_title(tmp_path) -> None:
    from mailtui.ui.panes.bans import fit_status

    log = tmp_path / "fail2ban.log"
    text = f"fail2ban is not running — bans below are from {log} as of 2026-11-29 02:05:31"
    status, flag = fit_status(text, str(log), " · sorted by name (s)", 50)
    assert flag == "fail2ban is not running" and status.startswith("Bans below are from")
    assert "\n" not in status and str(log) in status  # one line; the pane shortens the path itself
    assert fit_status(text, str(log), " · sorted by name (s)", 300) == (text + " · sorted by name (s)", "")


def test_bans_headline_from_read_bans_when_fail2ban_is_stopped(tmp_path) -> None:
    """What read_bans() returns for a socket nobody created and a readable fail2ban.log."""
    from mailtui.fail2ban.source import read_bans
    from mailtui.ui.panes.bans import headline

    log = tmp_path / "fail2ban.log"
    log.write_text("2026-11-29 02:05:31,038 fail2ban.actions        [10891]: NOTICE  [sshd] Ban 127.0.0.9\n")
    text, path = headline(
        read_bans(str(tmp_path / "none" / "fail2ban.sock"), str(log), db_path=str(tmp_path / "no.sqlite3"))
    )
    assert text.startswith("fail2ban is not running — bans below are from ") and str(log) in text
    assert " as of " in text and path == str(log)
