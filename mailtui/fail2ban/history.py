"""Ban history from fail2ban's own database: bans per day, repeat offenders, the recidive view.

fail2ban keeps every ban in the ``bans`` table of its SQLite database (``dbfile``; rows live
``dbpurgeage``, a day by default — raise it to keep a month), across restarts, which the
socket does not: ``status`` only knows the bans of now. The database is opened read-only and
asked for aggregates, so a table of a million rows costs no more memory than its answer.

A *repeat offender* is an address banned more than once: in several jails, or again after
its ban had run out. ``recidive`` is fail2ban's own jail for those; its bans are listed with
the jails that banned the address before.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

DAY = 86_400
MAX_OFFENDERS = 50
MAX_ROWS = 2_000_000  # bans read for the repeat analysis; a larger history is cut to its newest


class HistoryError(Exception):
    """The database cannot be read; one line for the user."""


@dataclass
class Offender:
    ip: str
    bans: int
    jails: list[str]
    first: float
    last: float
    again_after_expiry: int = 0  # bans that came after an earlier ban of it had run out
    recidive: bool = False


@dataclass
class BanHistory:
    days: int
    until: float  # the end of the last day slot (now)
    per_day: dict[str, list[int]] = field(default_factory=dict)  # jail -> counts, oldest day first
    totals: dict[str, int] = field(default_factory=dict)
    offenders: list[Offender] = field(default_factory=list)  # repeat offenders, most bans first
    recidive: list[Offender] = field(default_factory=list)
    oldest: float | None = None  # the oldest ban the database still holds
    note: str = ""  # e.g. the purge age hides older days

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        conn.execute("SELECT 1 FROM bans LIMIT 1")
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "unable to open" in text:
            raise HistoryError(
                f"{path}: cannot open fail2ban's database (missing, or not readable: run as root)"
            ) from None
        if "no such table" in text:
            raise HistoryError(f"{path}: not a fail2ban database (no bans table)") from None
        if "locked" in text:
            raise HistoryError(f"{path}: the database is locked by fail2ban; try again") from None
        raise HistoryError(f"{path}: {text}") from None
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path}: not a database ({exc})") from None
    return conn


def read_history(path: str, days: int = 30, now: float | None = None, purge_age: int | None = None) -> BanHistory:
    """``purge_age``: fail2ban's ``dbpurgeage`` in seconds when known (the socket's
    ``get dbpurgeage``), so a chart empty before that age is explained, not trusted."""
    now = time.time() if now is None else now
    start = now - days * DAY
    hist = BanHistory(days, now)
    conn = _connect(path)
    try:
        # fail2ban stores int(round(time of the ban)): a ban of the last half second is stored as
        # the next second, after `now`; it belongs to today's slot (with `<= now` it was missing
        # from the chart until the next read, INSIGHT_SECONDS later)
        rows = conn.execute(
            "SELECT jail, CAST((timeofban - ?) / ? AS INTEGER), COUNT(*) FROM bans "
            "WHERE timeofban >= ? AND timeofban < ? GROUP BY 1, 2",
            (start, DAY, start, now + 1),
        ).fetchall()
        for jail, slot, count in rows:
            if isinstance(slot, int) and slot == days:  # stored up to a second after now: today
                slot = days - 1
            if not isinstance(jail, str) or not isinstance(slot, int) or not 0 <= slot < days:
                continue
            hist.per_day.setdefault(jail[:128], [0] * days)[slot] += int(count)
        hist.totals = {j: sum(c) for j, c in sorted(hist.per_day.items())}
        hist.per_day = dict(sorted(hist.per_day.items()))
        oldest = conn.execute("SELECT MIN(timeofban) FROM bans").fetchone()
        hist.oldest = float(oldest[0]) if oldest and isinstance(oldest[0], (int, float)) else None
        bans = conn.execute(
            "SELECT ip, jail, timeofban, bantime FROM bans WHERE ip IN "
            "(SELECT ip FROM bans GROUP BY ip HAVING COUNT(*) > 1) ORDER BY timeofban DESC LIMIT ?",
            (MAX_ROWS,),
        ).fetchall()
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: {exc}") from None
    finally:
        conn.close()
    if purge_age is not None and 0 < purge_age < days * DAY:
        kept = f"{purge_age // DAY} days" if purge_age >= 2 * DAY else f"{purge_age // 3600} hours"
        hist.note = (
            f"fail2ban keeps bans for {kept} only (dbpurgeage), so older days are empty: "
            f"set dbpurgeage = {days}d in fail2ban.local to keep {days} days"
        )
    hist.offenders, hist.recidive = _offenders(bans)
    return hist


def _offenders(rows: list[tuple[Any, ...]]) -> tuple[list[Offender], list[Offender]]:
    by_ip: dict[str, list[tuple[float, str, int]]] = {}
    for ip, jail, when, bantime in rows:
        if isinstance(ip, str) and isinstance(jail, str) and isinstance(when, (int, float)):
            by_ip.setdefault(ip[:64], []).append(
                (float(when), jail[:128], int(bantime) if isinstance(bantime, int) else 0)
            )
    out: list[Offender] = []
    for ip, bans in by_ip.items():
        bans.sort()
        again = 0
        for (t0, _j0, b0), (t1, _j1, _b1) in pairwise(bans):
            if b0 >= 0 and t1 >= t0 + b0:
                again += 1
        jails = sorted({j for _t, j, _b in bans})
        out.append(Offender(ip, len(bans), jails, bans[0][0], bans[-1][0], again, "recidive" in jails))
    out.sort(key=lambda o: (-o.bans, -o.last, o.ip))
    recidive = [o for o in out if o.recidive]
    return out[:MAX_OFFENDERS], recidive[:MAX_OFFENDERS]


def sparkline(counts: list[int]) -> str:
    """A day per character: ' ' for none, then ▁ … █ relative to the busiest day."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(counts, default=0)
    if top <= 0:
        return " " * len(counts)
    return "".join(" " if c <= 0 else blocks[min(7, (c * 8 - 1) // top)] for c in counts)
