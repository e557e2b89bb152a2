"""The CLI says what it found, in sentences: an empty result is named (the queue is empty, no
problems recognized, nothing in the --since range and what the file does cover), counts are in
the right number, and ``config`` shows the values in force rather than empty strings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

LINES = (
    "Nov 29 10:00:00 mx postfix/smtpd[101]: connect from client.example[192.0.2.7]\n"
    "Nov 29 11:00:00 mx postfix/smtpd[101]: disconnect from client.example[192.0.2.7] ehlo=1 commands=1\n"
)


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
        check=False,
    )


def _log(tmp_path: Path, text: str = LINES) -> Path:
    log = tmp_path / "mail.log"
    log.write_text(text)
    stamp = datetime(2026, 11, 29, 12, 0).timestamp()  # the year of the syslog stamps
    os.utime(log, (stamp, stamp))
    return log


def test_scan_since_with_nothing_in_range_says_so_and_what_the_file_covers(tmp_path: Path) -> None:
    log = _log(tmp_path)
    proc = run("scan", str(log), "--since", "2026-11-29 10:30", "--until", "2026-11-29 10:40", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        f"nothing between 2026-11-29 10:30:00 and 2026-11-29 10:40:00: {log} covers "
        "2026-11-29 10:00:00 .. 2026-11-29 11:00:00 (2 lines, all outside the range)"
    )
    late = run("scan", str(log), "--since", "2026-11-30", home=tmp_path).stdout
    assert late.startswith("nothing since 2026-11-30 00:00:00: ") and "(2 lines, all outside" in late
    data = json.loads(run("scan", str(log), "--since", "2026-11-30", "--json", home=tmp_path).stdout)
    assert data["lines"] == 0 and data["outside_range"]["lines"] == 2
    assert data["outside_range"]["first"] == datetime(2026, 11, 29, 10, 0).timestamp()
    assert data["outside_range"]["last"] == datetime(2026, 11, 29, 11, 0).timestamp()


def test_scan_names_an_empty_file_and_a_clean_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert run("scan", str(empty), home=tmp_path).stdout.strip() == f"nothing to scan: {empty} holds no lines"
    clean = run("scan", str(_log(tmp_path)), home=tmp_path).stdout
    assert "no problems recognized in 2 lines" in clean
    one = run("scan", str(_log(tmp_path, LINES.splitlines(keepends=True)[0])), home=tmp_path).stdout
    assert "  1 line, " in one and "1 lines" not in one
    assert "no problems recognized in 1 line\n" in one


def test_config_shows_the_values_in_force_and_how_they_were_found(tmp_path: Path) -> None:
    from mailtui.logs.locate import FAIL2BAN_DEFAULT_SOCKET as DEFAULT_SOCKET
    from mailtui.logs.locate import fail2ban_setting

    proc = run("config", "--json", home=tmp_path)
    rows = {r["key"]: r for r in json.loads(proc.stdout)["settings"]}
    socket_row = rows["fail2ban.socket"]
    assert socket_row["value"] == "" and socket_row["source"] == "default"  # what was configured: nothing
    assert socket_row["in_force"] == (fail2ban_setting("socket") or DEFAULT_SOCKET)  # what is used
    assert socket_row["in_force_from"] in ("auto: fail2ban.conf socket", "fail2ban's default")
    import dns.resolver

    servers = [str(s) for s in dns.resolver.Resolver(configure=True).nameservers[:3]]
    assert rows["dns.nameserver"]["in_force"] == ", ".join(servers)
    assert rows["dns.nameserver"]["in_force_from"] == "auto: /etc/resolv.conf"
    # a value set in a file is in force as written, with that file named
    cfg = tmp_path / "c.toml"
    cfg.write_text('[fail2ban]\nsocket = "/run/elsewhere.sock"\n[ui]\nread_only = true\n')
    text = run("--config", str(cfg), "config", "--no-logs", home=tmp_path).stdout
    line = next(line for line in text.splitlines() if line.startswith("fail2ban.socket"))
    assert line.split() == ["fail2ban.socket", "/run/elsewhere.sock", str(cfg)]
    assert next(line for line in text.splitlines() if line.startswith("ui.read_only")).split()[1] == "yes"
    assert "''" not in text and "False" not in text  # no Python reprs


@pytest.mark.daemons
def test_queue_and_services_say_the_queue_is_empty(dnslab, tmp_path: Path) -> None:
    """The DNS lab's Postfix never gets mail: its queue is empty (postqueue agrees)."""
    assert dnslab.postfix.queue_ids() == []
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[postfix]\nconfig_dir = "{dnslab.postfix.conf_dir}"\n[dovecot]\nconfig = "{dnslab.dovecot.conf}"\n'
    )
    queue = run("--config", str(cfg), "queue", home=tmp_path)
    assert queue.returncode == 0, queue.stderr
    assert queue.stdout == "the queue is empty\n"
    assert json.loads(run("--config", str(cfg), "queue", "--json", home=tmp_path).stdout)["messages"] == []
    services = run("--config", str(cfg), "services", home=tmp_path).stdout
    assert "queue: empty\n" in services and "0 messages" not in services
    assert " 1 CPUs" not in services and "expires in 1 days" not in services
