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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailtui.fail2ban.settings import JailSettings
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import Engine

_FOUND = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
    r"\[(?P<jail>[^\]]+)\] Found (?P<ip>\S+)(?: - (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d))?"
)
FAMILIES = ("postfix", "dovecot")
EXAMPLES = 1


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


def found_keys(fail2ban_lines: Iterable[str]) -> tuple[set[tuple[str, int]], float | None, float | None]:
    """(address, second of the matched line) for every Found, and the time span the log covers."""
    keys: set[tuple[str, int]] = set()
    first = last = None
    for line in fail2ban_lines:
        if len(line) < 19 or not line[:4].isdigit():
            continue
        try:
            when = _stamp(line[:19])
        except ValueError:
            continue
        first = when if first is None else min(first, when)
        last = when if last is None else max(last, when)
        m = _FOUND.match(line)
        if m is not None:
            keys.add((m.group("ip"), int(_stamp(m.group("at") or m.group("when")))))
    return keys, first, last


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
        second = int(ts)
        # a jail's Found carries the matched line's own stamp: the same second (or the next,
        # when the stamp has a fraction fail2ban rounds differently)
        if (ip, second) in keys or (ip, second - 1) in keys or (ip, second + 1) in keys:
            report.caught += 1
            continue
        r = match.recognizer
        kind = kinds.get(r.id)
        if kind is None:
            kind = kinds[r.id] = Uncaught(r.id, r.title, r.severity, example=rec.line)
            kind.first = ts
        kind.count += 1
        kind.addresses[ip] += 1
        kind.last = ts
    report.kinds = sorted(kinds.values(), key=lambda k: (-k.count, k.recognizer))
    return report
