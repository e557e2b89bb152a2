"""Aggregate recognized lines into a report: counts per recognizer and severity, top clients,
users and senders, and pflogsumm-style delivery totals; and the shapes of the lines nobody
explains (``scan --unknown``).

Both summaries are mergeable, so a scan can be cut into pieces (byte ranges of a file, whole
rotated files) summarised apart — in worker processes or by another engine — and folded
together in file order: ``earlier.merge(later)`` gives exactly what one summary fed every line
of both would hold, top lists' tie order included (a Counter keeps keys in first-seen order and
``most_common`` is stable, so merging in file order keeps "first seen first"). The merge is by
field type (:func:`merge_fields`): ints add, Counters add, ``first``/``last`` take min/max,
dicts of mergeable values merge key by key; a field of any other type makes ``merge`` raise,
so a field added later cannot be silently dropped by a parallel scan (tests/test_scan_engines.py).
A summary crosses a process boundary detached (:meth:`ScanSummary.detach`: samples keep their
recognizer's id, not the recognizer) and is attached again on the other side.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mailtui.core.record import LogRecord, several_hosts
from mailtui.recognizers.model import SEVERITIES, Match, Recognizer

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
    # a detached sample (crossing a process boundary): (recognizer id, groups, family, message)
    sample_ref: tuple[str, dict[str, str | None], str, str] | None = None

    #: fields that keep the earlier piece's value (the first line seen is the sample)
    KEEP_FIRST = frozenset({"sample", "sample_record", "sample_match", "sample_ref"})

    def merge(self, later: RecognizerStats) -> None:
        merge_fields(self, later, self.KEEP_FIRST)

    def detach(self) -> None:
        m = self.sample_match
        if m is not None:
            self.sample_ref = (m.recognizer.id, m.groups, *m.source)
            self.sample_match = None

    def attach(self, recognizers: Mapping[str, Recognizer], lineno_base: int = 0) -> None:
        if self.sample_ref is not None:
            rid, groups, family, message = self.sample_ref
            self.sample_match = Match(recognizers[rid], groups, family, message)
            self.sample_ref = None
            if self.sample_record is not None:
                self.sample_record.lineno += lineno_base


def merge_fields(dst: Any, src: Any, keep_first: frozenset[str] = frozenset()) -> None:
    """Fold ``src`` (a summary of lines after ``dst``'s) into ``dst``, field by field, by type."""
    for f in fields(dst):
        name = f.name
        mine, theirs = getattr(dst, name), getattr(src, name)
        if name in keep_first or name.startswith("_plan"):
            if mine is None or mine == "":
                setattr(dst, name, theirs)
        elif name == "first":
            if theirs is not None and (mine is None or theirs < mine):
                setattr(dst, name, theirs)
        elif name == "last":
            if theirs is not None and (mine is None or theirs > mine):
                setattr(dst, name, theirs)
        elif isinstance(mine, bool):
            raise TypeError(f"{type(dst).__name__}.merge: no rule for the flag {name!r}")
        elif isinstance(mine, int):
            setattr(dst, name, mine + theirs)
        elif isinstance(mine, Counter):
            mine.update(theirs)  # new keys after the old ones, in the later piece's first-seen order
        elif isinstance(mine, dict) and all(hasattr(v, "merge") for v in (*mine.values(), *theirs.values())):
            for key, value in theirs.items():
                if key in mine:
                    mine[key].merge(value)
                else:
                    mine[key] = value
        else:
            raise TypeError(f"{type(dst).__name__}.merge: no rule for field {name!r} ({type(mine).__name__})")


@dataclass
class _Plan:
    """What one recognizer's lines add to the report, decided at its first line, not at each."""

    stats: RecognizerStats
    problem: bool  # severity notice or worse: who is involved is counted
    rejects: bool  # a Postfix/postscreen recognizer: its ": reject: " lines are rejections
    delivery_status: bool  # a delivery recognizer without a fixed total: the status= decides


@dataclass(slots=True)
class HostStats:
    """One host's share of a scan (issue 19): its lines, their span, and per recognizer how many.

    The report derives the host's severities and delivery totals from ``by_recognizer`` as the
    summary does from its own; ``by_status`` holds the totals a line's text decides (rejected,
    deferred, bounced). Engines that scan in parts add parts with :meth:`merge`.
    """

    lines: int = 0
    unparsed: int = 0
    recognized: int = 0
    first: float | None = None
    last: float | None = None
    by_recognizer: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)

    def merge(self, other: HostStats) -> None:
        self.lines += other.lines
        self.unparsed += other.unparsed
        self.recognized += other.recognized
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last
        self.by_recognizer.update(other.by_recognizer)
        self.by_status.update(other.by_status)


