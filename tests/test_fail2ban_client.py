"""The fail2ban client against the rig's real fail2ban-server, and against hostile sockets."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mailtui import settings
from mailtui.fail2ban.actions import ActionRefused, unban
from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable, check_socket
from mailtui.fail2ban.offline import from_log
from mailtui.fail2ban.protocol import END, ProtocolError, loads
from mailtui.fail2ban.status import collect
from tests.rig.run import run_scenario
from tests.rig.scenarios import BY_NAME


@pytest.mark.daemons
def test_counts_and_bans_equal_fail2ban_client(rig) -> None:
    outcome = run_scenario(rig, BY_NAME["fail2ban_ban"], rig.postfix)
    assert not outcome.missing
    import time

    def ours_and_peer():
        with Fail2banClient(str(rig.fail2ban.socket)) as client:
            snap = collect(client)
        mine = {
            j.name: (
                j.currently_failed,
                j.total_failed,
                j.currently_banned,
                j.total_banned,
                sorted(b.ip for b in j.banned),
            )
            for j in snap.jails
        }
        peer = {}
        for name in mine:
            st = rig.fail2ban.status(name)
            peer[name] = (
                int(st["Currently failed"]),
                int(st["Total failed"]),
                int(st["Currently banned"]),
                int(st["Total banned"]),
                sorted(st["Banned IP list"].split()),
            )
        return snap, mine, peer

    # fail2ban keeps working between the two reads (the dovecot jail bans a moment later):
    # compare once the server has settled
    for _ in range(20):
        snap, mine, peer = ours_and_peer()
        if mine == peer:
            break
        time.sleep(0.5)
    assert mine == peer
    assert snap.source == "socket" and snap.version.startswith(("0.", "1."))
    ban = next(b for j, b in snap.find_ip(outcome.ip) if j.name == "postfix-sasl")
    assert ban.ban_time == 600 and 0 < ban.time_left() <= 600


@pytest.mark.daemons
def test_unban_through_mailtui_removes_it_inside_fail2ban(rig) -> None:
    outcome = run_scenario(rig, BY_NAME["fail2ban_ban"], rig.postfix)
    assert outcome.ip in rig.fail2ban.banned("postfix-sasl")
    assert unban(str(rig.fail2ban.socket), outcome.ip, "postfix-sasl") == 1
    assert outcome.ip not in rig.fail2ban.banned("postfix-sasl")
    with pytest.raises(ActionRefused, match="not banned"):
        unban(str(rig.fail2ban.socket), outcome.ip, "postfix-sasl")
    with pytest.raises(ActionRefused, match="not an IP address"):
        unban(str(rig.fail2ban.socket), "1.2.3.4; rm -rf /", "postfix-sasl")


@pytest.mark.daemons
def test_bans_cli_json_and_log_fallback(rig, tmp_path: Path) -> None:
    import json

    outcome = run_scenario(rig, BY_NAME["fail2ban_ban"], rig.postfix)
    logs = ["--log", str(rig.rsyslog.traditional), "--log", str(rig.fail2ban.log)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailtui",
            "bans",
            "--json",
            "--socket",
            str(rig.fail2ban.socket),
            "--ip",
            outcome.ip,
            *logs,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(proc.stdout)
    assert data["source"] == "socket"
    assert {"postfix-sasl"} <= {b["jail"] for b in data["ip"]["banned_in"]}
    # why: fail2ban's Found lines and the SASL failures in the mail log, recognized
    why = data["ip"]["why"]
    assert len(why["found"]) >= 3 and all(outcome.ip in f["message"] for f in why["found"])
    assert any(m["recognizer"] == "postfix.sasl.auth_failed" for m in why["mail"]), why["mail"]
    assert any(e["action"] == "Ban" and e["jail"] == "postfix-sasl" for e in why["events"])
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--socket", str(rig.fail2ban.socket), "--ip", outcome.ip, *logs],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert f"{outcome.ip} is banned by postfix-sasl since" in text
    assert "→ SMTP AUTH failed: wrong user name or password" in text
    jail = next(j for j in data["jails"] if j["name"] == "postfix-sasl")
    assert {"name", "currently_failed", "total_failed", "currently_banned", "total_banned", "banned"} <= set(jail)
    offline = from_log(rig.fail2ban.log.read_text().splitlines())
    assert offline.source == "log"
    assert outcome.ip in [b.ip for j in offline.jails if j.name == "postfix-sasl" for b in j.banned]


@pytest.mark.daemons
def test_server_stopped_and_restarted(rig) -> None:
    rig.fail2ban.stop()
    try:
        with (
            pytest.raises(SocketUnavailable, match=r"not running|nobody answers"),
            Fail2banClient(str(rig.fail2ban.socket)) as client,
        ):
            collect(client)
    finally:
        rig.fail2ban.start()
    with Fail2banClient(str(rig.fail2ban.socket)) as client:
        assert len(collect(client).jails) == 4


def _listening(path: Path) -> socket.socket:
    """A Unix socket at ``path`` (replacing a stale one) that takes one connection."""
    if path.exists():
        path.unlink()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    return srv


def _fake_server(path: Path, reply: bytes, end: bool = True) -> threading.Thread:
    """Answers one request with ``reply`` (and the end marker unless ``end`` is False), then closes."""
    srv = _listening(path)

    def serve() -> None:
        conn, _ = srv.accept()
        buf = b""
        while END not in buf:
            buf += conn.recv(4096)
        conn.sendall(reply + (END if end else b""))
        conn.close()
        srv.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/mailtui-pwned",))


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="refused to load"):
        loads(pickle.dumps((0, _Evil())))
    assert loads(pickle.dumps((1, ValueError("x"))))[1].kind == "ValueError"
    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    _fake_server(sock, pickle.dumps((0, _Evil())))
    sock.chmod(0o600)
    client = Fail2banClient(str(sock), owner_uid=os.geteuid())
    with pytest.raises(ProtocolError, match="refused to load"):
        client.call("version")
    assert not Path("/tmp/mailtui-pwned").exists()


def test_socket_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a socket owned by another user")
    tmp_path.chmod(0o755)
    sock = tmp_path / "f2b.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    os.chown(sock, 65534, 65534)
    with pytest.raises(SocketUnavailable, match="owned by uid 65534"):
        check_socket(str(sock))
    os.chown(sock, 0, 0)
    sock.chmod(0o666)
    with pytest.raises(SocketUnavailable, match="accessible to group/others"):
        check_socket(str(sock))
    s.close()
    evil_dir = tmp_path / "open"
    evil_dir.mkdir()
    evil_dir.chmod(0o777)
    sock2 = evil_dir / "f2b.sock"
    s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s2.bind(str(sock2))
    sock2.chmod(0o600)
    with pytest.raises(SocketUnavailable, match="writable by group/others"):
        check_socket(str(sock2))
    s2.close()


@pytest.mark.daemons
def test_refresh_reuses_unchanged_lists_and_sees_every_change(rig) -> None:
    from mailtui.fail2ban.actions import ban

    sock = str(rig.fail2ban.socket)
    with Fail2banClient(sock) as client:
        first = collect(client)
        second = collect(client, previous=first)
    # a ban of an earlier test may end between the two refreshes: its jail is fetched again,
    # and rightly so; every jail whose counters stayed is not
    earlier = {j.name: j for j in first.jails}
    kept = [
        j
        for j in second.jails
        if (j.currently_banned, j.total_banned) == (earlier[j.name].currently_banned, earlier[j.name].total_banned)
    ]
    assert kept, "every jail's counters changed between two refreshes a moment apart"
    for jail in second.jails:
        assert (jail.banned is earlier[jail.name].banned) == (jail in kept), jail.name  # not fetched again
    ban(sock, "127.0.0.77", "dovecot")
    try:
        with Fail2banClient(sock) as client:
            third = collect(client, previous=second)
        assert "127.0.0.77" in [b.ip for j in third.jails if j.name == "dovecot" for b in j.banned]
    finally:
        unban(sock, "127.0.0.77", "dovecot")
    with Fail2banClient(sock) as client:
        fourth = collect(client, previous=third)
    assert "127.0.0.77" not in [b.ip for j in fourth.jails if j.name == "dovecot" for b in j.banned]


def _fake_f2b_11(path: Path) -> list[list[str]]:
    """A server speaking fail2ban's protocol with 1.1's reply shapes (fail2ban 1.1 does not
    install here: Debian 12 ships 1.0.2). Shapes as recorded from a 1.1.2.dev server in
    ../shared/research/fail2ban_ops.md §1.3. Returns the list the commands are recorded in."""
    seen: list[list[str]] = []
    status = {
        "dovecot": [
            ("Filter", [("Currently failed", 0), ("Total failed", 2), ("File list", ["/var/log/dovecot.log"])]),
            ("Actions", [("Currently banned", 1), ("Total banned", 1)]),
        ],
        "postfix": [
            ("Filter", [("Currently failed", 1), ("Total failed", 4), ("File list", ["/var/log/mail.log"])]),
            ("Actions", [("Currently banned", 2), ("Total banned", 2)]),
        ],
    }
    replies = {
        ("version",): "1.1.0",
        ("status", "--all", "short"): [("Number of jail", 2), ("Jail list", "dovecot, postfix"), status],
        ("get", "dovecot", "banip", "--with-time"): ["198.51.100.7 \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54"],
        ("get", "postfix", "banip", "--with-time"): [
            "192.0.2.10 \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54",
            "2001:db8::5 \t2026-11-29 01:09:15 + -1 = 9999-12-31 23:59:59",
        ],
    }
    srv = _listening(path)

    def serve() -> None:
        conn, _ = srv.accept()
        buf = b""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            buf += chunk
            while END in buf:
                raw, buf = buf.split(END, 1)
                if raw.startswith(b"<F2B_CLOSE"):
                    continue  # the client says goodbye
                command = pickle.loads(raw)
                seen.append(command)
                key = tuple(command)
                reply = (0, replies[key]) if key in replies else (1, ValueError(f"unexpected {command}"))
                conn.sendall(pickle.dumps(reply, protocol=2) + END)
        conn.close()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return seen


def test_fail2ban_11_status_all_in_one_round_trip(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    seen = _fake_f2b_11(sock)
    sock.chmod(0o600)
    with Fail2banClient(str(sock), owner_uid=os.geteuid()) as client:
        snap = collect(client)
    assert seen[:2] == [["version"], ["status", "--all", "short"]]
    assert not any(c[0] == "status" and len(c) > 1 and c[1] not in ("--all",) for c in seen)  # no per-jail status
    jails = {j.name: j for j in snap.jails}
    assert (jails["postfix"].currently_failed, jails["postfix"].total_failed, jails["postfix"].currently_banned) == (
        1,
        4,
        2,
    )
    assert [b.ip for b in jails["postfix"].banned] == ["192.0.2.10", "2001:db8::5"]
    assert jails["postfix"].banned[1].time_left() == float("inf")  # bantime -1: permanent
    assert jails["dovecot"].files == ["/var/log/dovecot.log"]


def test_a_socket_of_the_user_mailtui_runs_as_is_trusted_and_another_users_is_not() -> None:
    """Run by a user (not root), a socket that user owns in a directory they own was made by their
    own processes: accepted, as root's is. One owned by anybody else is still refused. (As root
    this runs as nobody, so the rule for users is checked on every run.)"""
    import textwrap

    code = textwrap.dedent(
        """
        import os, socket, tempfile
        from mailtui.fail2ban.client import SocketUnavailable, check_socket
        d = tempfile.mkdtemp()
        os.chmod(d, 0o700)
        path = os.path.join(d, "f2b.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o600)
        check_socket(path)
        print("own: accepted")
        try:
            check_socket(path, owner_uid=os.geteuid() + 1)
            print("other: accepted")
        except SocketUnavailable as exc:
            print("other:", exc)
        """
    )
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    own, other = out.stdout.splitlines()
    assert own == "own: accepted"
    assert other.startswith("other: ") and "is owned by uid" in other and "refusing to talk to it" in other, other


def test_server_dying_mid_reply_is_a_clear_fallback(tmp_path: Path) -> None:
    """The server reads the request, sends half a reply and dies: no hang, no traceback; the
    Bans source says what happened and falls back to fail2ban.log."""
    from mailtui.fail2ban.source import read_bans

    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    half = pickle.dumps((0, "1.0.2"), protocol=2)[:5]  # no end marker, then the connection drops
    _fake_server(sock, half, end=False)
    sock.chmod(0o600)
    client = Fail2banClient(str(sock), owner_uid=os.geteuid())
    with pytest.raises(ProtocolError, match="closed the connection"):
        client.call("version")
    log = tmp_path / "fail2ban.log"
    log.write_text("2026-11-29 01:08:54,123 fail2ban.actions [1]: NOTICE  [postfix] Ban 192.0.2.10\n")
    _fake_server(sock, half, end=False)
    sock.chmod(0o600)
    result = read_bans(str(sock), str(log))
    assert result.mode == "log" and "closed the connection" in result.reason
    assert [b.ip for j in result.snapshot.jails for b in j.banned] == ["192.0.2.10"]


def test_reverse_names_keep_only_the_addresses_banned_now() -> None:
    from mailtui.fail2ban.rdns import PRUNE_SLACK, ReverseNames

    names = ReverseNames("127.0.0.1")
    # a month of bans: every name known already, so nothing is asked of the network here
    names.names = {f"10.0.{i // 256}.{i % 256}": f"h{i}.example" for i in range(3 * PRUNE_SLACK)}
    banned_now = ["10.0.0.5", "10.0.1.7"]
    assert names.resolve(banned_now) == 0
    assert names.names == {"10.0.0.5": "h5.example", "10.0.1.7": "h263.example"}
    assert names.get("10.0.1.7") == "h263.example" and names.get("10.0.0.6") == ""
    # a cache no bigger than what is banned is left alone
    names.names = {f"10.1.0.{i}": "" for i in range(200)}
    names.resolve([f"10.1.0.{i}" for i in range(150)])
    assert len(names.names) == 200


def test_bans_per_hour_counts_a_wave_beyond_the_events_kept() -> None:
    from datetime import datetime

    from mailtui.analysis.live import LiveEntry
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.ui.panes.bans import EVENTS_KEPT, BansPane

    engine = default_engine()
    parser = EnvelopeParser(record_type=LiveEntry)
    start = datetime(2026, 11, 29, 10, 0)
    entries = []
    for i in range(3 * EVENTS_KEPT):  # 1,500 bans in 25 minutes
        when = datetime.fromtimestamp(start.timestamp() + i)
        action = "Restore Ban" if i % 10 == 0 else "Ban"  # a restart's restored bans are not new ones
        line = (
            f"{when:%Y-%m-%d %H:%M:%S},000 fail2ban.actions        [77]: NOTICE  [postfix-sasl] "
            f"{action} 10.9.{i // 256}.{i % 256}"
        )
        entry = parser.parse(line, i)
        entries.append(entry.recognized(engine.recognize(entry)))
    pane = BansPane(settings.defaults())
    pane.add_log_entries(entries)
    assert len(pane.events) == EVENTS_KEPT
    now = start.timestamp() + 3 * EVENTS_KEPT
    assert sum(pane.ban_rate["postfix-sasl"].last_hour(now)) == 3 * EVENTS_KEPT * 9 // 10
    assert sum(pane.ban_rate["postfix-sasl"].last_hour(now + 7200)) == 0  # two hours later: none
