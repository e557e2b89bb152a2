"""The alert rules: a short list of things that mean mail is (about to be) broken.

Thresholds come from the ``[alerts]`` section of the config file. Each alert has a stable
id so the UI can tell a new alert from one it already shows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mailtui.settings import AlertsSettings
from mailtui.system.certs import CertInfo
from mailtui.system.listeners import PortStatus
from mailtui.system.processes import DaemonStatus
from mailtui.system.queue import QueueSnapshot
from mailtui.system.resources import DiskUse


@dataclass(frozen=True)
class Alert:
    id: str
    severity: str  # "warn", "error", "crit"
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Thresholds:
    deferred_max: int = 100
    deferred_age_hours: float = 24.0
    cert_days: int = 14
    disk_percent: float = 90.0

    @classmethod
    def from_settings(cls, alerts: AlertsSettings) -> Thresholds:
        return cls(alerts.deferred_max, alerts.deferred_age_hours, alerts.cert_days, alerts.disk_percent)


def _age(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def evaluate(
    limits: Thresholds,
    *,
    daemons: Sequence[DaemonStatus] = (),
    ports: Sequence[PortStatus] = (),
    queue: QueueSnapshot | None = None,
    certificates: Sequence[CertInfo] = (),
    disks: Sequence[DiskUse] = (),
    now: float | None = None,
) -> list[Alert]:
    """The alerts the parts of one Services report raise (``now`` is when they were taken)."""
    now = time.time() if now is None else now
    alerts: list[Alert] = []
    for d in daemons:
        if d.core and not d.running:
            alerts.append(Alert(f"down:{d.key}", "crit", f"{d.label} is not running"))
    for p in ports:
        if p.state == "missing":
            alerts.append(
                Alert(
                    f"port:{p.daemon}:{p.address}:{p.port}",
                    "error",
                    f"{p.daemon} {p.service} should listen on {p.address}:{p.port} but nothing does",
                )
            )
    if queue is not None and not queue.error:
        deferred = queue.counts().get("deferred", 0)
        if deferred > limits.deferred_max:
            alerts.append(
                Alert("queue:deferred", "warn", f"{deferred} deferred messages (alert above {limits.deferred_max})")
            )
        oldest = queue.oldest_age("deferred")
        if oldest is not None and oldest > limits.deferred_age_hours * 3600:
            alerts.append(Alert("queue:age", "warn", f"oldest deferred message waits for {_age(oldest)}"))
    for c in certificates:
        days = c.days_left(now)
        if days is None:
            continue
        if days < 0:
            alerts.append(Alert(f"cert:{c.path}", "crit", f"certificate {c.path} ({c.used_by}) has expired"))
        elif days < limits.cert_days:
            alerts.append(
                Alert(f"cert:{c.path}", "warn", f"certificate {c.path} ({c.used_by}) expires in {days:.0f} days")
            )
    for disk in disks:
        for what, value in (("space", disk.percent), ("inodes", disk.inodes_percent)):
            if value is not None and value > limits.disk_percent:
                alerts.append(
                    Alert(
                        f"disk:{disk.label}:{what}",
                        "warn",
                        f"{disk.label} file system ({disk.path}) {value:.0f}% {what} used",
                    )
                )
    return alerts
