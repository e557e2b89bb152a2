"""One refresh of every jail: counts, banned IPs with ban start, ban time and end.

The commands used depend on the server's version (asked first): 1.1+ answers every jail's
counters in one ``status --all short``; ``get <jail> banip --with-time`` exists from 0.11.1,
``status <jail> short`` from 0.10.6/0.11.2; older servers get the basic ``status <jail>`` and
its IP list.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mailtui.core.lazyre import LazyRegex
from mailtui.core.plain import Record
from mailtui.fail2ban.client import Fail2banClient

# compiled on first use (as _WITH_TIME_LINES, and datetime imported): once fail2ban's answers
# arrive, while it formats the next ones, not before the requests are sent
_WITH_TIME = LazyRegex(
    r"^(?P<ip>.+?)\s+(?P<start>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+ (?P<bantime>-?\d+) = "
    r"(?P<end>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|permanent|\S+)"
)


NOT_AN_IP = "(not an IP address)"


@lru_cache(maxsize=65536)
def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class BannedIP(Record):
    """One entry of a jail's ban list (a plain record, not a dataclass: see mailtui.core.plain)."""

    FIELDS = ("ip", "ban_start", "ban_time", "ends")
    __slots__ = FIELDS  # 20,000 of them in one refresh: no dict each (made, walked and freed)

    def __init__(
        self, ip: str, ban_start: float | None = None, ban_time: int | None = None, ends: float | None = None
    ) -> None:
        #: what fail2ban has in its ban list: an address, or with ``usedns = raw`` any text at all
        #: (a host name, ``--help``, an escape sequence): shown through ``shown()``, never raw
        self.ip = ip
        self.ban_start = ban_start
        self.ban_time = ban_time  # seconds; -1 = permanent
        self.ends = ends

    @property
    def is_ip(self) -> bool:
        return is_ip(self.ip)

    def shown(self) -> str:
        """The entry as text safe to print: control characters made visible, a non-address marked."""
        if self.is_ip:
            return self.ip
        from mailtui.logs.sanitize import clean

        return f"{clean(self.ip[:200])} {NOT_AN_IP}"

    def time_left(self, now: float | None = None) -> float | None:
        if self.ban_time == -1:
            return float("inf")
        if self.ends is None:
            return None
        return max(0.0, self.ends - (time.time() if now is None else now))


def ban_rows(bans: list[BannedIP]) -> list[dict[str, Any]]:
    """The bans as the JSON of a jail lists them."""
    return [{"ip": b.ip, "ban_start": b.ban_start, "ban_time": b.ban_time, "ends": b.ends} for b in bans]


def format_left(seconds: float | None) -> str:
    """Time left of a ban for people: 9m05s, 2h10m, permanent, "unknown" when nobody said."""
    if seconds is None:
        return "unknown"
    if seconds == float("inf"):
        return "permanent"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class JailStatus(Record):
    """A jail's counters and ban list (a plain record, see mailtui.core.plain)."""

    FIELDS = ("name", "currently_failed", "total_failed", "currently_banned", "total_banned", "files", "banned")

    def __init__(
        self,
        name: str,
        currently_failed: int = 0,
        total_failed: int = 0,
        currently_banned: int = 0,
        total_banned: int = 0,
        files: list[str] | None = None,
        banned: list[BannedIP] | None = None,
    ) -> None:
        self.name = name
        self.currently_failed = currently_failed
        self.total_failed = total_failed
        self.currently_banned = currently_banned
        self.total_banned = total_banned
        self.files: list[str] = [] if files is None else files
        self.banned: list[BannedIP] = [] if banned is None else banned

    def banned_rows(self) -> list[dict[str, Any]]:
        return ban_rows(self.banned)

    def to_dict(self, banned: Any = None) -> dict[str, Any]:
        """``banned``: the ban list as the caller already has it encoded (else ``banned_rows()``)."""
        # what asdict(self) gives, written out: asdict deep-copies every value of 20,000 bans
        return {
            "name": self.name,
            "currently_failed": self.currently_failed,
            "total_failed": self.total_failed,
            "currently_banned": self.currently_banned,
            "total_banned": self.total_banned,
            "files": list(self.files),
            "banned": self.banned_rows() if banned is None else banned,
        }


