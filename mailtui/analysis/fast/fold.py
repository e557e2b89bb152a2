"""The vectorized scan's side that needs no Polars: blocks, the catalog's translation, folding.

``scan.py`` works out a block's counts with Polars; this module cuts files into blocks
(``_pieces``), holds what a block hands back (``_Block``) and folds blocks into the summary in
file order (``Fold.add``). The main process of a scan in worker processes (``workers.py``) runs
only this side, so it never imports Polars: its workers are forked from it, and Polars must not
be loaded in a process that forks (its thread pools and allocator threads are not fork-safe).
"""

from __future__ import annotations

import gzip
import math
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from mailtui.analysis.fast import native as native_module
from mailtui.analysis.fast.native import EXACT, PYTHON, Native, translate
from mailtui.core.jsoncache import cached
from mailtui.core.record import LogRecord
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.sanitize import MAX_LINE_BYTES
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.model import Match, Recognizer
from mailtui.recognizers.summary import DELIVERY_TOTALS, HostStats, ScanSummary

if TYPE_CHECKING:
    from mailtui.recognizers.pattern import Regex

#: a block's size: 8 MB cost ~40 MiB more peak memory for ~6 % less CPU when two blocks were in work
#: at once (threads); a worker process holds one, and the 50M-line bench peaks at ~250 of 300 MiB
BLOCK_BYTES = 6 << 20
CHUNK = 1 << 20  # what reader.iter_lines reads at a time
THREADS = 2  # blocks worked on at once (Polars releases the GIL: two cores stay busy)
#: blocks submitted beyond the one being added: with 2, the next block is read and queued while
#: both threads work, so a thread that finishes starts at once (1: both waited for the main
#: thread to add a block and read the next, ~0.2-0.3 s a thread on the 1M log); +1 raw block
IN_FLIGHT = 2
WHO = ("client_ip", "user", "sender")


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
    rejects: list[int] = field(default_factory=list)  # recognizers whose ': reject: ' lines are rejections
    statuses: list[int] = field(default_factory=list)  # delivery recognizers whose status= decides
    vector_fields: list[int] = field(default_factory=list)  # problems whose fields come from Polars
    checked: list[bool] = field(default_factory=list)  # native[i] is what _checked says of it

    def __post_init__(self) -> None:
        self.recs = list(self.engine.recognizers) + list(self.engine.catch_all.values())
        self.index = {r.id: i for i, r in enumerate(self.recs)}
        # Rust compiles a pattern on first use (1-3 ms each: a check of all 250 at start cost
        # more than scanning a small log); usable() asks it then, for those a log needs
        self.native = translations([r.regex for r in self.recs])
        self.checked = [False] * len(self.recs)
        for r in self.recs:
            named: dict[str, list[str]] = {}
            for name in sorted(r.regex.groupindex, key=r.regex.groupindex.__getitem__):
                base = name.rstrip("0123456789") or name
                if base in WHO:
                    named.setdefault(base, []).append(name)
            self.groups.append(named)
        for i, r in enumerate(self.recs):
            if r.id.startswith(("postfix.", "postscreen.")):
                self.rejects.append(i)
            if r.id.startswith("delivery.") and r.id not in DELIVERY_TOTALS:
                self.statuses.append(i)
            # the sure hits of a confirm pattern with a veto have the native pattern's groups too
            # (the lines re decided carry their fields already); the catch-all's come from Python
            if r.rank >= 1 and r.origin != "engine" and (self.native[i].kind == EXACT or self.native[i].veto):
                self.vector_fields.append(i)

    def usable(self, c: int) -> Native:
        """Recognizer c's native form, ``python`` if Rust refuses its text (asked once; two
        threads asking at once both get the same answer)."""
        if not self.checked[c]:
            self.native[c] = _checked(self.native[c])
            self.checked[c] = True
        return self.native[c]

    def candidates(self, family: str, daemon: str) -> list[int]:
        key = (family, daemon)
        got = self.cands.get(key)
        if got is None:
            got = [self.index[r.id] for _, _, r in self.engine._candidates(family, daemon)]
            self.cands[key] = got
        return got


