"""Human-readable durations and sizes for the Services pane and ``mailtui services``; the
last-hour counts and text sparklines the panes draw trends with; ``plural()`` for every count
written in words."""

from __future__ import annotations


def human_age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def fail2ban_span(seconds: int | None) -> str:
    """A ban time or findtime as fail2ban writes them (and bantime.increment makes them): 10m, 2h,
    1w, 1m30s, permanent."""
    if seconds is None:
        return "?"
    if seconds < 0:
        return "permanent"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    if seconds < 3600:
        return f"{seconds}s" if seconds < 60 else f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int] | list[float], width: int = 24) -> str:
    """The last ``width`` values as block characters, scaled from 0 to their maximum."""
    tail = list(values)[-width:]
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return _BARS[0] * len(tail)
    return "".join(_BARS[min(len(_BARS) - 1, int(v / top * (len(_BARS) - 1) + 0.5))] for v in tail)


SLOT_SECONDS = 300  # one sparkline cell: 12 of them make the last hour
HOUR_SLOTS = 12


class HourCounts:
    """Events per 5-minute slot, kept for the last hour only.

    The panes that draw a last-hour trend stay open for weeks: slots older than the hour
    before the newest are dropped as new ones arrive.
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def add(self, when: float) -> None:
        slot = int(when // SLOT_SECONDS)
        self._counts[slot] = self._counts.get(slot, 0) + 1
        if len(self._counts) > 2 * HOUR_SLOTS:
            newest = max(self._counts)
            for old in [s for s in self._counts if s <= newest - HOUR_SLOTS]:
                del self._counts[old]

    def last_hour(self, now: float) -> list[int]:
        """The counts of the 12 slots up to the one holding ``now``, oldest first."""
        last = int(now // SLOT_SECONDS)
        return [self._counts.get(slot, 0) for slot in range(last - HOUR_SLOTS + 1, last + 1)]

    def __len__(self) -> int:
        """Slots held (at most twice the hour's)."""
        return len(self._counts)


# Nouns whose plural is not the noun + "s"; the CLI and the panes count these.
_IRREGULAR = {"child": "children", "person": "people", "datum": "data"}


def plural(n: int, noun: str, plural_form: str | None = None, *, show_count: bool = True) -> str:
    """``n`` and ``noun`` in the right number: ``1 problem``, ``0 problems``, ``3 addresses``.

    ``plural_form`` names an irregular plural not in the table; ``show_count=False`` gives the
    noun alone (``"ban" if n == 1``), for phrases where the count is written elsewhere.
    """
    if n == 1:
        word = noun
    elif plural_form is not None:
        word = plural_form
    elif noun in _IRREGULAR:
        word = _IRREGULAR[noun]
    elif noun.endswith(("s", "x", "z", "ch", "sh")):
        word = noun + "es"
    elif noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        word = noun[:-1] + "ies"
    else:
        word = noun + "s"
    return f"{n} {word}" if show_count else word
