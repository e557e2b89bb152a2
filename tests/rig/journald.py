"""A private systemd-journald: the system journal of a host without rsyslog, on this machine.

The machine runs no journald (no systemd as PID 1). ``start_private_journald`` starts the real
``systemd-journald`` in a mount namespace of its own (``unshare --mount``) with a tmpfs over
``/run`` and a test directory over ``/var/log/journal``: its sockets and journal files exist only
there, nothing of the machine's is touched. Whatever runs in that namespace (``nsenter -t PID
-m``: the agent, its journalctl) sees it as *the* system journal. Entries are written to its
native socket through ``/proc/PID/root`` with the fields a mail daemon's entries have.

journald outside systemd attaches no ``_SYSTEMD_UNIT`` (it reads units from systemd's cgroups);
entries name their unit as ``OBJECT_SYSTEMD_UNIT`` from a root sender instead, which
``journalctl -u UNIT`` matches too (its "authorized daemons about this unit" rule).
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.rig.base import need, need_daemon, stop_process, wait_for

JOURNALD = "/lib/systemd/systemd-journald"
SCRIPT = (
    "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
    '{ [ ! -d /var/log/journal ] || mount --bind "$0" /var/log/journal; } && exec "$1"'
)


@dataclass
class PrivateJournald:
    proc: subprocess.Popen[bytes]  # unshare (--kill-child: journald ends with it)
    pid: int  # journald itself: its namespace is /proc/PID/root

    @property
    def socket(self) -> str:
        return f"/proc/{self.pid}/root/run/systemd/journal/socket"

    def enter(self) -> str:
        """The command prefix that runs a program in the journal's namespace."""
        return f"{need('nsenter')} -t {self.pid} -m --"

    def log(self, identifier: str, pid: int, message: str, unit: str = "postfix@-.service") -> None:
        """One entry over the native protocol, as a mail daemon's would be (facility mail)."""
        fields = {
            "MESSAGE": message,
            "SYSLOG_IDENTIFIER": identifier,
            "SYSLOG_PID": str(pid),
            "SYSLOG_FACILITY": "2",
            "PRIORITY": "6",
            "OBJECT_SYSTEMD_UNIT": unit,
        }
        assert all("\n" not in v for v in fields.values())
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(self.socket)
            s.send("".join(f"{k}={v}\n" for k, v in fields.items()).encode())

    def stop(self) -> None:
        stop_process(self.proc)


def start_private_journald(dir: Path) -> PrivateJournald:
    exe = JOURNALD if os.path.exists(JOURNALD) else need_daemon("systemd-journald")
    need_daemon("journalctl")
    unshare = need("unshare")
    (dir / "var-log-journal").mkdir(parents=True, exist_ok=True)
    args = [str(dir / "var-log-journal"), exe]  # $0 and $1 of SCRIPT
    with open(dir / "journald.err", "wb") as err:
        proc = subprocess.Popen(
            [unshare, "--mount", "--propagation", "private", "--fork", "--kill-child", "sh", "-c", SCRIPT, *args],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )

    def child() -> int:
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        return int(found[0]) if found else 0

    try:
        pid = wait_for(child, 10, what="journald started")
        journald = PrivateJournald(proc, pid)
        wait_for(lambda: os.path.exists(journald.socket) or proc.poll() is not None, 10, what="journald's socket")
        if proc.poll() is not None:
            raise RuntimeError("systemd-journald exited: " + (dir / "journald.err").read_text()[-500:])
    except Exception:
        stop_process(proc)
        raise
    return journald
