"""The failures no jail catches, against a real fail2ban-server whose filter misses one wording.

The jail's filter counts only ``SASL LOGIN`` failures (as a hand-written filter easily does);
the log also holds ``SASL PLAIN`` failures and Dovecot login failures, which no jail watches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.fail2ban.client import Fail2banClient
from mailtui.fail2ban.settings import read_settings
from mailtui.fail2ban.uncaught import uncaught
from mailtui.recognizers.engine import default_engine
from tests.minif2b import MiniFail2ban, start_mini, syslog_now

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
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MiniFail2ban, list[str]]]:
    d = tmp_path_factory.mktemp("f2bunc")
    before = syslog_now("warning: unknown[198.51.100.9]: SASL PLAIN authentication failed: x")
    # the custom filter lives beside the stock ones (start_mini keeps an existing filter.d)
    filters = d / "etc" / "filter.d"
    filters.mkdir(parents=True)
    for stock in Path("/etc/fail2ban/filter.d").iterdir():
        (filters / stock.name).symlink_to(stock)
    (filters / "sasl-login-only.conf").write_text(FILTER)
    time.sleep(2.1)  # the line "before" predates fail2ban's log by more than its one-second stamps
    server = start_mini(d, JAILS)
    lines = [before]
    for _ in range(3):
        lines.append(syslog_now("warning: unknown[198.51.100.3]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"))
    for _ in range(2):
        lines.append(syslog_now("warning: unknown[198.51.100.4]: SASL PLAIN authentication failed: "))
    lines.append(syslog_now("warning: unknown[192.0.2.7]: SASL PLAIN authentication failed: "))  # ignoreip
    lines.append(
        syslog_now(
            "imap-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<bob>, "
            "method=PLAIN, rip=198.51.100.5, lip=192.0.2.1, TLS",
            program="dovecot",
        )
    )
    lines.append(syslog_now("connect from unknown[198.51.100.6]"))  # not a problem
    with server.mail_log.open("a") as log:
        log.writelines(lines[1:])
    server.found("sasl-login", 3)
    time.sleep(1.5)  # the jail has read everything it will (polling backend: once a second)
    server.cli("status", "sasl-login")  # and logged a line after the last mail line
    yield server, lines
    server.stop()


def test_lines_no_jail_counted_are_listed_by_kind(run: tuple[MiniFail2ban, list[str]]) -> None:
    server, lines = run
    with Fail2banClient(server.socket) as client:
        settings = read_settings(client, ["sasl-login"])
    report = uncaught(lines, server.log.read_text().splitlines(), default_engine(), settings)
    by_id = {k.recognizer: k for k in report.kinds}
    assert report.caught == 3  # the LOGIN failures the jail counted
    sasl = [k for k in report.kinds if dict(k.addresses) == {"198.51.100.4": 2}]
    assert len(sasl) == 1 and sasl[0].count == 2 and "SASL PLAIN" in sasl[0].example, (report, settings)
    dove = [k for k in report.kinds if "198.51.100.5" in k.addresses]
    assert len(dove) == 1 and dove[0].recognizer.startswith("dovecot.")
    everyone = {ip for k in report.kinds for ip in k.addresses}
    assert "192.0.2.7" not in everyone  # ignoreip: meant to pass
    assert "198.51.100.9" not in everyone  # before fail2ban's log began: not judged
    assert "198.51.100.6" not in everyone  # not a problem line
    assert sum(k.count for k in by_id.values()) == 3
    d = report.to_dict()
    assert d["caught"] == 3 and d["uncaught"][0]["count"] == 2


def test_without_fail2ban_lines_nothing_is_judged() -> None:
    report = uncaught(
        [syslog_now("warning: unknown[198.51.100.4]: SASL PLAIN authentication failed: ")], [], default_engine()
    )
    assert report.kinds == [] and "nothing can be judged" in report.note


def test_cli_uncaught_lists_the_missed_wording(run: tuple[MiniFail2ban, list[str]], tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    server, _lines = run
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    argv = [
        sys.executable,
        "-m",
        "mailtui",
        "--log",
        str(server.mail_log),
        "bans",
        "--uncaught",
        "--socket",
        server.socket,
    ]
    (tmp_path / "mailtui").mkdir()
    (tmp_path / "mailtui" / "config.toml").write_text(f'[logs]\nfail2ban = "{server.log}"\n')
    out = subprocess.run([*argv, "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["caught"] == 3 and sum(k["count"] for k in data["uncaught"]) == 3
    text = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert text.returncode == 1 and "failures no jail counted" in text.stdout and "SASL PLAIN" in text.stdout
