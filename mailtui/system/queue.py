"""The Postfix mail queue: ``postqueue -j`` (Postfix 3.1+), ``mailq`` text on older ones.

Deferral reasons are grouped so that a hundred messages stuck behind one dead relay are
one line; a reason that a recognizer of the catalog knows carries that recognizer's title.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailtui.mta.run import run_tool

QUEUES = ("active", "deferred", "hold", "incoming", "maildrop")
MAX_MESSAGES = 100_000  # a queue listing beyond this is cut (the counts say so)
# a listing sent to a dashboard elsewhere (the fleet's agent): what one message of the link carries
LIST_MESSAGES = 1_000
LIST_BYTES = 768 << 10  # JSON of the messages; the link's messages are at most 1 MiB
LIST_RECIPIENTS = 50  # of one message; the rest is counted
FIELD_CHARS = 1_000  # an address or a reason (Postfix keeps reasons short; a host may not)


@dataclass
class Recipient:
    address: str
    reason: str = ""


@dataclass
class QueuedMessage:
    queue_id: str
    queue: str
    arrival: float
    size: int
    sender: str
    recipients: list[Recipient] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # postqueue -j's own member names, so the output reads like Postfix's
        return {
            "queue_id": self.queue_id,
            "queue_name": self.queue,
            "arrival_time": self.arrival,
            "message_size": self.size,
            "sender": self.sender,
            "recipients": [{"address": r.address, "delay_reason": r.reason} for r in self.recipients],
        }


@dataclass
class ReasonGroup:
    key: str
    reason: str  # one real example of the reason
    title: str  # the recognizer's title, or "" when none knows it
    recognizer: str
    queue_ids: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.queue_ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "title": self.title,
            "recognizer": self.recognizer,
            "count": self.count,
            "queue_ids": self.queue_ids,
        }


@dataclass
class QueueSnapshot:
    messages: list[QueuedMessage] = field(default_factory=list)
    error: str = ""
    truncated: bool = False
    taken: float = field(default_factory=time.time)

    def counts(self) -> dict[str, int]:
        c = Counter(m.queue for m in self.messages)
        return {q: c.get(q, 0) for q in QUEUES} | {q: n for q, n in c.items() if q not in QUEUES}

    @property
    def total(self) -> int:
        return len(self.messages)

    def oldest_age(self, queue: str | None = None) -> float | None:
        times = [m.arrival for m in self.messages if queue is None or m.queue == queue]
        return max(0.0, self.taken - min(times)) if times else None

    def find(self, queue_id: str) -> QueuedMessage | None:
        return next((m for m in self.messages if m.queue_id == queue_id), None)

    def reasons(self) -> list[ReasonGroup]:
        groups: dict[str, ReasonGroup] = {}
        for m in self.messages:
            for r in m.recipients:
                if not r.reason:
                    continue
                key = normalize_reason(r.reason)
                group = groups.get(key)
                if group is None:
                    title, rid = _recognize(r.reason)
                    group = groups[key] = ReasonGroup(key, r.reason, title, rid)
                if not group.queue_ids or group.queue_ids[-1] != m.queue_id:
                    group.queue_ids.append(m.queue_id)
        return sorted(groups.values(), key=lambda g: -g.count)

    def top_domains(self, limit: int = 10) -> list[tuple[str, int]]:
        c = Counter(r.address.rpartition("@")[2].lower() or "(local)" for m in self.messages for r in m.recipients)
        return c.most_common(limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "total": self.total,
            "error": self.error,
            "truncated": self.truncated,
            "oldest_age": self.oldest_age(),
            "oldest_deferred_age": self.oldest_age("deferred"),
            "reasons": [g.to_dict() for g in self.reasons()],
            "top_domains": [{"domain": d, "recipients": n} for d, n in self.top_domains()],
            "messages": [m.to_dict() for m in self.messages],
        }


def listing(snap: QueueSnapshot, reason: str = "", limit: int = LIST_MESSAGES) -> dict[str, Any]:
    """The queued messages (all, or those deferred for ``reason``: every recipient's reason that
    normalizes alike) as ``postqueue -j`` members, capped in count, recipients, field length and
    bytes so that it fits one message of the fleet's link; ``total`` and ``truncated`` say what
    was left out, the messages are the oldest first (those stuck longest)."""
    from mailtui.logs.sanitize import clean

    wanted = normalize_reason(reason) if reason else ""

    def matches(m: QueuedMessage) -> bool:
        # the dashboard shows (and sends back) a sanitised reason: a raw one with controls still matches
        return any(
            r.reason and wanted in (normalize_reason(r.reason), normalize_reason(clean(r.reason))) for r in m.recipients
        )

    chosen = [m for m in snap.messages if not wanted or matches(m)]
    chosen.sort(key=lambda m: m.arrival)
    out: list[dict[str, Any]] = []
    size = 0
    limit = max(0, min(limit, LIST_MESSAGES))
    for m in chosen:
        if len(out) >= limit:
            break
        item = m.to_dict()
        item["sender"] = item["sender"][:FIELD_CHARS]
        rcpts = item["recipients"]
        item["recipients"] = [
            {"address": r["address"][:FIELD_CHARS], "delay_reason": r["delay_reason"][:FIELD_CHARS]}
            for r in rcpts[:LIST_RECIPIENTS]
        ]
        if len(rcpts) > LIST_RECIPIENTS:
            item["more_recipients"] = len(rcpts) - LIST_RECIPIENTS
        size += len(json.dumps(item, ensure_ascii=False))
        if size > LIST_BYTES:
            break
        out.append(item)
    return {
        "messages": out,
        "total": len(chosen),
        "truncated": snap.truncated or len(out) < len(chosen),
        "taken": snap.taken,
        "error": snap.error,
    }


_BRACKETS = re.compile(r"\[[^\]]*\]")
_NUMBERS = re.compile(r"\d+")


def normalize_reason(reason: str) -> str:
    """Addresses and numbers vary between messages stuck for the same cause; the rest does not."""
    return _NUMBERS.sub("N", _BRACKETS.sub("[…]", reason.strip()))


def _recognize(reason: str) -> tuple[str, str]:
    """Run the reason through the catalog as the ``status=deferred`` line Postfix logged for it."""
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine

    line = (
        f"Jan  1 00:00:00 localhost postfix/smtp[1]: 0123456789: to=<x@example.com>, relay=none, "
        f"delay=1, delays=0/0/1/0, dsn=4.0.0, status=deferred ({reason})"
    )
    match = default_engine().recognize(EnvelopeParser().parse(line))
    return (match.recognizer.title, match.recognizer.id) if match else ("", "")


def parse_postqueue_json(text: str, limit: int = MAX_MESSAGES) -> QueueSnapshot:
    snap = QueueSnapshot()
    for line in text.splitlines():
        if not line.strip():
            continue
        if len(snap.messages) >= limit:
            snap.truncated = True
            break
        try:
            obj = json.loads(line)
            recipients = [
                Recipient(str(r.get("address", "")), str(r.get("delay_reason", "")))
                for r in obj.get("recipients") or []
                if isinstance(r, dict)
            ]
            snap.messages.append(
                QueuedMessage(
                    str(obj["queue_id"]),
                    str(obj.get("queue_name", "?")),
                    float(obj.get("arrival_time", 0)),
                    int(obj.get("message_size", 0)),
                    str(obj.get("sender", "")),
                    recipients,
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # the listing is built while the queue changes; a garbled member is skipped, not fatal
            continue
    return snap


_MAILQ_HEAD = re.compile(r"^([0-9A-Za-z]+)([*!#]?)\s+(\d+)\s+(\w{3} \w{3}\s+\d+ \d\d:\d\d:\d\d)\s+(.*)$")
_MAILQ_REASON = re.compile(r"^\s*\((.*)\)\s*$")
_MAILQ_RCPT = re.compile(r"^\s+(\S+)\s*$")


def parse_mailq(text: str, now: float | None = None) -> QueueSnapshot:
    """``mailq`` / ``postqueue -p`` output (before Postfix 3.1). Hold is ``!``, active ``*``."""
    snap = QueueSnapshot()
    current: QueuedMessage | None = None
    reason = ""
    year = datetime.fromtimestamp(now or time.time()).year
    for line in text.splitlines():
        head = _MAILQ_HEAD.match(line)
        if head is not None:
            qid, mark, size, when, sender = head.groups()
            queue = {"*": "active", "!": "hold"}.get(mark, "deferred")
            current = QueuedMessage(qid, queue, _mailq_time(when, year, now), int(size), sender)
            snap.messages.append(current)
            reason = ""
            continue
        if current is None:
            continue
        m = _MAILQ_REASON.match(line)
        if m is not None:
            reason = m.group(1)
            continue
        m = _MAILQ_RCPT.match(line)
        if m is not None:
            current.recipients.append(Recipient(m.group(1), reason))
        elif not line.strip():
            current = None
    return snap


def _mailq_time(text: str, year: int, now: float | None) -> float:
    try:
        ts = datetime.strptime(f"{year} {' '.join(text.split())}", "%Y %a %b %d %H:%M:%S").timestamp()
    except ValueError:
        return 0.0
    # mailq prints no year: a date in the future belongs to last year
    if ts > (now or time.time()) + 86400:
        ts = datetime.strptime(f"{year - 1} {' '.join(text.split())}", "%Y %a %b %d %H:%M:%S").timestamp()
    return ts


def read_queue(config_dir: str = "", postfix_version: tuple[int, int] = (3, 1)) -> QueueSnapshot:
    conf = ["-c", config_dir] if config_dir else []
    if postfix_version >= (3, 1):
        res = run_tool(["postqueue", *conf, "-j"], timeout=20)
        if res.ok:
            return parse_postqueue_json(res.stdout)
        if "invalid option" not in res.error and "illegal option" not in res.error:
            return QueueSnapshot(error=f"postqueue -j: {res.error}")
    res = run_tool(["postqueue", *conf, "-p"], timeout=20)
    if not res.ok:
        return QueueSnapshot(error=f"postqueue -p: {res.error}")
    return parse_mailq(res.stdout)
