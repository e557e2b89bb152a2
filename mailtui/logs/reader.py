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
    SAFE_ASCII_OUTPUT,
    UNSAFE_IN_OUTPUT,
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
    lineno = 0
    for block in iter_blocks(path, start, end):
        for lineno, text in enumerate(block, lineno + 1):  # noqa: B020 - it goes on counting
            yield lineno, text


def iter_blocks(path: str, start: int = 0, end: int | None = None) -> Iterator[list[str]]:
    """The lines of :func:`iter_lines` (the same texts, in order), a list per chunk read.

    The usual chunk, text without a control character and no line longer than CAP_BYTES, is
    decoded and split as a whole (each line's text is then what decode() makes of it: newlines
    are ASCII, so decoding never joins or moves them); any other goes line by line."""
    fh = _open(path)
    # read1: what is there now (a pipe or stdin hands lines over as they come, not per MiB)
    read = getattr(fh, "read1", fh.read)
    left = -1 if end is None else end - start  # bytes still to read (-1: to the end)
    if start:
        fh.seek(start)
    splitter = LineSplitter()
    try:
        while left:
            chunk = read(CHUNK if left < 0 else min(CHUNK, left))
            if not chunk:
                break
            if left > 0:
                left -= len(chunk)
            fresh = not splitter.length  # the chunk starts a line (nothing carried over)
            lines, cuts = splitter.feed(chunk)
            if not lines:
                continue
            texts = None if cuts else _whole(chunk, lines, fresh)
            if texts is None:
                texts = [cut_text(raw, cuts[i]) if i in cuts else _decode(raw) for i, raw in enumerate(lines)]
            yield texts
        rest = splitter.flush()
        if rest is not None:
            yield [splitter.text(*rest)]
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _decode(raw: bytes) -> str:
    """decode() of a line of at most MAX_LINE_BYTES, with its common case inlined."""
    if len(raw) > CAP_BYTES:
        return decode(raw)
    text = raw.decode("utf-8", "replace").rstrip("\r")
    return text if is_safe(text) else clean(text)


def _whole(chunk: bytes, lines: list[bytes], fresh: bool) -> list[str] | None:
    """The texts of ``lines`` (the chunk's complete lines) from one decode and split of the
    chunk, or None when the chunk needs line-by-line treatment (a control character, CR, a
    line longer than CAP_BYTES). Not ``fresh``: the first line began in an earlier chunk."""
    if max(map(len, lines)) > CAP_BYTES:
        return None
    if chunk.isascii():
        # what clean_output keeps as it is (not CR: rstrip("\r") is line by line): nothing left, plain
        if chunk.translate(None, SAFE_ASCII_OUTPUT):
            return None
        text = chunk.decode("ascii")
    else:
        text = chunk.decode("utf-8", "replace")
        if UNSAFE_IN_OUTPUT.search(text) is not None:  # what clean() replaces, the newline apart
            return None
    texts = text.split("\n")
    texts.pop()  # the unfinished last line: the splitter keeps it
    if len(texts) != len(lines):  # cannot be (decoding keeps every newline): never guess
        return None
    if not fresh:
        texts[0] = _decode(lines[0])
    return texts


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
