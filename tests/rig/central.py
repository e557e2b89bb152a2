"""A central log box on loopback: rsyslog senders forwarding to a central rsyslog, and systemd-journal-remote.

* ``start_central_rsyslog``: an rsyslogd that listens with imtcp on 127.0.0.61 (a free port) and
  writes each sending host's mail lines twice: to ``remote/<HOSTNAME>/mail.log`` (traditional
  format, the host in every line) and to ``hosts/<HOSTNAME>/mail.log`` with a template that leaves
  the host out (the directory names it, as many central boxes are set up).
* ``start_sender_rsyslog``: an rsyslogd playing one mail host (``global(localHostname=...)``): it
  reads syslog(3) datagrams on a private socket of its own, never /dev/log (the rig's rsyslog
  owns that), and forwards mail.* over TCP with omfwd, as a mail host forwards to its log box.
* ``start_journal_remote``: ``systemd-journal-remote --listen-http=127.0.0.62:PORT
  --split-mode=host`` writing one journal file per uploading host into a directory; hosts upload
  journal export format from their own loopback address (127.0.0.63, .64, ...).

Every daemon has its own config, pid file, work directory and error log under the test's dir.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.base import free_port, need, need_daemon, stop_process, wait_for, wait_for_port

CENTRAL_IP = "127.0.0.61"
JOURNAL_REMOTE_IP = "127.0.0.62"
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"

CENTRAL_CONF = """\
global(workDirectory="{dir}/work")
module(load="imtcp")
input(type="imtcp" address="{ip}" port="{port}")
$RepeatedMsgReduction off
template(name="perhost" type="string" string="{dir}/remote/%HOSTNAME%/mail.log")
template(name="perhost_nohost" type="string" string="{dir}/hosts/%HOSTNAME%/mail.log")
template(name="nohost" type="string" string="%TIMESTAMP% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")
mail.*  action(type="omfile" dynaFile="perhost" template="RSYSLOG_TraditionalFileFormat" dirCreateMode="0755")
mail.*  action(type="omfile" dynaFile="perhost_nohost" template="nohost" dirCreateMode="0755")
"""

SENDER_CONF = """\
global(workDirectory="{dir}/work" localHostname="{host}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/log.sock" RateLimit.Interval="0" Annotate="off")
$RepeatedMsgReduction off
mail.*  action(type="omfwd" target="{target}" port="{port}" protocol="tcp"
               queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
"""


def _start_rsyslog(dir: Path, conf_text: str) -> subprocess.Popen:
    exe = need_daemon("rsyslogd")
    (dir / "work").mkdir(parents=True, exist_ok=True)
    conf = dir / "rsyslog.conf"
    conf.write_text(conf_text)
    check = subprocess.run([exe, "-N1", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"rsyslogd -N1 refused {conf}: {check.stderr.strip()[-800:]}")
    with open(dir / "rsyslogd.err", "wb") as err:
        return subprocess.Popen(
            [exe, "-n", "-f", str(conf), "-i", str(dir / "rsyslog.pid")], stdout=subprocess.DEVNULL, stderr=err
        )


@dataclass
class CentralRsyslog:
    dir: Path
    port: int
    proc: subprocess.Popen

    def mail_log(self, host: str) -> Path:
        return self.dir / "remote" / host / "mail.log"

    def hostless_log(self, host: str) -> Path:
        return self.dir / "hosts" / host / "mail.log"

    @property
    def with_hosts(self) -> str:
        """The [logs] files pattern of the files whose lines name their host."""
        return str(self.dir / "remote" / "*" / "mail.log")

    @property
    def without_hosts(self) -> str:
        """The pattern of the files whose lines name none: %HOST% says where the host is."""
        return str(self.dir / "hosts" / "%HOST%" / "mail.log")

    def reopen(self) -> None:
        """After logrotate: rsyslog reopens its files on SIGHUP."""
        self.proc.send_signal(1)

    def stop(self) -> None:
        stop_process(self.proc)


def start_central_rsyslog(dir: Path) -> CentralRsyslog:
    dir.mkdir(parents=True, exist_ok=True)
    port = free_port(CENTRAL_IP)
    proc = _start_rsyslog(dir, CENTRAL_CONF.format(dir=dir, ip=CENTRAL_IP, port=port))
    central = CentralRsyslog(dir, port, proc)
    try:
        wait_for_port(port, CENTRAL_IP)
    except TimeoutError:
        central.stop()
        raise RuntimeError("central rsyslogd did not listen: " + (dir / "rsyslogd.err").read_text()[-500:]) from None
    return central


@dataclass
class SenderRsyslog:
    """One mail host's rsyslog: what its Postfix and Dovecot write with syslog(3) goes to the box."""

    dir: Path
    host: str
    proc: subprocess.Popen

    @property
    def socket(self) -> str:
        return str(self.dir / "log.sock")

    def log(self, tag: str, pid: int, message: str, facility: int = 2, severity: int = 6) -> None:
        """Send one line the way syslog(3) does: ``<PRI>TAG[PID]: MESSAGE`` to the socket."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(self.socket)
            s.send(f"<{facility * 8 + severity}>{tag}[{pid}]: {message}".encode())

    def stop(self) -> None:
        stop_process(self.proc)


def start_sender_rsyslog(dir: Path, host: str, central: CentralRsyslog) -> SenderRsyslog:
    dir.mkdir(parents=True, exist_ok=True)
    proc = _start_rsyslog(dir, SENDER_CONF.format(dir=dir, host=host, target=CENTRAL_IP, port=central.port))
    sender = SenderRsyslog(dir, host, proc)
    try:
        wait_for(lambda: os.path.exists(sender.socket) or proc.poll() is not None, 10, what=sender.socket)
        if proc.poll() is not None:
            raise RuntimeError("sender rsyslogd exited: " + (dir / "rsyslogd.err").read_text()[-500:])
    except Exception:
        sender.stop()
        raise
    return sender


# -- systemd-journal-remote -------------------------------------------------------------------------


@dataclass
class JournalEntry:
    host: str
    identifier: str
    pid: int
    message: str
    unit: str = "postfix@-.service"
    realtime: int = 0  # microseconds since the epoch; 0: now


@dataclass
class JournalRemote:
    dir: Path  # the output directory: one remote-<peer>.journal per uploading host
    port: int
    proc: subprocess.Popen
    boots: dict[str, str] = field(default_factory=dict)
    _mono: int = 1000

    def upload(self, entries: list[JournalEntry], source_ip: str) -> None:
        """POST the entries in journal export format from ``source_ip`` (one host's uploader)."""
        body = b"".join(self._export(e) for e in entries)
        conn = http.client.HTTPConnection(JOURNAL_REMOTE_IP, self.port, timeout=10, source_address=(source_ip, 0))
        try:
            conn.request("POST", "/upload", body, {"Content-Type": "application/vnd.fdo.journal"})
            reply = conn.getresponse()
            text = reply.read().decode("utf-8", "replace")
        finally:
            conn.close()
        if reply.status not in (200, 202):  # 202: accepted, written as it is processed
            raise RuntimeError(f"journal-remote answered {reply.status}: {text}")

    def _export(self, e: JournalEntry) -> bytes:
        boot = self.boots.setdefault(e.host, uuid.uuid4().hex)
        self._mono += 1
        realtime = e.realtime or int(time.time() * 1e6)
        fields = [
            ("__REALTIME_TIMESTAMP", str(realtime)),
            ("__MONOTONIC_TIMESTAMP", str(self._mono)),
            ("_BOOT_ID", boot),
            ("_HOSTNAME", e.host),
            ("_SYSTEMD_UNIT", e.unit),
            ("SYSLOG_IDENTIFIER", e.identifier),
            ("_PID", str(e.pid)),
            ("SYSLOG_FACILITY", "2"),
            ("MESSAGE", e.message),
        ]
        return "".join(f"{k}={v}\n" for k, v in fields).encode() + b"\n"

    def files(self) -> list[Path]:
        return sorted(self.dir.glob("*.journal"))

    def stop(self) -> None:
        stop_process(self.proc)


def write_journal(path: Path, entries: list[JournalEntry]) -> None:
    """Write ``entries`` (one boot per host) into the journal file ``path``: systemd-journal-remote
    reading export format from stdin (``--output=FILE -``), a large journal at once, no listener."""
    exe = JOURNAL_REMOTE if os.path.exists(JOURNAL_REMOTE) else need("systemd-journal-remote")
    need_daemon("journalctl")
    exporter = JournalRemote(path.parent, 0, None)  # type: ignore[arg-type]  # never started: export only
    body = b"".join(exporter._export(e) for e in entries)
    done = subprocess.run([exe, f"--output={path}", "-"], input=body, capture_output=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"systemd-journal-remote --output={path}: {done.stderr.decode()[-500:]}")


def start_journal_remote(dir: Path) -> JournalRemote:
    exe = JOURNAL_REMOTE if os.path.exists(JOURNAL_REMOTE) else need("systemd-journal-remote")
    need_daemon("journalctl")
    dir.mkdir(parents=True, exist_ok=True)
    port = free_port(JOURNAL_REMOTE_IP)
    argv = [exe, f"--listen-http={JOURNAL_REMOTE_IP}:{port}", "--split-mode=host", f"--output={dir}/"]
    with open(dir.parent / "journal-remote.err", "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    remote = JournalRemote(dir, port, proc)
    try:
        wait_for_port(port, JOURNAL_REMOTE_IP)
    except Exception:
        remote.stop()
        raise
    return remote
