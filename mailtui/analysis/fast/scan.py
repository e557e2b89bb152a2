"""``scan --engine fast``: the report of ``mailtui scan`` from Polars columns, block by block.

A block is about 6 MB of whole lines. Each line is first sorted into one of two paths:

- vectorized: printable ASCII (no control character, no TAB), at most FAST_MAX_CHARS long, with
  an envelope whose Python parse is fully known here — traditional syslog (also Postfix's
  ``maillog_file``) and RFC 3339 with host and tag, and Dovecot's own log format. The envelope
  is cut with Rust regexes that are the Python ones anchored at both ends (where a line admits
  both readings it goes to the other path); the time of each distinct stamp is computed by the
  Python parser's own code, once.
- Python: every other line (non-ASCII, controls, long, cut, TAI64N, fail2ban.log, Solaris
  ids, Dovecot 1.x ``deliver(...)``, odd stamps) runs through ``EnvelopeParser`` and ``Engine``
  exactly as the python engine does.

Recognition per family: Aho-Corasick (Polars' ``extract_many``) finds which catalog literals
occur in each message; candidates are then tried recognizer by recognizer in the engine's order
on the rows still unmatched that contain its literal (and whose daemon it is for), with the native pattern
(native.py: exact, or a superset confirmed by ``re`` on its hits, or ``re`` alone). Unmatched
leveled lines go to the engine's own catch-all. Who is involved in problems (client, user,
sender) is taken with the same rules as ``common_fields`` + the pattern's groups, vectorized for
exact patterns and by Python for the rest. Counters are filled in line order, so ties in the top
lists and the order of the report's keys come out as the python engine's.
"""

from __future__ import annotations

import io
import os
import re
import threading
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailtui.analysis.fast.fold import (  # noqa: F401 - BLOCK_BYTES, _pieces...: the names tests and bench use
    BLOCK_BYTES,
    CHUNK,
    IN_FLIGHT,
    THREADS,
    FastScan,
    Fold,
    _Block,
    _block_size,
    _checked,
    _Compiled,
    _open,
    _pieces,
    compiled,
    damage,
)
from mailtui.analysis.fast.load import polars_module
from mailtui.analysis.fast.native import EXACT, PYTHON, ascii_classes
from mailtui.core.record import LogRecord
from mailtui.logs.envelope import _ISO, FAMILIES, MONTHS, EnvelopeParser, _iso_epoch
from mailtui.logs.sanitize import cut, decode
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.fields import _DOVECOT_KV, _DOVECOT_MAILPROC, _POSTFIX_CLIENT, _POSTFIX_KV
from mailtui.recognizers.model import Match
from mailtui.recognizers.summary import DELIVERY_TOTALS, ScanSummary

if TYPE_CHECKING:
    import polars as pl
else:  # loaded with our allocator options (load.py)
    pl = polars_module()

FAST_MAX_CHARS = 2048
#: Polars' index type (UInt32): ``series[positions]`` of it is one call into Rust, where
#: ``gather`` and a position of another type make a query (~50 µs each, ~80 of them a block)
_IDX = pl.get_index_type()
#: stamps whose times are kept between blocks: a log in time order meets each second in one or
#: two blocks, so a long run only grew the cache (5M lines: ~77,000 stamps, ~10 MiB a worker)
STAMP_CACHE = 8192

_PRINTABLE_BYTES = bytes(range(0x20, 0x7F)) + b"\n"  # what a block of printable ASCII lines holds
_MON = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_PRINTABLE = rf"^[ -~]{{17,{FAST_MAX_CHARS}}}$"
_TRAD = rf"^{_MON} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} ."
_ISO_STAMP = (
    r"^(?P<all>(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?P<sep>[T ])(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:[.,](?P<frac>[0-9]{1,9}))?(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})? )"
)
# a traditional stamp, host and tag up to the tag's ':' (the message starts after ``head``)
_TRAD_TAGGED = (
    rf"^(?P<head>{_MON} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} (?P<host>[^ ]*) (?P<prog>[^\s\[\]:]+)"
    r"(?:\[[0-9]+\])?:)"
)
# _TAG of envelope.py up to its ':' (the first ':' of the text: the name and pid have none)
_TAG_START = r"^[^\s\[\]:]+(?:\[[0-9]+\])?:"
_DOVECOT_LEVEL = r"^(?P<proc>[\w-]+(?:\([^)]*\))?(?:<[^>]*>)*): (?P<level>Debug|Info|Warning|Error|Fatal|Panic): "
_DOVECOT_LEVEL_FIRST = r"^(Debug|Info|Warning|Error|Fatal|Panic): "
_DOVECOT_PROC = r"^(?:dovecot: )?([a-z][\w-]*)[(:<]"
# the parser's program families; Dovecot 1.x's "deliver(" tag takes the Python path (filtered below)
_FAMILIES = tuple((prefix, family) for prefix, family in FAMILIES if prefix != "deliver(")
_KNOWN_PROGRAM = "^(?:" + "|".join(re.escape(prefix) for prefix, _ in FAMILIES) + ")"
# (their ASCII forms: what Rust is given, as for the catalog's patterns, native.ascii_classes)
_TRAD_TAGGED, _TAG_START, _DOVECOT_LEVEL, _DOVECOT_PROC = map(
    ascii_classes, (_TRAD_TAGGED, _TAG_START, _DOVECOT_LEVEL, _DOVECOT_PROC)
)
_POSTFIX_CLIENT_RS, _POSTFIX_KV_RS, _DOVECOT_KV_RS = (
    ascii_classes(p.pattern) for p in (_POSTFIX_CLIENT, _POSTFIX_KV, _DOVECOT_KV)
)
_DOVECOT_MAILPROC_RS = ascii_classes("^" + _DOVECOT_MAILPROC.pattern)


