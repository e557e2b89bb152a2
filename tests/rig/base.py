"""Helpers shared by the daemon modules: missing-daemon policy, ports, waiting, processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REQUIRE_ENV = "MAILTUI_REQUIRE_DAEMONS"
INSTALL_HINT = "sudo bash .ci/install-daemons.sh"
SBIN = "/usr/sbin:/usr/bin:/sbin:/bin"


def daemons_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def need(executable: str) -> str:
    """Path of a daemon binary; skip (developer machine) or fail (CI) when it is missing."""
    path = shutil.which(executable, path=SBIN)
    if path:
        return path
    message = f"{executable} is not installed: run {INSTALL_HINT}"
    if daemons_required():
        pytest.fail(message + f" ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


def need_daemon(executable: str) -> str:
    """A daemon binary the rig starts: needs it installed and root (skip, or fail in CI)."""
    need_root()
    return need(executable)


def need_root() -> None:
    if os.geteuid() != 0:
        message = "the daemon rig runs the mail daemons as root"
        if daemons_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g}s")


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def wait_for_text(path: Path, needle: str, timeout: float = 15.0, start: int = 0) -> str:
    """Wait until ``path`` (read from byte ``start``) contains ``needle``; return that text."""

    def probe() -> str:
        try:
            text = path.read_bytes()[start:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return text if needle in text else ""

    return wait_for(probe, timeout, what=f"{needle!r} in {path}")


def run(argv: list[str], timeout: float = 60, check: bool = True, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def start_daemonizing(argv: list[str], errlog: Path, timeout: float = 30) -> None:
    """Run a command that forks a daemon; its children must not hold our pipes open."""
    with errlog.open("ab") as err:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, timeout=timeout)
    if proc.returncode != 0:
        tail = errlog.read_text(errors="replace")[-800:]
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {tail}")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM a daemon the rig started in the foreground; SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def make_world_dir(path: Path) -> Path:
    """A directory daemons that drop privileges can traverse (pytest's tmp dirs are 0700)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