class Fail2banSnapshot(Record):
    """Every jail at one moment (a plain record, see mailtui.core.plain)."""

    FIELDS = ("jails", "source", "version", "taken", "note")

    def __init__(
        self, jails: list[JailStatus], source: str, version: str = "", taken: float | None = None, note: str = ""
    ) -> None:
        self.jails = jails
        self.source = source  # "socket" or "log"
        self.version = version
        self.taken = time.time() if taken is None else taken
        self.note = note  # a reply that was not understood, said instead of an empty list

    def to_dict(self) -> dict[str, Any]:
        return {"jails": [j.to_dict() for j in self.jails], "source": self.source, "version": self.version}

    def find_ip(self, ip: str) -> list[tuple[JailStatus, BannedIP]]:
        return [(j, b) for j in self.jails for b in j.banned if b.ip == ip]


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3]) or (0,)


def _pairs(items: Any) -> dict[str, Any]:
    """fail2ban's [(name, value), ...] as a dict; anything else in the list is ignored."""
    if not isinstance(items, (list, tuple)):
        return {}
    return {str(x[0]): x[1] for x in items if isinstance(x, (list, tuple)) and len(x) == 2}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _jail_names(reply: Any) -> list[str]:
    pairs = _pairs([x for x in reply if not isinstance(x, dict)] if isinstance(reply, (list, tuple)) else reply)
    return [n.strip() for n in str(pairs.get("Jail list", "")).split(",") if n.strip()]


def _parse_jail(name: str, reply: Any) -> JailStatus:
    parts = _pairs(reply)
    flt, act = _pairs(parts.get("Filter", [])), _pairs(parts.get("Actions", []))
    files = flt.get("File list") or flt.get("Journal matches") or []
    jail = JailStatus(
        name,
        _int(flt.get("Currently failed", 0)),
        _int(flt.get("Total failed", 0)),
        _int(act.get("Currently banned", 0)),
        _int(act.get("Total banned", 0)),
        [str(f) for f in files] if isinstance(files, list) else [str(files)],
    )
    ips = act.get("Banned IP list")
    if isinstance(ips, list):
        jail.banned = [BannedIP(str(ip)) for ip in ips]
    return jail


_STAMPS: dict[str, float] = {}
_ENTRIES: dict[str, BannedIP] = {}
_BAN_TIMES: dict[str, int] = {}  # a ban time's text -> int(text)
CACHE_MAX = 200_000


def _stamp(text: str) -> float:
    """'2026-11-29 03:40:01' as local epoch; strptime costs 5 µs, which 20,000 bans feel."""
    ts = _STAMPS.get(text)
    if ts is None:
        from datetime import datetime

        ts = datetime(
            int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]), int(text[17:19])
        ).timestamp()
        if len(_STAMPS) > CACHE_MAX:
            _STAMPS.clear()
        _STAMPS[text] = ts
    return ts


def parse_with_time(entry: str) -> BannedIP:
    """One ``banip --with-time`` entry; the same entry seen again (next refresh) is not re-parsed."""
    cached = _ENTRIES.get(entry)
    if cached is not None:
        return cached
    m = _WITH_TIME.match(entry)
    if m is None:  # no times: the address, or (usedns = raw, a broken server) the whole entry
        first = entry.split()[0] if entry.split() else entry
        return BannedIP(first if is_ip(first) else entry.strip())
    ban = _ban(*m.groups())  # 20,000 bans: one call, not one per group
    if len(_ENTRIES) > CACHE_MAX:
        _ENTRIES.clear()
    _ENTRIES[entry] = ban
    return ban


def _ban(ip: str, start_text: str, bantime: str, end: str) -> BannedIP:
    try:
        start = _STAMPS.get(start_text) or _stamp(start_text)
        ban_time = _BAN_TIMES.get(bantime)
        if ban_time is None:  # int() of "3600" is ~600 instructions, a lookup a tenth: jails share a few
            ban_time = int(bantime)  # ValueError past 4,300 digits (a hostile server's reply)
            if len(_BAN_TIMES) < 4096:
                _BAN_TIMES[bantime] = ban_time
    except ValueError:
        return BannedIP(ip)
    try:
        ends = (_STAMPS.get(end) or _stamp(end)) if len(end) == 19 else None
    except ValueError:
        ends = None
    return BannedIP(ip, start, ban_time, ends)


