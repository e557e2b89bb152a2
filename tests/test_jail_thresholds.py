"""Jail thresholds from the socket and "failing but not yet banned", against a real fail2ban-server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.fail2ban.client import Fail2banClient
from mailtui.fail2ban.pending import pending
from mailtui.fail2ban.settings import ignored_elsewhere, read_settings
from tests.minif2b import MiniFail2ban, start_mini, syslog_now
from tests.rig.base import wait_for

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
ignoreip = 127.0.0.1/8 203.0.113.0/24 mail.example.org
"""


def sasl_failure(ip: str) -> str:
    return syslog_now(f"warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6")


@pytest.fixture(scope="module")
def f2b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniFail2ban]:
    d = tmp_path_factory.mktemp("f2bthr")
    (d / "dovecot.log").touch()
    server = start_mini(d, JAILS)
    with server.mail_log.open("a") as log:
        for _ in range(3):
            log.write(sasl_failure("198.51.100.3"))  # 3 of 5: pending
        for _ in range(5):
            log.write(sasl_failure("198.51.100.5"))  # 5 of 5: banned, no longer pending
    server.found("postfix-sasl", 8)
    wait_for(lambda: "Ban 198.51.100.5" in server.log.read_text(), 30, what="the ban of 198.51.100.5")
    server.cli("set", "postfix-sasl", "banip", "203.0.113.9")  # trusted by the dovecot jail
    yield server
    server.stop()


def test_thresholds_come_from_the_socket(f2b: MiniFail2ban) -> None:
    with Fail2banClient(f2b.socket) as client:
        s = read_settings(client, ["postfix-sasl", "dovecot"])
    sasl, dove = s["postfix-sasl"], s["dovecot"]
    assert (sasl.maxretry, sasl.findtime, sasl.bantime, sasl.increment, sasl.maxtime) == (5, 600, 3600, True, 604800)
    assert (dove.maxretry, dove.findtime, dove.bantime, dove.increment) == (3, 3600, 1800, False)
    assert "203.0.113.0/24" in dove.ignoreip and dove.ignores("203.0.113.9") and not dove.ignores("198.51.100.3")
    flagged = ignored_elsewhere({"postfix-sasl": ["203.0.113.9", "198.51.100.5"]}, s)
    assert flagged == [("203.0.113.9", "postfix-sasl", "dovecot")]


def test_failing_but_not_yet_banned(f2b: MiniFail2ban) -> None:
    with Fail2banClient(f2b.socket) as client:
        s = read_settings(client, ["postfix-sasl", "dovecot"])
    now = time.time()
    waiting = pending(f2b.log.read_text().splitlines(), s, now=now)
    assert [(p.jail, p.ip, p.failures) for p in waiting] == [("postfix-sasl", "198.51.100.3", 3)]
    p = waiting[0]
    assert p.left == 2 and p.describe(now).startswith("3/5 — banned after 2 more within ")
    assert 9 <= int(p.describe(now).split("within ")[1].split()[0]) <= 10
    # past the window, nothing is held any more
    assert pending(f2b.log.read_text().splitlines(), s, now=now + 601) == []
    # without thresholds the failures are still counted, with no promise of a ban
    bare = pending(f2b.log.read_text().splitlines(), {}, now=now)
    assert [(x.ip, x.describe()) for x in bare] == [("198.51.100.3", "3 failures")]


def test_an_old_server_without_bantime_increment_leaves_it_unknown(f2b: MiniFail2ban, tmp_path: Path) -> None:
    # a jail that does not exist answers an error for every get: nothing is made up
    with Fail2banClient(f2b.socket) as client:
        s = read_settings(client, ["no-such-jail"])["no-such-jail"]
    assert (s.maxretry, s.findtime, s.bantime, s.increment, s.maxtime, s.ignoreip) == (None,) * 5 + ([],)