@dataclass
class ScanSummary:
    lines: int = 0
    unparsed: int = 0
    recognized: int = 0
    by_recognizer: dict[str, RecognizerStats] = field(default_factory=dict)
    clients: Counter[str] = field(default_factory=Counter)
    users: Counter[str] = field(default_factory=Counter)
    senders: Counter[str] = field(default_factory=Counter)
    first: float | None = None
    last: float | None = None
    #: per host (record.host, "" for lines that name none): what each host's lines add up to; a
    #: dict of mergeables, so summaries of pieces of a scan merge key by key (HostStats.merge)
    hosts: dict[str, HostStats] = field(default_factory=dict)
    # delivery totals that depend on the line, not only on its recognizer
    _by_status: Counter[str] = field(default_factory=Counter)
    _plans: dict[str, _Plan] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the last line's host and its stats (lines come in runs of one host); not a field, so
        # not merged: a merged summary's stats objects are still those in `hosts`
        self._host: str | None = None
        self._host_stats = HostStats()

    def add(self, record: LogRecord, match: Match | None) -> None:
        # runs once per line of files of millions of lines: per-recognizer facts are looked up
        # once (_plan), severity and delivery totals are summed from the counts at the end
        host = self._host_stats
        if record.host != self._host:
            host = self._switch(record.host)
        self.lines += 1
        host.lines += 1
        if record.fmt == "unknown":
            self.unparsed += 1
            host.unparsed += 1
        ts = record.timestamp
        if ts is not None:
            # lines come mostly in time order: one comparison while the time stands or moves on
            last = self.last
            if last is None:
                self.first = self.last = ts
            elif ts > last:
                self.last = ts
            elif ts < last and (first := self.first) is not None and ts < first:
                self.first = ts
            last = host.last
            if last is None:
                host.first = host.last = ts
            elif ts > last:
                host.last = ts
            elif ts < last and (first := host.first) is not None and ts < first:
                host.first = ts
        if match is None:
            return
        self.recognized += 1
        rid = match.recognizer.id
        host.recognized += 1
        counts = host.by_recognizer
        counts[rid] = counts.get(rid, 0) + 1
        plan = self._plans.get(rid)
        if plan is None:
            plan = self._plan(record, match)
        stats = plan.stats
        stats.count += 1
        if ts is not None:
            last = stats.last
            if last is None:
                stats.first = stats.last = ts
            elif ts > last:
                stats.last = ts
            elif ts < last and (first := stats.first) is not None and ts < first:
                stats.first = ts
        if plan.rejects and ": reject: " in record.message:
            self._by_status["rejected"] += 1
            host.by_status["rejected"] += 1
        if plan.delivery_status:
            message = record.message
            if "status=deferred" in message:
                self._by_status["deferred"] += 1
                host.by_status["deferred"] += 1
            elif "status=bounced" in message:
                self._by_status["bounced"] += 1
                host.by_status["bounced"] += 1
        if plan.problem:  # who is involved in problems, not in routine traffic
            client, user, sender = match.who()
            if client is not None:
                stats.clients[client] += 1
                self.clients[client] += 1
            if user is not None:
                stats.users[user] += 1
                self.users[user] += 1
            if sender:
                self.senders[sender] += 1

    def _switch(self, name: str) -> HostStats:
        stats = self.hosts.get(name)
        if stats is None:
            stats = self.hosts[name] = HostStats()
        self._host, self._host_stats = name, stats
        return stats

    @property
    def several_hosts(self) -> bool:
        """Lines of more than one named host: the report is per host as well as in total."""
        return several_hosts(self.hosts)

    def host_severity(self, host: str) -> Counter[str]:
        """One host's recognized lines per severity."""
        out: Counter[str] = Counter()
        for rid, n in self.hosts[host].by_recognizer.items():
            stats = self.by_recognizer.get(rid)
            if stats is not None and stats.sample_match is not None:
                out[stats.sample_match.recognizer.severity] += n
        return out

    def host_delivery(self, host: str) -> Counter[str]:
        """One host's pflogsumm-style totals (as :attr:`delivery`)."""
        stats = self.hosts[host]
        out: Counter[str] = Counter()
        for rid, n in stats.by_recognizer.items():
            total = DELIVERY_TOTALS.get(rid)
            if total is not None:
                out[total] += n
        out.update(stats.by_status)
        return +out

    def host_problems(self, host: str) -> int:
        """One host's lines of notice severity or worse."""
        return sum(
            n
            for rid, n in self.hosts[host].by_recognizer.items()
            if (st := self.by_recognizer.get(rid)) is not None
            and st.sample_match
            and st.sample_match.recognizer.rank >= 1
        )

    def hosts_dict(self) -> list[dict[str, Any]]:
        """Each host's figures, most lines first (the JSON report's "hosts")."""
        return [
            {
                "host": name,
                "lines": st.lines,
                "unparsed": st.unparsed,
                "recognized": st.recognized,
                "first": st.first,
                "last": st.last,
                "severity": {s: self.host_severity(name).get(s, 0) for s in SEVERITIES},
                "delivery": dict(self.host_delivery(name)),
                "problems": self.host_problems(name),
            }
            for name, st in sorted(self.hosts.items(), key=lambda item: (-item[1].lines, item[0]))
        ]

    def _plan(self, record: LogRecord, match: Match) -> _Plan:
        stats = self.by_recognizer[match.recognizer.id] = RecognizerStats(
            sample=record.line, sample_record=record, sample_match=match
        )
        return self._plan_for(match.recognizer, stats)

    def _plan_for(self, r: Recognizer, stats: RecognizerStats) -> _Plan:
        plan = self._plans[r.id] = _Plan(
            stats,
            problem=r.rank >= 1,
            rejects=r.id.startswith(("postfix.", "postscreen.")),
            delivery_status=r.id.startswith("delivery.") and r.id not in DELIVERY_TOTALS,
        )
        return plan

    # -- pieces of one scan ----------------------------------------------------------------------
    def merge(self, later: ScanSummary) -> None:
        """Fold in the summary of lines that come after this one's (in file order); both attached."""
        merge_fields(self, later)
        for rid, stats in self.by_recognizer.items():
            if rid not in self._plans and stats.sample_match is not None:
                self._plan_for(stats.sample_match.recognizer, stats)

    def detach(self) -> None:
        """Make this summary cheap to pickle: samples keep their recognizer's id (see attach)."""
        for stats in self.by_recognizer.values():
            stats.detach()
        self._plans = {}

    def attach(self, recognizers: Mapping[str, Recognizer], lineno_base: int = 0) -> None:
        """Undo :meth:`detach` with this process's recognizers (``Engine.by_id``); the samples'
        line numbers were counted from the start of the piece: ``lineno_base`` lines came before."""
        for stats in self.by_recognizer.values():
            stats.attach(recognizers, lineno_base)
            if stats.sample_match is not None:
                self._plan_for(stats.sample_match.recognizer, stats)

    @property
    def severity(self) -> Counter[str]:
        """Recognized lines per severity."""
        out: Counter[str] = Counter()
        for stats in self.by_recognizer.values():
            if stats.sample_match is not None:
                out[stats.sample_match.recognizer.severity] += stats.count
        return out

    @property
    def delivery(self) -> Counter[str]:
        """pflogsumm-style totals: received, delivered, deferred, bounced, rejected, expired."""
        out: Counter[str] = Counter()
        for rid, stats in self.by_recognizer.items():
            total = DELIVERY_TOTALS.get(rid)
            if total is not None:
                out[total] += stats.count
        out.update(self._by_status)
        return +out  # only the totals that occurred

    def ordered(self, engine_order: dict[str, int]) -> list[tuple[str, RecognizerStats]]:
        """Most severe first, then most frequent."""

        def key(item: tuple[str, RecognizerStats]) -> tuple[int, int, int]:
            stats = item[1]
            rank = stats.sample_match.recognizer.rank if stats.sample_match else 0
            return (-rank, -stats.count, engine_order.get(item[0], 0))

        return sorted(self.by_recognizer.items(), key=key)

    def to_dict(self) -> dict[str, Any]:
        hosts = {"hosts": self.hosts_dict()} if self.several_hosts else {}  # one host: as before
        return {
            "lines": self.lines,
            "unparsed": self.unparsed,
            "recognized": self.recognized,
            "first": self.first,
            "last": self.last,
            "severity": {s: self.severity.get(s, 0) for s in SEVERITIES},
            "delivery": dict(self.delivery),
            "top_clients": self.clients.most_common(TOP),
            "top_users": self.users.most_common(TOP),
            "top_senders": self.senders.most_common(TOP),
            **hosts,
        }


