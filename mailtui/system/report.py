"""One Services report: daemons, listening ports, queue, disks, certificates and alerts.

``ServicesCollector`` keeps what must survive between polls (CPU baselines, restarts seen,
the queue-size history for the sparkline) and re-reads the configuration-derived parts
(pid files, expected listeners, certificate paths) only every ``CONFIG_TTL`` seconds.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.postconf import PostfixConfig
from mailtui.mta.run import find_tool
from mailtui.settings import Settings
from mailtui.system.alerts import Alert, Thresholds, evaluate
from mailtui.system.certs import CertInfo, configured_certificates, read_certificate
from mailtui.system.listeners import (
    Expected,
    PortStatus,
    dovecot_expected,
    listening_sockets,
    match_ports,
    postfix_expected,
)
from mailtui.system.processes import DaemonStatus, ProcessWatch
from mailtui.system.queue import QueueSnapshot, read_queue
from mailtui.system.resources import DiskUse, SystemLoad, disk_use, mail_store_path, system_load

CONFIG_TTL = 60.0
HISTORY = 720  # queue sizes kept for the sparkline (an hour at 5 s polls)


@dataclass
class ServicesReport:
    daemons: list[DaemonStatus] = field(default_factory=list)
    ports: list[PortStatus] = field(default_factory=list)
    queue: QueueSnapshot | None = None
    queue_history: list[tuple[float, int]] = field(default_factory=list)
    disks: list[DiskUse] = field(default_factory=list)
    load: SystemLoad | None = None
    certificates: list[CertInfo] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    taken: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "taken": self.taken,
            "daemons": [d.to_dict() for d in self.daemons],
            "ports": [p.to_dict() for p in self.ports],
            "queue": self.queue.to_dict() if self.queue else None,
            "disks": [d.to_dict() for d in self.disks],
            "load": self.load.to_dict() if self.load else None,
            "certificates": [c.to_dict() for c in self.certificates],
            "alerts": [a.to_dict() for a in self.alerts],
            "notes": self.notes,
        }


def report_from_dict(data: dict[str, Any]) -> ServicesReport:
    """The inverse of ServicesReport.to_dict (the demo replays a report captured from the rig)."""
    from mailtui.system.queue import parse_postqueue_json

    report = ServicesReport(taken=float(data.get("taken") or time.time()))
    for d in data.get("daemons", []):
        report.daemons.append(
            DaemonStatus(
                d["key"],
                d["label"],
                bool(d["running"]),
                bool(d["core"]),
                d.get("pid"),
                d.get("started"),
                dict(d.get("children") or {}),
                d.get("cpu_percent"),
                int(d.get("rss") or 0),
                int(d.get("restarts") or 0),
                d.get("note", ""),
            )
        )
    for p in data.get("ports", []):
        report.ports.append(
            PortStatus(
                p["port"],
                p["address"],
                p["service"],
                p["daemon"],
                p["tls"],
                bool(p["expected"]),
                bool(p["listening"]),
                p["owner"],
            )
        )
    queue = data.get("queue")
    if queue is not None:
        import json

        report.queue = parse_postqueue_json("\n".join(json.dumps(m) for m in queue.get("messages", [])))
        report.queue.error = queue.get("error", "")
        report.queue.taken = report.taken
    for disk in data.get("disks", []):
        report.disks.append(
            DiskUse(
                disk["label"],
                disk["path"],
                disk.get("percent"),
                int(disk.get("free") or 0),
                disk.get("inodes_percent"),
                disk.get("error", ""),
            )
        )
    load = data.get("load")
    if load:
        report.load = SystemLoad(tuple(load["load"]), load["cpus"], load["memory_percent"], load["swap_percent"])
    for c in data.get("certificates", []):
        report.certificates.append(
            CertInfo(
                c["path"],
                c["used_by"],
                c.get("subject", ""),
                list(c.get("names") or []),
                c.get("not_after"),
                c.get("error", ""),
            )
        )
    report.alerts = [Alert(a["id"], a["severity"], a["message"]) for a in data.get("alerts", [])]
    report.notes = list(data.get("notes", []))
    return report


@dataclass
class _Derived:
    """What the configuration says; re-read every CONFIG_TTL seconds."""

    installed: dict[str, bool]
    pid_files: dict[str, str]
    expected: list[Expected]
    queue_dir: str
    mail_store: str
    cert_paths: list[tuple[str, str]]
    postfix_version: tuple[int, int]
    read_at: float


class ServicesCollector:
    def __init__(
        self,
        postfix_dir: str = "",
        dovecot_config: str = "",
        fail2ban_socket: str = "",
        limits: Thresholds | None = None,
    ) -> None:
        self.postfix_dir = postfix_dir
        self.dovecot_config = dovecot_config
        self.fail2ban_socket = fail2ban_socket
        self.limits = limits or Thresholds()
        self.watch = ProcessWatch()
        self.history: deque[tuple[float, int]] = deque(maxlen=HISTORY)
        self._derived: _Derived | None = None
        self._certs: dict[str, tuple[float, CertInfo]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ServicesCollector:
        return cls(
            settings.postfix.config_dir,
            settings.dovecot.config,
            settings.fail2ban.socket,
            Thresholds.from_settings(settings.alerts),
        )

    def _derive(self) -> _Derived:
        postfix = PostfixConfig(self.postfix_dir)
        dovecot = DovecotConfig(self.dovecot_config)
        pf = (
            postfix.values(
                [
                    "queue_directory",
                    "mail_version",
                    "smtpd_tls_cert_file",
                    "smtpd_tls_eccert_file",
                    "smtpd_tls_chain_files",
                ]
            )
            if postfix.available
            else {}
        )
        dv = (
            dovecot.values(
                [
                    "base_dir",
                    "mail_location",
                    "mail_home",
                    "mail_path",
                    "ssl_cert",
                    "ssl_alt_cert",
                    "ssl_server_cert_file",
                ]
            )
            if dovecot.available
            else {}
        )
        pid_files = {}
        if pf.get("queue_directory"):
            pid_files["postfix"] = os.path.join(pf["queue_directory"], "pid", "master.pid")
        if dv.get("base_dir"):
            pid_files["dovecot"] = os.path.join(dv["base_dir"], "master.pid")
        pid_files["fail2ban"] = self._fail2ban_pid_file()
        m = re.match(r"(\d+)\.(\d+)", pf.get("mail_version", ""))
        return _Derived(
            installed={
                "postfix": postfix.available,
                "dovecot": dovecot.available,
                "fail2ban": find_tool("fail2ban-server") is not None,
            },
            pid_files=pid_files,
            expected=(postfix_expected(self.postfix_dir) if postfix.available else [])
            + (dovecot_expected(self.dovecot_config) if dovecot.available else []),
            queue_dir=pf.get("queue_directory", ""),
            mail_store=mail_store_path(dv.get("mail_location") or dv.get("mail_path", ""), dv.get("mail_home", ""))
            if dovecot.available
            else "",
            cert_paths=configured_certificates(pf, dv),
            postfix_version=(int(m.group(1)), int(m.group(2))) if m else (3, 1),
            read_at=time.monotonic(),
        )

    def _fail2ban_pid_file(self) -> str:
        if self.fail2ban_socket:
            return os.path.join(os.path.dirname(self.fail2ban_socket), "fail2ban.pid")
        from mailtui.logs.locate import fail2ban_setting

        return fail2ban_setting("pidfile") or "/var/run/fail2ban/fail2ban.pid"

    def _certificate(self, path: str, used_by: str) -> CertInfo:
        """Certificates change a few times a year: parse again only when the file did."""
        try:
            stamp = os.stat(path).st_mtime
        except OSError:
            stamp = None
        cached = self._certs.get(path)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
        info = read_certificate(path, used_by)
        if stamp is not None:
            self._certs[path] = (stamp, info)
        return info

    def invalidate(self) -> None:
        """Re-read the configuration on the next poll (after an action or a config change)."""
        self._derived = None

    def collect(self) -> ServicesReport:
        derived = self._derived
        if derived is None or time.monotonic() - derived.read_at > CONFIG_TTL:
            derived = self._derived = self._derive()
        report = ServicesReport()
        report.daemons = self.watch.scan(derived.pid_files, derived.installed)
        owner_of = {pid: d.key for d in report.daemons for pid in d.pids}
        try:
            report.ports = match_ports(derived.expected, listening_sockets(), owner_of)
        except OSError as exc:
            report.notes.append(f"listening sockets unavailable: {exc}")
        if any(p.listening and p.owner == "unknown" for p in report.ports):
            report.notes.append("socket owners are unknown without root (run as root to see them)")
        for d in report.daemons:
            if d.note:
                report.notes.append(f"{d.label}: {d.note}")
        if derived.installed["postfix"]:
            report.queue = read_queue(self.postfix_dir, derived.postfix_version)
            if not report.queue.error:
                self.history.append((report.taken, report.queue.total))
        report.queue_history = list(self.history)
        if derived.queue_dir:
            report.disks.append(disk_use("queue", derived.queue_dir))
        if derived.mail_store:
            report.disks.append(disk_use("mail store", derived.mail_store))
        report.load = system_load()
        report.certificates = [self._certificate(p, u) for p, u in derived.cert_paths]
        report.alerts = evaluate(
            self.limits,
            daemons=report.daemons,
            ports=report.ports,
            queue=report.queue,
            certificates=report.certificates,
            disks=report.disks,
            now=report.taken,
        )
        return report
