"""When the socket cannot be used (not root): reconstruct the bans from fail2ban.log and its database.

fail2ban.log (often group adm) gives per-jail Found/Ban/Unban history; the SQLite database,
opened read-only, gives each current ban's start and ban time. Both are best effort and
the snapshot says it came from the log, so the pane can say which mode is active.

Without the database (it is root-only), a ban's length comes from the log itself when
bantime.increment prolonged it ("Increase Ban IP (2 # 2h -> 2026-12-01 10:00:00)"), else from
the jail's ``bantime`` in jail.conf/jail.d/jail.local (world-readable), for plain "Ban" lines;
a restored ban's length is not known and stays unknown.
"""

from __future__ import annotations

import configparser
import re
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from mailtui.core.files import read_ini_files
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus

_LINE = re.compile(
    r"^(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
    r"\[(?P<jail>[^\]]+)\] (?P<event>Found|Ban|Restore Ban|Increase Ban|Unban|Repeal Ban) "
    r"(?P<ip>\S+)(?: \(\d+ # [^)]*?-> (?P<end>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|infinite)\))?"
)
# jails with no ban or failure yet are known from their start/stop lines
_JAIL = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ fail2ban\.\w+\s*\[\d+\]: \w+\s+"
    r"(?:Jail '(?P<a>[^']+)' (?:started|stopped)|Creating new jail '(?P<b>[^']+)')"
)


def from_log(lines: Iterable[str], bantimes: dict[str, int] | None = None) -> Fail2banSnapshot:
    """``bantimes``: each jail's configured ban time (``jail_bantimes``), for plain Ban lines."""
    bantimes = bantimes or {}
    jails: dict[str, JailStatus] = {}
    current: dict[str, dict[str, BannedIP]] = {}
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            j = _JAIL.match(line) if "jail '" in line.lower() else None
            if j is not None:
                name = j.group("a") or j.group("b")
                jails.setdefault(name, JailStatus(name))
                current.setdefault(name, {})
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
            if event == "Increase Ban" and ip in bans:
                ban = bans[ip]  # the Ban line before it started the ban; this one prolongs it
            else:
                ban = bans[ip] = BannedIP(ip, ban_start=when)
            end = m.group("end")
            if end == "infinite":
                ban.ban_time, ban.ends = -1, None
            elif end:
                ban.ends = datetime.strptime(end, "%Y-%m-%d %H:%M:%S").timestamp()
                ban.ban_time = round(ban.ends - (ban.ban_start or when))
            elif event == "Ban" and name in bantimes:
                ban.ban_time = bantimes[name]
                ban.ends = None if ban.ban_time < 0 else when + ban.ban_time
        else:
            bans.pop(ip, None)
    for name, jail in jails.items():
        jail.banned = list(current[name].values())
        jail.currently_banned = len(jail.banned)
    return Fail2banSnapshot(sorted(jails.values(), key=lambda j: j.name), "log")


_SPAN = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*(years?|y|months?|mon|mo|weeks?|w|days?|d|hours?|h|minutes?|min|m|"
    r"seconds?|sec|s)?",
    re.IGNORECASE,
)
_UNIT = {"y": 31557600, "mo": 2629800, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def span_seconds(text: str) -> int | None:
    """fail2ban's time values: 600, 10m, 1h 30m, 1d12h, 1w, -1 (permanent); None for anything
    else (expressions, %(interpolation)s), which fail2ban would evaluate and mailtui will not."""
    text = text.strip()
    if not text:
        return None
    total, pos = 0.0, 0
    for m in _SPAN.finditer(text):
        if not m.group(0):
            continue
        if text[pos : m.start()].strip():  # an operator or a word fail2ban would evaluate
            return None
        unit = (m.group(2) or "s").lower()
        key = "mo" if unit.startswith(("mo", "mon")) else "m" if unit.startswith("min") or unit == "m" else unit[0]
        total += float(m.group(1)) * _UNIT[key]
        pos = m.end()
    if text[pos:].strip():
        return None
    return int(total)


def jail_bantimes(conf_dir: str | Path) -> dict[str, int]:
    """Each enabled-or-not jail's ``bantime`` (seconds, -1 permanent) as fail2ban reads its files:
    jail.conf, jail.d/*.conf, jail.local, jail.d/*.local, later ones winning; [DEFAULT] fills in."""
    base = Path(conf_dir)
    dropins = base / "jail.d"
    names = sorted(dropins.iterdir()) if dropins.is_dir() else []
    files = [
        base / "jail.conf",
        *(p for p in names if p.suffix == ".conf"),
        base / "jail.local",
        *(p for p in names if p.suffix == ".local"),
    ]
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        read_ini_files(parser, files)  # a FIFO planted as jail.local blocks nothing
    except (configparser.Error, UnicodeDecodeError, OSError):
        return {}
    out = {}
    for section in parser.sections():
        if section in ("INCLUDES", "Definition"):
            continue
        seconds = span_seconds(parser.get(section, "bantime", fallback=""))
        if seconds is not None:
            out[section] = seconds
    return out


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
