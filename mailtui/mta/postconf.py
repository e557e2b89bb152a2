"""Postfix's live configuration: values from ``postconf``, locations from main.cf and master.cf.

``postconf`` answers what is in force; the file scan answers where it is written, which
postconf cannot tell. master.cf ``-o name=value`` overrides are reported per service:
``postconf -P`` gives the value each service runs with, ``postconf -F`` its command, and the
service's ``syslog_name`` (main.cf's, or its own ``-o syslog_name=``, ``$service_name``
expanded by ``postconf -Px``) gives the program name its log lines carry, so a line from
``postfix/submission/smtpd`` is matched to the ``submission`` entry — whatever it is called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mailtui.mta.location import Location
from mailtui.mta.run import config_exists, config_label, find_tool, read_config, run_tool

_ASSIGN = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
# "-o name=value" and Postfix 3.0's "-o { name = value with spaces }"
_OVERRIDE = re.compile(r"-o\s+(?:\{\s*([A-Za-z0-9_]+)\s*=\s*([^}]*?)\s*\}|([A-Za-z0-9_]+)=(\S*))")
_TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
_SERVICE_PARAM = re.compile(r"(\S+/[a-z]+)/([A-Za-z0-9_]+) = ?(.*)")


@dataclass(frozen=True)
class Service:
    """One master.cf entry: ``name`` is "submission/inet", ``program`` the syslog tag its
    processes log with ("postfix/submission/smtpd"), ``overrides`` its ``-o`` values."""

    name: str
    command: str
    program: str
    overrides: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


class PostfixConfig:
    def __init__(self, config_dir: str = "") -> None:
        self._dir_arg = ["-c", config_dir] if config_dir else []
        self._config_dir = config_dir
        self.problem = "" if find_tool("postconf") else "postconf is not installed (no Postfix here)"
        self._services: list[Service] | None = None
        if not self.problem:
            main_cf = self.config_dir() / "main.cf"
            if not config_exists(main_cf, "postconf"):
                # postconf would fail (and Postfix's fatal() sleeps a second before exiting)
                self.problem = f"{main_cf} does not exist: Postfix is installed but not configured"

    @property
    def available(self) -> bool:
        return not self.problem

    def config_dir(self) -> Path:
        if self._config_dir:
            return Path(self._config_dir)
        if self.available:
            res = run_tool(["postconf", "-d", "-h", "config_directory"], timeout=5)
            if res.ok and res.stdout.strip():
                return Path(res.stdout.strip())
        return Path("/etc/postfix")

    def values(self, names: list[str]) -> dict[str, str]:
        """Current values; names Postfix does not know are left out."""
        if not self.available or not names:
            return {}
        res = run_tool(["postconf", *self._dir_arg, *names], timeout=5)
        if not res.ok and not res.stdout:
            self.problem = res.error
        out: dict[str, str] = {}
        for line in res.stdout.splitlines():
            m = _ASSIGN.match(line)
            if m is not None:
                out[m.group(1)] = m.group(2)
        return out

    def where(self, name: str) -> list[Location]:
        """Every main.cf assignment (last one wins) and every master.cf ``-o`` override of ``name``
        (each in force for its own service)."""
        base = self.config_dir()
        found = [loc for loc in _main_cf_assignments(base / "main.cf") if loc[0] == name]
        locations = [
            Location(config_label(base / "main.cf", "postconf"), line, value, effective=(i == len(found) - 1))
            for i, (_, line, value) in enumerate(found)
        ]
        for key, line, value, service in _master_cf_overrides(base / "master.cf"):
            if key == name:
                locations.append(
                    Location(config_label(base / "master.cf", "postconf"), line, value, section=service, effective=True)
                )
        return locations

    def services(self) -> list[Service]:
        """Every master.cf entry with its command, program name and ``-o`` overrides (read once)."""
        if self._services is not None:
            return self._services
        self._services = []
        if not self.available:
            return self._services
        commands = run_tool(["postconf", *self._dir_arg, "-F", "*/*/command"], timeout=5)
        raw = run_tool(["postconf", *self._dir_arg, "-P"], timeout=5)
        expanded = run_tool(["postconf", *self._dir_arg, "-Px", "*/*/syslog_name"], timeout=5)
        main_name = run_tool(["postconf", *self._dir_arg, "-xh", "syslog_name"], timeout=5)
        default_tag = main_name.stdout.strip() if main_name.ok and main_name.stdout.strip() else "postfix"
        overrides: dict[str, dict[str, str]] = {}
        for line in raw.stdout.splitlines():
            m = _SERVICE_PARAM.match(line)
            if m is not None:
                overrides.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
        tags: dict[str, str] = {}
        for line in expanded.stdout.splitlines():
            m = _SERVICE_PARAM.match(line)
            if m is not None and m.group(2) == "syslog_name":
                tags[m.group(1)] = m.group(3)
        for line in commands.stdout.splitlines():
            m = _SERVICE_PARAM.match(line)
            if m is None or m.group(2) != "command":
                continue
            service, command = m.group(1), (m.group(3).split() or [""])[0]
            # processes log as <syslog_name>/<process name>; the process name is argv[0]'s base
            program = f"{tags.get(service, default_tag)}/{command.rsplit('/', 1)[-1]}"
            self._services.append(Service(service, command, program, overrides.get(service, {})))
        return self._services

    def services_of(self, program: str) -> list[Service]:
        """The master.cf entries whose processes log as ``program`` (usually one; several when
        entries share a syslog_name, e.g. smtp/inet and a content-filter return port)."""
        return [s for s in self.services() if s.program == program]


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    """main.cf/master.cf lines with continuations (leading whitespace) joined, comments dropped."""
    text = read_config(path, "postconf")  # in the Postfix container when it runs in one
    if text is None:
        return []
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace() and lines:
            start, joined = lines[-1]
            lines[-1] = (start, f"{joined} {raw.strip()}")
        else:
            lines.append((number, raw.strip()))
    return lines


def _main_cf_assignments(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for number, line in _logical_lines(path):
        m = _ASSIGN.match(line)
        if m is not None:
            out.append((m.group(1), number, m.group(2).strip()))
    return out


def _master_cf_overrides(path: Path) -> list[tuple[str, int, str, str]]:
    """(name, physical line of its ``-o``, value, "service/type") for every override."""
    text = read_config(path, "postconf")  # in the Postfix container when it runs in one
    if text is None:
        return []
    out = []
    service = ""
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            fields = raw.split()
            service = f"{fields[0]}/{fields[1]}" if len(fields) >= 2 and fields[1] in _TYPES else ""
        if not service:
            continue
        for m in _OVERRIDE.finditer(raw):
            if m.group(1) is not None:
                out.append((m.group(1), number, m.group(2), service))
            else:
                out.append((m.group(3), number, m.group(4), service))
    return out
