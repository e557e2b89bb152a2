"""``mailtui unban IP [--jail J] [--yes]``: lift a fail2ban ban (refused under --read-only)."""

from __future__ import annotations

import argparse

from mailtui.cli import validate
from mailtui.cli.output import CliError, confirm, print_json
from mailtui.config import Config

HELP = "unban an IP in one jail or in all jails (asks for confirmation unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ip", help="the IP address to unban")
    parser.add_argument("--jail", type=validate.nonempty("jail name"), help="only in this jail (default: every jail)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    parser.add_argument("--socket", help="fail2ban-server socket")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.actions import ActionRefused, unban, valid_ip

    if cfg["ui.read_only"]:
        raise CliError("read-only mode: unban is disabled (drop --read-only / ui.read_only)")
    try:
        args.ip = valid_ip(args.ip)  # before asking: the question names what will be sent
    except ActionRefused as exc:
        raise CliError(str(exc)) from None
    where = f"jail {args.jail}" if args.jail else "every jail"
    if not confirm(f"Unban {args.ip} in {where}? fail2ban also forgets its ban history.", args.yes):
        print("nothing done")
        return 1
    try:
        count = unban(args.socket or cfg["fail2ban.socket"], args.ip, args.jail)
    except ActionRefused as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"ip": args.ip, "jail": args.jail, "unbanned": count})
    else:
        print(f"unbanned {args.ip} in {where} ({count} ban{'s' if count != 1 else ''} lifted)")
    return 0
