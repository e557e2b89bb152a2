"""The vectorized scan on every usable core: blocks worked on in worker processes, folded here.

Threads in one process reached ~1.5 of 2 cores: the blocks' Python parts (between Polars calls)
share one GIL, and Polars' thread pool spun beside them. Each worker process here works on one
block at a time with Polars on one thread, so each core runs one block without waiting for the
other.

- Plain files are cut into byte ranges that start at line starts (logs.ranges, one block each);
  a worker reads its range itself, so no block crosses a pipe. The last range reads to the end
  of the file as it is then, as the in-process scan does.
- A compressed file cannot be entered in the middle: this process reads it block by block
  (fold._pieces, as the in-process scan) and hands each block's bytes to a worker.
- A worker numbers the lines of its range from 1 and sends back the block's counts and the few
  lines that may become samples, as texts (fold._Block); this process adds the lines of the
  ranges before (``Fold.add``'s offset) and folds the blocks in file order, so the report is the
  in-process scan's, byte for byte (tests/test_fast_workers.py, tests/test_scan_engines.py).
- Polars is loaded in the workers only. This process forks them, and forking a process that has
  Polars loaded is unsafe (its thread pools and allocator threads do not survive a fork); it
  needs none: folding is plain Python (fold.py). The workers inherit the compiled catalog.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import zlib
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from mailtui.analysis.fast import fold
from mailtui.analysis.fast.fold import (
    FastScan,
    Fold,
    _Block,
    _block_size,
    _Compiled,
    _open,
    _pieces,
    damage,
)
from mailtui.core.children import die_with_parent
from mailtui.logs.ranges import line_ranges
from mailtui.recognizers.summary import ScanSummary

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mailtui.analysis.fast.scan import _File
    from mailtui.recognizers.engine import Engine

AHEAD = 2  # blocks handed out per worker ahead of the fold: the next one is queued when one ends

#: the catalog's translation, made before the fork (the workers inherit it); in a worker, the
#: scanner of the file it works on (scan._File, with its stamp caches)
_STATE: dict[str, Any] = {}


@dataclass
class Part:
    """What a worker hands back for one byte range or one block of bytes."""

    blocks: list[_Block] = field(default_factory=list)  # line numbers from 1 in the range
    lines: int = 0  # lines read: the next range of the file numbers its lines from here
    error: str = ""  # why the read stopped early ("": it did not)


def use_workers(files: list[str], jobs: int) -> bool:
    """Whether a scan is worth worker processes: more than one core and more than one block,
    and this process can fork them (it has not loaded Polars; fork exists here)."""
    if jobs <= 1 or "polars" in sys.modules or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return sum(os.path.getsize(name) for name in files) > fold.BLOCK_BYTES


def scan_files(
    files: list[str], engine: Engine, since: float | None, until: float | None, damaged: list[str], jobs: int
) -> FastScan:
    """The scan of ``files`` (plain or .gz) in file order, in ``jobs`` worker processes."""
    comp = _STATE["comp"] = _Compiled(engine)  # (before the fork: the workers inherit it)
    result = FastScan(ScanSummary())
    # what this process holds now is out of the collector's sight until the scan ends: a
    # worker's collections then do not walk (and so copy) the pages it inherits (gc.freeze)
    gc.freeze()
    # a pool of futures, not multiprocessing.Pool: a worker that dies (the OOM killer, kill -9)
    # breaks it, and the scan ends with WorkerLost instead of waiting for ever for its block
    pool = ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start, initargs=(os.getpid(),)
    )
    try:
        pending: deque[tuple[_Folding, Future[Part]]] = deque()
        for folding, task, args in _tasks(files, jobs, comp, result, since, until, damaged):
            pending.append((folding, pool.submit(task, *args)))
            while len(pending) > jobs * AHEAD:
                _fold(*pending.popleft(), damaged)
        while pending:
            _fold(*pending.popleft(), damaged)
    except BrokenProcessPool as exc:
        raise WorkerLost("a worker process of the scan ended unexpectedly (killed, or out of memory?)") from exc
    finally:
        # Ctrl-C or an error: the blocks not started are dropped, the workers end with their
        # current one (they ignore SIGINT: the main process reports it once)
        pool.shutdown(wait=True, cancel_futures=True)
        _STATE.clear()
        gc.unfreeze()
    return result


class WorkerLost(RuntimeError):
    """A worker process died: its block's counts are lost, so there is no report."""


