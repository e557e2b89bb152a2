"""Read whole log files (plain, .gz, stdin, a named pipe) as numbered, sanitised lines, oldest first.

Every read path splits bytes with :class:`LineSplitter`: a line longer than MAX_LINE_BYTES
keeps its first MAX_LINE_BYTES and is marked as cut; the rest of it, up to its newline, is
counted and dropped, never accumulated. A 2 GB file without a newline (or /dev/zero) costs
one chunk of memory, and the read loop is Python between chunks, so Ctrl-C ends it.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mailtui.logs.sanitize import (
    MAX_LINE_BYTES,
    MAX_LINE_CHARS,
    clean,
    cut,
    decode,
    is_safe,
)

CHUNK = 1 << 20
CAP_BYTES = MAX_LINE_CHARS  # longer lines take the general path (and may be cut there)


def cut_text(head: bytes, length: int) -> str:
    """The shown form of a line cut at MAX_LINE_BYTES: its start and how long it was (what
    decode() makes of the whole line, without ever holding it)."""
    return cut(head, length)


class LineSplitter:
    """Bytes in, complete lines (without their newline) out, each at most MAX_LINE_BYTES.

    ``feed`` returns (lines, cuts): ``cuts`` maps the index of each cut line in ``lines`` to
    the line's whole length (it is empty on almost every call, so the caller's fast path
    stays a plain loop). The bytes after the cap are counted until the newline, not kept."""

    def __init__(self, cap: int = MAX_LINE_BYTES) -> None:
        self.cap = cap
        self.head = b""  # the start of the line not yet ended (at most ``cap`` bytes)
        self.length = 0  # that line's length so far, cut bytes included

    def reset(self) -> None:
        self.head, self.length = b"", 0

    def feed(self, chunk: bytes) -> tuple[list[bytes], dict[int, int]]:
        parts = chunk.split(b"\n")
        last = parts.pop()
        cuts: dict[int, int] = {}
        if parts:
            first = parts[0]
            if self.length:  # the first part ends the line begun in an earlier chunk
                length = self.length + len(first)
                parts[0] = (self.head + first)[: self.cap]
                if length > self.cap:
                    cuts[0] = length
            for i, part in enumerate(parts):
                if len(part) > self.cap and i not in cuts:
                    cuts[i] = len(part)
                    parts[i] = part[: self.cap]
            self.head, self.length = b"", 0
        self._keep(last)
        return parts, cuts

    def _keep(self, piece: bytes) -> None:
        if len(self.head) < self.cap:
            self.head = (self.head + piece)[: self.cap]
        self.length += len(piece)

    def flush(self) -> tuple[bytes, int] | None:
        """The unfinished last line (at the end of input) and its length, or None."""
        if not self.length:
            return None
        out = (self.head, self.length)
        self.reset()
        return out

    def text(self, raw: bytes, length: int) -> str:
        return cut_text(raw, length) if length > self.cap else decode(raw)


def only_regular(path: str, kind: str) -> str:
    """Why a named pipe or a device is refused by everything but scan (which reads it once)."""
    return f"is {kind}: it can be read once, not followed or read again: use mailtui scan {path}"


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def iter_lines(path: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) for every line; a final line without newline is included.

    ``start``/``end``: only the bytes ``[start, end)`` of a plain file (a piece of a parallel
    scan, cut at line starts: see logs.ranges), its lines numbered from 1."""
    fh = _open(path)
    # read1: what is there now (a pipe or stdin hands lines over as they come, not per MiB)
    read = getattr(fh, "read1", fh.read)
    left = -1 if end is None else end - start  # bytes still to read (-1: to the end)
    if start:
        fh.seek(start)
    splitter = LineSplitter()
    lineno = 0
    try:
        while left:
            chunk = read(CHUNK if left < 0 else min(CHUNK, left))
            if not chunk:
                break
            if left > 0:
                left -= len(chunk)
            lines, cuts = splitter.feed(chunk)
            if cuts:
                for i, raw in enumerate(lines):
                    yield lineno + 1 + i, cut_text(raw, cuts[i]) if i in cuts else decode(raw)
                lineno += len(lines)
                continue
            for lineno, raw in enumerate(lines, lineno + 1):  # noqa: B020 - it goes on counting
                # decode() inlined for the common case (a scan reads millions of lines); anything
                # long or with a control character still goes through it
                if len(raw) > CAP_BYTES:
                    yield lineno, decode(raw)
                    continue
                text = raw.decode("utf-8", "replace").rstrip("\r")
                yield lineno, text if is_safe(text) else clean(text)
        rest = splitter.flush()
        if rest is not None:
            yield lineno + 1, splitter.text(*rest)
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


_ROTATED = re.compile(r"\.(\d+)(?:\.gz)?$")


def with_rotated(path: str) -> list[str]:
    """``mail.log`` plus its rotations (``mail.log.1``, ``mail.log.2.gz``, …), oldest first."""
    p = Path(path)
    rotated = []
    for candidate in p.parent.glob(p.name + ".*"):
        m = _ROTATED.search(candidate.name[len(p.name) :])
        if m is not None and candidate.name[len(p.name) :] in (f".{m.group(1)}", f".{m.group(1)}.gz"):
            rotated.append((int(m.group(1)), str(candidate)))
    return [name for _, name in sorted(rotated, reverse=True)] + [path]
