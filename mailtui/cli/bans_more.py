"""``mailtui bans --history | --pending | --uncaught | --settings``: what fail2ban's status does not say.

``--history``: bans per day for the last 30 days per jail (from fail2ban's database), repeat
offenders and the recidive jail's view. ``--settings``: each jail's thresholds, and banned
addresses another jail trusts (ignoreip). ``--pending``: addresses failing but not banned yet.
``--uncaught``: failures in the mail log that no jail counted.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from mailtui.cli.output import CliError, print_json, print_table
from mailtui.config import Config
from mailtui.core.numbers import ascii_int, is_ascii_digits

DEFAULT_DB = "/var/lib/fail2ban/fail2ban.sqlite3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--history", action="store_true", help="bans per day (30 days), repeat offenders, recidive")
    group.add_argument("--settings", action="store_true", help="each jail's maxretry, findtime, bantime, ignoreip")
    group.add_argument("--pending", action="store_true", help="addresses failing but not banned yet")
    group.add_argument("--uncaught", action="store_true", help="failures in the mail log that no jail counted")
    parser.add_argument("--days", type=int, default=30, help="with --history: days shown (default 30)")
    parser.add_argument("--db", help="fail2ban's database (default: its dbfile)")


def wanted(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "history", False)
        or getattr(args, "settings", False)
        or getattr(args, "pending", False)
        or getattr(args, "uncaught", False)
    )


def _day(ts: float | None) -> str:
    from datetime import datetime  # not loaded by ``bans --json`` before it asks fail2ban

    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d") if ts else "?"


def _seconds(text: str) -> int | None:
    """fail2ban's time words ("1d", "3600", "2w") as seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    if is_ascii_digits(text):
        return ascii_int(text)
    number = ascii_int(text[:-1]) if text[-1:] in units else None
    return None if number is None else number * units[text[-1]]


def _socket_settings(cfg: Config, socket: str) -> tuple[dict[str, Any], str]:
    """Every jail's settings through the socket, or ({}, why not)."""
    from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable
    from mailtui.fail2ban.protocol import ProtocolError, RemoteError
    from mailtui.fail2ban.settings import read_settings
    from mailtui.fail2ban.status import _jail_names

    try:
        from mailtui.settings import settings_from

        with Fail2banClient(socket or settings_from(cfg).fail2ban.socket) as client:
            names = _jail_names(client.call("status"))
            return read_settings(client, names), ""
    except (SocketUnavailable, ProtocolError, RemoteError, OSError) as exc:
        return {}, str(exc)


def _fail2ban_log(cfg: Config) -> list[str]:
    from mailtui.logs.locate import access_problem, fail2ban_setting
    from mailtui.settings import settings_from

    path = settings_from(cfg).logs.fail2ban or fail2ban_setting("logtarget")
    if not path.startswith("/"):
        raise CliError(f"fail2ban logs to {path or 'an unknown target'}: set [logs] fail2ban to its log file")
    problem = access_problem(path)
    if problem:
        raise CliError(f"{path}: {problem}")
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read().splitlines()


def run(args: argparse.Namespace, cfg: Config) -> int:
    if args.history:
        return _history(args, cfg)
    if args.settings:
        return _settings(args, cfg)
    if args.pending:
        return _pending(args, cfg)
    return _uncaught(args, cfg)


def _history(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.history import HistoryError, read_history, sparkline
    from mailtui.logs.locate import fail2ban_setting

    if not 1 <= args.days <= 366:
        raise CliError("--days must be from 1 to 366")
    db = args.db or fail2ban_setting("dbfile") or DEFAULT_DB
    purge = _seconds(fail2ban_setting("dbpurgeage") or "1d")
    try:
        hist = read_history(db, days=args.days, purge_age=purge)
    except HistoryError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"database": db, **hist.to_dict()})
        return 0
    if not hist.per_day:
        print(f"no bans in the last {args.days} days in {db}")
    else:
        print(f"bans per day, the last {args.days} days (oldest left), from {db}")
        print_table(
            [[jail, str(hist.totals[jail]), sparkline(counts)] for jail, counts in hist.per_day.items()],
            ["jail", "bans", "per day"],
        )
    if hist.note:
        print(f"note: {hist.note}")
    if hist.offenders:
        print()
        print_table(
            [
                [o.ip, str(o.bans), ",".join(o.jails), str(o.again_after_expiry), _day(o.first), _day(o.last)]
                for o in hist.offenders[:20]
            ],
            ["repeat offender", "bans", "jails", "again after expiry", "first", "last"],
        )
    if hist.recidive:
        print(f"\nrecidive banned {len(hist.recidive)} of them: " + ", ".join(o.ip for o in hist.recidive[:10]))
    return 0