#: _WITH_TIME over a jail's entries joined by newlines: the whitespace after the address may
#: not be a newline, so each match stays within its entry and is the match of the entry alone.
#: Narrower, and a third cheaper for re: the address is the entry's first run of non-space (not
#: the shortest text before the rest matches: the same split when the address has no space in
#: it), the start and the ban time ASCII digits (not any Unicode digit). A line it matches is
#: matched by _WITH_TIME with the same groups (the end keeps _WITH_TIME's own alternatives:
#: cut at a space, an end in other digits would be read shorter); a line it does not match makes
#: the count of matches differ, and parse_ban_list then parses the list entry by entry.
_WITH_TIME_LINES = LazyRegex(
    _WITH_TIME.pattern.replace(r"\s+", r"[^\S\n]+")
    .replace("(?P<ip>.+?)", r"(?P<ip>\S+)")
    .replace(
        r"(?P<start>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", "(?P<start>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})"
    )
    .replace(r"(?P<bantime>-?\d+)", "(?P<bantime>-?[0-9]+)"),
    re.MULTILINE,
)


def parse_ban_list(entries: Any) -> list[BannedIP]:
    """A jail's ``banip --with-time`` reply: ``parse_with_time`` of each entry, in one regex
    pass over all of them (a third of the time for 1,000 bans, with 20 jails pipelined while the
    server formats the next). An entry with a newline in it, or one that is not in the shape,
    sends the whole list through ``parse_with_time``."""
    texts = list(map(str, entries))
    joined = "\n".join(texts)
    rows = _WITH_TIME_LINES.findall(joined)
    if len(rows) != len(texts) or joined.count("\n") != len(texts) - 1:
        return list(map(parse_with_time, texts))
    return [_ban(*row) for row in rows]


def collect(
    client: Fail2banClient,
    with_ips: bool = True,
    previous: Fail2banSnapshot | None = None,
    each: Callable[[JailStatus], object] | None = None,
) -> Fail2banSnapshot:
    """Every jail's counters and banned IPs. With ``previous`` (the last refresh), a jail whose
    (currently banned, total banned) did not change keeps its IP list: any ban raises the
    total and any unban lowers the current count, so equal counters mean the same list.
    ``each`` is called with every jail whose ban list was fetched, as soon as it is parsed, while
    the server still formats the next ones (``bans --json`` writes its JSON rows then)."""
    known = {j.name: j for j in previous.jails} if previous is not None else {}
    version = str(client.call("version"))
    v = _version_tuple(version)
    short = v >= (0, 11, 2) or (0, 10, 6) <= v < (0, 11)
    with_time = v >= (0, 11, 1)
    statuses: dict[str, Any] = {}
    if v >= (1, 1):
        # one round trip for every jail's counters: [count, list, {jail: status}] (1.1.0+)
        reply = client.call("status", "--all", "short")
        names = _jail_names(reply)
        table = next((x for x in reply if isinstance(x, dict)), {}) if isinstance(reply, (list, tuple)) else {}
        statuses = {name: table[name] for name in names if name in table}
    else:
        reply = client.call("status")
        names = _jail_names(reply)
    note = ""
    if not names and "Jail list" not in _pairs(
        [x for x in reply if not isinstance(x, dict)] if isinstance(reply, (list, tuple)) else reply
    ):
        note = (
            f"fail2ban {version[:40]}'s answer to 'status' is not in the shape mailtui knows "
            f"({type(reply).__name__}, no 'Jail list'): no jail could be read"
        )
    # Every request is sent at once (pipelined): the counters of each jail the answer to
    # ``status --all`` did not hold, and, when there is no earlier list to keep (``bans --json``),
    # every ban list in the same batch: the server formats the next while this one is parsed.
    asked = [name for name in names if name not in statuses]
    kind = "short" if short and with_time else "basic"
    eager = with_ips and with_time and previous is None
    batch: list[tuple[str, ...]] = [("status", name, kind) for name in asked]
    if eager:
        batch += [("get", name, "banip", "--with-time") for name in names]
    answers = client.call_many(batch) if batch else iter(())
    for name in asked:
        statuses[name] = next(answers)
    jails = []
    fetch: list[JailStatus] = []  # jails whose ban list is asked for
    for name in names:
        jail = _parse_jail(name, statuses[name])
        before = known.get(name)
        if with_ips and with_time:
            if (
                before is not None
                and previous is not None
                and previous.version == version
                and (before.currently_banned, before.total_banned) == (jail.currently_banned, jail.total_banned)
            ):
                jail.banned = before.banned
            else:
                fetch.append(jail)
        jails.append(jail)
    if not eager:
        answers = client.call_many([("get", jail.name, "banip", "--with-time") for jail in fetch])
    for jail, entries in zip(fetch, answers):
        jail.banned = parse_ban_list(entries)
        if each is not None:
            each(jail)
    return Fail2banSnapshot(jails, "socket", version, note=note)
