"""What the Bans pane shows beside the bans of now: history, each jail's thresholds, who is close to a ban.

One plain object for one read, gathered in the pane's worker thread: the jails' settings
(``get <jail> maxretry`` … through the socket), fail2ban's database (``get dbfile``, read-only,
bans per day and repeat offenders), the addresses failing without a ban yet (Found lines of the
tail of fail2ban's own log), and banned addresses another jail trusts (``ignoreip``). A part
that cannot be read leaves a one-line note instead; the rest is still shown.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.files import open_regular
from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable
from mailtui.fail2ban.history import BanHistory, HistoryError, Offender, read_history
from mailtui.fail2ban.pending import Pending, pending
from mailtui.fail2ban.protocol import ProtocolError, RemoteError
from mailtui.fail2ban.settings import JailSettings, ignored_elsewhere, read_settings

LOG_TAIL = 2 << 20  # bytes of fail2ban's log read for pending failures: findtime is minutes, not months
DAYS = 30


@dataclass
class JailInsight:
    settings: dict[str, JailSettings] = field(default_factory=dict)
    history: BanHistory | None = None
    pending: list[Pending] = field(default_factory=list)
    trusted: list[tuple[str, str, str]] = field(default_factory=list)  # (ip, banned by, ignored by)
    database: str = ""
    notes: list[str] = field(default_factory=list)  # why a part is missing, one line each
    taken: float = 0.0

    def pending_of(self, jail: str) -> list[Pending]:
        return [p for p in self.pending if p.jail == jail]

    def per_day(self, jail: str) -> list[int] | None:
        if self.history is None:
            return None
        return self.history.per_day.get(jail, [0] * self.history.days)

    def offenders_of(self, jail: str) -> list[Offender]:
        return [] if self.history is None else [o for o in self.history.offenders if jail in o.jails]

    def trusted_by(self, jail: str, ip: str) -> list[str]:
        """The other jails whose ignoreip holds ``ip``, which ``jail`` banned."""
        return [other for addr, by, other in self.trusted if addr == ip and by == jail]


def read_log_tail(path: str, limit: int = LOG_TAIL) -> list[str]:
    """The last ``limit`` bytes of a log as lines (the first, cut line dropped); [] if unreadable."""
    try:
        with open_regular(path) as fh:  # a FIFO as fail2ban's log blocks nothing
            size = os.fstat(fh.fileno()).st_size
            start = max(0, size - limit)
            fh.seek(start)
            raw = fh.read(limit)
    except OSError:
        return []
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if start and lines else lines


def _ask(client: Fail2banClient, *command: str) -> Any:
    try:
        return client.call(*command)
    except (RemoteError, ProtocolError):
        return None


def read_insight(
    socket: str,
    fail2ban_log: str,
    banned: dict[str, list[str]],
    *,
    now: float | None = None,
    days: int = DAYS,
    database: str = "",
) -> JailInsight:
    """``banned``: jail -> the addresses it bans now (for the ignoreip cross-check)."""
    now = time.time() if now is None else now
    out = JailInsight(taken=now)
    purge: int | None = None
    try:
        with Fail2banClient(socket) as client:
            out.settings = read_settings(client, list(banned))
            if not database:
                db = _ask(client, "get", "dbfile")
                database = db if isinstance(db, str) else ""
            age = _ask(client, "get", "dbpurgeage")
            purge = int(age) if isinstance(age, (int, float)) and not isinstance(age, bool) else None
    except (SocketUnavailable, ProtocolError, RemoteError, OSError) as exc:
        out.notes.append(f"jail settings need the fail2ban socket: {exc}")
    out.database = database
    if database:
        try:
            out.history = read_history(database, days=days, now=now, purge_age=purge)
        except HistoryError as exc:
            out.notes.append(str(exc))
    else:
        out.notes.append("fail2ban keeps no database (dbfile), so there is no ban history")
    if fail2ban_log.startswith("/"):
        out.pending = pending(read_log_tail(fail2ban_log), out.settings, now=now)
    out.trusted = ignored_elsewhere(banned, out.settings)
    return out
