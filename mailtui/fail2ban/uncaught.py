"""The failures no jail catches: problem lines of the mail log that no fail2ban jail counted.

The recognizers know which mail-log lines are failed logins, rejects and probes, and from
which address. fail2ban says which lines a jail counted: each ``[jail] Found IP - <time>``
carries the address and the time stamp of the log line it matched. A problem line whose
(address, second) no jail ever Found was not counted by any jail — a wording the filters
miss (Dovecot 2.4's new login messages, a submission-port SASL failure), a log file no jail
watches, or a jail that is off. Only the stretch of time fail2ban's log covers is judged,
and addresses a jail ignores (``ignoreip``) are left out: those are meant to pass.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.fail2ban.settings import JailSettings
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.model import Recognizer

_FOUND = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
    r"\[(?P<jail>[^\]]+)\] Found (?P<ip>\S+)(?: - (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d))?"
)
FAMILIES = ("postfix", "dovecot")
EXAMPLES = 1
EXAMPLES_KEPT = 2_000  # (kind, address) example lines the live tracker keeps to replace one of an ignored address


@dataclass
class Uncaught:
    recognizer: str
    title: str
    severity: str
    count: int = 0
    addresses: Counter[str] = field(default_factory=Counter)
    example: str = ""
    first: float | None = None
    last: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recognizer": self.recognizer,
            "title": self.title,
            "severity": self.severity,
            "count": self.count,
            "addresses": len(self.addresses),
            "top_addresses": self.addresses.most_common(5),
            "example": self.example,
            "first": self.first,
            "last": self.last,
        }


@dataclass
class UncaughtReport:
    judged_from: float | None  # the span of fail2ban's log: lines outside it are not judged
    judged_until: float | None
    kinds: list[Uncaught] = field(default_factory=list)  # most lines first
    caught: int = 0  # problem lines some jail counted
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "judged_from": self.judged_from,
            "judged_until": self.judged_until,
            "caught": self.caught,
            "uncaught": [k.to_dict() for k in self.kinds],
            "note": self.note,
        }


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timestamp()


def _fail2ban_line(line: str) -> tuple[float, tuple[str, int] | None] | None:
    """(the line's time, the (address, second) it Found or None); None if it is no fail2ban.log line."""
    if len(line) < 19 or not line[:4].isdigit():
        return None
    try:
        when = _stamp(line[:19])
    except ValueError:
        return None
    m = _FOUND.match(line)
    if m is None:
        return when, None
    return when, (m.group("ip"), int(_stamp(m.group("at") or m.group("when"))))


def found_keys(fail2ban_lines: Iterable[str]) -> tuple[set[tuple[str, int]], float | None, float | None]:
    """(address, second of the matched line) for every Found, and the time span the log covers."""
    keys: set[tuple[str, int]] = set()
    first = last = None
    for line in fail2ban_lines:
        got = _fail2ban_line(line)
        if got is None:
            continue
        when, key = got
        first = when if first is None else min(first, when)
        last = when if last is None else max(last, when)
        if key is not None:
            keys.add(key)
    return keys, first, last


def _counted(keys: set[tuple[str, int]] | dict[tuple[str, int], None], ip: str, ts: float) -> bool:
    # a jail's Found carries the matched line's own stamp: the same second (or the next,
    # when the stamp has a fraction fail2ban rounds differently)
    second = int(ts)
    return (ip, second) in keys or (ip, second - 1) in keys or (ip, second + 1) in keys


def _judge(
    rec: LogRecord,
    r: Recognizer,
    ip: str,
    ts: float,
    keys: set[tuple[str, int]] | dict[tuple[str, int], None],
    kinds: dict[str, Uncaught],
    report: UncaughtReport,
) -> None:
    if _counted(keys, ip, ts):
        report.caught += 1
        return
    kind = kinds.get(r.id)
    if kind is None:
        kind = kinds[r.id] = Uncaught(r.id, r.title, r.severity, example=rec.line)
        kind.first = ts
    kind.count += 1
    kind.addresses[ip] += 1
    kind.last = ts


def uncaught(
    mail_lines: Iterable[str],
    fail2ban_lines: Iterable[str],
    engine: Engine,
    settings: dict[str, JailSettings] | None = None,
    *,
    source: str = "mail.log",
    year_reference: float | None = None,
) -> UncaughtReport:
    keys, first, last = found_keys(fail2ban_lines)
    report = UncaughtReport(first, last)
    if first is None or last is None:
        report.note = "fail2ban's log has no lines: nothing can be judged"
        return report
    ignored = list((settings or {}).values())
    parser = EnvelopeParser(source=source, year_reference=year_reference)
    kinds: dict[str, Uncaught] = {}
    for n, line in enumerate(mail_lines, 1):
        rec = parser.parse(line, n)
        ts = rec.timestamp
        if rec.family not in FAMILIES or ts is None or not first <= ts <= last + 1:
            continue
        match = engine.recognize(rec)
        if match is None or match.recognizer.rank < 1:
            continue
        ip = match.fields.get("client_ip", "")
        if not ip or any(s.ignores(ip) for s in ignored):
            continue
        _judge(rec, match.recognizer, ip, ts, keys, kinds, report)
    report.kinds = sorted(kinds.values(), key=lambda k: (-k.count, k.recognizer))
    return report


class UncaughtTracker:
    """The same judgement over the live tail (the Problems pane's entry): problem lines and
    fail2ban's lines are added as they arrive; a problem line is judged once fail2ban has logged
    something later than it and ``grace`` seconds have passed (a jail reads its log a moment
    after the line is written), and lines older than fail2ban's first line are not judged."""

    def __init__(self, grace: float = 30.0, keep: int = 20_000, keys_kept: int = 200_000) -> None:
        self.grace = grace
        self.keep = keep
        self.keys_kept = keys_kept
        self.keys: dict[tuple[str, int], None] = {}  # insertion-ordered: the oldest go first
        self.first: float | None = None
        self.last: float | None = None
        self.waiting: deque[tuple[float, str, LogRecord, Recognizer]] = deque(maxlen=keep)
        self.kinds: dict[str, Uncaught] = {}
        self.report = UncaughtReport(None, None, note="fail2ban's log has no lines yet: nothing can be judged")
        self.settings: dict[str, JailSettings] = {}  # ignoreip: those addresses are meant to pass
        self.examples: dict[tuple[str, str], str] = {}  # (kind, address) -> its first line, a few per kind

    def add(self, record: LogRecord, match: Any) -> None:
        """``match``: the line's recognizer match (Match or a LiveEntry), or None."""
        if record.family == "fail2ban":
            got = _fail2ban_line(record.line)
            if got is None:
                return
            when, key = got
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
            if key is not None:
                self.keys[key] = None
                if len(self.keys) > self.keys_kept:
                    for old in list(self.keys)[: self.keys_kept // 2]:
                        del self.keys[old]
            return
        ts = record.timestamp
        if record.family not in FAMILIES or ts is None or match is None or match.recognizer.rank < 1:
            return
        ip = match.fields.get("client_ip", "")
        if ip:
            self.waiting.append((ts, ip, record, match.recognizer))

    def set_settings(self, settings: dict[str, JailSettings]) -> bool:
        """The jails' ignoreip, which may arrive after lines were judged: those addresses are taken
        out of what was judged too. True if anything changed."""
        if settings is self.settings:
            return False
        self.settings = settings
        ignored = list(settings.values())
        for rid, kind in list(self.kinds.items()):
            for ip in [ip for ip in kind.addresses if any(s.ignores(ip) for s in ignored)]:
                kind.count -= kind.addresses.pop(ip)
                self.examples.pop((rid, ip), None)
            if kind.count <= 0:
                del self.kinds[rid]
            elif not any(r == rid and line == kind.example for (r, _ip), line in self.examples.items()):
                kind.example = next((line for (r, _ip), line in self.examples.items() if r == rid), kind.example)
        self.report.kinds = sorted(self.kinds.values(), key=lambda k: (-k.count, k.recognizer))
        return True

    def ready(self, now: float) -> bool:
        """Whether judge(now) has a waiting line to judge (the pane redraws only then)."""
        if not self.waiting or self.last is None:
            return False
        return self.waiting[0][0] <= min(self.last + 1, now - self.grace)

    def judge(self, now: float) -> UncaughtReport:
        """Judge what can be judged by ``now``; the report covers everything judged so far."""
        report = self.report
        if self.first is None or self.last is None:
            return report
        report.note = ""
        report.judged_from = self.first if report.judged_from is None else report.judged_from
        until = min(self.last + 1, now - self.grace)
        ignored = list(self.settings.values())
        while self.waiting and self.waiting[0][0] <= until:
            ts, ip, rec, r = self.waiting.popleft()
            if ts < self.first or any(s.ignores(ip) for s in ignored):
                continue
            _judge(rec, r, ip, ts, self.keys, self.kinds, report)
            if r.id in self.kinds and len(self.examples) < EXAMPLES_KEPT:
                self.examples.setdefault((r.id, ip), rec.line)
            report.judged_until = ts if report.judged_until is None else max(report.judged_until, ts)
        report.kinds = sorted(self.kinds.values(), key=lambda k: (-k.count, k.recognizer))
        return report