def scan_files(
    files: list[str], engine: Engine, since: float | None, until: float | None, damaged: list[str]
) -> FastScan:
    """The scan of ``files`` (plain or .gz) in file order; read problems are added to ``damaged``."""
    comp = _Compiled(engine)
    result = FastScan(ScanSummary())
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for name in files:
            mtime = os.path.getmtime(name)
            _File(comp, result, name, mtime, since, until).run(damaged, pool)
    return result


class _File(Fold):
    """One file of an in-process scan: its blocks' counts made in worker threads, folded here."""

    def __init__(
        self, comp: _Compiled, result: FastScan, name: str, mtime: float, since: float | None, until: float | None
    ) -> None:
        super().__init__(comp, result, name, mtime, since, until)
        self.local = threading.local()  # a Python-path parser per thread (its caches are not shared)
        self.stamps: dict[str, float | None] = {}
        self.iso: dict[str, float | None] = {}
        self.lineno = 0

    @property
    def parser(self) -> EnvelopeParser:
        parser: EnvelopeParser | None = getattr(self.local, "parser", None)
        if parser is None:
            parser = self.local.parser = EnvelopeParser(source=self.name, year_reference=self.mtime)
        return parser

    def run(self, damaged: list[str], pool: ThreadPoolExecutor) -> None:
        pending: deque[Future[_Block]] = deque()
        try:
            with _open(self.name) as fh:
                # (a compressed file's size says nothing of its lines: BLOCK_BYTES)
                size = 0 if self.name.endswith(".gz") else os.fstat(fh.fileno()).st_size
                for data, length in _pieces(fh, _block_size(size)):
                    base = self.lineno
                    if length >= 0:
                        self.lineno += 1
                        pending.append(pool.submit(self.python_block, [(base + 1, cut(data, length))]))
                    else:
                        count = data.count(b"\n") + 1
                        self.lineno += count
                        pending.append(pool.submit(self.block, data, base, count))
                    while len(pending) > IN_FLIGHT:
                        self.add(pending.popleft().result())
        except (EOFError, zlib.error, OSError) as exc:  # (gzip.BadGzipFile is an OSError)
            damaged.append(damage(self.name, self.lineno, exc))
        finally:
            while pending:
                self.add(pending.popleft().result())

    # -- one block ---------------------------------------------------------------------------------
    def block(self, data: bytes, base: int, count: int = -1) -> _Block:
        """The counts of ``data``, whole lines joined by newlines (``count`` of them, -1: not
        counted yet), its first line being line ``base + 1``."""
        if count < 0:
            count = data.count(b"\n") + 1
        # latin-1 keeps every byte as one character: ASCII lines are their UTF-8 text, the rest are
        # turned back into their bytes for the Python path
        printable = not data.translate(None, _PRINTABLE_BYTES)
        if printable and data and not data.startswith(b"\n") and not data.endswith(b"\n"):
            # printable ASCII: Polars' CSV reader with one column splits it as split() would, but for
            # empty lines (skipped or null: the count or the nulls say so; not searched for in
            # the bytes, a scan of the block under the GIL)
            lines = pl.read_csv(
                io.BytesIO(data), has_header=False, separator="\x01", quote_char=None, schema={"line": pl.String}
            ).to_series()
            if len(lines) != count or lines.null_count():  # not as split(): no guessing
                lines = pl.Series("line", data.decode("latin-1").split("\n"), dtype=pl.String)
        else:
            lines = pl.Series("line", data.decode("latin-1").split("\n"), dtype=pl.String)
        df = pl.DataFrame({"idx": pl.int_range(base + 1, base + 1 + len(lines), eager=True), "line": lines})
        out = _Block({}, {}, {})
        rows = self.envelope(df, printable)
        if rows.height == df.height:  # every line taken (the usual block; each row is one of df's): no join
            rest = df.clear()
        else:
            rest = df.join(rows.select("idx"), on="idx", how="anti") if rows.height else df
        slow = [(i, decode(line.encode("latin-1"))) for i, line in rest.iter_rows()]
        parts = [self.recognize(rows, out)] if rows.height else []
        del rows, rest  # (each block's frames are freed as soon as used: two blocks are in work at once)
        if slow:
            parts.append(self.python_rows(slow, out))
            del slow
        if parts:
            out.agg = _aggregate(_Rows.concat(parts))
            del parts
        if out.agg:
            firsts = [at for *_, at in out.agg["per"]]
            # (the Python path's own lines are its decoded texts, put there by python_rows)
            out.lines = {**dict(df.filter(pl.col("idx").is_in(firsts)).iter_rows()), **out.lines}
        return out

    def python_block(self, lines: list[tuple[int, str]]) -> _Block:
        out = _Block({}, {}, {})
        out.agg = _aggregate(self.python_rows(lines, out))
        return out

    # -- envelope ----------------------------------------------------------------------------------
    def envelope(self, df: pl.DataFrame, printable: bool = False) -> pl.DataFrame:
        """Rows with ts, family, daemon, level, message for the lines the vectorized path takes."""
        line = pl.col("line")
        if printable:  # the whole block is: only the length is left to check per line
            n = line.str.len_bytes()
            df = df.filter((n >= 17) & (n <= FAST_MAX_CHARS))
        else:
            df = df.filter(line.str.contains(_PRINTABLE))
        # the common line, "Mmm dd hh:mm:ss host prog[pid]: message", in one anchored match: what
        # the steps below give such a line (host up to the first space, not ending in ':'; the
        # tag as _TAG_START; the message after the tag's ':'); every other line takes them
        head = df.select(g=line.str.extract_groups(_TRAD_TAGGED)).to_series().struct.unnest()
        quick = head["host"].is_not_null() & ~head["host"].str.ends_with(":")
        one = df.select("idx", "line").hstack(head.select("host", "prog", n=pl.col("head").str.len_bytes()))
        one, df = one.filter(quick), df.filter(~quick)
        one = one.select("idx", "host", "prog", stamp=line.str.slice(0, 15), msg=line.str.slice(pl.col("n")))
        one = one.with_columns(ts=self._stamp_times(one["stamp"])).drop_nulls("ts").drop("stamp")
        # the lines the one match did not take (usually none: their ~25 steps cost ~3 ms a block
        # in fixed costs alone when run on nothing)
        own, more = self._other_envelopes(df) if df.height else (None, None)
        tagged = one.select("idx", "ts", "host", "prog", "msg")
        if more is not None and more.height:
            tagged = pl.concat([tagged, more])
        msg = pl.col("msg")
        tagged = tagged.with_columns(msg=pl.when(msg.str.starts_with(" ")).then(msg.str.slice(1)).otherwise(msg))
        # family and Postfix daemon per distinct program name (a block has a handful), as
        # envelope._family and the rsplit of _after_stamp
        progs = tagged["prog"].unique().to_list()
        family_of = {p: next((f for prefix, f in _FAMILIES if p.startswith(prefix)), "") for p in progs}
        daemon_of = {p: p.rsplit("/", 1)[-1] if family_of[p] == "postfix" else "" for p in progs}
        prog = pl.col("prog")
        tagged = tagged.with_columns(
            family=prog.replace_strict(family_of, return_dtype=pl.String),
            daemon=prog.replace_strict(daemon_of, return_dtype=pl.String),
        ).filter(
            ~msg.str.starts_with("[ID ")
            & ~prog.str.starts_with("deliver(")
            & ~((pl.col("family") == "fail2ban") & msg.str.starts_with("fail2ban"))
        )
        postfix = tagged.filter(pl.col("family") == "postfix").with_columns(
            level=msg.str.extract(r"^(warning|error|fatal|panic): ", 1).fill_null(""),
            message=msg,
        )
        other = tagged.filter(~pl.col("family").is_in(["postfix", "dovecot"])).with_columns(
            daemon=pl.lit(""), level=pl.lit(""), message=msg
        )
        dovecot = tagged.filter(pl.col("family") == "dovecot").select("idx", "ts", "host", "msg")
        if own is not None and own.height:
            dovecot = pl.concat([dovecot, own.select("idx", "ts", host=pl.lit(self.parser.host), msg=pl.col("rest"))])
        dovecot = self._dovecot(dovecot)
        cols = ["idx", "ts", "host", "family", "daemon", "level", "message"]
        return pl.concat([postfix.select(cols), other.select(cols), dovecot.select(cols)])

    def _other_envelopes(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The lines of ``df`` the one anchored match did not take: Dovecot's own format (idx, ts,
        rest) and the other syslog lines with a tag (idx, ts, host, prog, msg)."""
        line = pl.col("line")
        df = df.with_columns(trad=line.str.contains(_TRAD), iso=line.str.contains(_ISO_STAMP))
        # only what the next step needs is carried on: every filter copies the columns it keeps
        trad = df.filter("trad").select("idx", stamp=line.str.slice(0, 15), rest=line.str.slice(16))
        trad = trad.with_columns(ts=self._stamp_times(trad["stamp"])).drop_nulls("ts")
        iso = df.filter("iso").select("idx", "line", s=line.str.extract_groups(_ISO_STAMP)).unnest("s")
        iso = iso.with_columns(rest=line.str.slice(pl.col("all").str.len_bytes())).drop("line", "all")
        # the rest of an RFC 3339 stamp with ' ' (not T) is Dovecot's own log, unless fail2ban's
        iso = iso.filter((pl.col("sep") == "T") | ~pl.col("rest").str.starts_with("fail2ban"))
        frac = pl.when(pl.col("frac").is_null()).then(0.0).otherwise(("0." + pl.col("frac")).cast(pl.Float64))
        iso = iso.with_columns(ts=self._iso_times(iso)).drop_nulls("ts").with_columns(ts=pl.col("ts") + frac)
        keep = ["idx", "ts", "rest"]
        syslog = pl.concat([trad.select(keep), iso.filter(pl.col("sep") == "T").select(keep)])
        # _after_stamp: host up to the first space; a host ending in ':' is Dovecot's own format
        rest = pl.col("rest")
        sp = rest.str.find(" ", literal=True)
        syslog = syslog.with_columns(host=rest.str.slice(0, sp), after=rest.str.slice(sp + 1)).filter(
            sp.is_not_null() & (pl.col("after") != "")
        )
        host, after = pl.col("host"), pl.col("after")
        # a first word ending in ':' is Dovecot's own format, unless it is a known program: then the
        # line is syslog written without its host (a central box's per-host file), which
        # _after_stamp gives the parser's host; those few take the Python path
        own = pl.concat(
            [
                iso.filter(pl.col("sep") == " ").select(keep),
                syslog.filter(host.str.ends_with(":") & ~host.str.contains(_KNOWN_PROGRAM)).select(keep),
            ]
        )
        tagged = syslog.filter(~host.str.ends_with(":") & after.str.contains(_TAG_START)).select(
            "idx", "ts", "host", "after"
        )
        msg = after.str.slice(after.str.find(":", literal=True) + 1)
        # the name ends at its first '[' or ':' (two literal finds: no regex for Polars to compile)
        name_end = pl.min_horizontal(after.str.find("[", literal=True), after.str.find(":", literal=True))
        tagged = tagged.select("idx", "ts", "host", prog=after.str.slice(0, name_end), msg=msg)
        return own, tagged

    def _dovecot(self, df: pl.DataFrame) -> pl.DataFrame:
        """_dovecot_message: the level taken out of the message, the daemon from its process."""
        msg = pl.col("msg")
        df = df.with_columns(
            msg=pl.when(msg.str.starts_with("dovecot: ")).then(msg.str.slice(9)).otherwise(msg),
            family=pl.lit("dovecot"),
        )
        df = df.with_columns(a=msg.str.extract_groups(_DOVECOT_LEVEL), b=msg.str.extract(_DOVECOT_LEVEL_FIRST, 1))
        proc, level = pl.col("a").struct.field("proc"), pl.col("a").struct.field("level")
        first = pl.col("b")
        df = df.with_columns(
            level=pl.coalesce(level, first, pl.lit("")),
            message=pl.when(proc.is_not_null())
            .then(proc + ": " + msg.str.slice(proc.str.len_bytes() + level.str.len_bytes() + 4))
            .when(first.is_not_null())
            .then(msg.str.slice(first.str.len_bytes() + 2))
            .otherwise(msg),
        )
        return df.with_columns(daemon=pl.col("message").str.extract(_DOVECOT_PROC, 1).fill_null(""))

    def _stamp_times(self, stamps: pl.Series) -> pl.Series:
        """Seconds for each traditional stamp, from the Python parser's year guess (None: Python path).

        ``self.stamps`` is shared by the worker threads: read and written one key at a time, the
        block's own mapping is local (another thread may clear the cache meanwhile)."""
        known = self.stamps
        if len(known) > STAMP_CACHE:
            known.clear()
        # a log is in time order: its stamps come in runs (one per second), each run's time is
        # looked up once and the runs are spread back over their lines (3x less time than
        # unique() and replace_strict(); those remain for a block of mostly distinct stamps)
        change = (stamps != stamps.shift(1)).fill_null(True)
        starts = stamps.filter(change)
        if len(starts) * 4 > len(stamps):
            mapping = {s: self._stamp_time(s, known) for s in stamps.unique().to_list()}
            return stamps.replace_strict(mapping, default=None, return_dtype=pl.Float64)
        values = [self._stamp_time(s, known) for s in starts.to_list()]
        return pl.Series(values, dtype=pl.Float64).gather(change.cum_sum() - 1)

    def _stamp_time(self, s: str, known: dict[str, float | None]) -> float | None:
        got = known.get(s, _MISSING)
        if got is not _MISSING:
            return got  # type: ignore[return-value]
        day = int(s[4:6])
        try:
            value = (
                self.parser.years.epoch(MONTHS[s[:3]], day, int(s[7:9]), int(s[10:12]), int(s[13:15])) if day else None
            )
        except (ValueError, OverflowError):
            value = None
        known[s] = value
        return value

    def _iso_times(self, iso: pl.DataFrame) -> pl.Series:
        """Seconds of each RFC 3339 stamp without its fraction, by envelope._iso_epoch (as above)."""
        key = iso["date"] + iso["sep"] + iso["time"] + iso["tz"].fill_null("")
        known = self.iso
        if len(known) > STAMP_CACHE:
            known.clear()
        mapping: dict[str, float | None] = {}
        for k in key.unique().to_list():
            got = known.get(k, _MISSING)
            if got is not _MISSING:
                mapping[k] = got  # type: ignore[assignment]
                continue
            m = _ISO.match(k + " x")
            try:
                value = _iso_epoch(m) if m is not None else None
            except (ValueError, OverflowError):
                value = None
            mapping[k] = known[k] = value
        return key.replace_strict(mapping, default=None, return_dtype=pl.Float64)

    # -- recognition -------------------------------------------------------------------------------
    def _in_range(self, rows: pl.DataFrame, block: _Block) -> pl.DataFrame:
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
            r = block
            r.outside += out.height
            r.outside_first = min(r.outside_first, float(out["ts"].min()))  # type: ignore[arg-type]
            r.outside_last = max(r.outside_last, float(out["ts"].max()))  # type: ignore[arg-type]
        return rows.filter(~cond)

    def recognize(self, rows: pl.DataFrame, block: _Block) -> _Rows:
        """Each row's recognizer (the engine's first candidate, in its order, whose literal occurs
        in the message and whose pattern matches), then who is involved and the delivery
        totals. Candidates are tried per family (_match); the rest is done once for the block
        (each Polars step costs ~20-300 µs whatever its size: made per part, ~20 ms a block)."""
        rows = self._in_range(rows, block)
        n = rows.height
        comp = self.comp
        msgs, families = rows["message"], rows["family"]
        rid = pl.repeat(None, n, dtype=pl.Int32, eager=True).alias("rid")
        who: dict[int, tuple[str | None, str | None, str | None]] = {}  # pos -> fields, Python-decided
        if n:
            parts = rows.select("family", "daemon", "message", pos=pl.int_range(0, pl.len(), dtype=_IDX))
            for (family,), part in parts.partition_by(["family"], as_dict=True).items():
                self._match(str(family), part, rid, who)
        # leveled lines nobody claimed: the engine's catch-all (rare; Python)
        levels = rows["level"]
        left = (rid.is_null() & (levels != "")).arg_true()  # (positions only: no copy of the columns)
        if len(left):
            for p, m, level, family, daemon in zip(
                left.to_list(),
                msgs[left].to_list(),
                levels[left].to_list(),
                families[left].to_list(),
                rows["daemon"][left].to_list(),
            ):
                if (family, level) in comp.engine.catch_all:
                    record = LogRecord(line="", message=m, family=family, daemon=daemon, level=level)
                    match = comp.engine._unexplained(record)
                    if match is not None:
                        c = comp.index[match.recognizer.id]
                        rid.scatter([p], c)
                        if match.recognizer.rank >= 1:
                            who[p] = _who(match.fields)
        base = rows.select("idx", "ts", "host").with_columns(rid=rid, unknown=pl.lit(False))
        fields = self._fields(families, msgs, rid, who)
        status = self._status(msgs, rid)
        idx, fpos, spos = rows["idx"], fields["pos"], status["pos"]
        return _Rows(
            base,
            pl.DataFrame({"idx": idx[fpos], "rid": rid[fpos]}).hstack(fields.drop("pos")),
            pl.DataFrame({"idx": idx[spos], "host": rows["host"][spos], "status": status["status"]}),
        )

    def _match(
        self,
        family: str,
        part: pl.DataFrame,
        rid: pl.Series,
        who: dict[int, tuple[str | None, str | None, str | None]],
    ) -> None:
        """The candidates of ``family`` tried in the engine's order on the ``part`` of the block
        that is of that family (daemon, message, pos: the row's place in the block), each on the
        rows still unmatched that hold its literal and whose daemon it is for; their
        recognizers set in ``rid``, the fields ``re`` found in ``who``.

        One part per family, not per (family, daemon): each daemon's candidates are the
        family's in the same order, those for other daemons left out (Engine._candidates), so
        a candidate is tried on the rows of the daemons it is for. Per daemon, each part's
        fixed steps (~1.8 ms: its literals' automaton, the pairs, the group_by) came 4-6 times
        a block."""
        comp = self.comp
        n = part.height
        msgs, where = part["message"], part["pos"]
        lists = {str(d): comp.candidates(family, str(d)) for d in part["daemon"].unique().to_list()}
        sets = {d: set(cands) for d, cands in lists.items()}
        # (the union in the engine's order: the family's recognizers by place, then family "*"'s)
        cands = sorted(set().union(*sets.values()), key=lambda c: (comp.recs[c].family == "*", c))
        literals = sorted({comp.recs[c].match for c in cands})
        if not literals:
            return
        found = msgs.str.extract_many(literals, overlapping=True)
        pairs = part.select("daemon", pos=pl.int_range(0, n, dtype=_IDX), lit=found).explode("lit")
        # (a literal found twice in a message: its row twice, harmless)
        grouped = pairs.drop_nulls("lit").group_by("lit", "daemon").agg("pos")
        by_lit: dict[str, list[tuple[str, pl.Series]]] = {}
        for lit, daemon, pos in zip(grouped["lit"].to_list(), grouped["daemon"].to_list(), grouped["pos"]):
            by_lit.setdefault(lit, []).append((daemon, pos))
        local = pl.repeat(None, n, dtype=pl.Int32, eager=True)
        resolved = pl.repeat(False, n, dtype=pl.Boolean, eager=True)
        found_who: dict[int, tuple[str | None, str | None, str | None]] = {}  # local pos -> fields
        for c in cands:
            r = comp.recs[c]
            held = [pos for daemon, pos in by_lit.get(r.match, ()) if c in sets[daemon]]
            if not held:
                continue
            pos = held[0] if len(held) == 1 else pl.concat(held)
            pos = pos.filter(~resolved[pos])
            if pos.is_empty():
                continue
            nat = comp.usable(c)
            if nat.kind != PYTHON:
                pos = pos.filter(msgs[pos].str.contains(nat.text))
            sure = pos.clear()
            if nat.veto and not pos.is_empty():  # matches without the lookahead's text after: sure hits
                vetoed = msgs[pos].str.contains(nat.veto)
                sure, pos = pos.filter(~vetoed), pos.filter(vetoed)  # (their fields: _fields, vectorized)
            if nat.kind != EXACT and not pos.is_empty():
                hits = []
                for p, m in zip(pos.to_list(), msgs[pos].to_list()):
                    found_m = r.regex.search(m)
                    if found_m is not None:
                        hits.append(p)
                        if r.rank >= 1:
                            found_who[p] = _who(Match(r, None, family, m, found_m).fields)
                pos = pl.Series(hits, dtype=_IDX)
            pos = pl.concat([sure, pos.cast(sure.dtype)]) if not sure.is_empty() else pos
            if not pos.is_empty():
                resolved.scatter(pos, True)
                local.scatter(pos, c)
        rid.scatter(where, local)
        if found_who:
            block_pos = where.to_list()
            who.update((block_pos[p], fields) for p, fields in found_who.items())

    def _status(self, msgs: pl.Series, rid: pl.Series) -> pl.DataFrame:
        """The delivery total a line adds beyond its recognizer's (summary._Plan): rejected,
        deferred or bounced, by its text (looked at only on the lines of those recognizers):
        (pos, status) of the lines that add one."""
        comp = self.comp
        frames = []
        pos = rid.is_in(comp.rejects).arg_true()
        if len(pos):
            pos = pos.filter(msgs[pos].str.contains(": reject: ", literal=True))
            frames.append(pl.DataFrame({"pos": pos}).with_columns(status=pl.lit("rejected")))
        pos = rid.is_in(comp.statuses).arg_true()
        if len(pos):
            sub = msgs[pos]
            deferred = sub.str.contains("status=deferred", literal=True)
            bounced = ~deferred & sub.str.contains("status=bounced", literal=True)
            frames.append(pl.DataFrame({"pos": pos.filter(deferred)}).with_columns(status=pl.lit("deferred")))
            frames.append(pl.DataFrame({"pos": pos.filter(bounced)}).with_columns(status=pl.lit("bounced")))
        if not frames:
            return pl.DataFrame(schema={"pos": pl.UInt32, "status": pl.String})
        return pl.concat(frames)

    def _fields(
        self,
        families: pl.Series,
        msgs: pl.Series,
        rid: pl.Series,
        who: dict[int, tuple[str | None, str | None, str | None]],
    ) -> pl.DataFrame:
        """client/user/sender of the problem lines: the pattern's groups (the last one of a name
        that took part), else common_fields of the line's family; ``who`` has the lines re
        decided. (pos, client, user, sender) of those lines."""
        comp = self.comp
        frames = []
        if who:
            frames.append(
                pl.DataFrame(
                    [(p, *w) for p, w in who.items()],
                    schema=_FIELDS,
                    orient="row",
                )
            )
        pos = rid.is_in(comp.vector_fields).arg_true()
        if who and len(pos):
            pos = pos.filter(~pos.is_in(list(who)))
        if not len(pos):
            return frames[0] if frames else pl.DataFrame(schema=_FIELDS)
        sub_msgs, sub_rid = msgs[pos], rid[pos]
        m = len(pos)
        sub = {
            name: pl.repeat(None, m, dtype=pl.String, eager=True).alias(name) for name in ("client", "user", "sender")
        }
        for c in sub_rid.unique().to_list():
            named = comp.groups[c]
            if not named or comp.usable(c).kind == PYTHON:  # (re decided those lines: in ``who``)
                continue
            local = (sub_rid == c).arg_true()
            g = sub_msgs[local].str.extract_groups(comp.native[c].text)
            for f, name in (("client_ip", "client"), ("user", "user"), ("sender", "sender")):
                if f in named:
                    value = pl.select(pl.coalesce([g.struct.field(x) for x in reversed(named[f])])).to_series()
                    sub[name].scatter(local, value)
        sub_families = families[pos]
        for family in sub_families.unique().to_list():
            if family in ("postfix", "dovecot"):  # (common_fields adds nothing for the others)
                _common(family, sub_msgs, sub, sub_families == family)
        frames.append(pl.DataFrame({"pos": pos, **sub}))
        return pl.concat(frames) if len(frames) > 1 else frames[0]

    # -- the Python path -----------------------------------------------------------------------------
    def python_rows(self, lines: list[tuple[int, str]], block: _Block) -> _Rows:
        engine = self.comp.engine
        parser = self.parser
        out: list[tuple[Any, ...]] = []
        who: list[tuple[Any, ...]] = []
        statuses: list[tuple[Any, ...]] = []
        seen: set[int] = set()
        for idx, text in lines:
            record = parser.parse(text, idx, sanitized=True)
            ts = record.timestamp
            if ts is not None and (
                (self.since is not None and ts < self.since) or (self.until is not None and ts >= self.until)
            ):
                block.outside += 1
                block.outside_first, block.outside_last = min(block.outside_first, ts), max(block.outside_last, ts)
                continue
            block.python_lines += 1
            match = engine.recognize(record)
            c: int | None = None
            client = user = sender = status = None
            if match is not None:
                rec = match.recognizer
                c = self.comp.index[rec.id]
                if c not in seen:  # the block's first line of a recognizer may be its sample
                    seen.add(c)
                    block.samples[idx] = (record, match)
                    block.lines[idx] = text  # (what a worker process sends instead: workers.py)
                if rec.rank >= 1:
                    client, user, sender = _who(match.fields)
                if rec.id.startswith(("postfix.", "postscreen.")) and ": reject: " in record.message:
                    status = "rejected"
                elif rec.id.startswith("delivery.") and rec.id not in DELIVERY_TOTALS:
                    if "status=deferred" in record.message:
                        status = "deferred"
                    elif "status=bounced" in record.message:
                        status = "bounced"
            out.append((idx, ts, record.host, c, record.fmt == "unknown"))
            if client is not None or user is not None or sender is not None:
                who.append((idx, c, client, user, sender))
            if status is not None:
                statuses.append((idx, record.host, status))
        return _Rows(
            pl.DataFrame(out, schema=_SCHEMA, orient="row"),
            pl.DataFrame(who, schema=_WHO, orient="row"),
            pl.DataFrame(statuses, schema=_STATUS, orient="row"),
        )


