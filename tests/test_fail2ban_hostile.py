"""Hostile fail2ban servers: replies that would inflate in memory, and servers that trickle.

Every decoded reply is capped (string length, integer size, nesting, values), every call and
every conversation has a total deadline. The servers are real Unix sockets (the listener helper
of test_fail2ban_client.py) speaking fail2ban's framing with crafted pickles.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable
from mailtui.fail2ban.protocol import END, MAX_DEPTH, MAX_TEXT, ProtocolError, loads
from mailtui.fail2ban.status import collect
from tests.test_fail2ban_client import _listening

REPO = Path(__file__).resolve().parent.parent
P2 = b"\x80\x02"


def _reduce(name: bytes, arg: bytes) -> bytes:
    """``builtins.<name>(<arg>)`` as a protocol-2 pickle fragment (GLOBAL + arg tuple + REDUCE)."""
    return b"c__builtin__\n" + name + b"\n" + arg + b"\x85R"


def _binint(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def _long4(digits: int) -> bytes:
    raw = (10**digits - 1).to_bytes((10**digits).bit_length() // 8 + 1, "little", signed=True)
    return b"\x8b" + struct.pack("<i", len(raw)) + raw


def _deep(n: int, opener: bytes = b"]", closer: bytes = b"a") -> bytes:
    """n lists each appended into the one before: nesting n deep with a stack, not recursion."""
    return opener * n + closer * (n - 1)


def _ok(value: bytes) -> bytes:
    """(0, value): the shape of every fail2ban answer."""
    return P2 + b"K\x00" + value + b"\x86."


HOSTILE: dict[str, bytes] = {
    # the 45 bytes: (0, bytes(2**31-1)) built by REDUCE
    "bytes(2**31-1)": _ok(_reduce(b"bytes", _binint(2**31 - 1))),
    "bytes(2**62) via long": _ok(_reduce(b"bytes", b"\x8a\x08" + struct.pack("<q", 2**62))),
    "str(int of 20,000 digits)": _ok(_reduce(b"str", _long4(20_000))),
    "int of 20,000 digits": _ok(_long4(20_000)),
    "int('9' * 20,000)": _ok(_reduce(b"int", b"X" + struct.pack("<I", 20_000) + b"9" * 20_000)),
    "list nested 200,000 deep": _ok(_deep(200_000)),
    "dict nested deep": P2 + b"K\x00" + b"}(K\x01" * 1000 + b"N" + b"s" * 1000 + b"\x86.",
    "set(str of 5 MiB)": _ok(_reduce(b"set", b"X" + struct.pack("<I", 5 << 20) + b"x" * (5 << 20))),
    "list(str) ": _ok(_reduce(b"list", b"X" + struct.pack("<I", 100) + b"x" * 100)),
    "str(list)": _ok(_reduce(b"str", b"]")),
    "a 5 MiB string": _ok(b"X" + struct.pack("<I", 5 << 20) + b"x" * (5 << 20)),
    "bytes8 claiming 2**40": _ok(b"\x8e" + struct.pack("<Q", 2**40) + b"abc"),
    "memo index 2**31": P2 + b"N" + b"r" + struct.pack("<I", 2**31) + b".",
    # one 1 MiB string referenced 200 times by the memo: a small reply, 200 MiB of text
    "memo amplification": P2
    + b"K\x00"
    + b"X"
    + struct.pack("<I", 1 << 20)
    + b"x" * (1 << 20)
    + b"q\x00"
    + b"]("
    + b"h\x00" * 200
    + b"e\x86.",
    # a list that contains itself: walking it would never end
    "self-containing list": _ok(b"]q\x00h\x00a"),
    "3 million values": _ok(b"](" + b"N" * 3_000_000 + b"e"),
    "an exception carrying a deep list": P2 + b"K\x01" + b"c__builtin__\nValueError\n" + _deep(5000) + b"\x85R\x86.",
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_inflating_replies_are_refused(case: str) -> None:
    started = time.monotonic()
    with pytest.raises(ProtocolError, match=r"refused|larger|unreadable"):
        loads(HOSTILE[case])
    assert time.monotonic() - started < 5


def test_legitimate_replies_pass_the_caps() -> None:
    bans = [
        f"192.0.{i // 256 % 256}.{i % 256} \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54" for i in range(20_000)
    ]
    assert loads(pickle.dumps((0, bans), protocol=4)) == (0, bans)
    status = (
        0,
        [
            ("Status for the jail", "sshd"),
            ("Filter", [("Currently failed", 0), ("File list", ["/l"])]),
            ("Actions", [("Currently banned", 2), ("Banned IP list", ["192.0.2.1", "2001:db8::1"])]),
        ],
    )
    for protocol in (2, 4, 5):
        assert loads(pickle.dumps(status, protocol=protocol)) == status
        assert (
            loads(
                pickle.dumps(
                    (
                        0,
                        {
                            "a": {1, 2},
                            "b": frozenset({3}),
                            "c": 1.5,
                            "d": None,
                            "e": b"x",
                            "f": 10**300,
                            "g": 2j,
                            "h": True,
                        },
                    ),
                    protocol=protocol,
                )
            )[1]["f"]
            == 10**300
        )
    assert loads(pickle.dumps(_nest(MAX_DEPTH - 2), protocol=4)) == _nest(MAX_DEPTH - 2)
    assert len(loads(pickle.dumps("x" * MAX_TEXT, protocol=4))) == MAX_TEXT
    error = loads(pickle.dumps((1, ValueError("no jail 'x'")), protocol=4))[1]
    assert error.kind == "ValueError" and "no jail" in str(error)


def _nest(n: int) -> list:
    value: list = []
    for _ in range(n):
        value = [value]
    return value


# -- servers that trickle --------------------------------------------------------------------------
def _server(
    path: Path, reply: Callable[[list[str]], bytes], pace: float = 0.0, stop: threading.Event | None = None
) -> threading.Event:
    """Answers every request on every connection with reply(command) + END, ``pace`` s per byte."""
    srv = _listening(path)
    srv.listen(8)
    path.chmod(0o600)
    stop = stop or threading.Event()

    def one(conn: socket.socket) -> None:
        buf = b""
        try:
            while not stop.is_set():
                while END not in buf:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    buf += chunk
                request, _, buf = buf.partition(END)
                if request.startswith(b"<F2B_CLOSE"):
                    return
                data = reply(pickle.loads(request)) + END
                if not pace:
                    conn.sendall(data)
                    continue
                for i in range(len(data)):
                    if stop.wait(pace):
                        return
                    conn.sendall(data[i : i + 1])
        except OSError:
            pass
        finally:
            conn.close()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=one, args=(conn,), daemon=True).start()
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return stop


def _f2b_10(command: list[str]) -> bytes:
    """fail2ban 1.0's reply shapes, three jails."""
    if command == ["version"]:
        value: object = "1.0.2"
    elif command == ["status"]:
        value = [("Number of jail", 3), ("Jail list", "a, b, c")]
    elif command[0] == "status":
        value = [
            ("Filter", [("Currently failed", 0), ("Total failed", 1), ("File list", ["/l"])]),
            ("Actions", [("Currently banned", 1), ("Total banned", 1), ("Banned IP list", ["192.0.2.1"])]),
        ]
    else:
        value = ["192.0.2.1 \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54"]
    return pickle.dumps((0, value), protocol=4)


