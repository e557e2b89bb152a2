"""Log file patterns of a central log box: ``/var/log/remote/*/mail.log``, ``/var/log/hosts/%HOST%/mail.log``.

A ``[logs] files`` entry with a wildcard (``*``, ``?``, ``[...]``) or ``%HOST%`` is a pattern. It
is expanded when the logs are located and again while they are followed, so the file of a host
that starts sending later is picked up. Each matching file gets a *default host*: the part of its
path where ``%HOST%`` stands, or, without ``%HOST%``, the one directory matched by a bare ``*``
(``/var/log/remote/*/mail.log``). Lines that name their host (syslog) keep their own; lines that
name none (Dovecot's own log format, fail2ban.log) get the file's. Rotated copies a pattern also
matches (``mail.log.1``, ``mail.log.2.gz``, ``mail.log-20260101``) are not followed on their own:
their lines are the live file's, read by its follower across the rotation.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass

from mailtui.config import HOST, WILD, log_pattern_problem
from mailtui.logs.sanitize import clean

__all__ = ["HOST", "MAX_MATCHES", "Pattern", "is_pattern", "log_pattern_problem"]

MAX_MATCHES = 1000  # files followed per pattern at most (each holds a descriptor)
_ROTATED = re.compile(r"(?:\.\d+|-\d{8}(?:\d\d)?)(?:\.(?:gz|bz2|xz|zst))?$|\.(?:gz|bz2|xz|zst)$")
_HOST_TEXT = re.compile(r"[^\s/]{1,253}")


def is_pattern(text: str) -> bool:
    return HOST in text or WILD.search(text) is not None


@dataclass(frozen=True)
class Pattern:
    """One configured pattern, ready to expand."""

    text: str

    @property
    def glob(self) -> str:
        return self.text.replace(HOST, "*")

    def _host_index(self) -> int | None:
        """Index of the path part that names the host, or None."""
        parts = self.text.split("/")
        for i, part in enumerate(parts):
            if HOST in part:
                return i
        bare = [i for i, part in enumerate(parts[:-1]) if part == "*"]
        return bare[0] if len(bare) == 1 else None

    def host_of(self, path: str) -> str:
        """The default host of a file this pattern matched ("" when the pattern names none)."""
        index = self._host_index()
        if index is None:
            return ""
        parts, got = self.text.split("/"), path.split("/")
        if len(got) != len(parts):
            return ""
        part, value = parts[index], got[index]
        if HOST in part:
            prefix, suffix = part.split(HOST)
            if not (value.startswith(prefix) and value.endswith(suffix)) or len(value) <= len(prefix) + len(suffix):
                return ""
            value = value[len(prefix) : len(value) - len(suffix)]
        value = clean(value)
        return value if _HOST_TEXT.fullmatch(value) else ""

    def expand(self) -> tuple[list[tuple[str, str]], int]:
        """(path, default host) of each matching regular file, sorted, at most MAX_MATCHES;
        and how many matched in all (more than MAX_MATCHES: the rest is not followed)."""
        found: list[tuple[str, str]] = []
        rotated_of = self.text.split("/")[-1]
        for path in glob.iglob(self.glob):
            name = os.path.basename(path)
            if WILD.search(rotated_of) and _ROTATED.search(name):
                continue  # a rotation of a live file the pattern matches too
            try:
                if not os.path.isfile(path):
                    continue  # a directory, a socket: not a log
            except OSError:
                continue
            found.append((path, self.host_of(path)))
        found.sort()
        return found[:MAX_MATCHES], len(found)

    def note(self, matched: int) -> str:
        """The warning for the Logs status and ``mailtui config`` ("" when all is well)."""
        if matched == 0:
            return "matches no file yet (followed as files appear)"
        if matched > MAX_MATCHES:
            return f"matches {matched:,} files: following the first {MAX_MATCHES:,}"
        return ""
