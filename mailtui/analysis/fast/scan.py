"""``scan --engine fast``: the report of ``mailtui scan`` from Polars columns, block by block.

A block is about 8 MB of whole lines. Each line is first sorted into one of two paths:

- vectorized: printable ASCII (no control character, no TAB), at most FAST_MAX_CHARS long, with
  an envelope whose Python parse is fully known here — traditional syslog (also Postfix's
  ``maillog_file``) and RFC 3339 with host and tag, and Dovecot's own log format. The envelope
  is cut with Rust regexes that are the Python ones anchored at both ends (where a line admits
  both readings it goes to the other path); the time of each distinct stamp is computed by the
  Python parser's own code, once.
- Python: every other line (non-ASCII, controls, long, cut, TAI64N, fail2ban.log, Solaris
  ids, Dovecot 1.x ``deliver(...)``, odd stamps) runs through ``EnvelopeParser`` and ``Engine``
  exactly as the python engine does.

Recognition per (family, daemon): Aho-Corasick (Polars' ``extract_many``) finds which catalog
literals occur in each message; candidates are then tried recognizer by recognizer in the
engine's order on the rows still unmatched that contain its literal, with the native pattern
(native.py: exact, or a superset confirmed by ``re`` on its hits, or ``re`` alone). Unmatched
leveled lines go to the engine's own catch-all. Who is involved in problems (client, user,
sender) is taken with the same rules as ``common_fields`` + the pattern's groups, vectorized for
exact patterns and by Python for the rest. Counters are filled in line order, so ties in the top
lists and the order of the report's keys come out as the python engine's.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import polars as pl

from mailtui.analysis.fast.native import EXACT, PYTHON, Native, translate
from mailtui.core.record import LogRecord
from mailtui.logs.envelope import _ISO, MONTHS, EnvelopeParser, _iso_epoch
from mailtui.logs.sanitize import MAX_LINE_BYTES, cut, decode
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.fields import _DOVECOT_KV, _DOVECOT_MAILPROC, _POSTFIX_CLIENT, _POSTFIX_KV
from mailtui.recognizers.model import Match, Recognizer
from mailtui.recognizers.summary import DELIVERY_TOTALS, ScanSummary

BLOCK_BYTES = 8 << 20
FAST_MAX_CHARS = 2048
WHO = ("client_ip", "user", "sender")

_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_PRINTABLE = rf"^[ -~]{{17,{FAST_MAX_CHARS}}}$"
_TRAD = rf"^{_MON} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} ."
_ISO_STAMP = (
    r"^(?P<all>(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?P<sep>[T ])(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:[.,](?P<frac>[0-9]{1,9}))?(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})? )"
)
# host (not ending in ':'), space, tag: _TAG of envelope.py up to its message
_HEAD = r"^([^ ]*[^ :] [^\s\[\]:]+(?:\[[0-9]+\])?: ?)"
_OWN = r"^[^ ]*: "  # Dovecot's own format: the first word ends with ':'
_DOVECOT_LEVEL = (
    r"^(?P<proc>[\w-]+(?:\([^)]*\))?(?:<[^>]*>)*): (?P<level>Debug|Info|Warning|Error|Fatal|Panic): (?P<after>.*)$"
)
_DOVECOT_LEVEL_FIRST = r"^(?P<level>Debug|Info|Warning|Error|Fatal|Panic): (?P<after>.*)$"
_DOVECOT_PROC = r"^(?:dovecot: )?([a-z][\w-]*)[(:<]"
_FAMILIES = (
    ("postfix", "postfix"),
    ("dovecot", "dovecot"),
    ("fail2ban", "fail2ban"),
    ("opendkim", "opendkim"),
    ("opendmarc", "opendmarc"),
    ("rspamd", "rspamd"),
    ("postgrey", "postgrey"),
    ("policyd-spf", "policyd-spf"),
    ("amavis", "amavis"),
    ("spamd", "spamassassin"),
    ("clamd", "clamav"),
    ("saslauthd", "saslauthd"),
)


@dataclass
class FastScan:
    """What ``_run`` needs from a scan: the summary and the lines --since/--until left out."""

    summary: ScanSummary
    outside: int = 0
    outside_first: float = math.inf
    outside_last: float = -math.inf
    python_lines: int = 0  # lines that took the Python path (for the benchmark's notes)
    mismatches: int = 0  # a sample line the Python engine recognized otherwise (a bug; tests require 0)


@dataclass
class _Compiled:
    """The engine's catalog, translated once: native patterns, who-fields, candidate lists."""

    engine: Engine
    recs: list[Recognizer] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    native: list[Native] = field(default_factory=list)
    groups: list[dict[str, list[str]]] = field(default_factory=list)  # field -> its groups, in order
    cands: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.recs = list(self.engine.recognizers) + list(self.engine.catch_all.values())
        self.index = {r.id: i for i, r in enumerate(self.recs)}
        for r in self.recs:
            self.native.append(translate(r.regex))
            named: dict[str, list[str]] = {}
            for name in sorted(r.regex.groupindex, key=r.regex.groupindex.__getitem__):
                base = name.rstrip("0123456789") or name
                if base in WHO:
                    named.setdefault(base, []).append(name)
            self.groups.append(named)

    def candidates(self, family: str, daemon: str) -> list[int]:
        key = (family, daemon)
        got = self.cands.get(key)
        if got is None:
            got = [self.index[r.id] for _, _, r in self.engine._candidates(family, daemon)]
            self.cands[key] = got
        return got