def translations(regexes: list[Regex]) -> list[Native]:
    """native.translate of each pattern, kept between runs (core/jsoncache.py: ~40 ms a scan's
    start) under the patterns, native.py's own text and Python's version: a change to any of
    them translates anew."""
    try:
        rules = Path(native_module.__file__ or "").read_text(encoding="utf-8")  # (~10 KB)
    except OSError:  # (no source to key on: nothing kept)
        return [translate(r) for r in regexes]
    # (and Python's: the translation reads patterns with re's own parser)
    key = "\0".join([sys.version, rules, *(f"{r.flags}:{r.pattern}" for r in regexes)])

    def compute() -> list[list[str]]:
        return [[n.kind, n.text, n.why, n.veto] for n in map(translate, regexes)]

    def valid(value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) == len(regexes)
            and all(isinstance(n, list) and len(n) == 4 and all(isinstance(x, str) for x in n) for n in value)
        )

    return [Native(*n) for n in cached("native-v1", key, compute, valid)]


def _checked(native: Native) -> Native:
    """The translation, or ``python`` when Rust's regex refuses it (backreferences, ...)."""
    if native.kind == PYTHON:
        return native
    import polars as pl  # (only a process that scans blocks asks: never the one that forks workers)

    try:
        pl.Series([""], dtype=pl.String).str.contains(native.text)
    except Exception as exc:  # noqa: BLE001 - any refusal: re runs the pattern
        return Native(PYTHON, "", f"Rust's regex refuses it: {str(exc).splitlines()[0][:120]}")
    return native


def compiled(engine: Engine) -> list[tuple[Recognizer, Native]]:
    """Each recognizer of the engine with the form it runs in here (for tests and ``--debug``)."""
    comp = _Compiled(engine)
    return [(r, comp.usable(c)) for c, r in enumerate(comp.recs)]


