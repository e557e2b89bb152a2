"""Dovecot's live configuration: values from ``doveconf``, locations from its config files.

The file reader follows ``!include`` and ``!include_try`` (globs, relative to the including
file) in the order Dovecot reads them and reports **every** file and line that sets a
key, with the one that wins. That is the classic trap it exists for: ``ssl = required``
in dovecot.conf silently overridden by ``ssl = yes`` in conf.d/10-ssl.conf.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from mailtui.mta.location import Location
from mailtui.mta.run import config_label, find_tool, read_config, routed, run_tool

DEFAULT_CONFIG = "/etc/dovecot/dovecot.conf"
_INCLUDE = re.compile(r"!(include|include_try)\s+(\S+)")
_ASSIGN = re.compile(r"([A-Za-z0-9_]+)\s*=\s*(.*)")
_SECTION = re.compile(r"([A-Za-z0-9_]+)(?:\s+([^{]*?))?\s*\{\s*$")
MAX_INCLUDE_DEPTH = 20


class DovecotConfig:
    def __init__(self, config_file: str = "") -> None:
        self.config_file = config_file or DEFAULT_CONFIG
        self._conf_arg = ["-c", config_file] if config_file else []
        self.problem = "" if find_tool("doveconf") else "doveconf is not installed (no Dovecot here)"
        self._version: tuple[int, int] | None = None
        self.error = ""  # why the last values() call read nothing

    @property
    def available(self) -> bool:
        return not self.problem

    def version(self) -> tuple[int, int]:
        if self._version is None:
            self._version = (0, 0)
            res = run_tool(["dovecot", "--version"], timeout=5)
            m = re.match(r"(\d+)\.(\d+)", res.stdout.strip()) if res.ok else None
            if m is not None:
                self._version = (int(m.group(1)), int(m.group(2)))
        return self._version

    def is_24(self) -> bool:
        return self.version() >= (2, 4)

    def values(self, names: list[str], protocol: str = "") -> dict[str, str]:
        """Current values (as in force for ``protocol``: ``protocol pop3 { … }`` sections apply).
        doveconf prints ``name = value`` for each name it knows, nothing otherwise; when it fails,
        ``error`` says why."""
        out: dict[str, str] = {}
        if not self.available or not names:
            return out
        scope = ["-f", f"protocol={protocol}"] if protocol else []
        res = run_tool(["doveconf", *self._conf_arg, *scope, *names], timeout=5)
        self.error = res.error if not res.ok and not res.stdout.strip() else ""
        for line in res.stdout.splitlines():
            m = _ASSIGN.match(line)
            if m is not None and m.group(1) in names:
                out[m.group(1)] = m.group(2).strip()
        return out

    def where(self, name: str) -> list[Location]:
        """Every assignment of ``name`` in read order; the last one outside sections wins."""
        found: list[Location] = []
        _scan(Path(self.config_file), name, found, [], 0)
        top = [i for i, loc in enumerate(found) if not loc.section]
        winner = top[-1] if top else None
        return [
            Location(loc.file, loc.line, loc.value, loc.section, effective=(i == winner))
            if loc.section == ""
            else Location(loc.file, loc.line, loc.value, loc.section, effective=_last_in_section(found, i))
            for i, loc in enumerate(found)
        ]


def _last_in_section(found: list[Location], index: int) -> bool:
    section = found[index].section
    return all(loc.section != section for loc in found[index + 1 :])


def _scan(path: Path, name: str, found: list[Location], sections: list[str], depth: int) -> None:
    if depth > MAX_INCLUDE_DEPTH:
        return
    text = read_config(path, "doveconf")  # in the Dovecot container when it runs in one
    if text is None:
        return
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("!") else raw.strip()
        if not line:
            continue
        inc = _INCLUDE.match(line)
        if inc is not None:
            pattern = inc.group(2)
            if not pattern.startswith("/"):
                pattern = str(path.parent / pattern)
            # inside a container the host's glob cannot see the files: a literal include is read there
            matches = [pattern] if routed("doveconf") is not None else sorted(glob.glob(pattern))
            for included in matches:
                _scan(Path(included), name, found, sections, depth + 1)
            continue
        if line == "}":
            if sections:
                sections.pop()
            continue
        sec = _SECTION.match(line)
        if sec is not None:
            label = f"{sec.group(1)} {sec.group(2)}".strip() if sec.group(2) else sec.group(1)
            sections.append(label)
            continue
        m = _ASSIGN.match(line)
        if m is not None and m.group(1) == name:
            found.append(Location(config_label(path, "doveconf"), number, m.group(2).strip(), " / ".join(sections)))
