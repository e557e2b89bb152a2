"""``mailtui bans``: every fail2ban jail at once, banned IPs with time left; ``--ip`` says why."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from typing import TYPE_CHECKING

from mailtui.cli.output import CliError, print_json, print_table
from mailtui.config import Config

if TYPE_CHECKING:
    from mailtui.fail2ban.why import BanReason

HELP = "fail2ban: all jails, banned IPs and time left (socket, or fail2ban.log when not root)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jail", help="only this jail")
    parser.add_argument("--ip", help="where this IP stands: banned by which jail, since when")
    parser.add_argument("--socket", help="fail2ban-server socket (default: from fail2ban's config)")
    parser.add_argument("--log", dest="why_logs", action="append", metavar="FILE",
                        help="with --ip: logs to read for the reason (default: the configured logs)")


def _why(args: argparse.Namespace, cfg: Config, ip: str) -> tuple[BanReason, list[str]]:
    """Read the configured logs (mail + fail2ban) for the lines that got ``ip`` banned."""
    from mailtui.analysis.who import iterate_files
    from mailtui.fail2ban.why import why_banned
    from mailtui.logs.locate import access_problem, locate_logs

    files = args.why_logs or [loc.path for loc in locate_logs(cfg) if loc.path and loc.usable]
    if cfg["logs.fail2ban"] and cfg["logs.fail2ban"] not in files and not access_problem(cfg["logs.fail2ban"]):
        files.append(cfg["logs.fail2ban"])
    files = [f for f in files if not access_problem(f)]
    return why_banned(iterate_files(files)(), ip, args.jail), files


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "?"


def run(args: argparse.Namespace, cfg: Config) -> int:
    import ipaddress

    from mailtui.fail2ban.source import read_bans
    from mailtui.fail2ban.status import format_left as _left

    if args.ip:
        try:
            args.ip = str(ipaddress.ip_address(args.ip))
        except ValueError:
            raise CliError(f"{args.ip!r} is not an IP address") from None
    result = read_bans(args.socket or cfg["fail2ban.socket"], cfg["logs.fail2ban"])
    if result.snapshot is None:
        raise CliError(f"fail2ban: {result.reason}")
    snap = result.snapshot
    jails = [j for j in snap.jails if not args.jail or j.name == args.jail]
    if args.jail and not jails:
        raise CliError(f"no jail named {args.jail!r} (jails: {', '.join(j.name for j in snap.jails)})")
    if args.json:
        data = snap.to_dict()
        data["jails"] = [j.to_dict() for j in jails]
        data["note"] = result.reason
        if args.ip:
            reason, files = _why(args, cfg, args.ip)
            data["ip"] = {"ip": args.ip, "banned_in": [
                {"jail": j.name, "ban_start": b.ban_start, "ban_time": b.ban_time, "ends": b.ends}
                for j, b in snap.find_ip(args.ip) if j in jails], "why": reason.to_dict(), "logs_read": files}
        print_json(data)
        return 0
    if result.mode == "log":
        print(f"(not using the socket: {result.reason})")
    now = time.time()
    print_table([[j.name, f"{j.currently_failed}/{j.total_failed}", f"{j.currently_banned}/{j.total_banned}",
                  ", ".join(j.files)[:60]] for j in jails],
                ["jail", "failed now/total", "banned now/total", "watching"])
    if args.ip:
        hits = [(j, b) for j, b in snap.find_ip(args.ip) if j in jails]
        print()
        if not hits:
            print(f"{args.ip} is not banned in any jail")
        for j, b in hits:
            print(f"{args.ip} is banned by {j.name} since {_when(b.ban_start)}, "
                  f"{_left(b.time_left(now))} left (ban time {b.ban_time if b.ban_time is not None else '?'} s)")
        reason, files = _why(args, cfg, args.ip)
        print(f"\nwhy (from {', '.join(files) or 'no readable log'}):")
        for rec, _ in reason.found[-10:]:
            print(f"  {_when(rec.timestamp)} fail2ban {rec.message}")
        problems = [(r, m) for r, m in reason.mail if m is not None and m.recognizer.rank >= 1]
        for rec, match in problems[-15:]:
            print(f"  {_when(rec.timestamp)} {rec.program} {rec.message}")
            print(f"      → {match.recognizer.title}")
        for e in reason.events[-10:]:
            print(f"  {_when(e.timestamp)} [{e.jail}] {e.action} {e.ip}")
        if not (reason.found or problems or reason.events):
            print("  nothing in these logs mentions it")
        return 0
    rows = [[j.name, b.ip, _when(b.ban_start), _left(b.time_left(now))] for j in jails for b in j.banned]
    if rows:
        print()
        print_table(rows, ["jail", "banned IP", "since", "left"])
    return 0
