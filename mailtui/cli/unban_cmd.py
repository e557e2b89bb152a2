"""``mailtui unban IP [--jail J] [--yes]``: lift a fail2ban ban (refused under --read-only)."""

from __future__ import annotations

import argparse

from mailtui.cli import validate
from mailtui.cli.output import CliError, confirm, print_json
from mailtui.config import Config
from mailtui.settings import settings_from
from mailtui.system.units import plural

HELP = "unban an IP in one jail or in all jails (asks for confirmation unless --yes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ip", help="the IP address to unban")
    parser.add_argument("--jail", type=validate.nonempty("jail name"), help="only in this jail (default: every jail)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    parser.add_argument("--socket", help="fail2ban-server socket")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.fail2ban.actions import ActionRefused, unban, valid_ip
    from mailtui.fail2ban.source import check_actions

    settings = settings_from(cfg)
    if settings.ui.read_only:
        raise CliError("read-only mode: unban is disabled (drop --read-only / ui.read_only)")
    try:
        args.ip = valid_ip(args.ip)  # before asking: the question names what will be sent
    except ActionRefused as exc:
        raise CliError(str(exc)) from None
    where = f"jail {args.jail}" if args.jail else "every jail"
    if not args.socket:
        from mailtui.containers.bans import appliance_bans

        found = appliance_bans(settings)
        if found is not None:
            return _unban_appliance(args, found)
    blocked = check_actions(args.socket or settings.fail2ban.socket)
    if blocked:  # before asking: a yes to a question that cannot be carried out is wasted
        raise CliError(f"cannot unban {args.ip}: {blocked}")
    if not confirm(f"Unban {args.ip} in {where}? fail2ban also forgets its ban history.", args.yes):
        print("nothing done")
        return 1
    try:
        count = unban(args.socket or settings.fail2ban.socket, args.ip, args.jail)
    except ActionRefused as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"ip": args.ip, "jail": args.jail, "unbanned": count})
    else:
        print(f"unbanned {args.ip} in {where} ({plural(count, 'ban')} lifted)")
    return 0


def _unban_appliance(args: argparse.Namespace, found: object) -> int:
    """mailcow (its API) or docker-mailserver (its fail2ban in the container): the same questions."""
    from mailtui.containers.bans import ApplianceBans, unban
    from mailtui.containers.mailcow import MailcowError
    from mailtui.fail2ban.actions import ActionRefused

    assert isinstance(found, ApplianceBans)
    if found.result.snapshot is None:
        raise CliError(f"cannot unban {args.ip}: {found.result.reason}")
    blocked = found.result.actions_disabled
    if blocked:
        raise CliError(f"cannot unban {args.ip}: {blocked}")
    host = found.mailcow.url if found.mailcow is not None else "docker-mailserver's fail2ban"
    scope = f"jail {args.jail}" if args.jail and found.mailcow is None else "every jail"
    if not confirm(f"Unban {args.ip} in {scope} on {host}?", args.yes):
        print("nothing done")
        return 1
    try:
        said = unban(found, args.ip, args.jail if found.mailcow is None else None)
    except (MailcowError, ActionRefused) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"ip": args.ip, "jail": args.jail, "result": said})
    else:
        print(said)
    return 0
