"""The Bans pane's history strip, pending rows and jail detail, read from a real fail2ban-server's
socket, log and database (tests/minif2b.py); run under ``flock /tmp/mailtui-rig.lock``."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import Static

from mailtui import config
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.bans import BansPane
from mailtui.ui.screens.jail import JailScreen
from mailtui.ui.widgets.ban_history import BanChart
from tests.helpers import settle, until, until_screen
from tests.minif2b import MiniFail2ban, start_mini, syslog_now
from tests.rig.base import wait_for
from tests.ui_apps import FIXED_SUMMARY, FixedServices

pytestmark = pytest.mark.daemons

JAILS = """\
[DEFAULT]
backend = polling
usedns = no
ignoreself = false
banaction =
action =

[postfix-sasl]
enabled = true
filter = postfix[mode=auth]
logpath = {dir}/mail.log
maxretry = 5
findtime = 10m
bantime = 1h
bantime.increment = true
bantime.maxtime = 1w

[dovecot]
enabled = true
filter = dovecot
logpath = {dir}/dovecot.log
maxretry = 3
findtime = 1h
bantime = 30m
ignoreip = 127.0.0.1/8 203.0.113.0/24
"""


def sasl_failure(ip: str) -> str:
    return syslog_now(f"warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6")


@pytest.fixture(scope="module")
def f2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniFail2ban]:
    d = tmp_path_factory.mktemp("f2bpane")
    (d / "dovecot.log").touch()
    server = start_mini(d, JAILS)
    with server.mail_log.open("a") as log:
        for _ in range(3):
            log.write(sasl_failure("198.51.100.3"))  # 3 of 5: pending
        for _ in range(5):
            log.write(sasl_failure("198.51.100.5"))  # 5 of 5: banned
    server.found("postfix-sasl", 8)
    wait_for(lambda: "Ban 198.51.100.5" in server.log.read_text(), 30, what="the ban of 198.51.100.5")
    server.cli("set", "postfix-sasl", "banip", "203.0.113.9")  # the dovecot jail trusts it
    wait_for(lambda: "Ban 203.0.113.9" in server.log.read_text(), 30, what="the ban of 203.0.113.9")
    wait_for(lambda: _bans_in_db(server.db) == 2, 30, what="both bans in fail2ban's database")
    yield server
    server.stop()


def _bans_in_db(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM bans").fetchone()[0])
    except sqlite3.Error:
        return -1


def app_for(f2b: MiniFail2ban) -> MailTuiApp:
    cfg = config.load(
        None,
        {
            "logs.files": [str(f2b.mail_log)],
            "fail2ban.socket": f2b.socket,
            "logs.fail2ban": str(f2b.log),
            "ui.refresh_seconds": 0.5,
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    return app


def plain(x: object) -> str:
    return str(getattr(x, "plain", x))


def cells(pane: BansPane) -> list[str]:
    return [str(pane.table.get_row_at(i)[0]) for i in range(pane.table.row_count)]


async def _bans_ready(pilot, pane: BansPane) -> None:
    await settle(pilot)
    await until(pilot, lambda: pane.insight is not None and pane.result is not None, what="the jail insight")
    pane.rdns = None
    pane.table.focus()
    row = next(i for i, c in enumerate(cells(pane)) if c == "postfix-sasl")
    pane.table.move_cursor(row=row)
    await pilot.pause(0.2)


async def test_pending_row_history_strip_and_trusted_flag(f2b: MiniFail2ban) -> None:
    app = app_for(f2b)
    async with app.run_test(size=(200, 55)) as pilot:
        pane = app.query_one(BansPane)
        await _bans_ready(pilot, pane)
        rows = cells(pane)
        # the address failing 3 of 5 times is listed under the jail's bans, with how many are left
        at = [i for i, c in enumerate(rows) if "◦ 198.51.100.3" in c]
        assert at and re.search(r"◦ 198\.51\.100\.3 +2 more ≤(9|10)m$", rows[at[0]]), rows  # findtime: 10 min
        assert str(pane.table.get_row_at(at[0])[1]) == "3/5"  # in the jail's "failed" column
        assert not any("◦ 198.51.100.5" in c for c in rows)  # banned: no longer counted
        # 203.0.113.9 is banned by postfix-sasl and in dovecot's ignoreip: flagged in its row
        flagged = [i for i, c in enumerate(rows) if "203.0.113.9" in c]
        assert flagged and "⚑" in rows[flagged[0]], rows
        assert "ignoreip of dovecot" in str(pane.table.get_row_at(flagged[0])[-1])
        assert "⚑" not in next(c for c in rows if "198.51.100.5" in c)

        # today's two bans in the 30-day strip of the bottom border, from the first read of the
        # database (fail2ban stores a ban's time rounded: the newest one was once after `now`)
        strip = Content.from_markup(pane.border_subtitle).plain  # kept as markup by Textual
        assert strip.startswith("postfix-sasl 30d ") and strip.endswith(" 2"), strip
        # the highlighted pending row explains itself in full
        pane.table.move_cursor(row=next(i for i, c in enumerate(cells(pane)) if "◦ 198.51.100.3" in c))
        await pilot.pause(0.2)
        why = plain(pane.why.render())
        assert "3/5 — banned after 2 more within" in why, why


async def test_enter_on_a_jail_shows_thresholds_history_and_offenders(f2b: MiniFail2ban) -> None:
    app = app_for(f2b)
    async with app.run_test(size=(120, 35)) as pilot:
        pane = app.query_one(BansPane)
        await _bans_ready(pilot, pane)
        await pilot.press("enter")
        screen = await until_screen(pilot, JailScreen, what="jail detail")
        text = "\n".join(plain(s.render()) for s in screen.query(Static))
        assert "banned after 5 failures (maxretry) within 10m (findtime), for 1h (bantime)" in text, text
        assert "grows with each ban (bantime.increment), up to 1w" in text
        assert "198.51.100.3" in text and "3/5 — banned after 2 more within" in text
        assert "203.0.113.9 is banned by postfix-sasl, but dovecot's ignoreip holds it" in text
        chart = screen.query_one(BanChart)
        assert "today" in plain(chart.render()) and "Bans per day, the last 30 days: 2" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, JailScreen), what="the detail closed")
        # the other jail: its own thresholds and its ignoreip
        pane.table.move_cursor(row=next(i for i, c in enumerate(cells(pane)) if c == "dovecot"))
        await pilot.pause(0.1)
        await pilot.press("o")
        screen = await until_screen(pilot, JailScreen, what="jail detail")
        text = "\n".join(plain(s.render()) for s in screen.query(Static))
        assert "banned after 3 failures (maxretry) within 1h (findtime), for 30m (bantime)" in text
        assert "Never banned     127.0.0.0/8 203.0.113.0/24" in text, text  # fail2ban writes the network
        assert "Ban time         fixed" in text


def test_insight_without_a_socket_says_why_in_one_line(tmp_path: Path) -> None:
    from mailtui.fail2ban.insight import read_insight

    got = read_insight(str(tmp_path / "none.sock"), str(tmp_path / "none.log"), {"sshd": []}, now=time.time())
    assert got.settings == {} and got.pending == [] and got.history is None
    assert got.notes and all("\n" not in n for n in got.notes)
    assert got.notes[0].startswith("jail settings need the fail2ban socket")