def _settings(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.settings import ignored_elsewhere
    from mailtui.fail2ban.source import read_bans
    from mailtui.settings import settings_from
    from mailtui.system.units import human_age

    settings, why = _socket_settings(cfg, args.socket or "")
    if not settings:
        raise CliError(f"jail settings need the fail2ban socket: {why or 'no jails'}")
    f2b = settings_from(cfg)
    result = read_bans(args.socket or f2b.fail2ban.socket, f2b.logs.fail2ban)
    banned = {j.name: [b.ip for b in j.banned] for j in result.snapshot.jails} if result.snapshot else {}
    trusted = ignored_elsewhere(banned, settings)
    if args.json:
        print_json(
            {
                "jails": [s.to_dict() for s in settings.values()],
                "banned_but_trusted": [{"ip": ip, "banned_by": a, "ignored_by": b} for ip, a, b in trusted],
            }
        )
        return 0

    def secs(v: int | None) -> str:
        return "?" if v is None else "permanent" if v < 0 else human_age(v)

    print_table(
        [
            [
                s.jail,
                "?" if s.maxretry is None else str(s.maxretry),
                secs(s.findtime),
                secs(s.bantime),
                {True: f"on (max {secs(s.maxtime)})", False: "off", None: "?"}[s.increment],
                " ".join(s.ignoreip) or "-",
            ]
            for s in settings.values()
        ],
        ["jail", "maxretry", "findtime", "bantime", "increment", "ignoreip"],
    )
    for ip, by, trusting in trusted:
        print(f"warning: {ip} is banned by {by} but {trusting} ignores it (ignoreip): one of the two is wrong")
    return 0


def _pending(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.pending import pending

    settings, why = _socket_settings(cfg, args.socket or "")
    waiting = pending(_fail2ban_log(cfg), settings)
    if args.jail:
        waiting = [p for p in waiting if p.jail == args.jail]
    if args.json:
        print_json({"thresholds_from_socket": bool(settings), "pending": [p.to_dict() for p in waiting]})
        return 0
    if not waiting:
        print("no address is failing without a ban right now")
    else:
        now = time.time()
        print_table([[p.ip, p.jail, p.describe(now)] for p in waiting], ["address", "jail", "failures"])
    if not settings:
        print(f"note: without the socket ({why}) findtime and maxretry are unknown: all counted failures shown")
    return 0


def _uncaught(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.uncaught import uncaught
    from mailtui.logs.locate import locate_logs
    from mailtui.logs.reader import iter_lines
    from mailtui.recognizers.engine import default_engine

    settings, _why = _socket_settings(cfg, args.socket or "")
    f2b_lines = _fail2ban_log(cfg)
    mail = [loc.path for loc in locate_logs(cfg) if loc.path and loc.usable and loc.kind in ("mail", "dovecot", "file")]
    if not mail:
        raise CliError("no readable mail log: name one with --log or [logs] mail")

    def lines() -> Any:
        for path in mail:
            for _n, line in iter_lines(path):
                yield line

    report = uncaught(lines(), f2b_lines, default_engine(), settings)
    if args.json:
        print_json({"logs": mail, **report.to_dict()})
        return 0
    if report.note:
        print(report.note)
        return 0
    if not report.kinds:
        print(
            f"every failure in {', '.join(mail)} was counted by a jail ({report.caught} lines, "
            f"{_day(report.judged_from)} .. {_day(report.judged_until)})"
        )
        return 0
    print(
        f"failures no jail counted, {_day(report.judged_from)} .. {_day(report.judged_until)} "
        f"({report.caught} others were counted):"
    )
    for k in report.kinds:
        top = ", ".join(f"{ip} ×{n}" for ip, n in k.addresses.most_common(3))
        print(
            f"{k.count:>7}  {k.severity:<7} {k.title} ({k.recognizer}) from {len(k.addresses)} "
            f"address{'es' if len(k.addresses) != 1 else ''}: {top}"
        )
        print(f"{'':>9}e.g. {k.example}")
    return 1
