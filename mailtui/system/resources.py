"""Disk, inodes, load and memory: the Postfix queue directory and the mail store."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import psutil


@dataclass
class DiskUse:
    label: str  # "queue", "mail store"
    path: str
    percent: float | None = None
    free: int = 0
    inodes_percent: float | None = None
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "path": self.path,
            "percent": self.percent,
            "free": self.free,
            "inodes_percent": self.inodes_percent,
            "error": self.error,
        }


@dataclass
class SystemLoad:
    load: tuple[float, float, float]
    cpus: int
    memory_percent: float
    swap_percent: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "load": list(self.load),
            "cpus": self.cpus,
            "memory_percent": self.memory_percent,
            "swap_percent": self.swap_percent,
        }


def disk_use(label: str, path: str) -> DiskUse:
    use = DiskUse(label, path)
    # a mail store that does not exist yet still lives on the file system of its parent
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    try:
        usage = psutil.disk_usage(path)
        vfs = os.statvfs(path)
    except OSError as exc:
        use.error = exc.strerror or str(exc)
        return use
    use.percent, use.free = usage.percent, usage.free
    if vfs.f_files:
        use.inodes_percent = round(100.0 * (vfs.f_files - vfs.f_ffree) / vfs.f_files, 1)
    return use


def mail_store_path(mail_location: str, mail_home: str = "") -> str:
    """The fixed part of Dovecot's mail location: ``maildir:/var/vmail/%d/%n`` -> /var/vmail.

    Home-relative locations (``~/Maildir``) live under the users' homes: /home unless
    ``mail_home`` gives a fixed prefix.
    """
    for value in (mail_location, mail_home):
        if not value:
            continue
        path = value.split(":", 1)[1] if re.match(r"^[a-z]+:", value) else value
        path = path.split(":", 1)[0]  # drop :INBOX=... and friends
        if path.startswith("~"):
            continue
        fixed = re.split(r"%", path, maxsplit=1)[0]
        if fixed.startswith("/"):
            if "%" in path and not fixed.endswith("/"):
                fixed = os.path.dirname(fixed)  # "/srv/mail/u_%n": the variable is part of the name
            return fixed.rstrip("/") or "/"
    return "/home" if mail_location.split(":", 1)[-1].startswith("~") else "/var/mail"


def system_load() -> SystemLoad:
    return SystemLoad(
        os.getloadavg(), psutil.cpu_count() or 1, psutil.virtual_memory().percent, psutil.swap_memory().percent
    )
