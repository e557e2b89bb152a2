"""The mail stack's daemons as psutil sees them: which run, since when, their children, CPU and memory.

Postfix and Dovecot are found through their own pid files first (``queue_directory/pid/
master.pid``, ``base_dir/master.pid``), so a machine running several instances reports the
configured one. Without root those files are unreadable; the process table is used instead
and the report says so. Perl and rspamd rewrite their process titles, so a daemon matches on
its name, its command line or its executable's name.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import psutil


@dataclass(frozen=True)
class DaemonSpec:
    key: str
    label: str
    #: matched against "name\0cmdline[0]\0whole cmdline"
    pattern: re.Pattern[str]
    #: a mail server is broken without it (when installed); optional ones are shown when seen
    core: bool = False


def _spec(key: str, label: str, pattern: str, core: bool = False) -> DaemonSpec:
    return DaemonSpec(key, label, re.compile(pattern), core)


DAEMONS: tuple[DaemonSpec, ...] = (
    _spec("postfix", "Postfix", r"^master\0\S*(?:postfix/(?:sbin/)?|libexec/postfix/)master\0", core=True),
    _spec("dovecot", "Dovecot", r"^dovecot\0(?:\S*/)?dovecot\0", core=True),
    _spec("fail2ban", "fail2ban", r"\0[^\0]*\bfail2ban-server\b", core=True),
    _spec("opendkim", "OpenDKIM", r"^opendkim\0"),
    _spec("opendmarc", "OpenDMARC", r"^opendmarc\0"),
    _spec("rspamd", "rspamd", r"^rspamd\0|\0rspamd: main process"),
    _spec("spamd", "SpamAssassin", r"\0(?:\S*/)?spamd\b"),
    _spec("clamd", "ClamAV", r"^clamd\0"),
    _spec("amavis", "amavis", r"\0amavisd[^\0]*\(master\)|^amavisd(?:-new)?\0"),
    _spec("postgrey", "postgrey", r"\0[^\0]*\bpostgrey\b"),
    _spec("sogo", "SOGo", r"^sogod\0"),
)


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    name: str
    cmdline: tuple[str, ...]
    username: str
    create_time: float

    @cached_property  # matched against every daemon pattern: built once per process
    def key(self) -> str:
        return "\0".join((self.name, self.cmdline[0] if self.cmdline else "", " ".join(self.cmdline)))


@dataclass
class DaemonStatus:
    key: str
    label: str
    running: bool
    core: bool
    pid: int | None = None
    started: float | None = None
    children: dict[str, int] = field(default_factory=dict)
    cpu_percent: float | None = None
    rss: int = 0
    restarts: int = 0
    note: str = ""
    #: the main process and every descendant, to attribute listening sockets
    pids: set[int] = field(default_factory=set)

    def uptime(self, now: float | None = None) -> float | None:
        return None if self.started is None else max(0.0, (now or time.time()) - self.started)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "running": self.running,
            "core": self.core,
            "pid": self.pid,
            "started": self.started,
            "uptime": self.uptime(),
            "children": dict(self.children),
            "cpu_percent": self.cpu_percent,
            "rss": self.rss,
            "restarts": self.restarts,
            "note": self.note,
        }


def process_table() -> list[ProcInfo]:
    out = []
    for p in psutil.process_iter(["pid", "ppid", "name", "cmdline", "username", "create_time"], ad_value=None):
        i = p.info
        out.append(
            ProcInfo(
                i["pid"],
                i["ppid"] or 0,
                i["name"] or "",
                tuple(i["cmdline"] or ()),
                i["username"] or "",
                i["create_time"] or 0.0,
            )
        )
    return out


def read_pid_file(path: str) -> tuple[int | None, str]:
    """(pid, "") from a daemon's pid file (Postfix pads it with spaces), or (None, why not).

    The reason is "missing" when the file does not exist: a stopped daemon removes it.
    """
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            text = fh.read(64)
    except FileNotFoundError:
        return None, "missing"
    except PermissionError:
        return None, f"{path} is not readable (run as root to tell instances apart)"
    except OSError as exc:
        return None, f"{path}: {exc.strerror}"
    try:
        return int(text.split()[0]), ""
    except (ValueError, IndexError):
        return None, f"{path} holds no pid"


class ProcessWatch:
    """Keeps state between polls: psutil objects for CPU percentages, and restarts noticed."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}
        self._last_pid: dict[str, int | None] = {}
        self._restarts: dict[str, int] = {}

    def scan(
        self, pid_files: dict[str, str], installed: dict[str, bool], table: list[ProcInfo] | None = None
    ) -> list[DaemonStatus]:
        table = process_table() if table is None else table
        by_pid = {p.pid: p for p in table}
        children_of: dict[int, list[ProcInfo]] = {}
        for p in table:
            children_of.setdefault(p.ppid, []).append(p)
        result = []
        for spec in DAEMONS:
            status = self._one(spec, table, by_pid, children_of, pid_files.get(spec.key, ""))
            if status.running or (spec.core and installed.get(spec.key, False)):
                result.append(status)
        # smtpd and imap children come and go all day: keep CPU baselines only for live pids
        self._procs = {pid: p for pid, p in self._procs.items() if pid in by_pid}
        return result

    def _one(
        self,
        spec: DaemonSpec,
        table: list[ProcInfo],
        by_pid: dict[int, ProcInfo],
        children_of: dict[int, list[ProcInfo]],
        pid_file: str,
    ) -> DaemonStatus:
        status = DaemonStatus(spec.key, spec.label, running=False, core=spec.core)
        main: ProcInfo | None = None
        # a pid file the daemon's configuration names is authoritative (several instances may
        # run); the process table is the fallback when there is none or it cannot be read
        pid, why = read_pid_file(pid_file) if pid_file else (None, "unknown")
        if pid is not None:
            candidate = by_pid.get(pid)
            # a stale file may name a pid reused by something else
            if candidate is not None and spec.pattern.search(candidate.key):
                main = candidate
        elif why not in ("missing", "unknown"):
            status.note = why
        if pid is None and why != "missing":
            matched = [p for p in table if spec.pattern.search(p.key)]
            pids = {p.pid for p in matched}
            # the daemon's main process is the matched one whose parent is not matched
            roots = [p for p in matched if p.ppid not in pids]
            if roots:
                main = min(roots, key=lambda p: p.create_time)
                if len(roots) > 1:
                    status.note = f"{len(roots)} instances running; showing pid {main.pid}"
        self._note_restart(spec.key, main.pid if main else None)
        status.restarts = self._restarts.get(spec.key, 0)
        if main is None:
            return status
        status.running, status.pid, status.started = True, main.pid, main.create_time
        family = _descendants(main.pid, children_of)
        status.pids = {main.pid, *(c.pid for c in family)}
        for child in family:
            status.children[child.name] = status.children.get(child.name, 0) + 1
        cpu, rss, seen = 0.0, 0, False
        for pid in [main.pid, *(c.pid for c in family)]:
            sample = self._sample(pid)
            if sample is not None:
                seen = True
                cpu += sample[0]
                rss += sample[1]
        status.cpu_percent = round(cpu, 1) if seen else None
        status.rss = rss
        return status

    def _note_restart(self, key: str, pid: int | None) -> None:
        if key in self._last_pid:
            before = self._last_pid[key]
            if pid is not None and before != pid:
                self._restarts[key] = self._restarts.get(key, 0) + 1
        self._last_pid[key] = pid

    def _sample(self, pid: int) -> tuple[float, int] | None:
        proc = self._procs.get(pid)
        try:
            if proc is None:
                proc = self._procs[pid] = psutil.Process(pid)
            # the first call of cpu_percent(None) for a process has no baseline and returns 0.0
            return proc.cpu_percent(None), proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            self._procs.pop(pid, None)
            return None


def _descendants(pid: int, children_of: dict[int, list[ProcInfo]]) -> list[ProcInfo]:
    out, todo = [], list(children_of.get(pid, ()))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of.get(p.pid, ()))
    return out
