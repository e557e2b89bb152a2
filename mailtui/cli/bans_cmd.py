"""``mailtui bans``: every fail2ban jail at once, banned IPs with time left; ``--ip`` says why."""

from __future__ import annotations

import argparse
import atexit
import gc
import time
from typing import TYPE_CHECKING, Any

from mailtui.cli import validate
from mailtui.cli.output import CliError, EncodedRows, encode_rows, print_json, print_table
from mailtui.config import Config
from mailtui.system.units import plural

if TYPE_CHECKING:
    from mailtui.containers.bans import ApplianceBans
    from mailtui.fail2ban.status import BannedIP, JailStatus
    from mailtui.fail2ban.why import BanReason

HELP = "fail2ban: all jails, banned IPs and time left (socket, or fail2ban.log when not root)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jail", type=validate.nonempty("jail name"), help="only this jail")
    parser.add_argument("--ip", help="where this IP stands: banned by which jail, since when")
    parser.add_argument("--socket", help="fail2ban-server socket (default: from fail2ban's config)")
    parser.add_argument(
        "--log",
        dest="why_logs",
        action="append",
        metavar="FILE",
        help="with --ip: logs to read for the reason (default: the configured logs)",
    )
    from mailtui.cli import bans_more, fleet_cli

    bans_more.add_arguments(parser)
    fleet_cli.add_host_arguments(parser)


def _why(args: argparse.Namespace, cfg: Config, ip: str) -> tuple[BanReason, list[str]]:
    """Read the configured logs (mail + fail2ban) for the lines that got ``ip`` banned."""
    from mailtui.analysis.who import iterate_files
    from mailtui.fail2ban.why import why_banned
    from mailtui.logs.locate import access_problem, locate_logs
    from mailtui.settings import settings_from

    files = list(args.why_logs or [loc.path for loc in locate_logs(cfg) if loc.path and loc.usable])
    f2b_log = settings_from(cfg).logs.fail2ban
    if f2b_log and f2b_log not in files and not access_problem(f2b_log):
        files.append(f2b_log)
    files = [f for f in files if not access_problem(f)]
    return why_banned(iterate_files(files)(), ip, args.jail), files


_NULL: dict[object, str] = {None: "null"}  # a value that is not of its field's type: None, or not plain


def _float_text(value: object, known: dict[float, str]) -> str | None:
    """A float's JSON text as json writes it (its repr), None for inf/NaN and non-floats."""
    if type(value) is not float or value - value != 0.0:
        return _NULL.get(value)
    text = repr(value)
    if value:  # 0.0 and -0.0 are one key of a dict, and two texts
        known[value] = text
    return text


def encode_bans(bans: list[BannedIP], depth: int) -> EncodedRows | list[Any]:
    """``encode_rows(ban_rows(bans), depth)``, written with one f-string per ban instead of a
    dict and a C-encoder call each (20,000 bans: 2-3x less time, while fail2ban formats the next
    jail). The same text: each value as json writes it (a str through json's own escaping, a
    finite float as its repr, an int, None as null); anything else (inf, NaN, a bool, another
    type) sends the list to encode_rows, which knows every case."""
    from json.encoder import encode_basestring as quoted  # what the C encoder escapes with

    from mailtui.fail2ban.status import ban_rows

    floats: dict[float, str] = {}  # bans of one run share their start and end seconds
    rows: list[str] = []
    append = rows.append
    try:
        for b in bans:
            start, ends, ban_time, ip = b.ban_start, b.ends, b.ban_time, b.ip
            s = (floats.get(start) if type(start) is float else _NULL.get(start)) or _float_text(start, floats)
            e = (floats.get(ends) if type(ends) is float else _NULL.get(ends)) or _float_text(ends, floats)
            t = int.__repr__(ban_time) if type(ban_time) is int else _NULL.get(ban_time)
            if s is None or e is None or t is None or type(ip) is not str:
                return encode_rows(ban_rows(bans), depth)
            append(f'{{"ip": {quoted(ip)}, "ban_start": {s}, "ban_time": {t}, "ends": {e}}}')
    except TypeError:  # an unhashable value where a number belongs
        return encode_rows(ban_rows(bans), depth)
    if not rows:
        return []
    pad = "\n" + "  " * (depth + 1)
    return EncodedRows(f"[{pad}{f',{pad}'.join(rows)}\n{'  ' * depth}]")


