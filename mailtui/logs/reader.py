"""Read whole log files (plain, .gz, or stdin) as numbered, sanitised lines, oldest first."""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path
from typing import BinaryIO, Iterator

from mailtui.logs.sanitize import decode

CHUNK = 1 << 20


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
            yield lineno, decode(raw.rstrip(b"\n"))
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