# -- lines nobody explains: counted by shape, for `mailtui scan --unknown` ----------------------

MAX_SHAPES = 20_000  # distinct shapes kept; beyond that lines are counted as "other shapes"

# order matters: addresses before hosts, hosts before bare numbers
_NORMALISE = [
    # Dovecot auth's "passwd-file(user,1.2.3.4,<session>)": keep the driver, drop who
    (re.compile(r"\b([\w-]+)\([^,()\s]*,[0-9A-Fa-f:.]{2,45}(?:,[^()]*)?\)"), r"\1(USER,IP)"),
    (re.compile(r"<[^<>\s]*>"), "<ADDR>"),
    (
        re.compile(
            r"\b(user|rip|lip|session|method|sasl_username|sasl_sender|from|to|orig_to|helo|relay|"
            r"client_name|client_address|sender|recipient|identity|envelope-from|msgid)=[^,;\s]*"
        ),
        r"\1=*",
    ),
    (re.compile(r"(?<![\w:.])(?:::ffff:)?\d{1,3}(?:\.\d{1,3}){3}(?![\w.])"), "IP"),
    # bounded repeats only: a long run of "1:1:1:" costs linear time, not quadratic
    (re.compile(r"(?<![\w:.])[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?![\w:])"), "IP"),
    (re.compile(r"\b(?:[0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,16})\b"), "QID"),
    (re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b"), "D.S.N"),
    (re.compile(r"\b[\w-]+(?:\.[\w-]+)+\b"), "HOST"),
    (re.compile(r"\d+"), "N"),
    (re.compile(r"\s+"), " "),
]


_PROGRAM_ARG = re.compile(r"\([^()]*\)")


def line_shape(record: LogRecord) -> str:
    """The message family of a line: its program, then the message with ids, addresses, hosts,
    users and numbers replaced by placeholders (so 1,000 lines of one kind are one shape)."""
    text = record.message[:400]
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    program = record.program.split("[", 1)[0] if record.program else (record.family or "?")
    program = _PROGRAM_ARG.sub("(USER)", program)  # Dovecot 1.x "deliver(ann)"
    level = f"{record.level}: " if record.level and record.family == "dovecot" else ""
    return f"{program}: {level}{text.strip()}"[:160]


@dataclass
class UnknownShapes:
    """Unrecognized lines (and lines only the catch-all surfaced), counted per shape."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    surfaced: dict[str, str] = field(default_factory=dict)  # shape -> catch-all recognizer id
    other: int = 0  # lines of shapes beyond MAX_SHAPES

    def add(self, record: LogRecord, match: Match | None) -> None:
        shape = line_shape(record)
        if shape not in self.counts and len(self.counts) >= MAX_SHAPES:
            self.other += 1
            return
        self.counts[shape] += 1
        if shape not in self.examples:
            self.examples[shape] = record.line[:500]
            if match is not None:
                self.surfaced[shape] = match.recognizer.id

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.other

    def merge(self, later: UnknownShapes) -> None:
        """Fold in the shapes of lines after this one's, as if ``add`` had seen them here: a shape
        new to this summary once MAX_SHAPES are kept counts as "other". (Exact unless ``later``
        itself overflowed: a shape it put in "other" may be one this summary keeps.)"""
        for shape, n in later.counts.items():
            if shape in self.counts:
                self.counts[shape] += n
            elif len(self.counts) >= MAX_SHAPES:
                self.other += n
            else:
                self.counts[shape] = n
                self.examples[shape] = later.examples[shape]
                if shape in later.surfaced:
                    self.surfaced[shape] = later.surfaced[shape]
        self.other += later.other

    def top(self, limit: int) -> list[dict[str, Any]]:
        return [
            {"shape": shape, "count": n, "example": self.examples[shape], "surfaced_as": self.surfaced.get(shape)}
            for shape, n in self.counts.most_common(limit)
        ]