@dataclass
class _Folding:
    """A file being folded: its Fold and the lines read so far (-1: its read stopped)."""

    fold: Fold
    lines: int = 0


def _tasks(
    files: list[str],
    jobs: int,
    comp: _Compiled,
    result: FastScan,
    since: float | None,
    until: float | None,
    damaged: list[str],
) -> Iterator[tuple[_Folding, Any, tuple[Any, ...]]]:
    """(the file, the worker's function, its arguments) for every block of every file, in order."""
    for name in files:
        mtime = os.path.getmtime(name)
        folding = _Folding(Fold(comp, result, name, mtime, since, until))
        where = (name, mtime, since, until)
        if not name.endswith(".gz"):
            size = os.path.getsize(name)
            try:
                ranges = line_ranges(name, size, _block_size(size, jobs))
            except OSError as exc:  # (as the in-process scan says it when the first read fails)
                damaged.append(damage(name, 0, exc))
                continue
            for start, end in ranges:
                yield folding, _scan_range, (*where, start, end)
            continue
        lineno = 0  # a compressed file: read here, each block's bytes handed to a worker
        try:
            with _open(name) as fh:
                for data, length in _pieces(fh):
                    lineno += 1 if length >= 0 else data.count(b"\n") + 1
                    yield folding, _scan_bytes, (*where, data, length)
        except (EOFError, zlib.error, OSError) as exc:  # (gzip.BadGzipFile is an OSError)
            damaged.append(damage(name, lineno, exc))


def _fold(folding: _Folding, future: Future[Part], damaged: list[str]) -> None:
    part = future.result()
    if folding.lines < 0:  # an earlier range of this file stopped: this one is not the file's
        return
    for block in part.blocks:
        folding.fold.add(block, folding.lines)
    folding.lines += part.lines
    if part.error:
        damaged.append(damage(folding.fold.name, folding.lines, OSError(part.error)))
        folding.lines = -1


# -- in a worker ----------------------------------------------------------------------------------
def _worker_start(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the main process says "scan interrupted" once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)  # SIGTERM or SIGKILL of the scan ends its workers too
    # one thread each: the workers are the parallelism (Polars' pool beside them only spins)
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    import mailtui.analysis.fast.scan  # noqa: F401 - Polars, loaded once per worker

    # Polars' modules too: a block's collections then walk only the block's own objects (they
    # walked the ~37,000 objects of the imports each time: ~3 % of a block in gc)
    gc.freeze()


def _file(name: str, mtime: float, since: float | None, until: float | None) -> _File:
    """The worker's scanner of ``name``: one at a time (a worker is handed the files' blocks in
    file order), so the stamp caches of the files before are freed."""
    from mailtui.analysis.fast.scan import _File

    key = (name, mtime, since, until)
    got: tuple[tuple[Any, ...], _File] | None = _STATE.get("file")
    if got is None or got[0] != key:
        got = _STATE["file"] = (key, _File(_STATE["comp"], FastScan(ScanSummary()), name, mtime, since, until))
    return got[1]


def _shipped(block: _Block) -> _Block:
    """The block as it crosses to the main process: the Python path's samples go as their
    texts (in ``lines``: python_rows put them there), parsed again there like the others."""
    block.samples = {}
    return block


def _scan_range(name: str, mtime: float, since: float | None, until: float | None, start: int, end: int | None) -> Part:
    """The blocks of bytes ``[start, end)`` of ``name`` (``end=None``: to its end)."""
    scanner = _file(name, mtime, since, until)
    if end is not None and end - start <= 2 * fold.BLOCK_BYTES:
        return _scan_whole(scanner, name, start, end - start)
    return _scan_pieces(scanner, name, start, end)


