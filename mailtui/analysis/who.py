""""Who is complaining?": everything the logs say about one user, address, IP or host name.

Two passes over the same records: the first finds the lines that mention the query and
the conversations (queue ID, smtpd connection, Dovecot session) they belong to; the
second collects every line of those conversations, so a NOQUEUE reject shows up with its
connect and disconnect, and a delivery with the rest of its queue-ID life cycle.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mailtui.analysis.correlate import Correlator, context_note
from mailtui.core.record import LogRecord
from mailtui.recognizers.recognition import Recognition

Pair = tuple[LogRecord, "Recognition | None"]
MAX_LINES = 20_000  # a timeline longer than this is cut (and says so)


@dataclass
class TimelineLine:
    record: LogRecord
    match: Recognition | None
    keys: list[str]
    direct: bool  # mentions the query itself (not only through its conversation)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        out = {"file": r.source, "lineno": r.lineno, "timestamp": r.timestamp, "program": r.program,
               "line": r.line, "conversations": self.keys, "direct": self.direct}
        if self.match is not None:
            out.update(self.match.to_dict())
            out["severity"] = self.match.recognizer.severity
        if self.note:
            out["context"] = self.note
        return out


@dataclass
class WhoResult:
    query: str
    kind: str  # ip | email | name
    lines: list[TimelineLine] = field(default_factory=list)
    truncated: bool = False

    @property
    def problems(self) -> list[TimelineLine]:
        return [t for t in self.lines if t.match is not None and t.match.recognizer.rank >= 1]


def query_kind(query: str) -> str:
    try:
        ipaddress.ip_address(query)
        return "ip"
    except ValueError:
        return "email" if "@" in query else "name"


def mentions(match: Recognition | None, query: str, kind: str) -> bool:
    if match is None:
        return False
    f = match.fields
    q = query.lower()
    if kind == "ip":
        return f.get("client_ip") == query
    if kind == "email":
        return any(f.get(k, "").lower() == q for k in ("user", "sender", "recipient"))
    # a bare user name or a host name
    return (f.get("user", "").lower() in (q,) or f.get("user", "").lower().split("@")[0] == q
            or f.get("client_host", "").lower() == q or f.get("helo", "").lower() == q)


def lookup(records: Callable[[], Iterable[Pair]], query: str) -> WhoResult:
    """``records`` returns a fresh iterator over (record, match) each time it is called."""
    query = query.strip()
    kind = query_kind(query)
    result = WhoResult(query, kind)
    wanted: set[str] = set()
    corr = Correlator()
    for rec, match in records():
        keys = corr.keys(rec, match)
        if mentions(match, query, kind):
            wanted.update(keys)
    corr = Correlator()
    for rec, match in records():
        keys = corr.keys(rec, match)
        direct = mentions(match, query, kind)
        if direct or wanted.intersection(keys):
            if len(result.lines) >= MAX_LINES:
                result.truncated = True
                break
            note = context_note(rec, match, keys, corr) if match is not None else ""
            result.lines.append(TimelineLine(rec, match, keys, direct, note))
    return result


def conversation(records: Callable[[], Iterable[Pair]], target: LogRecord) -> WhoResult:
    """Every line of the conversations ``target`` belongs to: its queue ID, smtpd connection or
    Dovecot session. ``target`` is found by identity, so the same text twice is no confusion."""
    corr = Correlator()
    wanted: set[str] = set()
    for rec, match in records():
        keys = corr.keys(rec, match)
        if rec is target:
            wanted.update(keys)
            break
    label = ", ".join(sorted(wanted)) or "this line"
    result = WhoResult(label, "conversation")
    corr = Correlator()
    for rec, match in records():
        keys = corr.keys(rec, match)
        if rec is target or wanted.intersection(keys):
            if len(result.lines) >= MAX_LINES:
                result.truncated = True
                break
            note = context_note(rec, match, keys, corr) if match is not None else ""
            result.lines.append(TimelineLine(rec, match, keys, rec is target, note))
    return result


def iterate_files(paths: list[str], since: float | None = None) -> Callable[[], Iterator[Pair]]:
    """A re-iterable source of (record, match) over whole files, for the CLI."""
    import os

    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.logs.reader import iter_lines
    from mailtui.recognizers.engine import default_engine

    engine = default_engine()

    def gen() -> Iterator[Pair]:
        for path in paths:
            parser = EnvelopeParser(source=path, year_reference=os.path.getmtime(path))
            for lineno, line in iter_lines(path):
                rec = parser.parse(line, lineno, sanitized=True)
                if since is not None and rec.timestamp is not None and rec.timestamp < since:
                    continue
                yield rec, engine.recognize(rec)

    return gen
