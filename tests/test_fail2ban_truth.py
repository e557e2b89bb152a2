"""fail2ban down, said truthfully: a fail2ban-server of the test's own (tests/rig/fail2ban.py),
running, stopped cleanly, killed (stale socket and pid file), and running but asked by a
user without root. Bans read from the log say which file and as of when; time left comes
from the database or is "unknown"; unban fails before asking when the server cannot act."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.fail2ban.offline import from_log
from mailtui.fail2ban.source import DENIED, RUNNING, STOPPED, read_bans, server_state
from tests.rig.fail2ban import JAIL_CONF, Fail2ban, start_fail2ban

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.daemons
IP = "127.0.9.9"
# a jail /etc/fail2ban does not know: without the database its ban time is known only from this
# server's own configuration
EXTRA_JAIL = "\n[mailtui-test]\nenabled = true\nfilter = postfix\nlogpath = {mail_log}\nbantime = 20m\n"


@pytest.fixture
def f2b() -> Iterator[Fail2ban]:
    if shutil.which("fail2ban-server") is None:
        if os.environ.get("MAILTUI_REQUIRE_DAEMONS"):
            pytest.fail("fail2ban-server is not installed (sudo bash .ci/install-daemons.sh)")
        pytest.skip("fail2ban-server is not installed (sudo bash .ci/install-daemons.sh)")
    if os.geteuid() != 0:
        pytest.skip("needs root: fail2ban's socket is root-only")
    # a directory others may enter, so the unprivileged-user case reaches the socket itself
    base = Path(tempfile.mkdtemp(prefix="mailtui-f2b-", dir="/tmp"))
    base.chmod(0o755)
    for name in ("mail.log", "dovecot.log"):
        (base / name).touch()
    # `mailtui bans` finds fail2ban's log through [logs] fail2ban, as an admin would set it
    (base / "mailtui.toml").write_text(f'[logs]\nfail2ban = "{base / "fail2ban.log"}"\n')
    (base / "mailtui.toml").chmod(0o644)
    server = start_fail2ban(base, base / "mail.log", base / "dovecot.log", jail_conf=JAIL_CONF + EXTRA_JAIL)
    try:
        server.cli("set", "postfix", "banip", IP)
        server.cli("set", "mailtui-test", "banip", IP)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def mailtui(server: Fail2ban, *args: str, user: str = "", stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user == "nobody" else []
    where = ["--config", str(server.dir / "mailtui.toml"), args[0], "--socket", str(server.socket)]
    env = {**os.environ, "HOME": str(server.dir), "XDG_CONFIG_HOME": str(server.dir)}  # not root's
    return subprocess.run(
        [*prefix, sys.executable, "-m", "mailtui", *where, *args[1:]],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        input=stdin,
        env=env,
    )


def _kill(server: Fail2ban) -> None:
    pid = int((server.dir / "fail2ban.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def test_running_server_is_read_through_the_socket(f2b: Fail2ban) -> None:
    result = read_bans(str(f2b.socket), str(f2b.log))
    assert result.mode == "socket" and result.server.state == RUNNING and result.server.running
    assert result.actions_disabled == "" and result.headline() == ""
    assert result.server.socket == str(f2b.socket) and "answered" in result.server.detail
    data = json.loads(mailtui(f2b, "bans", "--json").stdout)
    assert data["server"]["state"] == "running" and data["actions_disabled"] == "" and data["source_file"] == ""
    assert IP in [b.ip for j in result.snapshot.jails for b in j.banned]


def test_killed_server_bans_come_from_the_log_with_file_time_and_time_left(f2b: Fail2ban) -> None:
    _kill(f2b)  # no Unban lines, a stale socket and a stale pid file stay behind
    assert f2b.socket.exists() and (f2b.dir / "fail2ban.pid").exists()
    result = read_bans(str(f2b.socket), str(f2b.log))
    assert result.mode == "log"
    assert result.server.state == STOPPED and result.server.running is False
    assert "nobody listens" in result.server.detail and "not running" in result.server.detail
    assert result.source_file == str(f2b.log)
    last_line = f2b.log.read_text().splitlines()[-1]
    assert result.as_of is not None
    assert time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result.as_of)) == last_line[:19]
    assert result.headline().startswith(f"fail2ban is not running — bans below are from {f2b.log} as of ")
    assert "not running" in result.actions_disabled
    ban = next(b for j in result.snapshot.jails if j.name == "postfix" for b in j.banned if b.ip == IP)
    assert ban.ban_time == 600 and 0 < ban.time_left() <= 600  # the database beside the socket says

    text = mailtui(f2b, "bans").stdout
    assert text.startswith("fail2ban is not running — bans below are from ")
    assert "unban is not possible now" in text
    data = json.loads(mailtui(f2b, "bans", "--json").stdout)
    assert data["server"]["state"] == "stopped" and data["server"]["running"] is False
    assert data["source_file"] == str(f2b.log) and data["as_of"] == result.as_of
    assert data["headline"] == result.headline() and "not running" in data["actions_disabled"]

    # without the database (root-only), the jail's bantime in the server's configuration
    no_db = read_bans(
        str(f2b.socket), str(f2b.log), db_path=str(f2b.dir / "absent.sqlite3"), conf_dir=str(f2b.conf_dir)
    )
    ban = next(b for j in no_db.snapshot.jails if j.name == "mailtui-test" for b in j.banned if b.ip == IP)
    assert ban.ban_time == 1200 and 1100 < ban.time_left() <= 1200
    # ... and where neither says, "unknown", never "?" (the CLI reads /etc/fail2ban, which has
    # no such jail)
    (f2b.dir / "fail2ban.sqlite3").rename(f2b.dir / "moved.sqlite3")
    text = mailtui(f2b, "bans").stdout
    row = next(line for line in text.splitlines() if IP in line and "mailtui-test" in line)
    assert row.rstrip().endswith("unknown") and "?" not in row
    ip_text = mailtui(f2b, "bans", "--ip", IP, "--jail", "mailtui-test", "--log", str(f2b.log)).stdout
    assert "unknown left (ban time unknown)" in ip_text, ip_text


def test_a_ban_prolonged_by_bantime_increment_ends_when_the_log_says() -> None:
    """fail2ban's observer logs "Increase Ban IP (count # span -> end)" after the Ban line."""
    snap = from_log(
        [
            "2026-11-29 01:08:54,123 fail2ban.actions        [7]: NOTICE  [sshd] Ban 192.0.2.10",
            (
                "2026-11-29 01:08:54,140 fail2ban.observer       [7]: NOTICE  [sshd] Increase Ban 192.0.2.10 "
                "(3 # 4h -> 2026-11-29 05:08:54)"
            ),
            "2026-11-29 02:00:00,000 fail2ban.actions        [7]: NOTICE  [sshd] Ban 192.0.2.11",
            (
                "2026-11-29 02:00:00,010 fail2ban.observer       [7]: NOTICE  [sshd] Increase Ban 192.0.2.11 "
                "(9 # permanent -> infinite)"
            ),
            "2026-11-29 03:00:00,000 fail2ban.actions        [7]: NOTICE  [sshd] Ban 192.0.2.12",
        ],
        bantimes={"sshd": 600},
    )
    bans = {b.ip: b for b in snap.jails[0].banned}
    assert bans["192.0.2.10"].ban_time == 4 * 3600 and bans["192.0.2.10"].ends == bans["192.0.2.10"].ban_start + 14400
    assert bans["192.0.2.11"].time_left() == float("inf")
    assert bans["192.0.2.12"].ban_time == 600 and bans["192.0.2.12"].ends == bans["192.0.2.12"].ban_start + 600
    assert snap.jails[0].total_banned == 3


