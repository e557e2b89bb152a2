"""Postfix's live configuration: values from ``postconf``, locations from main.cf and master.cf.

``postconf`` answers what is in force; the file scan answers where it is written, which
postconf cannot tell. master.cf ``-o name=value`` overrides are reported per service.
"""

from __future__ import annotations

import re
from pathlib import Path

from mailtui.mta.location import Location
from mailtui.mta.run import find_tool, run_tool

_ASSIGN = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
_OVERRIDE = re.compile(r"-o\s+([A-Za-z0-9_]+)=(\S*)")


class PostfixConfig:
    def __init__(self, config_dir: str = "") -> None:
        self._dir_arg = ["-c", config_dir] if config_dir else []
        self._config_dir = config_dir
        self.problem = "" if find_tool("postconf") else "postconf is not installed (no Postfix here)"
        if not self.problem:
            main_cf = self.config_dir() / "main.cf"
            if not main_cf.exists():
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
        """Every main.cf assignment (last one wins) and every master.cf ``-o`` override of ``name``."""
        base = self.config_dir()
        found = [loc for loc in _main_cf_assignments(base / "main.cf") if loc[0] == name]
        locations = [
            Location(str(base / "main.cf"), line, value, effective=(i == len(found) - 1))
            for i, (_, line, value) in enumerate(found)
        ]
        for key, line, value, service in _master_cf_overrides(base / "master.cf"):
            if key == name:
                locations.append(Location(str(base / "master.cf"), line, value, section=service,
                                          effective=True))
        return locations


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    """main.cf/master.cf lines with continuations (leading whitespace) joined, comments dropped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
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
    out = []
    for number, line in _logical_lines(path):
        fields = line.split()
        if len(fields) < 8:
            continue
        service = f"{fields[0]}/{fields[1]}"
        for m in _OVERRIDE.finditer(line):
            out.append((m.group(1), number, m.group(2), service))
    return out
