"""Pilot tests of the Bans pane against the rig's real fail2ban-server and the logs it reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable

from mailtui import config
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.bans import BansPane
from mailtui.ui.screens.ban import BanScreen
from mailtui.ui.screens.confirm import ConfirmScreen
from tests.helpers import until
from tests.rig.run import run_scenario
from tests.rig.scenarios import BY_NAME
from tests.ui_apps import FIXED_SUMMARY, FixedServices

pytestmark = pytest.mark.daemons


def app_for(rig, tmp_path: Path, monkeypatch, read_only: bool = False) -> MailTuiApp:
    cfg = config.load(
        None,
        {
            "logs.files": [str(rig.rsyslog.traditional), str(rig.fail2ban.log)],
            "fail2ban.socket": str(rig.fail2ban.socket),
            "logs.fail2ban": str(rig.fail2ban.log),
            "dns.nameserver": rig.nsd.nameserver,
            "ui.refresh_seconds": 0.5,
            "ui.read_only": read_only,
            "logs.backfill": 2000,
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    return MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def ip_of(row: list[str]) -> str:
    """The banned IP of an IP row (written first, with its time left), "" for other rows."""
    m = re.search(r"▸ (\S+)", row[0])
    return m.group(1) if m else ""


def expand(pane: BansPane, jail: str) -> None:
    """Highlight the jail's row: only the highlighted jail lists its banned IPs."""
    pane.table.focus()
    pane.table.move_cursor(row=next(i for i, r in enumerate(rows(pane.table)) if r[0] == jail))


async def test_ban_reason_search_and_events(rig, tmp_path: Path, monkeypatch) -> None:
    outcome = run_scenario(rig, BY_NAME["fail2ban_ban"], rig.postfix)
    ip = outcome.ip
    app = app_for(rig, tmp_path, monkeypatch)
    async with app.run_test(size=(140, 45)) as pilot:
        pane = app.query_one(BansPane)
        await pilot.press("1", "m")
        await until(pilot, lambda: any(r[0] == "postfix-sasl" for r in rows(pane.table)), what="the jail row")
        expand(pane, "postfix-sasl")
        key = f"ip:postfix-sasl:{ip}"  # (the address may be banned in dovecot too)
        await until(pilot, lambda: key in pane._keys, what="the banned IP row")
        index = pane._keys.index(key)
        ip_row = rows(pane.table)[index]
        # time left beside the IP; the rig's 10 min ban time; since HH:MM:SS
        assert ip_row[0].endswith(" left") and ip_row[4] == "10m" and ip_row[5].count(":") == 2
        # the event stream saw the Ban line in fail2ban.log, and the log view holds the mail lines
        # that caused it: both come from the log tail, not from the socket poll that drew the row,
        # and the why panel below reads them once, when the row is highlighted
        await until(
            pilot,
            lambda: (
                any(e.ip == ip and e.action == "Ban" and e.jail == "postfix-sasl" for e in pane.events)
                and any(ip in e.record.line and "SASL PLAIN" in e.record.message for e in pane.log_entries())
            ),
            what="the Ban event and the scenario's SASL failures from the log tail",
        )
        pane.table.focus()
        pane.table.move_cursor(row=index)
        why = await until(
            pilot, lambda: "Why " + ip in str(pane.why.render()) and str(pane.why.render()), what="the why panel"
        )
        assert "Found " + ip in why, why  # fail2ban's own lines
        # the mail-log lines that caused it, with their recognizer's title
        assert "SASL PLAIN authentication failed" in why and "→ SMTP AUTH failed" in why
        # search across all jails
        await pilot.press("slash", *ip, "enter")
        status = str(pane.status.render())
        assert status.startswith(f"{ip}: banned in ") and "postfix-sasl" in status
        assert all(ip_of(r) in ("", ip) for r in rows(pane.table))
        await pilot.press("escape")
        assert not pane.ip_filter
        await pilot.press("s")  # sort by currently banned: the jail with most bans first
        assert "sorted by banned" in str(pane.status.render())
        jail_rows = [r for r in rows(pane.table) if not r[0].startswith("  ")]
        counts = [int(r[2].split("/")[0]) for r in jail_rows]
        assert counts == sorted(counts, reverse=True)
        pane.search_ip("127.0.0.250")
        assert "not banned in any jail" in str(pane.status.render())
        pane.search_ip("")


