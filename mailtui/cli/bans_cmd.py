"""``mailtui bans``: every fail2ban jail at once, banned IPs with time left; ``--ip`` says why."""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from mailtui.cli.output import CliError, print_json, print_table
from mailtui.config import Config

HELP = "fail2ban: all jails, banned IPs and time left (socket, or fail2ban.log when not root)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jail", help="only this jail")
    parser.add_argument("--ip", help="where this IP stands: banned by which jail, since when")
    parser.add_argument("--socket", help="fail2ban-server socket (default: from fail2ban's config)")


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
            data["ip"] = {"ip": args.ip, "banned_in": [
                {"jail": j.name, "ban_start": b.ban_start, "ban_time": b.ban_time, "ends": b.ends}
                for j, b in snap.find_ip(args.ip) if j in jails]}
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
        return 0
    rows = [[j.name, b.ip, _when(b.ban_start), _left(b.time_left(now))] for j in jails for b in j.banned]
    if rows:
        print()
        print_table(rows, ["jail", "banned IP", "since", "left"])
    return 0
