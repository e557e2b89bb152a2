"""Bans per day as a chart: one line for the Bans pane's border, a bar chart for the jail detail.

The pane has no row to spare at 120x35 (every jail and the highlighted jail's IPs come first),
so its chart lives in the bottom border: ``dovecot 30d ▁ ▂█▃ 14``. The jail detail draws the
same counts as bars four rows high, a day per two columns, with the dates under them.
"""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from mailtui.fail2ban.history import DAY, sparkline

BLOCKS = " ▁▂▃▄▅▆▇█"


def history_strip(jail: str, counts: list[int] | None, width: int) -> Content:
    """``jail 30d <sparkline> <total>`` in at most ``width`` columns ("" when it does not fit or
    there is no history): the days are never squeezed, the jail's name goes first."""
    if counts is None:
        return Content("")
    total = sum(counts)
    days = f"{len(counts)}d "
    tail = f" {total}"
    line = sparkline(counts) if total else "·" * len(counts)
    base = len(days) + len(line) + len(tail)
    if base > width:
        return Content("")
    name = jail if base + len(jail) + 1 <= width else ""
    return Content.assemble(
        (f"{name} " if name else "", "bold"),
        (days, "dim"),
        (line, "$warning" if total else "dim"),
        (tail, "bold" if total else "dim"),
    )


def chart_rows(counts: list[int], height: int = 4) -> list[str]:
    """Bars ``height`` rows high, a column per day followed by a gap, top row first."""
    top = max(counts, default=0)
    rows: list[str] = []
    for level in range(height - 1, -1, -1):
        cells = []
        for c in counts:
            eighths = 0 if top <= 0 or c <= 0 else max(1, round(c * height * 8 / top))
            part = min(8, max(0, eighths - level * 8))
            cells.append(BLOCKS[part] + " ")
        rows.append("".join(cells).rstrip())
    return rows


def axis(counts: list[int], until: float) -> str:
    """The dates under the bars: the first day, the middle one, and today."""
    n = len(counts)
    width = 2 * n
    line = [" "] * width

    def put(col: int, text: str) -> None:
        col = max(0, min(col, width - len(text)))
        line[col : col + len(text)] = list(text)

    def day(i: int) -> str:
        return datetime.fromtimestamp(until - (n - 1 - i) * DAY).strftime("%b %d")

    put(0, day(0))
    if n >= 20:
        put(n - 3, day(n // 2))
    put(width - 5, "today")
    return "".join(line)


def chart_content(counts: list[int], until: float, height: int = 4) -> Content:
    top = max(counts, default=0)
    label_w = max(2, len(str(top)))
    parts: list[Content] = []
    for i, row in enumerate(chart_rows(counts, height)):
        label = str(top) if i == 0 else ("0" if i == height - 1 else "")
        parts.append(Content.assemble((label.rjust(label_w) + " ▕", "dim"), (row, "$warning")))
    parts.append(Content.styled(" " * (label_w + 2) + axis(counts, until), "dim"))
    return Content("\n").join(parts)


class BanChart(Static):
    """Bans per day of one jail (oldest left), with the busiest day's count on its axis."""

    DEFAULT_CSS = """
    BanChart { height: auto; }
    """

    def __init__(self, counts: list[int], until: float, height: int = 4, id: str | None = None) -> None:
        super().__init__(chart_content(counts, until, height), markup=False, id=id)