def _scan_pieces(scanner: _File, name: str, start: int, end: int | None) -> Part:
    """A range read as _pieces reads a file: the last one (to the end of the file as it is
    then) and one holding a long line (only its head is kept)."""
    from mailtui.logs.sanitize import cut

    part = Part()
    # a bounded range is one block (line_ranges cut it at a block's size, plus the rest of a line)
    block = fold.BLOCK_BYTES if end is None else max(fold.BLOCK_BYTES, end - start + 1)
    try:
        with open(name, "rb") as fh:
            fh.seek(start)
            reader = cast("BinaryIO", _Range(fh, end - start if end is not None else -1))  # (read1 and read only)
            for data, length in _pieces(reader, block):
                if length >= 0:
                    part.lines += 1
                    part.blocks.append(_shipped(scanner.python_block([(part.lines, cut(data, length))])))
                else:
                    count = data.count(b"\n") + 1
                    part.blocks.append(_shipped(scanner.block(data, part.lines, count)))
                    part.lines += count
    except OSError as exc:
        part.error = str(exc.strerror or exc)
    return part


def _scan_whole(scanner: _File, name: str, start: int, size: int) -> Part:
    """A range of ``size`` bytes that ends just after a newline, as one block read in one go.

    What _pieces would give it, without its copies: _pieces gathers 1 MiB reads in a buffer and
    copies the block out of it, ~13 MB written to fresh pages a block (a third of a scan's page
    faults). A line over the cap is cut by the block's Python path (sanitize.decode) as _pieces
    cuts it; a file that shrank meanwhile gives what it still holds, its last line unended too."""
    part = Part()
    # the newline that ends the range is read apart: slicing it off would copy the block
    data, end, part.error = _read_at(name, start, size - 1)
    lines: bytes | None = data  # None: no line at all
    if part.error:  # the complete lines before the failed read
        lines = data[: data.rfind(b"\n")] if b"\n" in data else None
    elif len(data) < size - 1 or end != b"\n":  # the file changed under the scan: what it holds now
        data += end
        lines = data[:-1] if data.endswith(b"\n") else data or None
    if lines is not None:  # (b"": one empty line, as _pieces gives it)
        count = lines.count(b"\n") + 1
        part.blocks.append(_shipped(scanner.block(lines, 0, count)))
        part.lines = count
    return part


def _read_at(name: str, start: int, size: int) -> tuple[bytes, bytes, str]:
    """``size`` bytes of ``name`` from ``start`` (fewer at its end), the byte after them, and
    why the read stopped early ("": it did not)."""
    got: list[bytes] = []
    done = 0
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return b"", b"", str(exc.strerror or exc)
    try:
        while done < size:
            data = os.pread(fd, size - done, start + done)
            if not data:
                break
            got.append(data)
            done += len(data)
        after = os.pread(fd, 1, start + done) if done == size else b""
    except OSError as exc:
        return b"".join(got), b"", str(exc.strerror or exc)
    finally:
        os.close(fd)
    return (got[0] if len(got) == 1 else b"".join(got)), after, ""


def _scan_bytes(name: str, mtime: float, since: float | None, until: float | None, data: bytes, length: int) -> Part:
    """One block a compressed file gave (``length >= 0``: one line longer than the cap, its head)."""
    from mailtui.logs.sanitize import cut

    scanner = _file(name, mtime, since, until)
    if length >= 0:
        return Part([_shipped(scanner.python_block([(1, cut(data, length))]))], 1)
    count = data.count(b"\n") + 1
    return Part([_shipped(scanner.block(data, 0, count))], count)


class _Range:
    """``read1`` of a file's bytes up to a limit (-1: none), for fold._pieces."""

    def __init__(self, fh: Any, left: int) -> None:
        self.fh, self.left = fh, left

    def read1(self, size: int) -> bytes:
        if self.left == 0:
            return b""
        data: bytes = self.fh.read1(size if self.left < 0 else min(size, self.left))
        if self.left > 0:
            self.left -= len(data)
        return data

    read = read1