def test_cleanly_stopped_server_and_unban_refused_before_asking(f2b: Fail2ban) -> None:
    f2b.stop()
    for _ in range(100):
        if not f2b.socket.exists():
            break
        time.sleep(0.05)
    state = server_state(str(f2b.socket))
    assert state.state == STOPPED and "does not exist" in state.detail and "no pid file" in state.detail
    result = read_bans(str(f2b.socket), str(f2b.log))
    assert result.server.state == STOPPED and result.source_file == str(f2b.log)
    # fail2ban unbans everything as it stops: nothing is banned, and the CLI says so in words
    text = mailtui(f2b, "bans").stdout
    assert "no IP is banned in any of the 5 jails" in text, text
    # no --yes and no terminal: today's code asked for confirmation; now the reason comes first
    proc = mailtui(f2b, "unban", IP, stdin="y\n")
    assert proc.returncode != 0
    assert "not running" in proc.stderr and "confirmation" not in proc.stderr + proc.stdout, proc.stderr


def test_running_server_asked_without_root_is_not_called_stopped(f2b: Fail2ban) -> None:
    """Permission denied is not "stopped": the pid file says the server runs."""
    f2b.log.chmod(0o644)
    pid = int((f2b.dir / "fail2ban.pid").read_text().split()[0])
    proc = mailtui(f2b, "bans", "--json", user="nobody")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["server"]["state"] == DENIED and data["server"]["running"] is True
    assert data["server"]["pid"] == pid and "permission denied" in data["server"]["detail"]
    assert data["headline"].startswith(
        f"fail2ban runs (pid {pid}) but its socket is root-only — bans below are from {f2b.log} as of "
    )
    assert "run mailtui as root" in data["actions_disabled"]
    assert IP in [b["ip"] for j in data["jails"] for b in j["banned"]]
    unban = mailtui(f2b, "unban", IP, "--yes", user="nobody")
    assert unban.returncode != 0 and "permission denied" in unban.stderr
    assert IP in f2b.banned("postfix")  # nothing was lifted


def test_a_server_without_jails_says_so(tmp_path: Path) -> None:
    if shutil.which("fail2ban-server") is None:
        pytest.skip("fail2ban-server is not installed (sudo bash .ci/install-daemons.sh)")
    tmp_path.chmod(0o700)
    for name in ("mail.log", "dovecot.log"):
        (tmp_path / name).touch()
    (tmp_path / "mailtui.toml").write_text(f'[logs]\nfail2ban = "{tmp_path / "fail2ban.log"}"\n')
    server = start_fail2ban(
        tmp_path, tmp_path / "mail.log", tmp_path / "dovecot.log", jail_conf="[DEFAULT]\nbackend = polling\n"
    )
    try:
        proc = mailtui(server, "bans")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "no jails: fail2ban runs but has no jail enabled\n"
        assert json.loads(mailtui(server, "bans", "--json").stdout)["jails"] == []
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("600", 600),
        ("10m", 600),
        ("1h 30m", 5400),
        ("1d12h", 129600),
        ("1w", 604800),
        ("-1", -1),
        ("2 hours", 7200),
        ("5min", 300),
        ("%(bantime)s", None),
        ("1h+1m", None),
        ("", None),
        ("soon", None),
    ],
)
def test_fail2ban_time_values(text: str, seconds: int | None) -> None:
    from mailtui.fail2ban.offline import span_seconds

    assert span_seconds(text) == seconds
