"""Which Postfix, Dovecot and fail2ban this machine has, asked from the tools themselves, and
whether each runs: installed is not running (the top bar says "fail2ban 1.0.2 (stopped)").

Running is decided as the Services pane does it (mailtui/system/processes.py): the daemon's
pid file when its configuration names one (several instances may run), else the process table.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any

from mailtui.mta.run import run_tool

LABELS = {"postfix": "Postfix", "dovecot": "Dovecot", "fail2ban": "fail2ban"}


@dataclass(frozen=True)
class DaemonState:
    """One daemon for the top bar: its version ("" when not installed) and whether it runs."""

    key: str
    label: str
    version: str
    running: bool | None = None  # None: not looked at
    pid: int | None = None

    @property
    def installed(self) -> bool:
        return bool(self.version)

    def describe(self) -> str:
        """``Postfix 3.7.11``, ``fail2ban 1.0.2 (stopped)``, ``no Dovecot``."""
        if not self.installed:
            return f"{self.label} running (version unknown)" if self.running else f"no {self.label}"
        return f"{self.label} {self.version}" + (" (stopped)" if self.running is False else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "version": self.version,
            "installed": self.installed,
            "running": self.running,
            "pid": self.pid,
        }


@dataclass(frozen=True)
class StackVersions:
    hostname: str
    postfix: str  # empty when not installed
    dovecot: str
    fail2ban: str
    #: the same three with their running state, when it was looked at (detect_versions does)
    daemons: tuple[DaemonState, ...] = field(default=())

    def state(self, key: str) -> DaemonState:
        for daemon in self.daemons:
            if daemon.key == key:
                return daemon
        return DaemonState(key, LABELS[key], getattr(self, key))

    def summary(self) -> str:
        return " · ".join([self.hostname, *(self.state(key).describe() for key in LABELS)])

    def to_dict(self) -> dict[str, Any]:
        return {"hostname": self.hostname, "daemons": [self.state(key).to_dict() for key in LABELS]}


def _first_version(text: str) -> str:
    m = re.search(r"\d+(?:\.\d+)+", text)
    return m.group(0) if m else ""


def default_pid_files(postfix_dir: str = "", dovecot_config: str = "", fail2ban_socket: str = "") -> dict[str, str]:
    """Each daemon's pid file as its configuration places it (missing keys: not configured)."""
    from mailtui.logs.locate import fail2ban_pid_file, fail2ban_socket_path
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig

    pid_files = {"fail2ban": fail2ban_pid_file(fail2ban_socket_path(fail2ban_socket))}
    postfix = PostfixConfig(postfix_dir)
    if postfix.available:
        queue = postfix.values(["queue_directory"]).get("queue_directory", "")
        if queue:
            pid_files["postfix"] = os.path.join(queue, "pid", "master.pid")
    dovecot = DovecotConfig(dovecot_config)
    if dovecot.available:
        base = dovecot.values(["base_dir"]).get("base_dir", "")
        if base:
            pid_files["dovecot"] = os.path.join(base, "master.pid")
    return pid_files


def running_states(pid_files: dict[str, str]) -> dict[str, tuple[bool, int | None]]:
    """{key: (running, pid)} for Postfix, Dovecot and fail2ban, as the Services pane sees them."""
    from mailtui.system.processes import ProcessWatch

    statuses = ProcessWatch().scan(pid_files, dict.fromkeys(LABELS, True))
    return {s.key: (s.running, s.pid) for s in statuses if s.key in LABELS}


def detect_versions(
    postfix_dir: str = "", dovecot_config: str = "", fail2ban_socket: str = "", pid_files: dict[str, str] | None = None
) -> StackVersions:
    """Versions and running state. The arguments are mailtui's [postfix] config_dir, [dovecot]
    config and [fail2ban] socket (defaults: the system's); ``pid_files`` overrides them."""
    postfix = run_tool(["postconf", "-d", "-h", "mail_version"], timeout=3)
    dovecot = run_tool(["dovecot", "--version"], timeout=3)
    f2b = run_tool(["fail2ban-server", "--version"], timeout=5)
    versions = {
        "postfix": _first_version(postfix.stdout) if postfix.ok else "",
        "dovecot": _first_version(dovecot.stdout) if dovecot.ok else "",
        "fail2ban": _first_version(f2b.stdout) if f2b.ok else "",
    }
    if pid_files is None:
        pid_files = default_pid_files(postfix_dir, dovecot_config, fail2ban_socket)
    running = running_states(pid_files)
    daemons = tuple(
        DaemonState(key, label, versions[key], *running.get(key, (False, None))) for key, label in LABELS.items()
    )
    return StackVersions(hostname=socket.gethostname(), daemons=daemons, **versions)