async def test_manual_ban_with_reverse_name_then_unban(rig, tmp_path: Path, monkeypatch) -> None:
    target = "127.0.0.3"  # the rig's PTR zone names it client.rig.test
    app = app_for(rig, tmp_path, monkeypatch)
    try:
        async with app.run_test(size=(140, 45)) as pilot:
            pane = app.query_one(BansPane)
            await pilot.press("1")
            await until(
                pilot, lambda: pane.result is not None and pane.result.snapshot is not None, what="the first refresh"
            )
            expand(pane, "postfix")
            await pilot.pause(0.2)
            await pilot.press("b")
            assert isinstance(app.screen, BanScreen)
            await pilot.press(*"not-an-ip", "enter")
            assert "is not an IP address" in str(app.screen.error.render())
            app.screen.ip_input.value = ""
            await pilot.press(*target, "enter")
            assert isinstance(app.screen, ConfirmScreen)
            assert target in str(app.screen.question) and "postfix" in str(app.screen.question)
            await pilot.press("y")
            await until(pilot, lambda: target in rig.fail2ban.banned("postfix"), what="fail2ban to ban it")
            await until(
                pilot,
                lambda: any(ip_of(r) == target and r[6] == "client.rig.test" for r in rows(pane.table)),
                what="the row with its reverse name",
            )
            index = next(i for i, r in enumerate(rows(pane.table)) if ip_of(r) == target)
            pane.table.move_cursor(row=index)
            await pilot.press("U")  # in every jail
            assert isinstance(app.screen, ConfirmScreen)
            assert "every jail" in str(app.screen.question)
            await pilot.press("y")
            await until(pilot, lambda: target not in rig.fail2ban.banned("postfix"), what="the unban")
    finally:
        if target in rig.fail2ban.banned("postfix"):
            from mailtui.fail2ban.actions import unban

            unban(str(rig.fail2ban.socket), target, "postfix")


async def test_read_only_refuses_ban(rig, tmp_path: Path, monkeypatch) -> None:
    app = app_for(rig, tmp_path, monkeypatch, read_only=True)
    async with app.run_test(size=(140, 45)) as pilot:
        pane = app.query_one(BansPane)
        await pilot.press("1")
        await until(pilot, lambda: pane.result is not None, what="the first refresh")
        pane.table.focus()
        await pilot.press("b")
        assert not isinstance(app.screen, BanScreen)


async def test_twenty_thousand_bans_stay_browsable(tmp_path: Path, monkeypatch) -> None:
    """20 jails x 1,000 bans on a fail2ban-server of the test's own: the table holds a bounded
    number of rows, says how many more each jail has, and / still finds any of them."""
    import ipaddress

    from mailtui.fail2ban.client import Fail2banClient
    from mailtui.ui.panes import bans as bans_module
    from tests.rig.fail2ban import many_jails_conf, start_fail2ban

    (tmp_path / "mail.log").touch()
    f2b = start_fail2ban(
        tmp_path / "f2b", tmp_path / "mail.log", tmp_path / "dovecot.log", jail_conf=many_jails_conf(20)
    )
    try:
        addresses = [str(a) for a in ipaddress.ip_network("10.77.0.0/16").hosts()][:20_000]
        with Fail2banClient(str(f2b.socket), timeout=120) as client:
            for i in range(20):
                client.call("set", f"bench{i + 1:02d}", "banip", *addresses[i * 1000 : (i + 1) * 1000])
        cfg = config.load(
            None,
            {
                "logs.files": [str(tmp_path / "mail.log")],
                "fail2ban.socket": str(f2b.socket),
                "logs.fail2ban": str(f2b.log),
                "dns.nameserver": "127.0.0.1:9",
                "postfix.config_dir": "/nonexistent",
                "dovecot.config": "/nonexistent",
            },
        )
        app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
        async with app.run_test(size=(140, 45)) as pilot:
            pane = app.query_one(BansPane)
            await until(
                pilot, lambda: pane.result is not None and pane.result.snapshot is not None, 300, "the first refresh"
            )
            table = rows(pane.table)
            # every jail, the highlighted one's newest bans and how many more it has
            assert len(table) <= 20 + bans_module.MAX_ROWS_PER_JAIL + 1
            assert sum(1 for r in table if r[0] and not r[0].startswith("  ")) == 20
            assert [r[0].strip() for r in table if r[0].startswith("  … ")] == ["… 950 more"]
            assert str(pane.border_title).startswith("Bans · 20 jails · 20000 banned")
            hidden = addresses[19 * 1000]  # the last jail's bans are not listed
            assert all(ip_of(r) != hidden for r in table)
            pane.search_ip(hidden)
            found = rows(pane.table)
            assert [ip_of(r) for r in found if ip_of(r)] == [hidden] and "banned in bench20" in str(
                pane.status.render()
            )
    finally:
        f2b.stop()
