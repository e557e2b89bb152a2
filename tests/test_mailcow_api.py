"""mailcow's bans through its API, against a local server that answers as mailcow's API does
(mailcow itself cannot run here; see docs/testing.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.containers.mailcow import JAIL, MailcowAPI, MailcowError, seconds_left, valid_network
from tests.fake_mailcow import RO_KEY, RW_KEY, FakeMailcow


@pytest.fixture
def fake() -> Iterator[FakeMailcow]:
    f = FakeMailcow()
    yield f
    f.stop()


def test_bans_thresholds_and_lists(fake: FakeMailcow) -> None:
    api = MailcowAPI(fake.url, RO_KEY)
    bans = api.bans()
    (jail,) = bans.snapshot.jails
    assert jail.name == JAIL and bans.snapshot.source == "mailcow"
    by_ip = {b.ip: b for b in jail.banned}
    assert set(by_ip) == {"203.0.113.7", "2001:db8::", "198.51.100.0"}
    left = by_ip["203.0.113.7"].time_left()
    assert left is not None and 1700 < left <= 1752
    assert by_ip["198.51.100.0"].time_left() == float("inf")  # on the deny list: permanent
    assert (bans.ban_time, bans.max_attempts, bans.retry_window) == (1800, 10, 600)
    assert bans.allow == ["192.0.2.0/24", "mail.example.org"] and bans.deny == ["198.51.100.0/24"]


def test_why_lists_only_lines_naming_that_address(fake: FakeMailcow) -> None:
    api = MailcowAPI(fake.url, RO_KEY)
    why = [e.message for e in api.why("203.0.113.7")]
    assert len(why) == 2 and all("203.0.113.7" in m for m in why)
    assert not any("203.0.113.70" in m for m in why)  # a longer address is another address


def test_unban_needs_the_read_write_key_and_is_applied(fake: FakeMailcow) -> None:
    ro = MailcowAPI(fake.url, RO_KEY)
    with pytest.raises(MailcowError, match="read-write mailcow API key"):
        ro.unban("203.0.113.7")
    # a read-only key configured as the write key: mailcow's own refusal comes through
    sneaky = MailcowAPI(fake.url, RO_KEY, write_key=RO_KEY)
    with pytest.raises(MailcowError, match="API read-only"):
        sneaky.unban("203.0.113.7")
    rw = MailcowAPI(fake.url, RO_KEY, write_key=RW_KEY)
    assert rw.unban("203.0.113.7") == "unban of 203.0.113.7/32 queued"
    assert ("POST", "/api/v1/edit/fail2ban", RW_KEY) in fake.requests
    queued = rw.bans()
    assert queued.queued == ["203.0.113.7/32"]
    after = rw.bans()
    assert "203.0.113.7" not in {b.ip for b in after.snapshot.jails[0].banned}
    with pytest.raises(MailcowError, match="not an IP address"):
        rw.unban("--help")


def test_a_wrong_key_and_no_server_say_so(fake: FakeMailcow) -> None:
    with pytest.raises(MailcowError, match="refused the key"):
        MailcowAPI(fake.url, "wrong").bans()
    with pytest.raises(MailcowError, match="no mailcow API key"):
        MailcowAPI(fake.url, "").bans()
    with pytest.raises(MailcowError, match="cannot reach the mailcow API"):
        MailcowAPI("http://127.0.0.1:9", RO_KEY).bans()


@pytest.mark.parametrize(
    "mode, words", [("huge", "larger than"), ("notjson", "not JSON"), ("trickle", "took longer|did not answer")]
)
def test_hostile_answers_end_in_one_line(fake: FakeMailcow, mode: str, words: str) -> None:
    fake.hostile = mode
    t0 = time.monotonic()
    with pytest.raises(MailcowError, match=words):
        MailcowAPI(fake.url, RO_KEY, timeout=2).bans()
    assert time.monotonic() - t0 < 6


def test_odd_shapes_keep_what_is_valid(fake: FakeMailcow) -> None:
    fake.hostile = "shape"
    bans = MailcowAPI(fake.url, RO_KEY).bans()
    ips = [b.ip for b in bans.snapshot.jails[0].banned]
    assert ips == ["\x1b]0;x\x07"]  # kept (the caller sanitises on display), nothing else invented
    assert bans.ban_time is None


def test_time_left_and_networks() -> None:
    assert seconds_left("00h 29m 12s") == 1752
    assert seconds_left("Forever") == float("inf")
    assert seconds_left("-1h -5m -3s") == 0  # already over: nothing left, not negative
    assert seconds_left("soon") is None and seconds_left(5) is None
    assert valid_network("::ffff:1.2.3.4") == "1.2.3.4/32"  # netfilter keys IPv4 bans as IPv4
    assert valid_network("2001:db8::1") == "2001:db8::1/128"
    assert valid_network("10.1.2.3/8") == "10.0.0.0/8"


def test_cli_bans_and_unban_go_through_the_mailcow_api(fake: FakeMailcow, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "mailtui").mkdir()
    conf = tmp_path / "mailtui" / "config.toml"
    conf.write_text(f'[containers]\nmailcow_url = "{fake.url}"\nmailcow_api_key = "{RO_KEY}"\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--json"], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mode"] == "mailcow" and data["jails"][0]["name"] == JAIL
    assert "read-write mailcow API key" in data["actions_disabled"]
    refused = subprocess.run(
        [sys.executable, "-m", "mailtui", "unban", "203.0.113.7", "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert refused.returncode == 2 and "read-write mailcow API key" in refused.stderr
    conf.write_text(conf.read_text() + f'mailcow_api_key_rw = "{RW_KEY}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "mailtui", "unban", "203.0.113.7", "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0 and done.stdout.strip() == "unban of 203.0.113.7/32 queued", done.stderr
    ro = subprocess.run(
        [sys.executable, "-m", "mailtui", "--read-only", "unban", "203.0.113.7", "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert ro.returncode == 2 and "read-only" in ro.stderr


async def test_bans_pane_shows_mailcow_bans_and_unbans_through_the_api(fake: FakeMailcow, tmp_path: Path) -> None:
    from mailtui import config
    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.panes.bans import BansPane
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    log = tmp_path / "mail.log"
    log.write_text("")
    cfg = config.load(
        None,
        {
            "logs.files": [str(log)],
            "containers.mailcow_url": fake.url,
            "containers.mailcow_api_key": RO_KEY,
            "containers.mailcow_api_key_rw": RW_KEY,
            "ui.refresh_seconds": 0.5,
            "dns.nameserver": "127.0.0.1:9",
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(BansPane)
        await pilot.press("1")
        for _ in range(100):
            cells = [[str(c) for c in pane.table.get_row_at(i)] for i in range(pane.table.row_count)]
            if any("203.0.113.7" in r[0] for r in cells):
                break
            await pilot.pause(0.1)
        assert any(r[0].strip() == JAIL for r in cells), cells
        assert "mailcow" in str(pane.status.render())
        pane.table.focus()
        pane.table.move_cursor(row=next(i for i, r in enumerate(cells) if "203.0.113.7" in r[0]))
        await pilot.press("u")
        await pilot.pause(0.3)
        from textual.widgets import Static

        from mailtui.ui.screens.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)  # asked first, naming where the unban goes
        question = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "203.0.113.7" in question and f"mailcow's netfilter at {fake.url}" in question
        assert ("POST", "/api/v1/edit/fail2ban", RW_KEY) not in fake.requests
        await pilot.press("y")
        for _ in range(50):
            if ("POST", "/api/v1/edit/fail2ban", RW_KEY) in fake.requests:
                break
            await pilot.pause(0.1)
        assert ("POST", "/api/v1/edit/fail2ban", RW_KEY) in fake.requests