@pytest.fixture()
def sock(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    tmp_path.chmod(0o700)
    stop = threading.Event()
    yield tmp_path / "f2b.sock", stop
    stop.set()


@pytest.mark.parametrize("pace", [0.3, 1.0, 3.0])
def test_a_trickling_reply_ends_at_the_call_deadline(sock, pace: float) -> None:
    path, stop = sock
    _server(path, _f2b_10, pace=pace, stop=stop)
    client = Fail2banClient(str(path), timeout=1.5, owner_uid=os.geteuid())
    started = time.monotonic()
    with pytest.raises(SocketUnavailable, match=r"did not answer 'version' within 1\.5s"):
        client.call("version")
    assert time.monotonic() - started < 1.5 + 1


def test_a_silent_server_ends_at_the_call_deadline(sock) -> None:
    path, stop = sock
    _server(path, _f2b_10, pace=3600, stop=stop)
    client = Fail2banClient(str(path), timeout=1.0, owner_uid=os.geteuid())
    started = time.monotonic()
    with pytest.raises(SocketUnavailable, match="within 1s"):
        client.call("version")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("pace", [0.0005, 0.001])
def test_many_slow_calls_end_at_the_conversation_deadline(sock, pace: float) -> None:
    # each reply (~200-300 bytes) arrives well within the call timeout, but a refresh needs seven
    path, stop = sock
    _server(path, _f2b_10, pace=pace, stop=stop)
    with Fail2banClient(str(path), timeout=5, owner_uid=os.geteuid(), conversation=0.6) as client:
        started = time.monotonic()
        with pytest.raises(SocketUnavailable, match=r"did not finish answering within 0\.6s"):
            collect(client)
    assert time.monotonic() - started < 0.6 + 1


def test_a_prompt_server_still_answers_a_whole_refresh(sock) -> None:
    path, stop = sock
    _server(path, _f2b_10, stop=stop)
    with Fail2banClient(str(path), timeout=1, owner_uid=os.geteuid(), conversation=2) as client:
        snap = collect(client)
    assert [j.name for j in snap.jails] == ["a", "b", "c"]
    assert all(b.ip == "192.0.2.1" and b.ban_time == 600 for j in snap.jails for b in j.banned)


# -- the CLI against them: a one-line message, in time, memory bounded ------------------------------
# runs mailtui's entry point and writes the process's own peak RSS (VmHWM: per address space, so
# it starts at exec, unlike ru_maxrss, which Linux carries over from the forking test process)
PEAK_RSS = (
    "import runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "try:\n"
    "    runpy.run_module('mailtui', run_name='__main__')\n"
    "finally:\n"
    "    hwm = [r for r in open('/proc/self/status') if r.startswith('VmHWM:')][0].split()[1]\n"
    "    open(out, 'w').write(hwm)\n"
)


def _bans_cli(path: Path, tmp: Path, timeout: float = 60) -> tuple[int, bytes, bytes, float, int]:
    # no fail2ban.log to fall back to (this machine may have one): the socket's failure is the answer
    (tmp / "mailtui").mkdir(exist_ok=True)
    (tmp / "mailtui" / "config.toml").write_text(f'[logs]\nfail2ban = "{tmp}/no-fail2ban.log"\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp), "NO_COLOR": "1"}
    peak_file = tmp / "peak-rss"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", PEAK_RSS, str(peak_file), "bans", "--socket", str(path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=timeout)
    elapsed = time.monotonic() - started
    return proc.returncode, out, err, elapsed, int(peak_file.read_text())


@pytest.mark.parametrize(
    "case",
    [
        "bytes(2**31-1)",
        "int of 20,000 digits",
        "list nested 200,000 deep",
        "memo amplification",
        "self-containing list",
    ],
)
def test_bans_cli_refuses_an_inflating_reply_in_one_line(sock, tmp_path: Path, case: str) -> None:
    path, stop = sock
    _server(path, lambda command: HOSTILE[case], stop=stop)
    code, _out, err, elapsed, peak_kib = _bans_cli(path, tmp_path)
    assert b"Traceback" not in err and b"internal error" not in err
    assert code != 0 and len(err.strip().splitlines()) == 1, err
    assert b"refused" in err or b"larger" in err
    assert peak_kib < 400 * 1024, f"{peak_kib // 1024} MiB"
    assert elapsed < 20


def test_bans_cli_against_a_trickler_ends_within_its_deadline(sock, tmp_path: Path) -> None:
    path, stop = sock
    _server(path, _f2b_10, pace=3.0, stop=stop)  # the one byte every 3 s
    code, _out, err, elapsed, _ = _bans_cli(path, tmp_path)
    assert code != 0 and b"did not answer 'version' within 5s" in err, err
    assert elapsed < 5 + 4