def _aggregate(rows: _Rows) -> dict[str, Any]:
    """A block's counts, in first-seen order within the block (computed in the worker thread)."""
    if not rows.base.height:
        return {}
    idx, ts = pl.col("idx"), pl.col("ts")
    lazy = rows.base.lazy()
    matched = lazy.drop_nulls("rid")
    who, lines_status = rows.who.lazy(), rows.status.lazy()

    def counted(src: pl.LazyFrame, *keys: str) -> pl.LazyFrame:
        return src.group_by(*keys).agg(n=pl.len(), at=idx.min()).sort("at").select(*keys, "n")

    queries = [
        lazy.select(
            lines=pl.len(), unknown=pl.col("unknown").sum(), lo=ts.min(), hi=ts.max(), recognized=pl.col("rid").count()
        ),
        matched.group_by("rid").agg(n=pl.len(), first=ts.min(), last=ts.max(), at=idx.min()).sort("at"),
        counted(lines_status, "status"),
        counted(who.drop_nulls("client"), "client"),
        counted(who.drop_nulls("client"), "rid", "client"),
        counted(who.drop_nulls("user"), "user"),
        counted(who.drop_nulls("user"), "rid", "user"),
        counted(who.filter(pl.col("sender").is_not_null() & (pl.col("sender") != "")), "sender"),
    ]
    host = rows.base["host"]
    one_host = not host.null_count() and bool((host == host[0]).all())
    if not one_host:  # per host (ScanSummary.hosts), hosts and their recognizers in first-seen order
        queries += [
            lazy.group_by("host")
            .agg(
                n=pl.len(),
                unknown=pl.col("unknown").sum(),
                lo=ts.min(),
                hi=ts.max(),
                rec=pl.col("rid").count(),
                at=idx.min(),
            )
            .sort("at")
            .select("host", "n", "unknown", "lo", "hi", "rec"),
            counted(matched, "host", "rid"),
            counted(lines_status, "host", "status"),
        ]
    got = pl.collect_all(
        queries,
        engine="in-memory",  # (the default, streaming, cost ~6 ms a block more in setting up)
    )
    head, per, status, client, rid_client, user, rid_user, sender = got[:8]
    out: dict[str, Any] = head.row(0, named=True)
    out.update(
        per=per.rows(),
        status=status.rows(),
        client=client.rows(),
        rid_client=rid_client.rows(),
        user=user.rows(),
        rid_user=rid_user.rows(),
        sender=sender.rows(),
    )
    if one_host:  # (the usual block: one host's lines, its counts are the block's; 3 group_bys less)
        h = host[0]
        out.update(
            hosts=[(h, out["lines"], out["unknown"], out["lo"], out["hi"], out["recognized"])],
            host_rid=[(h, c, n) for c, n, *_ in out["per"]],
            host_status=[(h, st, n) for st, n in out["status"]],
        )
    else:
        hosts, host_rid, host_status = got[8:]
        out.update(hosts=hosts.rows(), host_rid=host_rid.rows(), host_status=host_status.rows())
    return out


