"""When the socket cannot be used (not root): reconstruct the bans from fail2ban.log and its database.

fail2ban.log (often group adm) gives per-jail Found/Ban/Unban history; the SQLite database,
opened read-only, gives each current ban's start and ban time. Both are best effort and
the snapshot says it came from the log, so the pane can say which mode is active.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime

from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus

_LINE = re.compile(r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
                   r"\[(?P<jail>[^\]]+)\] (?P<event>Found|Ban|Restore Ban|Increase Ban|Unban|Repeal Ban) "
                   r"(?P<ip>\S+)")


def from_log(lines: Iterable[str]) -> Fail2banSnapshot:
    jails: dict[str, JailStatus] = {}
    current: dict[str, dict[str, BannedIP]] = {}
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            continue
        name, ip, event = m.group("jail"), m.group("ip"), m.group("event")
        jail = jails.setdefault(name, JailStatus(name))
        bans = current.setdefault(name, {})
        if event == "Found":
            jail.total_failed += 1
        elif event in ("Ban", "Restore Ban", "Increase Ban"):
            if event == "Ban":
                jail.total_banned += 1
            when = datetime.strptime(m.group("when"), "%Y-%m-%d %H:%M:%S").timestamp()
            bans[ip] = BannedIP(ip, ban_start=when)
        else:
            bans.pop(ip, None)
    for name, jail in jails.items():
        jail.banned = list(current[name].values())
        jail.currently_banned = len(jail.banned)
    return Fail2banSnapshot(sorted(jails.values(), key=lambda j: j.name), "log")


def add_database_times(snapshot: Fail2banSnapshot, db_path: str) -> bool:
    """Fill ban start/time/end from the database (read-only); False when it cannot be read."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return False
    try:
        rows = conn.execute("SELECT jail, ip, timeofban, bantime FROM bips").fetchall()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    times = {(jail, ip): (int(start), int(bantime)) for jail, ip, start, bantime in rows}
    now = time.time()
    for jail in snapshot.jails:
        for ban in jail.banned:
            known = times.get((jail.name, ban.ip))
            if known is not None:
                ban.ban_start, ban.ban_time = float(known[0]), known[1]
                ban.ends = None if known[1] < 0 else known[0] + known[1]
        jail.banned = [b for b in jail.banned if b.ends is None or b.ends > now]
        jail.currently_banned = len(jail.banned)
    return True
