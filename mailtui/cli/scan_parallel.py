"""``mailtui scan --engine parallel``: the reference engine in worker processes, merged in file order.

The input is cut into pieces: plain files into byte ranges that start at line starts
(logs.ranges), a compressed file whole (gzip cannot be entered in the middle). Each piece is
parsed, recognized and summarised in a worker exactly as ``_scan_python`` does it; the main
process folds the pieces' summaries together in file order (``ScanSummary.merge``), so counts,
top lists and their tie order, first/last times and delivery totals come out as one process
would make them. Pieces are handed out a few at a time ahead of the merge, so memory stays flat
in the size of the input.

Correlation (``--json --events``: context diagnoses) needs what came before a line, which may
be in an earlier piece: a queue ID or an smtpd connection opened before a cut, a Dovecot session
whose auth failure is on the other side of it. So workers do not correlate: each piece's
recognized lines and the lines the correlator learns from (``CORRELATED_FAMILIES``) come back
as small tuples, with each event already written as JSON but for its file, line number and
context; the main process replays them through one Correlator in file order and completes the
events. That stitches every conversation across cuts, by construction, with the correlator's own
rules (and its limits, such as MAX_OPEN, behave as in one process).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from mailtui.cli.output import CliError, json_text
from mailtui.cli.output import progress as show_progress
from mailtui.cli.scan_cmd import (
    EXIT_PIPE,
    PROGRESS_EVERY,
    ScanOptions,
    ScanOutcome,
    _event,
    damage_text,
    readable,
    readable_blocks,
)
from mailtui.core.children import die_with_parent

if TYPE_CHECKING:
    from mailtui.recognizers.engine import Engine
    from mailtui.recognizers.explain import Explainer
    from mailtui.recognizers.model import Recognizer
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

MIN_CHUNK = 1 << 20
MAX_CHUNK = 4 << 20
EXIT_WORKER_LOST = 71  # sysexits' EX_OSERR: the system took a worker away (README, "Exit codes")
AHEAD = 2  # pieces handed out per worker ahead of the merge: enough to keep them busy, no more


@dataclass(frozen=True)
class Piece:
    """A part of one input file: bytes ``[start, end)`` (``end=None``: to its end)."""

    path: str
    start: int = 0
    end: int | None = None
    mtime: float | None = None  # the file's, for the year of traditional stamps (same in every piece)


# (line number in the piece, envelope fields, recognizer id or None, fields, event JSON or None)
Item = tuple[int, tuple[Any, ...], str | None, dict[str, str] | None, str | None]


@dataclass
class PieceResult:
    summary: ScanSummary
    unknown: UnknownShapes | None
    lines: int = 0  # lines read (in range or not): the next piece of the file numbers from here
    outside: int = 0
    outside_first: float = float("inf")
    outside_last: float = float("-inf")
    stop: list[tuple[str, int, str]] = field(default_factory=list)  # why the file's read stopped
    items: list[Item] = field(default_factory=list)  # --events: what the main process replays


def pieces(files: list[str], chunk: int) -> list[Piece]:
    """Every file's pieces, in file order."""
    from mailtui.logs.ranges import line_ranges

    out: list[Piece] = []
    for name in files:
        st = os.stat(name)
        if name.endswith(".gz") or st.st_size <= chunk:
            out.append(Piece(name, mtime=st.st_mtime))
            continue
        out.extend(Piece(name, a, b, st.st_mtime) for a, b in line_ranges(name, st.st_size, chunk))
    return out