_MISSING = object()

_SCHEMA = {"idx": pl.Int64, "ts": pl.Float64, "host": pl.String, "rid": pl.Int32, "unknown": pl.Boolean}
_WHO = {"idx": pl.Int64, "rid": pl.Int32, "client": pl.String, "user": pl.String, "sender": pl.String}
_STATUS = {"idx": pl.Int64, "host": pl.String, "status": pl.String}
_FIELDS = {"pos": pl.UInt32, "client": pl.String, "user": pl.String, "sender": pl.String}


@dataclass
class _Rows:
    """What recognition gives of some lines, for _aggregate: every line (idx, ts, host, rid,
    unknown), the problem lines' client/user/sender (``who``) and the lines that add a
    delivery status (``status``): the last two only for the rows that have one, not as
    mostly-null columns of every line."""

    base: pl.DataFrame
    who: pl.DataFrame
    status: pl.DataFrame

    @staticmethod
    def concat(parts: list[_Rows]) -> _Rows:
        if not parts:
            return _Rows(pl.DataFrame(schema=_SCHEMA), pl.DataFrame(schema=_WHO), pl.DataFrame(schema=_STATUS))
        if len(parts) == 1:
            return parts[0]
        return _Rows(
            pl.concat([p.base for p in parts], how="vertical_relaxed"),
            pl.concat([p.who for p in parts], how="vertical_relaxed"),
            pl.concat([p.status for p in parts], how="vertical_relaxed"),
        )


