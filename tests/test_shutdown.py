"""The real dashboard in a pty ends within 2 s of q, SIGTERM or SIGINT whatever its workers are
doing, and leaves the terminal as it found it (main screen, cursor shown, mouse tracking off,
echo on) and no demo directory behind.

The workers are held by real hostile peers: a named pipe as the log, a fail2ban socket that
trickles one byte every 3 s (tests/test_fail2ban_hostile.py), a name server that never answers
or answers with alias loops (tests/fake_dns.py).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import pytest

from tests.fake_dns import FakeDns, response
from tests.test_fail2ban_hostile import _f2b_10, _server

REPO = Path(__file__).resolve().parent.parent
LIMIT = 2.0  # seconds from the request to the process being gone


class Dashboard:
    """``mailtui`` started in a pty of 120x35; ``output`` is everything it wrote."""

    def __init__(self, tmp: Path, argv: list[str], config: str) -> None:
        (tmp / "xdg" / "mailtui").mkdir(parents=True, exist_ok=True)
        (tmp / "xdg" / "mailtui" / "config.toml").write_text(config)
        (tmp / "tmp").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp / "xdg"),
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "35",
            "TMPDIR": str(tmp / "tmp"),
        }
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # child
            os.chdir(REPO)
            os.execve(sys.executable, [sys.executable, "-m", "mailtui", *argv], env)
        self.output = b""
        self.status: int | None = None

    def read(self, needle: bytes = b"", timeout: float = 0.2) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (needle and needle in self.output):
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def wait_exit(self, timeout: float) -> float | None:
        """Seconds until the process was gone (its output drained meanwhile), None if it was not."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            self.read(timeout=0.02)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
                self.read(timeout=0.2)
                return time.monotonic() - started
        return None

    def echo_on(self) -> bool:
        return bool(termios.tcgetattr(self.master)[3] & termios.ECHO)

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.master)


def _silent(q: dns.message.Message) -> None:
    """A name server that never answers."""


def _self_cname(q: dns.message.Message) -> dns.message.Message:
    """Every name is an alias of itself."""
    return response(q, (q.question[0].name.to_text(), "CNAME", q.question[0].name.to_text()))


@pytest.fixture()
def hostile(tmp_path: Path) -> Iterator[dict[str, object]]:
    tmp_path.chmod(0o700)
    fifo = tmp_path / "fifo1"
    os.mkfifo(fifo)
    stop = threading.Event()
    sock = tmp_path / "f2b.sock"
    _server(sock, _f2b_10, pace=3.0, stop=stop)  # the trickle: one byte every 3 s
    servers = {"silent": FakeDns(_silent), "loop": FakeDns(_self_cname)}
    yield {"fifo": fifo, "sock": sock, "dns": servers, "tmp": tmp_path}
    stop.set()
    for server in servers.values():
        server.stop()


def _config(h: dict, dns: str) -> str:
    server = h["dns"][dns]  # type: ignore[index]
    return (
        f'[logs]\nfiles = ["{h["fifo"]}"]\nfail2ban = "{h["tmp"]}/none.log"\n'
        f'[fail2ban]\nsocket = "{h["sock"]}"\n'
        f'[dns]\ndomain = "example.org"\nnameserver = "{server.nameserver}"\n'
        "[ui]\nrefresh_seconds = 1.0\n"
    )


def _request(app: Dashboard, how: str) -> None:
    if how == "q":
        os.write(app.master, b"q")
    else:
        os.kill(app.pid, {"sigterm": signal.SIGTERM, "sigint": signal.SIGINT}[how])


EXPECTED = {"q": 0, "sigterm": 143, "sigint": 130}


def _assert_terminal_restored(app: Dashboard) -> None:
    tail = app.output[app.output.rfind(b"\x1b[?1049h") :]
    assert b"\x1b[?1049l" in tail, "still on the alternate screen"
    assert b"\x1b[?25h" in tail[tail.rfind(b"\x1b[?25l") :], "cursor left hidden"
    if b"\x1b[?1000h" in tail:
        assert b"\x1b[?1000l" in tail[tail.rfind(b"\x1b[?1000h") :], "mouse tracking left on"
    assert app.echo_on(), "echo left off"


@pytest.mark.parametrize("dns", ["silent", "loop"])
@pytest.mark.parametrize("how", ["q", "sigterm", "sigint"])
def test_dashboard_ends_within_2s_whatever_its_workers_are_blocked_in(hostile, how: str, dns: str) -> None:
    app = Dashboard(hostile["tmp"], [], _config(hostile, dns))  # type: ignore[arg-type]
    try:
        app.read(b"Maximize", timeout=40)
        assert b"Maximize" in app.output, app.output[-400:]
        # the log pane says why the pipe is not followed; the Bans and DNS workers are in flight
        app.read(b"named pipe", timeout=10)
        assert b"named pipe" in app.output
        time.sleep(1.0)
        assert not app.echo_on()  # application mode, before
        _request(app, how)
        took = app.wait_exit(timeout=15)
        assert took is not None, "still running 15 s after the request"
        print(f"exit after {how} with a {dns} name server: {took:.2f} s")
        assert took < LIMIT, f"{took:.2f} s"
        assert os.WIFEXITED(app.status) and os.WEXITSTATUS(app.status) == EXPECTED[how]
        _assert_terminal_restored(app)
    finally:
        app.close()


@pytest.mark.parametrize("how", ["q", "sigterm"])
def test_demo_cleans_up_its_directory_however_it_ends(tmp_path: Path, how: str) -> None:
    app = Dashboard(tmp_path, ["--demo"], "")
    try:
        app.read(b"DEMO", timeout=40)
        assert b"DEMO" in app.output
        assert list((tmp_path / "tmp").glob("mailtui-demo-*")), "the demo made no directory"
        time.sleep(1.0)
        _request(app, how)
        took = app.wait_exit(timeout=15)
        assert took is not None and took < LIMIT, took
        assert os.WEXITSTATUS(app.status) == EXPECTED[how]
        assert not list((tmp_path / "tmp").glob("mailtui-demo-*")), "demo directory left behind"
        _assert_terminal_restored(app)
    finally:
        app.close()


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 1.0, 2.5])
def test_sigterm_while_starting_up_leaves_the_terminal_as_it_was(tmp_path: Path, delay: float) -> None:
    # before the app exists SIGTERM's default ends the process (nothing to restore yet); from
    # the app's construction on it is remembered and acted on as soon as the app is mounted
    log = tmp_path / "mail.log"
    log.write_text("")
    app = Dashboard(tmp_path, ["--log", str(log)], '[fail2ban]\nsocket = "/nonexistent"\n')
    try:
        app.read(timeout=delay)
        os.kill(app.pid, signal.SIGTERM)
        took = app.wait_exit(timeout=15)
        assert took is not None and took < LIMIT, took
        assert app.status is not None
        print(
            f"SIGTERM {delay} s after start: app mode {b'[?1049h' in app.output}, status {app.status}, "
            f"gone {took:.2f} s later"
        )
        assert (os.WIFSIGNALED(app.status) and os.WTERMSIG(app.status) == signal.SIGTERM) or (
            os.WIFEXITED(app.status) and os.WEXITSTATUS(app.status) == 143
        ), app.status
        if b"\x1b[?1049h" in app.output:
            _assert_terminal_restored(app)
        else:
            assert app.echo_on()
    finally:
        app.close()
