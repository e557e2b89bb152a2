"""The Problems pane's entry for the failures no jail counts: a real fail2ban-server whose filter
misses one wording (SASL PLAIN), its log and the mail log tailed by the dashboard; and the live
tracker's rules (judged only once fail2ban has logged later, after a grace, never before its log began)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from mailtui import config
from mailtui.core.record import LogRecord
from mailtui.fail2ban.uncaught import UncaughtTracker
from mailtui.recognizers.engine import default_engine
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.problems import ProblemsPane
from mailtui.ui.screens.uncaught import ROW_KEY, UncaughtScreen
from tests.helpers import settle, until, until_screen
from tests.minif2b import MiniFail2ban, start_mini, syslog_now
from tests.ui_apps import FIXED_SUMMARY, FixedServices

FILTER = """\
[INCLUDES]
before = common.conf
[Definition]
_daemon = postfix(-\\w+)?/\\w+(?:/smtp[ds])?
failregex = ^%(__prefix_line)swarning: [-._\\w]+\\[<HOST>\\]: SASL LOGIN authentication failed:
ignoreregex =
"""

JAILS = """\
[DEFAULT]
backend = polling
usedns = no
ignoreself = false
banaction =
action =
maxretry = 50

[sasl-login]
enabled = true
filter = sasl-login-only
logpath = {dir}/mail.log
ignoreip = 192.0.2.0/24
"""


@pytest.fixture(scope="module")
def f2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniFail2ban]:
    d = tmp_path_factory.mktemp("f2bunp")
    filters = d / "etc" / "filter.d"
    filters.mkdir(parents=True)
    for stock in Path("/etc/fail2ban/filter.d").iterdir():
        (filters / stock.name).symlink_to(stock)
    (filters / "sasl-login-only.conf").write_text(FILTER)
    server = start_mini(d, JAILS)
    lines = [syslog_now("warning: unknown[198.51.100.3]: SASL LOGIN authentication failed: UGFzc3dvcmQ6")] * 3
    lines += [syslog_now("warning: unknown[198.51.100.4]: SASL PLAIN authentication failed: ")] * 2
    lines.append(syslog_now("warning: unknown[192.0.2.7]: SASL PLAIN authentication failed: "))  # ignoreip
    with server.mail_log.open("a") as log:
        log.writelines(lines)
    server.found("sasl-login", 3)
    time.sleep(1.5)
    server.cli("status", "sasl-login")  # fail2ban logs a line after the last mail line
    yield server
    server.stop()


@pytest.mark.daemons
async def test_problems_lists_the_failures_no_jail_counted(f2b: MiniFail2ban) -> None:
    cfg = config.load(
        None,
        {
            "logs.files": [str(f2b.mail_log), str(f2b.log)],
            "logs.fail2ban": str(f2b.log),
            "fail2ban.socket": f2b.socket,
            "logs.backfill": 2000,
            "ui.refresh_seconds": 0.5,
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    async with app.run_test(size=(120, 35)) as pilot:
        pane = app.query_one(ProblemsPane)
        pane.uncaught.grace = 0  # the lines are already older than any grace; no waiting in a test
        await settle(pilot)
        bans = app.panes["bans"]
        # bans.insight is read in the poll's thread; the tracker gets its ignoreip from a message
        # the app handles later, and until then the row counts 192.0.2.7 too: wait for the tracker
        await until(
            pilot,
            lambda: bans.insight is not None and bans.insight.settings and pane.uncaught.settings,
            what="the jails' ignoreip, given to the Problems pane's tracker",
        )
        # the handler that gives the tracker its ignoreip marks the pane for its next redraw tick
        # (_dirty); a row drawn before that tick still counts 192.0.2.7: wait for the redraw too
        await until(
            pilot,
            lambda: not pane._dirty and ROW_KEY in pane._keys,
            tries=200,
            what="the uncaught entry, drawn after the tracker got the jails' ignoreip",
        )
        row = [str(c) for c in pane.table.get_row(ROW_KEY)]
        # the two PLAIN failures: the jail's filter misses them; 192.0.2.7 is ignoreip, LOGIN ones were counted
        assert row[1] == "2" and row[3] == "No jail counts: SMTP AUTH failed: wrong user name or password", row
        assert "198.51.100.4 ×2" in row[4] and "192.0.2.7" not in row[4]
        assert pane._keys[0] == ROW_KEY  # above every recognized group
        assert pane.uncaught.report.caught == 3
        pane.table.focus()
        pane.table.move_cursor(row=0)
        await pilot.press("enter")
        screen = await until_screen(pilot, UncaughtScreen, what="explanation")
        text = str(getattr(screen.query_one("#uncaught-body", Static).render(), "plain", ""))
        assert "2 lines no jail counted, 3 others were counted" in text, text
        assert "SASL PLAIN authentication failed" in text and "fail2ban-regex" in text
        assert "192.0.2.7" not in text


def _rec(line: str, n: int) -> LogRecord:
    from mailtui.logs.envelope import EnvelopeParser

    return EnvelopeParser().parse(line, n)


def test_the_tracker_judges_only_what_fail2ban_has_had_time_to_count() -> None:
    engine = default_engine()
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 120))
    tracker = UncaughtTracker(grace=30)
    before = _rec(syslog_now("warning: unknown[198.51.100.8]: SASL PLAIN authentication failed: "), 1)
    before.timestamp = now - 300  # older than fail2ban's first line: not judged
    tracker.add(before, engine.recognize(before))
    f2b = _rec(f"{stamp},001 fail2ban.filter  [1]: INFO    [x] Found 198.51.100.3 - {stamp}", 2)
    assert f2b.family == "fail2ban"
    tracker.add(f2b, None)
    counted = _rec(syslog_now("warning: unknown[198.51.100.3]: SASL LOGIN authentication failed: x"), 3)
    counted.timestamp = now - 120  # the Found line above is its
    missed = _rec(syslog_now("warning: unknown[198.51.100.4]: SASL PLAIN authentication failed: "), 4)
    missed.timestamp = now - 119
    for rec in (counted, missed):
        tracker.add(rec, engine.recognize(rec))
    # fail2ban has logged nothing after the missed line yet: it is not judged
    assert tracker.judge(now).kinds == [] and tracker.report.caught == 1
    later = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 100))
    tracker.add(_rec(f"{later},002 fail2ban.actions [1]: NOTICE  [x] Ban 198.51.100.3", 5), None)
    assert not tracker.ready(now - 100)  # within the grace
    assert tracker.ready(now)
    report = tracker.judge(now)
    assert [dict(k.addresses) for k in report.kinds] == [{"198.51.100.4": 1}] and report.caught == 1