def _when(ts: float | None) -> str:
    from datetime import datetime  # not for --json (fail2ban.status imports it once answers arrive)

    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "?"


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.cli import bans_more, fleet_cli

    hosts = fleet_cli.wanted_hosts(args, cfg)  # --host / --all-hosts: their agents, over ssh
    if hosts and bans_more.wanted(args):
        raise CliError("--history, --settings, --pending and --uncaught read this machine: not with --host")
    if hosts:
        if args.ip:
            from mailtui.fail2ban.actions import ActionRefused, valid_ip

            try:
                args.ip = valid_ip(args.ip)
            except ActionRefused as exc:
                raise CliError(str(exc)) from None
        return fleet_cli.remote_bans(args, hosts)
    if bans_more.wanted(args):
        return bans_more.run(args, cfg)

    from mailtui.fail2ban.source import read_bans
    from mailtui.fail2ban.status import format_left as _left

    if args.ip:
        from mailtui.fail2ban.actions import ActionRefused, valid_ip

        try:
            args.ip = valid_ip(args.ip)  # as fail2ban stores it (::ffff:1.2.3.4 is 1.2.3.4)
        except ActionRefused as exc:
            raise CliError(str(exc)) from None
    if args.why_logs:
        from mailtui.logs.locate import access_problem

        # named on the command line: one that cannot be read is an error, not "no readable log"
        for name in args.why_logs:
            problem = access_problem(name)
            if problem:
                raise CliError(f"{name}: {problem}")
    found: ApplianceBans | None = None
    if args.socket:
        # the socket named: no appliance to look for, and of the settings only fail2ban's log is
        # read (mailtui.settings' nine dataclasses cost ~37 M instructions, an eighth of the
        # command's work before it asks fail2ban); the value was checked as a str when it was set
        socket_file, log_file = args.socket, str(cfg["logs.fail2ban"])
    else:
        from mailtui.containers.bans import appliance_bans
        from mailtui.settings import settings_from

        # mailcow's netfilter (its API) or docker-mailserver's fail2ban, when the mail server is an appliance
        settings = settings_from(cfg)
        found = appliance_bans(settings)
        socket_file, log_file = settings.fail2ban.socket, settings.logs.fail2ban
    encoded: dict[int, Any] = {}  # id(jail) -> its bans as JSON rows, written while fail2ban formats the next

    def encode(jail: JailStatus) -> None:
        encoded[id(jail)] = encode_bans(jail.banned, depth=3)  # data["jails"][n]["banned"]

    # 20,000 bans are ~100,000 objects without a cycle among them: the cyclic collector would
    # walk them over and over while they are made (4 % of the command's instructions)
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = (
            found.result if found is not None else read_bans(socket_file, log_file, each=encode if args.json else None)
        )
    finally:
        if collecting:
            gc.enable()
    if result.snapshot is None:
        raise CliError(f"fail2ban: {result.reason}")
    snap = result.snapshot
    jails = [j for j in snap.jails if not args.jail or j.name == args.jail]
    if args.jail and not jails:
        raise CliError(f"no jail named {args.jail!r} (jails: {', '.join(j.name for j in snap.jails)})")
    if args.json:
        data: dict[str, Any] = {
            "jails": [j.to_dict(encoded.get(id(j))) for j in jails],
            "source": snap.source,
            "version": snap.version,
        }
        data.update(result.to_dict())  # mode, server, source_file, as_of, headline, actions_disabled, note
        data["note"] = "; ".join(n for n in (result.reason, snap.note) if n)
        if args.ip:
            reason, files = _why(args, cfg, args.ip)
            data["ip"] = {
                "ip": args.ip,
                "banned_in": [
                    {"jail": j.name, "ban_start": b.ban_start, "ban_time": b.ban_time, "ends": b.ends}
                    for j, b in snap.find_ip(args.ip)
                    if j in jails
                ],
                "why": reason.to_dict(),
                "logs_read": files,
            }
        print_json(data, rows_at=4)  # one line per banned address
        # the collection at exit need not walk the bans again; at exit, not now: main() may run
        # inside a longer process (a test), whose later garbage must stay collectable
        atexit.unregister(gc.freeze)
        atexit.register(gc.freeze)
        return 0
    if result.mode == "log":
        print(result.headline())
        print(f"(not using the socket: {result.reason})")
        if result.actions_disabled:
            print(f"(unban is not possible now: {result.actions_disabled})")
    elif result.mode == "mailcow":
        print(result.headline())
        if result.actions_disabled:
            print(f"(unban is not possible now: {result.actions_disabled})")
    if snap.note:
        print(f"(note: {snap.note})")
    now = time.time()
    if not jails:
        print(
            "no jails"
            + (" in " + result.source_file if result.mode == "log" else ": fail2ban runs but has no jail enabled")
        )
        return 0
    print_table(
        [
            [
                j.name,
                f"{j.currently_failed}/{j.total_failed}",
                f"{j.currently_banned}/{j.total_banned}",
                ", ".join(j.files)[:60],
            ]
            for j in jails
        ],
        ["jail", "failed now/total", "banned now/total", "watching"],
    )
    if args.ip:
        hits = [(j, b) for j, b in snap.find_ip(args.ip) if j in jails]
        print()
        if not hits:
            print(f"{args.ip} is not banned in any jail")
        for j, b in hits:
            ban_time = (
                "unknown" if b.ban_time is None else "permanent" if b.ban_time < 0 else plural(b.ban_time, "second")
            )
            print(
                f"{args.ip} is banned by {j.name} since {_when(b.ban_start)}, "
                f"{_left(b.time_left(now))} left (ban time {ban_time})"
            )
        reason, files = _why(args, cfg, args.ip)
        if not files:
            print("\nwhy: no readable log to look in (name one with --log FILE; see mailtui config)")
            return 0
        print(f"\nwhy (from {', '.join(files)}):")
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
    rows = [[j.name, b.shown(), _when(b.ban_start), _left(b.time_left(now))] for j in jails for b in j.banned]
    print()
    if rows:
        print_table(rows, ["jail", "banned IP", "since", "left"])
    else:
        where = f"in jail {args.jail}" if args.jail else f"in any of the {plural(len(jails), 'jail')}"
        print(f"no IP is banned {where}" + (f" (according to {result.source_file})" if result.mode == "log" else ""))
    return 0
