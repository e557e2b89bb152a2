"""rsyslogd with its own config: /dev/log -> two files, traditional and RFC 3339 timestamps.

Postfix logs through syslog(3), which always writes to /dev/log, so the rig's rsyslogd must
own that socket. It refuses to start when another syslog daemon already listens there.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.rig.base import need, stop_process, wait_for

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

    @property
    def traditional(self) -> Path:
        return self.dir / "mail.log"

    @property
    def rfc3339(self) -> Path:
        return self.dir / "mail-rfc3339.log"

    def stop(self) -> None:
        stop_process(self.proc)
        if os.path.exists(DEV_LOG) and not _socket_in_use(DEV_LOG):
            os.unlink(DEV_LOG)


def start_rsyslog(dir: Path) -> Rsyslog:
    exe = need("rsyslogd")
    if _socket_in_use(DEV_LOG):
        raise RuntimeError(f"another syslog daemon already listens on {DEV_LOG}")
    if os.path.exists(DEV_LOG):
        os.unlink(DEV_LOG)  # a stale socket left by a killed daemon
    dir.mkdir(parents=True, exist_ok=True)
    (dir / "work").mkdir(exist_ok=True)
    conf = dir / "rsyslog.conf"
    conf.write_text(CONF.format(dir=dir, devlog=DEV_LOG))
    with open(dir / "rsyslogd.err", "wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([exe, "-n", "-f", str(conf), "-i", str(dir / "rsyslog.pid")],
                                stdout=subprocess.DEVNULL, stderr=err)
    rs = Rsyslog(dir, proc)
    try:
        wait_for(lambda: _socket_in_use(DEV_LOG) or proc.poll() is not None, 10, what="/dev/log")
        if proc.poll() is not None:
            raise RuntimeError("rsyslogd exited: " + (dir / "rsyslogd.err").read_text()[-500:])
        # prove the path end to end before anyone relies on it
        marker = f"mailtui-rig-ready-{os.getpid()}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(DEV_LOG)
            s.send(f"<22>rig[{os.getpid()}]: {marker}".encode())  # facility mail, info
        wait_for(lambda: rs.traditional.exists() and marker in rs.traditional.read_text(), 10,
                 what="rsyslog to write its first line")
    except Exception:
        rs.stop()
        raise
    return rs
