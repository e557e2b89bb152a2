"""Cut plain log files into byte ranges that start at line starts, for a parallel scan.

A range is ``(start, end)``; every cut is just after a newline, so each range holds whole
lines and reading the ranges one after another (``reader.iter_lines(path, start, end)``) gives
exactly the lines of the whole file. The last range has ``end=None``: it reads to the end of
the file as it is then, like a plain read would.
"""

from __future__ import annotations

from itertools import pairwise

SEEK_STEP = 1 << 16


def line_ranges(path: str, size: int, chunk: int) -> list[tuple[int, int | None]]:
    """Ranges of about ``chunk`` bytes covering ``path``'s first ``size`` bytes (and what follows)."""
    cuts = [0]
    with open(path, "rb") as fh:
        target = chunk
        while target < size:
            fh.seek(target)
            pos = target
            while True:  # the next newline at or after ``target`` (a long line: read on)
                block = fh.read(SEEK_STEP)
                if not block:
                    pos = -1
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    pos += nl + 1
                    break
                pos += len(block)
            if pos < 0 or pos >= size:
                break
            if pos > cuts[-1]:
                cuts.append(pos)
            target = max(pos, target) + chunk
    return [(a, b) for a, b in pairwise(cuts)] + [(cuts[-1], None)]
