"""Failing but not yet banned: per address, the failures a jail counts in its current window.

fail2ban logs each failure it counts as ``[jail] Found IP - <time of the failure>`` and
forgets an address's failures once it bans it. So, from its log: the Found lines of each
(jail, address) since its last Ban and within ``findtime`` before now are what the jail
holds; with ``maxretry`` that reads "3/5 — banned after 2 more within 7 min" (the oldest
counted failure leaves the window in 7 minutes).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mailtui.fail2ban.settings import JailSettings

_LINE = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
    r"\[(?P<jail>[^\]]+)\] (?P<event>Found|Ban|Restore Ban|Increase Ban|Unban) (?P<ip>\S+)"
    r"(?: - (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d))?"
)


@dataclass
class Pending:
    jail: str
    ip: str
    failures: int
    maxretry: int | None
    oldest: float
    newest: float
    window_ends: float | None  # when the oldest counted failure stops counting (None: findtime unknown)

    @property
    def left(self) -> int | None:
        return None if self.maxretry is None else max(0, self.maxretry - self.failures)

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.maxretry is None:
            return f"{self.failures} failures"
        text = f"{self.failures}/{self.maxretry}"
        if self.window_ends is not None:
            text += f" — banned after {self.left} more within {self.window_left(now)}"
        return text

    def window_left(self, now: float) -> str:
        """Until the oldest counted failure leaves the window: "7 min", "5 h" (recidive's day), "3 days"."""
        minutes = max(1, round(((self.window_ends or now) - now) / 60))
        if minutes < 120:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{round(minutes / 60)} h"
        return f"{round(minutes / 1440)} days"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "left": self.left, "text": self.describe()}


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").timestamp()


def pending(lines: list[str], settings: dict[str, JailSettings], now: float | None = None) -> list[Pending]:
    """Addresses with counted failures and no ban yet, nearest to a ban first."""
    now = time.time() if now is None else now
    found: dict[tuple[str, str], list[float]] = {}
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            continue
        key = (m.group("jail"), m.group("ip"))
        if m.group("event") == "Found":
            found.setdefault(key, []).append(_stamp(m.group("at") or m.group("when")))
        elif m.group("event") != "Unban":
            found.pop(key, None)  # a ban resets the address's failures in that jail
    out: list[Pending] = []
    for (jail, ip), times in found.items():
        s = settings.get(jail)
        findtime = s.findtime if s is not None else None
        if findtime is not None:
            times = [t for t in times if t > now - findtime]
        if not times:
            continue
        oldest = min(times)
        out.append(
            Pending(
                jail,
                ip,
                len(times),
                s.maxretry if s is not None else None,
                oldest,
                max(times),
                oldest + findtime if findtime is not None else None,
            )
        )
    out.sort(key=lambda p: (p.left if p.left is not None else 1 << 30, -p.failures, p.jail, p.ip))
    return out