def chunk_for(files: list[str], jobs: int) -> int:
    """Pieces of a quarter of each worker's share, between 1 and 4 MiB: small enough to share
    the work evenly on a busy machine and keep memory low, large enough that a piece's overhead
    (its summary crossing to the main process) is noise."""
    total = sum(os.path.getsize(f) for f in files)
    return max(MIN_CHUNK, min(MAX_CHUNK, total // max(jobs * 4, 1)))


def scan_piece(piece: Piece, opts: ScanOptions) -> PieceResult:
    """One piece, in a worker: the loop of ``_scan_python`` without the correlation."""
    from mailtui.analysis.correlate import CORRELATED_FAMILIES
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

    engine = default_engine()  # inherited from the main process (fork), else loaded once here
    since, until = opts.since, opts.until
    summary = ScanSummary()
    unknown = UnknownShapes() if opts.unknown else None
    result = PieceResult(summary, unknown)
    items = result.items
    events = opts.events
    parser = EnvelopeParser(source=piece.path, year_reference=piece.mtime)
    outside, outside_first, outside_last = 0, float("inf"), float("-inf")
    lineno = 0
    if since is None and until is None and unknown is None and not events:
        # the plain report (the usual scan): the loop below with its per-line tests that are all
        # false here taken out, its methods looked up once, and its lines read a block at a time
        parse, recognize, add = parser.parse, engine.recognize, summary.add
        for first, block in readable_blocks(piece.path, result.stop, piece.start, piece.end):
            for lineno, line in enumerate(block, first):
                record = parse(line, lineno, True)
                add(record, recognize(record))
        lines: Iterator[tuple[int, str]] = iter(())
    else:
        lines = readable(piece.path, result.stop, piece.start, piece.end)
    for lineno, line in lines:
        record = parser.parse(line, lineno, sanitized=True)
        ts = record.timestamp
        if ts is not None and ((since is not None and ts < since) or (until is not None and ts >= until)):
            outside += 1
            outside_first, outside_last = min(outside_first, ts), max(outside_last, ts)
            continue
        match = engine.recognize(record)
        summary.add(record, match)
        if unknown is not None and (match is None or not match.recognizer.explained):
            unknown.add(record, match)
        if events and (match is not None or record.family in CORRELATED_FAMILIES):
            envelope = (
                *(record.message, record.timestamp, record.host, record.program, record.pid),
                *(record.family, record.daemon, record.level, record.fmt),
            )
            if match is None:
                items.append((lineno, envelope, None, None, None))
                continue
            event = _event(record, match)
            del event["file"], event["lineno"]  # known only to the main process
            items.append((lineno, envelope, match.recognizer.id, match.fields, json_text(event, indent=None)))
    result.lines = lineno
    result.outside, result.outside_first, result.outside_last = outside, outside_first, outside_last
    summary.detach()
    return result


def _worker_start(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the main process says "scan interrupted" once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)  # SIGTERM or SIGKILL of the scan ends its workers too


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    # fork: workers start at once with the catalog already compiled (and its pages shared)
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _results(todo: list[Piece], opts: ScanOptions, jobs: int) -> Iterator[tuple[Piece, PieceResult]]:
    """The pieces' results in file order, at most ``jobs * AHEAD`` pieces under way.

    A pool of futures, not multiprocessing.Pool: a worker that dies (the OOM killer, kill -9)
    breaks it and the scan ends with one line (EXIT_WORKER_LOST), where Pool lost the piece and
    waited for it for ever. Ctrl-C or an error drops the pieces not started; the workers end
    with their current one (they ignore SIGINT: the main process reports it once)."""
    pool = ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_worker_start, initargs=(os.getpid(),))
    try:
        pending: deque[tuple[Piece, Future[PieceResult]]] = deque()
        queue = iter(todo)
        for piece in queue:
            pending.append((piece, pool.submit(scan_piece, piece, opts)))
            if len(pending) >= jobs * AHEAD:
                break
        while pending:
            piece, future = pending.popleft()
            result = future.result()
            for more in queue:
                pending.append((more, pool.submit(scan_piece, more, opts)))
                break
            yield piece, result
    except BrokenProcessPool:
        raise CliError(
            "scan: a worker process of the scan ended unexpectedly (killed, or out of memory?): no report",
            exit_code=EXIT_WORKER_LOST,
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def scan_parallel(
    files: list[str],
    opts: ScanOptions,
    engine: Engine,
    explainer: Explainer | None,
    out: TextIO,
    *,
    jobs: int,
    chunk: int | None = None,
    progress: bool = False,
) -> ScanOutcome:
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

    todo = pieces(files, chunk or chunk_for(files, jobs))
    result = ScanOutcome(ScanSummary(), UnknownShapes() if opts.unknown else None)
    stitch = _Stitch(engine, explainer, out) if opts.events else None
    recognizers = every_recognizer(engine)
    read: dict[str, int] = {}  # lines read so far per file: where its next piece's numbers start
    stopped: set[str] = set()  # files whose read stopped early: their later pieces are not theirs
    for piece, part in _results(todo, opts, max(1, min(jobs, len(todo)))):
        name = piece.path
        if name in stopped:
            continue
        base = read.get(name, 0)
        part.summary.attach(recognizers, base)
        result.summary.merge(part.summary)
        if result.unknown is not None and part.unknown is not None:
            result.unknown.merge(part.unknown)
        result.outside += part.outside
        result.outside_first = min(result.outside_first, part.outside_first)
        result.outside_last = max(result.outside_last, part.outside_last)
        if stitch is not None and not stitch.replay(name, base, part.items):
            result.exit = EXIT_PIPE  # the reader left (| head): the rest would go nowhere
            return result
        read[name] = base + part.lines
        for kind, lineno, detail in part.stop:
            result.damaged.append(damage_text(name, kind, base + lineno, detail))
            stopped.add(name)
        if progress and result.summary.lines >= PROGRESS_EVERY:  # scan_cmd clears it from there on
            show_progress(f"scanning {name}: {result.summary.lines:,} lines")
    return result


def every_recognizer(engine: Engine) -> dict[str, Recognizer]:
    """Every recognizer a match can name by id: the catalog's and the catch-all's."""
    return {**{r.id: r for r in engine.catch_all.values()}, **engine.by_id}


class _Stitch:
    """The main process's half of ``--events``: one Correlator over every piece, in file order."""

    def __init__(self, engine: Engine, explainer: Explainer | None, out: TextIO) -> None:
        from mailtui.analysis.correlate import Correlator

        self.engine, self.explainer, self.out = engine, explainer, out
        self.corr = Correlator()
        self.recognizers = every_recognizer(engine)

    def replay(self, name: str, base: int, items: list[Item]) -> bool:
        """Correlate and write one piece's events; False once the reader has left."""
        from mailtui.analysis.correlate import context
        from mailtui.core.record import LogRecord
        from mailtui.recognizers.explain import context_dict
        from mailtui.recognizers.model import Match

        corr, by_id, explainer, out = self.corr, self.recognizers, self.explainer, self.out
        head = '{"file": ' + json_text(name, indent=None) + ', "lineno": '
        for lineno, env, rid, fields, body in items:
            message, ts, host, program, pid, family, daemon, level, fmt = env
            record = LogRecord("", message, ts, host, program, pid, family, daemon, level, fmt, name, base + lineno)
            if rid is None:
                corr.keys(record, None)
                continue
            match = Match(by_id[rid], None, family, message, fields=fields)
            keys = corr.keys(record, match)
            found = context(record, match, keys, corr) if match.recognizer.rank >= 1 else None
            settled = explainer.settle(found, record) if explainer is not None else found
            text = f"{head}{base + lineno}, {(body or '{')[1:]}"
            if settled is not None:
                extra = json_text(context_dict(settled, self.engine.by_id.get(settled.means)), indent=None)
                text = f'{text[:-1]}, "context": {extra}}}'
            out.write(text + "\n")
            if getattr(out, "broken", False):
                return False
        return True