def scan_files(files: list[str], engine: Engine, since: float | None, until: float | None,
               damaged: list[str]) -> FastScan:
    """The scan of ``files`` (plain or .gz) in file order; read problems are added to ``damaged``."""
    comp = _Compiled(engine)
    result = FastScan(ScanSummary())
    for name in files:
        mtime = os.path.getmtime(name)
        _File(comp, result, name, mtime, since, until).run(damaged)
    return result


def _open(path: str) -> BinaryIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _pieces(fh: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(bytes, -1): whole lines joined by newlines; (head, length): one line longer than the cap,
    of which only its head is kept (as reader.LineSplitter does)."""
    buf = b""
    head: bytes | None = None
    length = 0
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if not chunk:
            break
        if head is not None:
            nl = chunk.find(b"\n")
            if nl < 0:
                length += len(chunk)
                continue
            yield head, length + nl
            head, chunk = None, chunk[nl + 1 :]
        data = buf + chunk if buf else chunk
        end = data.rfind(b"\n")
        if end < 0:
            buf = data
        else:
            yield data[:end], -1
            buf = data[end + 1 :]
        if len(buf) > MAX_LINE_BYTES:
            head, length, buf = buf[:MAX_LINE_BYTES], len(buf), b""
    if head is not None:
        yield head, length
    elif buf:
        yield buf, -1


class _File:
    def __init__(
        self, comp: _Compiled, result: FastScan, name: str, mtime: float, since: float | None, until: float | None
    ) -> None:
        self.comp, self.result, self.name = comp, result, name
        self.since, self.until = since, until
        self.parser = EnvelopeParser(source=name, year_reference=mtime)  # the Python path's parser
        self.stamps: dict[str, float | None] = {}
        self.iso: dict[str, float | None] = {}
        self.lineno = 0

    def run(self, damaged: list[str]) -> None:
        try:
            with _open(self.name) as fh:
                for data, length in _pieces(fh):
                    if length >= 0:
                        self.python_block([(self.lineno + 1, cut(data, length))])
                        self.lineno += 1
                    else:
                        self.block(data)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            damaged.append(
                f"{self.name}: compressed data is corrupt or truncated after line {self.lineno:,} "
                f"({exc}); the rest of this file was not read"
            )
        except OSError as exc:
            damaged.append(
                f"{self.name}: read error after line {self.lineno:,} ({exc.strerror or exc}); "
                "the rest of this file was not read"
            )

    # -- one block ---------------------------------------------------------------------------------
    def block(self, data: bytes) -> None:
        # latin-1 keeps every byte as one character: ASCII lines are their UTF-8 text, the rest are
        # turned back into their bytes for the Python path
        lines = pl.Series("line", data.decode("latin-1").split("\n"), dtype=pl.String)
        base = self.lineno
        self.lineno += len(lines)
        df = pl.DataFrame({"idx": pl.int_range(base + 1, base + 1 + len(lines), eager=True), "line": lines})
        fast = df.filter(pl.col("line").str.contains(_PRINTABLE))
        fast, rows = self.envelope(fast)
        handled = set(rows["idx"].to_list()) if rows.height else set()
        slow = [(i, decode(line.encode("latin-1"))) for i, line in df.iter_rows() if i not in handled]
        frames = [self.recognize(rows)] if rows.height else []
        if slow:
            frames.append(self.python_rows(slow))
        if frames:
            self.add(pl.concat(frames, how="vertical_relaxed").sort("idx"), rows)

    def python_block(self, lines: list[tuple[int, str]]) -> None:
        self.add(self.python_rows(lines), None)

    # -- envelope ----------------------------------------------------------------------------------
    def envelope(self, fast: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rows with ts, family, daemon, level, message for the lines the vectorized path takes."""
        line = pl.col("line")
        trad = fast.filter(line.str.contains(_TRAD)).with_columns(stamp=line.str.slice(0, 15), rest=line.str.slice(16))
        ts = self._stamp_times(trad["stamp"])
        trad = trad.with_columns(ts=ts).drop_nulls("ts").drop("stamp")
        iso = fast.filter(line.str.contains(_ISO_STAMP)).with_columns(s=line.str.extract_groups(_ISO_STAMP))
        iso = iso.unnest("s").with_columns(rest=line.str.slice(pl.col("all").str.len_bytes()))
        # the rest of an RFC 3339 stamp with ' ' (not T) is Dovecot's own log, unless fail2ban's
        iso = iso.filter((pl.col("sep") == "T") | ~pl.col("rest").str.starts_with("fail2ban"))
        base = self._iso_times(iso)
        frac = pl.when(pl.col("frac").is_null()).then(0.0).otherwise(("0." + pl.col("frac")).cast(pl.Float64))
        iso = iso.with_columns(ts=base).drop_nulls("ts").with_columns(ts=pl.col("ts") + frac)
        own_iso = iso.filter(pl.col("sep") == " ").select("idx", "line", "ts", "rest")
        syslog = pl.concat([trad.select("idx", "line", "ts", "rest"), iso.filter(pl.col("sep") == "T").select(
            "idx", "line", "ts", "rest")])
        rest = pl.col("rest")
        head = rest.str.extract(_HEAD, 1)
        syslog = syslog.with_columns(head=head)
        own = pl.concat([own_iso, syslog.filter(pl.col("head").is_null() & rest.str.contains(_OWN)).drop("head")])
        tagged = syslog.drop_nulls("head").with_columns(
            prog=pl.col("head").str.extract(r"^[^ ]* ([^\[:]+)", 1),
            msg=rest.str.slice(pl.col("head").str.len_bytes()),
        )
        fam = pl.lit("")
        for prefix, family in reversed(_FAMILIES):
            fam = pl.when(pl.col("prog").str.starts_with(prefix)).then(pl.lit(family)).otherwise(fam)
        tagged = tagged.with_columns(family=fam).filter(
            ~pl.col("msg").str.starts_with("[ID ")
            & ~pl.col("prog").str.starts_with("deliver(")
            & ~((pl.col("family") == "fail2ban") & pl.col("msg").str.starts_with("fail2ban"))
        )
        msg = pl.col("msg")
        postfix = tagged.filter(pl.col("family") == "postfix").with_columns(
            daemon=pl.col("prog").str.split("/").list.last(),
            level=pl.when(msg.str.contains(r"^(?:warning|error|fatal|panic): "))
            .then(msg.str.extract(r"^([a-z]+):", 1))
            .otherwise(pl.lit("")),
            message=msg,
        )
        other = tagged.filter(~pl.col("family").is_in(["postfix", "dovecot"])).with_columns(
            daemon=pl.lit(""), level=pl.lit(""), message=msg
        )
        dovecot = pl.concat(
            [
                tagged.filter(pl.col("family") == "dovecot").select("idx", "line", "ts", "msg"),
                own.select("idx", "line", "ts", msg=rest).with_columns(),
            ]
        )
        dovecot = self._dovecot(dovecot)
        cols = ["idx", "line", "ts", "family", "daemon", "level", "message"]
        rows = pl.concat([postfix.select(cols), other.select(cols), dovecot.select(cols)]).sort("idx")
        return fast, rows

    def _dovecot(self, df: pl.DataFrame) -> pl.DataFrame:
        msg = pl.col("msg")
        df = df.with_columns(
            msg=pl.when(msg.str.starts_with("dovecot: ")).then(msg.str.slice(9)).otherwise(msg), family=pl.lit("dovecot")
        )
        df = df.with_columns(
            a=msg.str.extract_groups(_DOVECOT_LEVEL), b=msg.str.extract_groups(_DOVECOT_LEVEL_FIRST)
        )
        a, b = pl.col("a").struct, pl.col("b").struct
        df = df.with_columns(
            level=pl.coalesce(a.field("level"), b.field("level"), pl.lit("")),
            message=pl.when(a.field("proc").is_not_null())
            .then(a.field("proc") + ": " + a.field("after"))
            .when(b.field("level").is_not_null())
            .then(b.field("after"))
            .otherwise(msg),
        )
        return df.with_columns(daemon=pl.col("message").str.extract(_DOVECOT_PROC, 1).fill_null(""))

    def _stamp_times(self, stamps: pl.Series) -> pl.Series:
        """Seconds for each traditional stamp, from the Python parser's year guess (None: Python path)."""
        known = self.stamps
        if len(known) > 100_000:
            known.clear()
        for s in stamps.unique().to_list():
            if s not in known:
                day = int(s[4:6])
                try:
                    known[s] = self.parser.years.epoch(MONTHS[s[:3]], day, int(s[7:9]), int(s[10:12]), int(s[13:15])) if day else None
                except (ValueError, OverflowError):
                    known[s] = None
        return stamps.replace_strict(known, default=None, return_dtype=pl.Float64)

    def _iso_times(self, iso: pl.DataFrame) -> pl.Series:
        key = iso["date"] + iso["sep"] + iso["time"] + iso["tz"].fill_null("")
        known = self.iso
        if len(known) > 100_000:
            known.clear()
        for k in key.unique().to_list():
            if k not in known:
                m = _ISO.match(k + " x")
                try:
                    known[k] = _iso_epoch(m) if m is not None else None
                except (ValueError, OverflowError):
                    known[k] = None
        return key.replace_strict(known, default=None, return_dtype=pl.Float64)

    # -- recognition -------------------------------------------------------------------------------
    def _in_range(self, rows: pl.DataFrame) -> pl.DataFrame:
        if self.since is None and self.until is None:
            return rows
        ts = pl.col("ts")
        cond = pl.lit(False)
        if self.since is not None:
            cond = cond | (ts < self.since)
        if self.until is not None:
            cond = cond | (ts >= self.until)
        out = rows.filter(cond)
        if out.height:
            r = self.result
            r.outside += out.height
            r.outside_first = min(r.outside_first, float(out["ts"].min()))  # type: ignore[arg-type]
            r.outside_last = max(r.outside_last, float(out["ts"].max()))  # type: ignore[arg-type]
        return rows.filter(~cond)

    def recognize(self, rows: pl.DataFrame) -> pl.DataFrame:
        rows = self._in_range(rows)
        frames = [
            self._part(str(family), str(daemon), part)
            for (family, daemon), part in rows.partition_by(["family", "daemon"], as_dict=True).items()
        ]
        if not frames:
            return _empty()
        return pl.concat(frames, how="vertical_relaxed")

    def _part(self, family: str, daemon: str, part: pl.DataFrame) -> pl.DataFrame:
        comp = self.comp
        n = part.height
        msgs = part["message"]
        rid = pl.Series("rid", [-1] * n, dtype=pl.Int32)
        resolved = pl.Series("resolved", [False] * n, dtype=pl.Boolean)
        cands = comp.candidates(family, daemon)
        literals = sorted({comp.recs[c].match for c in cands})
        by_lit: dict[str, pl.Series] = {}
        if literals and n:
            found = msgs.str.extract_many(literals, overlapping=True)
            pairs = pl.DataFrame({"pos": pl.int_range(0, n, eager=True), "lit": found}).explode("lit")
            for lit, pos in pairs.drop_nulls("lit").unique().group_by("lit").agg("pos").iter_rows():
                by_lit[lit] = pos
        who: dict[int, tuple[str | None, str | None, str | None]] = {}  # pos -> fields, Python-decided
        for c in cands:
            r = comp.recs[c]
            pos = by_lit.get(r.match)
            if pos is None:
                continue
            pos = pos.filter(~resolved.gather(pos))
            if pos.is_empty():
                continue
            nat = comp.native[c]
            if nat.kind != PYTHON:
                pos = pos.filter(msgs.gather(pos).str.contains(nat.text))
            if nat.kind != EXACT and not pos.is_empty():
                hits = []
                for p, m in zip(pos.to_list(), msgs.gather(pos).to_list()):
                    found_m = r.regex.search(m)
                    if found_m is not None:
                        hits.append(p)
                        if r.rank >= 1:
                            who[p] = _who(Match(r, None, family, m, found_m).fields)
                pos = pl.Series(hits, dtype=pl.Int64)
            if not pos.is_empty():
                resolved.scatter(pos, True)
                rid.scatter(pos, c)
        # leveled lines nobody claimed: the engine's catch-all (rare; Python)
        levels = part["level"]
        left = part.with_columns(pos=pl.int_range(0, n), r=resolved).filter(~pl.col("r") & (levels != ""))
        for p, m, level in left.select("pos", "message", "level").iter_rows():
            if (family, level) in comp.engine.catch_all:
                record = LogRecord(line="", message=m, family=family, daemon=daemon, level=level)
                match = comp.engine._unexplained(record)
                if match is not None:
                    c = comp.index[match.recognizer.id]
                    rid.scatter([p], c)
                    if match.recognizer.rank >= 1:
                        who[p] = _who(match.fields)
        out = part.select("idx", "ts", "message").with_columns(
            rid=pl.when(rid >= 0).then(rid).otherwise(None), pos=pl.int_range(0, n)
        )
        fields = self._fields(family, out, who)
        out = out.join(fields, on="pos", how="left") if fields is not None else out.with_columns(
            client=pl.lit(None, pl.String), user=pl.lit(None, pl.String), sender=pl.lit(None, pl.String)
        )
        return out.with_columns(status=self._status(), unknown=pl.lit(False)).select(_COLUMNS)

    def _status(self) -> pl.Expr:
        comp = self.comp
        rejects = [i for i, r in enumerate(comp.recs) if r.id.startswith(("postfix.", "postscreen."))]
        statuses = [i for i, r in enumerate(comp.recs) if r.id.startswith("delivery.") and r.id not in DELIVERY_TOTALS]
        rid, msg = pl.col("rid"), pl.col("message")
        return (
            pl.when(rid.is_in(rejects) & msg.str.contains(": reject: ", literal=True))
            .then(pl.lit("rejected"))
            .when(rid.is_in(statuses) & msg.str.contains("status=deferred", literal=True))
            .then(pl.lit("deferred"))
            .when(rid.is_in(statuses) & msg.str.contains("status=bounced", literal=True))
            .then(pl.lit("bounced"))
            .otherwise(pl.lit(None, pl.String))
        )

    def _fields(
        self, family: str, out: pl.DataFrame, who: dict[int, tuple[str | None, str | None, str | None]]
    ) -> pl.DataFrame | None:
        """client/user/sender of the problem lines: common_fields, then the pattern's groups."""
        comp = self.comp
        exact = [
            i for i, r in enumerate(comp.recs) if r.rank >= 1 and comp.native[i].kind == EXACT and r.origin != "engine"
        ]
        prob = out.filter(pl.col("rid").is_in(exact) & ~pl.col("pos").is_in(list(who)))
        frames = []
        if who:
            frames.append(
                pl.DataFrame(
                    [(p, *w) for p, w in who.items()],
                    schema={"pos": pl.Int64, "client": pl.String, "user": pl.String, "sender": pl.String},
                    orient="row",
                )
            )
        if prob.height:
            common = _common(family, prob["message"])
            prob = prob.with_columns(common)
            parts = []
            for (c,), sub in prob.partition_by("rid", as_dict=True).items():
                named = comp.groups[int(c)]  # type: ignore[call-overload]
                if named:
                    g = sub["message"].str.extract_groups(comp.native[int(c)].text)  # type: ignore[call-overload]
                    sub = sub.with_columns(
                        [
                            pl.coalesce([g.struct.field(n) for n in reversed(named[f])] + [pl.col(col)]).alias(col)
                            for f, col in (("client_ip", "client"), ("user", "user"), ("sender", "sender"))
                            if f in named
                        ]
                    )
                parts.append(sub)
            frames.append(pl.concat(parts).select("pos", "client", "user", "sender"))
        if not frames:
            return None
        return pl.concat(frames, how="vertical_relaxed")

    # -- the Python path -----------------------------------------------------------------------------
    def python_rows(self, lines: list[tuple[int, str]]) -> pl.DataFrame:
        engine = self.comp.engine
        out = []
        self.samples: dict[int, tuple[LogRecord, Match]] = getattr(self, "samples", {})
        for idx, text in lines:
            record = self.parser.parse(text, idx, sanitized=True)
            ts = record.timestamp
            if ts is not None and (
                (self.since is not None and ts < self.since) or (self.until is not None and ts >= self.until)
            ):
                r = self.result
                r.outside += 1
                r.outside_first, r.outside_last = min(r.outside_first, ts), max(r.outside_last, ts)
                continue
            self.result.python_lines += 1
            match = engine.recognize(record)
            c: int | None = None
            client = user = sender = status = None
            if match is not None:
                rec = match.recognizer
                c = self.comp.index[rec.id]
                self.samples[idx] = (record, match)
                if rec.rank >= 1:
                    client, user, sender = _who(match.fields)
                if rec.id.startswith(("postfix.", "postscreen.")) and ": reject: " in record.message:
                    status = "rejected"
                elif rec.id.startswith("delivery.") and rec.id not in DELIVERY_TOTALS:
                    if "status=deferred" in record.message:
                        status = "deferred"
                    elif "status=bounced" in record.message:
                        status = "bounced"
            out.append((idx, ts, c, client, user, sender, status, record.fmt == "unknown"))
        return pl.DataFrame(out, schema=_SCHEMA, orient="row")

    # -- into the summary ------------------------------------------------------------------------------
    def _sample(self, idx: int, rows: pl.DataFrame | None) -> tuple[LogRecord, Match | None]:
        got = getattr(self, "samples", {}).get(idx)
        if got is not None:
            return got
        assert rows is not None
        line = rows.filter(pl.col("idx") == idx)["line"][0]
        record = self.parser.parse(line, idx, sanitized=True)
        return record, self.comp.engine.recognize(record)

    def add(self, frame: pl.DataFrame, rows: pl.DataFrame | None) -> None:
        s = self.result.summary
        if not frame.height:
            self.samples = {}
            return
        s.lines += frame.height
        s.unparsed += int(frame["unknown"].sum())
        lo, hi = frame["ts"].min(), frame["ts"].max()
        if lo is not None:
            s.first = lo if s.first is None else min(s.first, lo)  # type: ignore[type-var, assignment]
            s.last = hi if s.last is None else max(s.last, hi)  # type: ignore[type-var, assignment]
        matched = frame.drop_nulls("rid")
        s.recognized += matched.height
        idx, ts = pl.col("idx"), pl.col("ts")
        per = matched.group_by("rid").agg(n=pl.len(), first=ts.min(), last=ts.max(), at=idx.min()).sort("at")
        recs = self.comp.recs
        stats_of = {}
        for c, n, first, last, at in per.iter_rows():
            r = recs[c]
            plan = s._plans.get(r.id)
            if plan is None:
                record, match = self._sample(at, rows)
                if match is None or match.recognizer.id != r.id:
                    self.result.mismatches += 1
                    match = Match(r, {}, record.family, record.message)
                plan = s._plan(record, match)
            st = plan.stats
            stats_of[c] = st
            st.count += n
            if first is not None:
                st.first = first if st.first is None else min(st.first, first)
                st.last = last if st.last is None else max(st.last, last)
        for status, n in (
            matched.drop_nulls("status").group_by("status").agg(n=pl.len(), at=idx.min()).sort("at").select("status", "n")
        ).iter_rows():
            s._by_status[status] += n
        for col, total, attr in (("client", s.clients, "clients"), ("user", s.users, "users")):
            have = matched.drop_nulls(col)
            if not have.height:
                continue
            for key, n in have.group_by(col).agg(n=pl.len(), at=idx.min()).sort("at").select(col, "n").iter_rows():
                total[key] += n
            g = have.group_by("rid", col).agg(n=pl.len(), at=idx.min()).sort("at")
            for c, key, n in g.select("rid", col, "n").iter_rows():
                getattr(stats_of[c], attr)[key] += n
        senders = matched.filter(pl.col("sender").is_not_null() & (pl.col("sender") != ""))
        if senders.height:
            agg = senders.group_by("sender").agg(n=pl.len(), at=idx.min()).sort("at")
            for key, n in agg.select("sender", "n").iter_rows():
                s.senders[key] += n
        self.samples = {}


_SCHEMA = {
    "idx": pl.Int64,
    "ts": pl.Float64,
    "rid": pl.Int32,
    "client": pl.String,
    "user": pl.String,
    "sender": pl.String,
    "status": pl.String,
    "unknown": pl.Boolean,
}
_COLUMNS = list(_SCHEMA)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


def _who(fields: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    return fields.get("client_ip"), fields.get("user"), fields.get("sender") or None


def _strip(value: pl.Expr) -> pl.Expr:
    """fields._strip: '<x>' -> 'x'."""
    return (
        pl.when(value.str.starts_with("<") & value.str.ends_with(">"))
        .then(value.str.slice(1, value.str.len_chars() - 2))
        .otherwise(value)
    )


def _first_kv(kv: pl.Series, key: str, nonempty: bool) -> pl.Series:
    """The value of the first ``key=`` of a findall (stripped), or of the first non-empty one."""
    el = pl.element()
    picked = el.filter(el.str.starts_with(key + "=")).str.slice(len(key) + 1)
    values = _strip(picked)
    if nonempty:
        values = values.filter(values != "")
    return kv.list.eval(values).list.first()


def _common(family: str, msgs: pl.Series) -> list[pl.Series]:
    """The client/user/sender of common_fields(family, message), as columns."""
    n = len(msgs)
    none = pl.Series([None] * n, dtype=pl.String)
    if family == "postfix":
        c = msgs.str.extract_groups(_POSTFIX_CLIENT.pattern)
        client = pl.select(pl.coalesce(c.struct.field("2"), c.struct.field("4"))).to_series()
        kv = msgs.str.extract_all(_POSTFIX_KV.pattern)
        return [
            client.alias("client"),
            _first_kv(kv, "sasl_username", False).alias("user"),
            _first_kv(kv, "from", False).alias("sender"),
        ]
    if family == "dovecot":
        mp = msgs.str.extract_groups("^" + _DOVECOT_MAILPROC.pattern)
        kv = msgs.str.extract_all(_DOVECOT_KV.pattern)
        user = pl.select(pl.coalesce(mp.struct.field("user"), _first_kv(kv, "user", True))).to_series()
        return [_first_kv(kv, "rip", True).alias("client"), user.alias("user"), none.alias("sender")]
    return [none.alias("client"), none.alias("user"), none.alias("sender")]
