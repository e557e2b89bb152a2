""" "Who is complaining?": everything the logs say about one user, address, IP or host name.

Two passes over the same records: the first finds the lines that mention the query and
the conversations (queue ID, smtpd connection, Dovecot session) they belong to; the
second collects every line of those conversations, so a NOQUEUE reject shows up with its
connect and disconnect, and a delivery with the rest of its queue-ID life cycle.

The timeline is in time order across all sources (files are merged by timestamp, and the
lines are sorted stably at the end, so equal times keep their order in the log), and each
line carries its context diagnosis (analysis.correlate), settled against the live configuration
when the caller passes ``settle``. A summary counts addresses, users, first and last seen,
logins that worked or failed (one per Dovecot session or SMTP AUTH) and problems by kind.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailtui.analysis.correlate import Correlator, context
from mailtui.core.record import LogRecord, host_label, several_hosts
from mailtui.recognizers.context import Context
from mailtui.recognizers.model import Match, Recognizer
from mailtui.recognizers.recognition import Recognition
from mailtui.system.units import plural

Pair = tuple[LogRecord, "Match | None"]
Settle = Callable[["Context | None", LogRecord], "Context | None"]
MAX_LINES = 20_000  # a timeline longer than this is cut (and says so)
LOGIN_OK = ("dovecot.login.success", "dovecot.login.cleartext_success", "postfix.sasl.login")
LOGIN_FAILED = ("dovecot.login.auth_failed", "dovecot.login.plaintext_refused", "postfix.sasl.auth_failed")


@dataclass
class TimelineLine:
    record: LogRecord
    match: Recognition | None
    keys: list[str]
    direct: bool  # mentions the query itself (not only through its conversation)
    context: Context | None = None

    @property
    def note(self) -> str:
        return self.context.note if self.context is not None else ""

    @property
    def meaning(self) -> Recognizer | None:
        """The recognizer that explains this line in its context, when the context is certain."""
        if self.context is None or not self.context.means or not self.context.certain:
            return None
        from mailtui.recognizers.engine import default_engine

        return default_engine().by_id.get(self.context.means)

    @property
    def headline(self) -> Recognizer | None:
        return self.meaning or (self.match.recognizer if self.match is not None else None)

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        out: dict[str, Any] = {
            "file": r.source,
            "lineno": r.lineno,
            "timestamp": r.timestamp,
            "program": r.program,
            "line": r.line,
            "conversations": self.keys,
            "direct": self.direct,
        }
        if self.match is not None:
            out.update(self.match.to_dict())
            out["severity"] = self.match.recognizer.severity
        if self.context is not None:
            from mailtui.recognizers.engine import default_engine
            from mailtui.recognizers.explain import context_dict

            out["context"] = context_dict(self.context, default_engine().by_id.get(self.context.means))
        return out


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%b %d %H:%M:%S") if ts is not None else "-"


@dataclass
class Summary:
    """What the timeline adds up to."""

    addresses: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)
    first: float | None = None
    last: float | None = None
    logins_ok: int = 0
    logins_failed: int = 0
    problems: Counter[str] = field(default_factory=Counter)  # headline recognizer id -> lines
    titles: dict[str, str] = field(default_factory=dict)
    #: lines per host, and per host its problems; shown only when the lines are of several hosts
    hosts: Counter[str] = field(default_factory=Counter)
    host_problems: Counter[str] = field(default_factory=Counter)

    @property
    def several_hosts(self) -> bool:
        return several_hosts(self.hosts)

    def text_lines(self) -> list[str]:
        """The summary in a few lines of text (the CLI and the dashboard's who screen)."""
        out = [f"seen {_when(self.first)} .. {_when(self.last)}"]
        if self.several_hosts:
            out.append(
                "hosts: "
                + ", ".join(
                    f"{host_label(h)} ×{n}"
                    + (f" ({plural(self.host_problems[h], 'problem')})" if self.host_problems[h] else "")
                    for h, n in self.hosts.most_common()
                )
            )
        if self.addresses:
            out.append("addresses: " + ", ".join(f"{ip} ×{n}" for ip, n in self.addresses.most_common(8)))
        if self.users:
            out.append("users: " + ", ".join(f"{u} ×{n}" for u, n in self.users.most_common(8)))
        out.append(f"logins: {self.logins_ok} ok, {self.logins_failed} failed")
        if self.problems:
            out.append("problems: " + "; ".join(f"{self.titles[rid]} ×{n}" for rid, n in self.problems.most_common()))
        return out

    def to_dict(self) -> dict[str, Any]:
        hosts = (
            {"hosts": [{"host": h, "lines": n, "problems": self.host_problems[h]} for h, n in self.hosts.most_common()]}
            if self.several_hosts
            else {}  # one host: as before
        )
        return {
            "addresses": dict(self.addresses.most_common()),
            "users": dict(self.users.most_common()),
            "first": self.first,
            "last": self.last,
            "logins": {"ok": self.logins_ok, "failed": self.logins_failed},
            "problems": [
                {"recognizer": rid, "title": self.titles[rid], "count": n} for rid, n in self.problems.most_common()
            ],
            **hosts,
        }


@dataclass
class WhoResult:
    query: str
    kind: str  # ip | email | name
    lines: list[TimelineLine] = field(default_factory=list)
    truncated: bool = False

    @property
    def hosts(self) -> list[str]:
        """The hosts the timeline's lines come from, in order of first appearance ("" too)."""
        return list(dict.fromkeys(t.record.host for t in self.lines))

    @property
    def problems(self) -> list[TimelineLine]:
        return [t for t in self.lines if (h := t.headline) is not None and h.rank >= 1]

    def summary(self) -> Summary:
        out = Summary()
        logins: dict[str, bool] = {}  # Dovecot session / AUTH line -> worked
        for n, t in enumerate(self.lines):
            out.hosts[t.record.host] += 1
            ts = t.record.timestamp
            if ts is not None:
                out.first = ts if out.first is None else min(out.first, ts)
                out.last = ts if out.last is None else max(out.last, ts)
            if t.match is None:
                continue
            f = t.match.fields
            if f.get("client_ip"):
                out.addresses[f["client_ip"]] += 1
            if f.get("user"):
                out.users[f["user"]] += 1
            rid = t.match.recognizer.id
            if rid in LOGIN_OK or rid in LOGIN_FAILED:
                # a Dovecot session is one login however many lines it writes
                key = next((k for k in t.keys if k.startswith("dovecot:")), f"line:{n}")
                logins[key] = logins.get(key, False) or rid in LOGIN_OK
            headline = t.headline
            if headline is not None and headline.rank >= 1:
                out.problems[headline.id] += 1
                out.titles[headline.id] = headline.title
                out.host_problems[t.record.host] += 1
        out.logins_ok = sum(logins.values())
        out.logins_failed = len(logins) - out.logins_ok
        return out


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
    return (
        f.get("user", "").lower() in (q,)
        or f.get("user", "").lower().split("@")[0] == q
        or f.get("client_host", "").lower() == q
        or f.get("helo", "").lower() == q
    )


def _settled(
    rec: LogRecord, match: Match | None, keys: list[str], corr: Correlator, settle: Settle | None
) -> Context | None:
    if match is None:
        return None
    found = context(rec, match, keys, corr)
    return settle(found, rec) if settle is not None and found is not None else found


def in_time_order(lines: list[TimelineLine]) -> list[TimelineLine]:
    """Sorted by time, stably (equal times keep their order); a line without a time stays
    after the line before it."""
    keyed = []
    last = float("-inf")
    for t in lines:
        if t.record.timestamp is not None:
            last = t.record.timestamp
        keyed.append((last, t))
    keyed.sort(key=lambda pair: pair[0])
    return [t for _, t in keyed]


def lookup(records: Callable[[], Iterable[Pair]], query: str, settle: Settle | None = None) -> WhoResult:
    """``records`` returns a fresh iterator over (record, match) each time it is called;
    ``settle`` checks a context diagnosis against the live configuration (Explainer.settle)."""
    query = query.strip()
    kind = query_kind(query)
    result = WhoResult(query, kind)
    wanted: set[str] = set()
    first = Correlator()
    for rec, match in records():
        keys = first.keys(rec, match)
        if mentions(match, query, kind):
            wanted.update(keys)
    first.resolve_links()
    roots = {first.root(k) for k in wanted}
    corr = Correlator(hosts=dict(first.hosts))
    for rec, match in records():
        keys = corr.keys(rec, match)
        direct = mentions(match, query, kind)
        if direct or any(first.root(k) in roots for k in keys):
            if len(result.lines) >= MAX_LINES:
                result.truncated = True
                break
            result.lines.append(TimelineLine(rec, match, keys, direct, _settled(rec, match, keys, corr, settle)))
    result.lines = in_time_order(result.lines)
    return result


def conversation(records: Callable[[], Iterable[Pair]], target: LogRecord, settle: Settle | None = None) -> WhoResult:
    """Every line of the conversations ``target`` belongs to: its queue ID, smtpd connection or
    Dovecot session. ``target`` is found by identity, so the same text twice is no confusion."""
    first = Correlator()
    wanted: set[str] = set()
    for rec, match in records():
        keys = first.keys(rec, match)
        if rec is target:
            wanted.update(keys)
    # the whole pass: a relay to another of our hosts further on links its queue ID there too
    first.resolve_links()
    roots = {first.root(k) for k in wanted}
    result = WhoResult("", "conversation")
    corr = Correlator(hosts=dict(first.hosts))
    for rec, match in records():
        keys = corr.keys(rec, match)
        if rec is target or any(first.root(k) in roots for k in keys):
            if len(result.lines) >= MAX_LINES:
                result.truncated = True
                break
            result.lines.append(TimelineLine(rec, match, keys, rec is target, _settled(rec, match, keys, corr, settle)))
    result.lines = in_time_order(result.lines)
    # the keys name their host; with one host in the timeline that says nothing: "qid:4XyZ"
    one = not several_hosts(result.hosts)
    # the target's conversations and those a relay linked them to
    label = wanted.union(k for t in result.lines for k in t.keys if first.root(k) in roots)
    result.query = ", ".join(sorted({k.rsplit("@", 1)[0] if one else k for k in label})) or "this line"
    return result


def iterate_files(paths: list[str], since: float | None = None) -> Callable[[], Iterator[Pair]]:
    """A re-iterable source of (record, match) over whole files, for the CLI: the files merged
    by time (each file read in its own order; equal times: the file named first), so the
    correlation sees a Dovecot login before the Postfix line that follows it a second later."""
    import os

    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.logs.reader import iter_lines
    from mailtui.recognizers.engine import default_engine

    engine = default_engine()

    def one(path: str) -> Iterator[tuple[float, Pair]]:
        parser = EnvelopeParser(source=path, year_reference=os.path.getmtime(path))
        last = float("-inf")
        for lineno, line in iter_lines(path):
            rec = parser.parse(line, lineno, sanitized=True)
            if since is not None and rec.timestamp is not None and rec.timestamp < since:
                continue
            if rec.timestamp is not None:
                last = rec.timestamp
            yield last, (rec, engine.recognize(rec))

    def gen() -> Iterator[Pair]:
        for _, pair in heapq.merge(*(one(path) for path in paths), key=lambda item: item[0]):
            yield pair

    return gen
