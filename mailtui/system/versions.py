"""Which Postfix, Dovecot and fail2ban this machine has, asked from the tools themselves."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from mailtui.mta.run import run_tool


@dataclass(frozen=True)
class StackVersions:
    hostname: str
    postfix: str  # empty when not installed
    dovecot: str
    fail2ban: str

    def summary(self) -> str:
        parts = [self.hostname]
        for name, version in (("Postfix", self.postfix), ("Dovecot", self.dovecot),
                              ("fail2ban", self.fail2ban)):
            parts.append(f"{name} {version}" if version else f"no {name}")
        return " · ".join(parts)


def _first_version(text: str) -> str:
    m = re.search(r"\d+(?:\.\d+)+", text)
    return m.group(0) if m else ""


def detect_versions() -> StackVersions:
    postfix = run_tool(["postconf", "-d", "-h", "mail_version"], timeout=3)
    dovecot = run_tool(["dovecot", "--version"], timeout=3)
    f2b = run_tool(["fail2ban-server", "--version"], timeout=5)
    return StackVersions(
        hostname=socket.gethostname(),
        postfix=_first_version(postfix.stdout) if postfix.ok else "",
        dovecot=_first_version(dovecot.stdout) if dovecot.ok else "",
        fail2ban=_first_version(f2b.stdout) if f2b.ok else "",
    )
