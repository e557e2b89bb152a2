"""rsyslogd with its own config: /dev/log -> two files, traditional and RFC 3339 timestamps.

Postfix logs through syslog(3), which always writes to /dev/log. When the machine has a
/dev/log (its journald or syslog daemon), the rig's rsyslogd listens on a socket of its own and
that socket is bind-mounted over /dev/log in the test process's private mount namespace
(tests/rig/netns.py): the rig's daemons and the tests see the rig's, the machine keeps its own.
Without a private namespace (not root, MAILTUI_RIG_NETNS=0) or without any /dev/log, rsyslogd
owns /dev/log itself and refuses to start when another syslog daemon already listens there.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.rig import netns
from tests.rig.base import need_daemon, stop_process, wait_for

DEV_LOG = "/dev/log"

CONF = """\
global(workDirectory="{dir}/work")
module(load="imuxsock" SysSock.Name="{devlog}" SysSock.RateLimit.Interval="0"
       SysSock.Annotate="off")
$RepeatedMsgReduction off
mail.*  action(type="omfile" file="{dir}/mail.log" template="RSYSLOG_TraditionalFileFormat")
mail.*  action(type="omfile" file="{dir}/mail-rfc3339.log" template="RSYSLOG_FileFormat")
"""


def _socket_in_use(path: str) -> bool:
    if not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.connect(path)
        except OSError:
            return False
    return True


@dataclass
class Rsyslog:
    dir: Path
    proc: subprocess.Popen
    socket: str = DEV_LOG  # where rsyslogd listens
    mounted: bool = False  # ``socket`` is bind-mounted over /dev/log (private mount namespace)

    @property
    def traditional(self) -> Path:
        return self.dir / "mail.log"

    @property
    def rfc3339(self) -> Path:
        return self.dir / "mail-rfc3339.log"

    def stop(self) -> None:
        if self.mounted:
            netns.unmount(DEV_LOG)
            self.mounted = False
        stop_process(self.proc)
        if self.socket == DEV_LOG and os.path.exists(DEV_LOG) and not _socket_in_use(DEV_LOG):
            os.unlink(DEV_LOG)


def start_rsyslog(dir: Path) -> Rsyslog:
    exe = need_daemon("rsyslogd")
    dir.mkdir(parents=True, exist_ok=True)
    (dir / "work").mkdir(exist_ok=True)
    # the machine's /dev/log stays untouched: ours goes over it in our own mount namespace
    own = netns.STATE.active and os.path.exists(DEV_LOG)
    path = str(dir / "dev-log") if own else DEV_LOG
    if not own:
        if _socket_in_use(DEV_LOG):
            raise RuntimeError(
                f"another syslog daemon already listens on {DEV_LOG} "
                f"(and no private mount namespace: {netns.STATE.reason})"
            )
        if os.path.exists(DEV_LOG):
            os.unlink(DEV_LOG)  # a stale socket left by a killed daemon
    conf = dir / "rsyslog.conf"
    conf.write_text(CONF.format(dir=dir, devlog=path))
    with open(dir / "rsyslogd.err", "wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [exe, "-n", "-f", str(conf), "-i", str(dir / "rsyslog.pid")], stdout=subprocess.DEVNULL, stderr=err
        )
    rs = Rsyslog(dir, proc, path)
    try:
        wait_for(lambda: _socket_in_use(path) or proc.poll() is not None, 10, what=path)
        if proc.poll() is not None:
            raise RuntimeError("rsyslogd exited: " + (dir / "rsyslogd.err").read_text()[-500:])
        if own:
            netns.bind_mount(path, DEV_LOG)
            rs.mounted = True
        # prove the path end to end before anyone relies on it
        marker = f"mailtui-rig-ready-{os.getpid()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(DEV_LOG)
            s.send(f"<22>rig[{os.getpid()}]: {marker}".encode())  # facility mail, info
        wait_for(
            lambda: rs.traditional.exists() and marker in rs.traditional.read_text(),
            10,
            what="rsyslog to write its first line",
        )
    except Exception:
        rs.stop()
        raise
    return rs
