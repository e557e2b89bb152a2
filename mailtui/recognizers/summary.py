"""Aggregate recognized lines into a report: counts per recognizer and severity, top clients,
users and senders, and pflogsumm-style delivery totals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mailtui.logs.record import LogRecord
from mailtui.recognizers.model import SEVERITIES, Match

TOP = 10

#: recognizers whose count is a delivery total, by the name of the total
DELIVERY_TOTALS = {
    "delivery.sent": "delivered",
    "delivery.deferred": "deferred",
    "delivery.bounced": "bounced",
    "queue.expired": "expired",
    "postfix.qmgr.queued": "received",
}


@dataclass
class RecognizerStats:
    count: int = 0
    first: float | None = None
    last: float | None = None
    sample: str = ""
    sample_record: LogRecord | None = None
    sample_match: Match | None = None
    clients: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)


@dataclass
class ScanSummary:
    lines: int = 0
    unparsed: int = 0
    recognized: int = 0
    by_recognizer: dict[str, RecognizerStats] = field(default_factory=dict)
    severity: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)
    senders: Counter[str] = field(default_factory=Counter)
    delivery: Counter[str] = field(default_factory=Counter)
    first: float | None = None
    last: float | None = None

    def add(self, record: LogRecord, match: Match | None) -> None:
        self.lines += 1
        if record.fmt == "unknown":
            self.unparsed += 1
        ts = record.timestamp
        if ts is not None:
            self.first = ts if self.first is None else min(self.first, ts)
            self.last = ts if self.last is None else max(self.last, ts)
        if match is None:
            return
        self.recognized += 1
        r = match.recognizer
        stats = self.by_recognizer.get(r.id)
        if stats is None:
            stats = self.by_recognizer[r.id] = RecognizerStats(
                sample=record.line, sample_record=record, sample_match=match)
        stats.count += 1
        if ts is not None:
            stats.first = ts if stats.first is None else min(stats.first, ts)
            stats.last = ts if stats.last is None else max(stats.last, ts)
        self.severity[r.severity] += 1
        if r.id.startswith(("postfix.", "postscreen.")) and ": reject: " in record.message:
            self.delivery["rejected"] += 1
        total = DELIVERY_TOTALS.get(r.id)
        if total is not None:
            self.delivery[total] += 1
        elif r.id.startswith("delivery.") and "status=deferred" in record.message:
            self.delivery["deferred"] += 1
        elif r.id.startswith("delivery.") and "status=bounced" in record.message:
            self.delivery["bounced"] += 1
        if r.rank >= 1:  # who is involved in problems, not in routine traffic
            f = match.fields
            if "client_ip" in f:
                stats.clients[f["client_ip"]] += 1
                self.clients[f["client_ip"]] += 1
            if "user" in f:
                stats.users[f["user"]] += 1
                self.users[f["user"]] += 1
            if "sender" in f and f["sender"]:
                self.senders[f["sender"]] += 1

    def ordered(self, engine_order: dict[str, int]) -> list[tuple[str, RecognizerStats]]:
        """Most severe first, then most frequent."""
        def key(item: tuple[str, RecognizerStats]) -> tuple[int, int, int]:
            stats = item[1]
            rank = stats.sample_match.recognizer.rank if stats.sample_match else 0
            return (-rank, -stats.count, engine_order.get(item[0], 0))
        return sorted(self.by_recognizer.items(), key=key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines, "unparsed": self.unparsed, "recognized": self.recognized,
            "first": self.first, "last": self.last,
            "severity": {s: self.severity.get(s, 0) for s in SEVERITIES},
            "delivery": dict(self.delivery),
            "top_clients": self.clients.most_common(TOP),
            "top_users": self.users.most_common(TOP),
            "top_senders": self.senders.most_common(TOP),
        }
