"""What a check reports: findings with a status, grouped the way the pane shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailtui.logs.sanitize import clean

GROUPS = (
    "Mail routing",
    "Client discovery",
    "Sender authentication",
    "Transport security",
    "Consistency",
    "Reputation",
)
ROUTING, DISCOVERY, AUTH, TRANSPORT, CONSISTENCY, REPUTATION = GROUPS

STATUSES = ("ok", "info", "not_offered", "warn", "fail", "timeout", "error")
#: how bad a status is, for sorting and for the exit code
RANK = {"ok": 0, "info": 0, "not_offered": 0, "warn": 1, "fail": 2, "timeout": 3, "error": 3}
#: the order findings are listed in, inside their group: what needs fixing first, then what
#: could not be checked, then what is fine, then what is only said for information
LISTING = ("fail", "error", "timeout", "warn", "ok", "not_offered", "info")


@dataclass
class Finding:
    id: str
    group: str
    status: str
    summary: str
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        # summaries quote TXT records, XML and server greetings: attacker-controlled text
        self.summary = clean(self.summary.replace("\n", " "))
        self.detail = "\n".join(clean(line) for line in self.detail.split("\n"))

    def sort_key(self) -> tuple[int, int, str, str, str]:
        """Group, then status (``LISTING``), then the text: the same findings always come out in
        the same order, whichever check finished first."""
        return (GROUPS.index(self.group), LISTING.index(self.status), self.id, self.summary, self.detail)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "status": self.status,
            "summary": self.summary,
            "detail": self.detail,
            **({"data": self.data} if self.data else {}),
        }


def ordered(findings: list[Finding]) -> list[Finding]:
    """Findings as ``check`` prints them and the DNS pane lists them (``Finding.sort_key``)."""
    return sorted(findings, key=Finding.sort_key)


def worst(findings: list[Finding]) -> str:
    return max((f.status for f in findings), key=lambda s: RANK[s], default="ok")