def _open(path: str) -> BinaryIO:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _block_size(size: int, parts: int = 0) -> int:
    """The block size for a file of ``size`` bytes: at most BLOCK_BYTES, in a number of blocks
    that is a multiple of ``parts`` (THREADS if 0: the threads or worker processes at work), all
    about as large, so they finish the file together (one full-size block and a small last one
    left a thread idle for most of a block at the end: ~0.1 s of a 1M-line log's ~2.5 s)."""
    parts = parts or THREADS
    n = -(-size // BLOCK_BYTES)
    if n <= 1:
        return BLOCK_BYTES
    n += -n % parts
    return -(-size // n)


def _pieces(fh: BinaryIO, block: int = 0) -> Iterator[tuple[bytes, int]]:
    """(bytes, -1): whole lines joined by newlines, about ``block`` bytes (BLOCK_BYTES if 0) or
    less; (head, length): one line longer than the cap, of which only its head is kept. Read as
    reader.iter_lines reads (``read1`` of CHUNK), so a read that fails ends the file after the
    same line: the complete lines before it come out, then the error is raised."""
    block = block or BLOCK_BYTES
    read = getattr(fh, "read1", fh.read)
    buf = bytearray()
    head: bytes | None = None  # a line longer than the cap: its head, and its length so far
    length = 0
    try:
        while True:
            chunk = read(CHUNK)
            if not chunk:
                break
            if head is not None:
                nl = chunk.find(b"\n")
                if nl < 0:
                    length += len(chunk)
                    continue
                yield head, length + nl
                head, chunk = None, chunk[nl + 1 :]
            buf += chunk
            while len(buf) >= block:
                end = buf.rfind(b"\n", 0, block)  # the block's last line ends within it
                if end < 0:
                    end = buf.rfind(b"\n")
                if end < 0:
                    break
                yield bytes(memoryview(buf)[:end]), -1
                del buf[: end + 1]
            # a line longer than the cap so far: only its head is kept (what is left after a cut
            # at ``block`` may still hold whole lines: those stay for the next block)
            if len(buf) > MAX_LINE_BYTES and buf.find(b"\n") < 0:
                head, length = bytes(buf[:MAX_LINE_BYTES]), len(buf)
                buf.clear()
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
        end = buf.rfind(b"\n")
        if end >= 0:
            yield bytes(memoryview(buf)[:end]), -1
        raise
    end = buf.rfind(b"\n")
    if end >= 0:
        yield bytes(memoryview(buf)[:end]), -1
        del buf[: end + 1]
    if head is not None:
        yield head, length
    elif len(buf) > MAX_LINE_BYTES:
        yield bytes(buf[:MAX_LINE_BYTES]), len(buf)
    elif buf:
        yield bytes(buf), -1


def damage(name: str, lineno: int, exc: BaseException) -> str:
    """What a scan says of a file whose read stopped after ``lineno`` lines (the words of
    scan_cmd.damage_text, which the other engines use): corrupt compressed data, or a read error."""
    if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
        return f"{name}: read error after line {lineno:,} ({exc.strerror or exc}); the rest of this file was not read"
    return (
        f"{name}: compressed data is corrupt or truncated after line {lineno:,} "
        f"({exc}); the rest of this file was not read"
    )


@dataclass
class _Block:
    """What one block adds to the summary, computed apart (in a worker thread), added in order."""

    agg: dict[str, Any]  # see _aggregate
    #: the first line of each recognizer in the block (the summary's sample if it is the scan's
    #: first): a few lines, so the block's column of lines is freed when its thread is done
    lines: dict[int, str]
    samples: dict[int, tuple[LogRecord, Match]]  # the Python path's matches, by line number
    outside: int = 0
    outside_first: float = math.inf
    outside_last: float = -math.inf
    python_lines: int = 0


class Fold:
    """Folds a file's blocks into ``result``, in file order: what the main process does."""

    def __init__(
        self, comp: _Compiled, result: FastScan, name: str, mtime: float, since: float | None, until: float | None
    ) -> None:
        self.comp, self.result, self.name = comp, result, name
        self.since, self.until = since, until
        self.mtime = mtime
        self._parser: EnvelopeParser | None = None

    @property
    def parser(self) -> EnvelopeParser:
        if self._parser is None:
            self._parser = EnvelopeParser(source=self.name, year_reference=self.mtime)
        return self._parser

    # -- into the summary ------------------------------------------------------------------------------
    def _sample(self, idx: int, block: _Block, offset: int) -> tuple[LogRecord, Match | None]:
        got = block.samples.get(idx)
        if got is not None:
            return got
        line = block.lines[idx]
        record = self.parser.parse(line, idx + offset, sanitized=True)
        return record, self.comp.engine.recognize(record)

    def add(self, block: _Block, offset: int = 0) -> None:
        """Fold one block into the summary, in line order (the main thread, blocks in file order).
        ``offset``: what to add to the block's line numbers (a worker process numbers the lines
        of its byte range from 1: only the main process knows how many lines came before)."""
        s = self.result.summary
        r = self.result
        r.outside += block.outside
        r.outside_first = min(r.outside_first, block.outside_first)
        r.outside_last = max(r.outside_last, block.outside_last)
        r.python_lines += block.python_lines
        agg = block.agg
        if not agg:
            return
        s.lines += agg["lines"]
        s.unparsed += agg["unknown"]
        lo, hi = agg["lo"], agg["hi"]
        if lo is not None:
            s.first = lo if s.first is None else min(s.first, lo)
            s.last = hi if s.last is None else max(s.last, hi)
        s.recognized += agg["recognized"]
        recs = self.comp.recs
        stats_of = {}
        for c, n, first, last, at in agg["per"]:
            rec = recs[c]
            plan = s._plans.get(rec.id)
            if plan is None:
                record, match = self._sample(at, block, offset)
                if match is None or match.recognizer.id != rec.id:
                    r.mismatches += 1
                    match = Match(rec, {}, record.family, record.message)
                plan = s._plan(record, match)
            st = plan.stats
            stats_of[c] = st
            st.count += n
            if first is not None:
                st.first = first if st.first is None else min(st.first, first)
                st.last = last if st.last is None else max(st.last, last)
        for status, n in agg["status"]:
            s._by_status[status] += n
        for key, n in agg["client"]:
            s.clients[key] += n
        for c, key, n in agg["rid_client"]:
            stats_of[c].clients[key] += n
        for key, n in agg["user"]:
            s.users[key] += n
        for c, key, n in agg["rid_user"]:
            stats_of[c].users[key] += n
        for key, n in agg["sender"]:
            s.senders[key] += n
        for host, n, unknown, lo, hi, recognized in agg["hosts"]:
            hs = s.hosts.get(host)
            if hs is None:
                hs = s.hosts[host] = HostStats()
            hs.lines += n
            hs.unparsed += unknown
            hs.recognized += recognized
            if lo is not None:
                hs.first = lo if hs.first is None else min(hs.first, lo)
                hs.last = hi if hs.last is None else max(hs.last, hi)
        for host, c, n in agg["host_rid"]:
            s.hosts[host].by_recognizer[recs[c].id] += n
        for host, status, n in agg["host_status"]:
            s.hosts[host].by_status[status] += n
