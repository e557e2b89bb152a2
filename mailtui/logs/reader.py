"""Read whole log files (plain, .gz, or stdin) as numbered, sanitised lines, oldest first."""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mailtui.logs.sanitize import MAX_LINE_CHARS, clean, decode, is_safe

CHUNK = 1 << 20
CAP_BYTES = MAX_LINE_CHARS  # longer lines take the general path (and may be cut there)


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def iter_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) for every line; a final line without newline is included."""
    fh = _open(path)
    try:
        for lineno, raw in enumerate(fh, 1):
            # decode() inlined for the common case (a scan reads millions of lines); anything
            # long or with a control character still goes through it
            if len(raw) > CAP_BYTES:
                yield lineno, decode(raw.rstrip(b"\n"))
                continue
            text = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
            yield lineno, text if is_safe(text) else clean(text)
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


_ROTATED = re.compile(r"\.(\d+)(?:\.gz)?$")


def with_rotated(path: str) -> list[str]:
    """``mail.log`` plus its rotations (``mail.log.1``, ``mail.log.2.gz``, …), oldest first."""
    p = Path(path)
    rotated = []
    for candidate in p.parent.glob(p.name + ".*"):
        m = _ROTATED.search(candidate.name[len(p.name):])
        if m is not None and candidate.name[len(p.name):] in (f".{m.group(1)}", f".{m.group(1)}.gz"):
            rotated.append((int(m.group(1)), str(candidate)))
    return [name for _, name in sorted(rotated, reverse=True)] + [path]