def _who(fields: dict[str, str]) -> tuple[str | None, str | None, str | None]:
    return fields.get("client_ip"), fields.get("user"), fields.get("sender") or None


def _strip(value: pl.Expr) -> pl.Expr:
    """fields._strip: '<x>' -> 'x'."""
    return (
        pl.when(value.str.starts_with("<") & value.str.ends_with(">"))
        .then(value.str.slice(1, value.str.len_chars() - 2))
        .otherwise(value)
    )


def _kv_first(msgs: pl.Series, pattern: str, key: str) -> pl.Series:
    """The stripped value of the first ``key=`` among the findall() matches of ``pattern``, or
    null (a literal test rather than a pattern per key: Polars keeps 32 compiled patterns a thread)."""
    return _first_of(msgs, pattern, key, pl.element().str.starts_with(key + "="))


def _kv_first_nonempty(msgs: pl.Series, pattern: str, key: str) -> pl.Series:
    """The first non-empty stripped value of ``key=`` among the findall() matches, or null (a
    value strips to nothing only when it is empty or ``<>``)."""
    el = pl.element()
    return _first_of(msgs, pattern, key, el.str.starts_with(key + "=") & ~el.is_in([key + "=", key + "=<>"]))


def _first_of(msgs: pl.Series, pattern: str, key: str, keep: pl.Expr) -> pl.Series:
    """The stripped value of the first findall() match of ``pattern`` that ``keep`` keeps
    (list.filter, then the one value per message stripped: list.eval cost ~1.5x as much; in
    one query the matches were made once per use of the value in _strip)."""
    value = msgs.str.extract_all(pattern).list.filter(keep).list.first().str.slice(len(key) + 1)
    return value.to_frame("v").select(_strip(pl.col("v"))).to_series()


