"""``mailtui queue [flush | hold ID | release ID | delete ID | requeue ID]``: the Postfix queue
(this machine's, or with ``--host NAME`` a [[hosts]] entry's, through its agent over ssh)."""

from __future__ import annotations

import argparse
import time

from mailtui.cli.output import CliError, confirm, print_json, print_table
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "list the Postfix queue, or flush it / hold, release, delete, requeue one message"
ACTIONS = ("list", "flush", "hold", "release", "delete", "requeue")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="list", choices=ACTIONS)
    parser.add_argument("queue_id", nargs="?", help="the message's queue ID (hold/release/delete/requeue)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    from mailtui.cli import fleet_cli

    fleet_cli.add_host_arguments(parser)


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.cli import fleet_cli
    from mailtui.system import queue_actions
    from mailtui.system.queue import read_queue
    from mailtui.system.units import human_age, plural

    settings = settings_from(cfg)
    hosts = fleet_cli.wanted_hosts(args, cfg)  # --host / --all-hosts: their agents, over ssh
    if hosts:
        return fleet_cli.remote_queue(args, hosts, settings.ui.read_only)
    config_dir = settings.postfix.config_dir
    if args.action == "list":
        snap = read_queue(config_dir)
        if snap.error:
            raise CliError(snap.error)
        if args.json:
            print_json(snap.to_dict())
            return 0
        if not snap.messages:
            print("the queue is empty")
            return 0
        now = time.time()
        print(f"{plural(len(snap.messages), 'message')} in the queue")
        print_table(
            [
                [
                    m.queue_id,
                    m.queue,
                    human_age(now - m.arrival),
                    m.sender or "<>",
                    "; ".join(f"{r.address} ({r.reason})" if r.reason else r.address for r in m.recipients),
                ]
                for m in snap.messages
            ],
            ["queue id", "queue", "age", "sender", "recipients"],
        )
        return 0
    if settings.ui.read_only:
        raise CliError(f"read-only mode: queue {args.action} is disabled (drop --read-only / ui.read_only)")
    try:
        if args.action == "flush":
            if not confirm("Flush the queue (retry every deferred message now)?", args.yes):
                print("nothing done")
                return 1
            message = queue_actions.flush(config_dir)
        else:
            if not args.queue_id:
                raise CliError(f"queue {args.action} needs a queue ID")
            qid = queue_actions.valid_queue_id(args.queue_id)
            if not confirm(f"{args.action.capitalize()} message {qid}?", args.yes):
                print("nothing done")
                return 1
            message = queue_actions.change(args.action, qid, config_dir)
    except queue_actions.QueueActionError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json({"action": args.action, "queue_id": args.queue_id, "result": message})
    else:
        print(message)
    return 0
