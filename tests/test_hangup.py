"""The dashboard exits by itself when its terminal goes away (an SSH connection dropping)."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
    return buf


def _wait_exit(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("how", ["close-terminal", "sighup"])
def test_exits_when_terminal_goes_away(tmp_path: Path, how: str) -> None:
    log = tmp_path / "mail.log"
    log.write_text("")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "35"}
    pid, master = pty.fork()
    if pid == 0:  # child: becomes the session leader with the pty as controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "mailtui", "--log", str(log)], env)
    try:
        seen = _read_until(master, b"Maximize", timeout=30)
        assert b"Maximize" in seen, seen[-500:]
        if how == "sighup":
            os.kill(pid, 1)
        else:
            os.close(master)
        status = _wait_exit(pid, timeout=15)
        assert status is not None, "mailtui kept running after its terminal went away"
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        if how == "sighup":
            os.close(master)