def _fill(
    target: pl.Series, msgs: pl.Series, literal: str, values: Callable[[pl.Series], pl.Series], rows: pl.Series
) -> None:
    """Set the null entries of ``target`` among ``rows`` (a mask) whose message holds
    ``literal`` from ``values``."""
    pos = (rows & target.is_null() & msgs.str.contains(literal, literal=True)).arg_true()
    if len(pos):
        target.scatter(pos, values(msgs[pos]))


def _common(family: str, msgs: pl.Series, cols: dict[str, pl.Series], rows: pl.Series) -> None:
    """common_fields(family, message) where the pattern's groups left client/user/sender empty,
    on the ``rows`` (a mask) of that family."""
    if family == "postfix":

        def client(m: pl.Series) -> pl.Series:
            c = m.str.extract_groups(_POSTFIX_CLIENT_RS)
            return pl.select(pl.coalesce(c.struct.field("2"), c.struct.field("4"))).to_series()

        _fill(cols["client"], msgs, "[", client, rows)
        _fill(cols["user"], msgs, "sasl_username=", lambda m: _kv_first(m, _POSTFIX_KV_RS, "sasl_username"), rows)
        _fill(cols["sender"], msgs, "from=", lambda m: _kv_first(m, _POSTFIX_KV_RS, "from"), rows)
    elif family == "dovecot":

        def user(m: pl.Series) -> pl.Series:
            proc = m.str.extract_groups(_DOVECOT_MAILPROC_RS).struct.field("user")
            return pl.select(pl.coalesce(proc, _kv_first_nonempty(m, _DOVECOT_KV_RS, "user"))).to_series()

        _fill(cols["client"], msgs, "rip=", lambda m: _kv_first_nonempty(m, _DOVECOT_KV_RS, "rip"), rows)
        _fill(cols["user"], msgs, "", user, rows)
