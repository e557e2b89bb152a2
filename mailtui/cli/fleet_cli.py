"""The CLI's way to the fleet: ``--host NAME`` / ``--all-hosts`` on bans and who, through the same
links as the dashboard (the system ssh, one agent per host), asking requests only (no log stream).

A host that cannot be reached, or whose agent refuses, is one line in the output (and exit 2);
the others still answer.
"""

from __future__ import annotations

import argparse
from typing import Any

from mailtui.cli.output import CliError
from mailtui.config import Config, HostEntry

CONNECT_SECONDS = 30.0
ANSWER_SECONDS = 60.0


def add_host_arguments(parser: argparse.ArgumentParser, all_hosts: bool = True) -> None:
    parser.add_argument(
        "--host",
        action="append",
        metavar="NAME",
        help="ask this [[hosts]] entry's agent over ssh instead of this machine (repeatable)",
    )
    if all_hosts:
        parser.add_argument("--all-hosts", action="store_true", help="ask every host of [[hosts]] over ssh")


def wanted_hosts(args: argparse.Namespace, cfg: Config) -> list[HostEntry]:
    """The hosts named by --host / --all-hosts ([] when neither was given); unknown names are an error."""
    names: list[str] = list(getattr(args, "host", None) or [])
    if getattr(args, "all_hosts", False):
        if not cfg.hosts:
            raise CliError("--all-hosts: no [[hosts]] in the config (see docs/fleet.md)")
        return list(cfg.hosts)
    if not names:
        return []
    known = {h.name: h for h in cfg.hosts}
    for name in names:
        if name not in known:
            listed = ", ".join(known) or "none: add [[hosts]] to the config (docs/fleet.md)"
            raise CliError(f"--host {name}: no such host in [[hosts]] (hosts: {listed})")
    return [known[n] for n in dict.fromkeys(names)]


def ask(entries: list[HostEntry], op: str, **params: Any) -> dict[str, tuple[bool, Any]]:
    """``op`` asked of every host at once: {host: (True, result) or (False, one-line error)}."""
    from mailtui.fleet.fleet import Fleet
    from mailtui.fleet.link import RemoteError
    from mailtui.fleet.protocol import text
    from mailtui.logs.sanitize import clean

    fleet = Fleet.from_entries(entries, stream=False)
    fleet.start()
    try:
        fleet.wait_connected(CONNECT_SECONDS)
        sent: dict[str, int] = {}
        out: dict[str, tuple[bool, Any]] = {}
        for name, host in fleet.hosts.items():
            try:
                sent[name] = host.request(op, **params)
            except ConnectionError as exc:
                out[name] = (False, f"{exc}" + (f": {host.problem}" if host.problem else ""))
        for name, ident in sent.items():
            host = fleet.hosts[name]
            try:
                reply = host.wait_reply(ident, ANSWER_SECONDS)
            except TimeoutError as exc:
                out[name] = (False, str(exc))
                continue
            if reply.get("ok") is True:
                out[name] = (True, reply.get("result"))
            else:
                error = clean(text(reply.get("error"), 500)) or "refused"
                out[name] = (False, str(RemoteError(f"{name}: {error}")))
        return {name: out[name] for name in fleet.hosts}
    finally:
        fleet.close()


def remote_bans(args: argparse.Namespace, entries: list[HostEntry]) -> int:
    """``mailtui bans --host NAME``: each host's jails and banned IPs, as its agent reads them."""
    import time

    from mailtui.cli.output import print_json, print_table
    from mailtui.fail2ban.status import format_left
    from mailtui.fleet.fleet import snapshot_of, split_jail
    from mailtui.fleet.protocol import text
    from mailtui.logs.sanitize import clean

    if getattr(args, "socket", None) or getattr(args, "why_logs", None):
        raise CliError("--socket and --log name this machine's files: not with --host")
    answers = ask(entries, "bans")
    hosts: list[dict[str, Any]] = []
    failed = 0
    now = time.time()
    table: list[list[str]] = []
    banned: list[list[str]] = []
    for name, (ok, result) in answers.items():
        snap = snapshot_of(name, result.get("snapshot")) if ok and isinstance(result, dict) else None
        if snap is None:
            failed += 1
            why = result if not ok else clean(text(result.get("reason") if isinstance(result, dict) else "", 300))
            hosts.append({"host": name, "ok": False, "error": why or "no fail2ban"})
            continue
        jails = [j for j in snap.jails if not args.jail or split_jail(j.name)[1] == args.jail]
        entry: dict[str, Any] = {
            "host": name,
            "ok": True,
            "mode": clean(text(result.get("mode"), 16)),
            "headline": clean(text(result.get("headline"), 300)),
            "version": snap.version,
            "jails": [],
        }
        for j in jails:
            data = j.to_dict()
            data["name"] = split_jail(j.name)[1]
            if args.ip:
                data["banned"] = [b for b in data["banned"] if b["ip"] == args.ip]
            entry["jails"].append(data)
            table.append(
                [name, data["name"], f"{j.currently_failed}/{j.total_failed}", f"{j.currently_banned}/{j.total_banned}"]
            )
            for b in j.banned:
                if not args.ip or b.ip == args.ip:
                    banned.append([name, data["name"], b.shown(), format_left(b.time_left(now))])
        hosts.append(entry)
    if args.json:
        print_json({"hosts": hosts})
        return 2 if failed else 0
    for h in hosts:
        if not h["ok"]:
            print(f"{h['host']}: {h['error']}")
        elif h["headline"]:
            print(f"{h['host']}: {h['headline']}")
    if table:
        print_table(table, ["host", "jail", "failed now/total", "banned now/total"])
    if banned:
        print()
        print_table(banned, ["host", "jail", "banned IP", "left"])
    elif table:
        print(
            "\n"
            + (f"{args.ip} is not banned on " if args.ip else "no IP is banned on ")
            + ", ".join(h["host"] for h in hosts if h["ok"])
        )
    return 2 if failed else 0


def remote_queue(args: argparse.Namespace, entries: list[HostEntry], read_only: bool) -> int:
    """``mailtui queue [ACTION [ID]] --host NAME``: the host's queue as its agent lists it, or one
    action sent to it. An action goes to one host, refused before the question as the dashboard
    refuses it (``--read-only``, the host's ``read_only``, an agent started ``--read-only``, a host
    that cannot be reached), and asked naming the host and the queue ID."""
    from mailtui.fleet.fleet import Fleet

    if args.action == "list":
        return _remote_queue_list(args, entries)
    if len(entries) != 1:
        raise CliError(f"queue {args.action} goes to one host: name it with --host NAME")
    entry = entries[0]
    if read_only:  # said before any connection: nothing would be sent anywhere
        raise CliError(f"read-only mode: queue {args.action} is disabled (drop --read-only / ui.read_only)")
    if entry.read_only:
        raise CliError(f"{entry.name} is read-only in the config: queue {args.action} is disabled there")
    qid = ""
    if args.action != "flush":
        from mailtui.system.queue_actions import QueueActionError, valid_queue_id

        if not args.queue_id:
            raise CliError(f"queue {args.action} needs a queue ID")
        try:
            qid = valid_queue_id(args.queue_id)
        except QueueActionError as exc:
            raise CliError(str(exc)) from None
    fleet = Fleet.from_entries([entry], stream=False)
    fleet.start()
    try:
        fleet.wait_connected(CONNECT_SECONDS)
        host = fleet.host(entry.name)
        refused = fleet.refusal(entry.name, f"queue {args.action}")
        if refused:
            raise CliError(refused + (f": {host.problem}" if host.problem and host.state != "ok" else ""))
        question = (
            f"Flush the queue on host {entry.name} (retry every deferred message now)?"
            if args.action == "flush"
            else f"{args.action.capitalize()} message {qid} on host {entry.name}?"
        )
        from mailtui.cli.output import confirm

        if not confirm(question, args.yes):
            print("nothing done")
            return 1
        message = _remote_action(fleet, entry.name, args.action, qid)
    finally:
        fleet.close()
    if args.json:
        from mailtui.cli.output import print_json

        print_json({"host": entry.name, "action": args.action, "queue_id": qid or None, "result": message})
    else:
        print(f"{entry.name}: {message}")
    return 0


def _remote_action(fleet: Any, name: str, action: str, qid: str) -> str:
    from mailtui.fleet.link import RemoteError
    from mailtui.fleet.protocol import text
    from mailtui.logs.sanitize import clean
    from mailtui.system.queue_actions import QueueActionError

    try:
        if action == "flush":
            return clean(text(fleet.host(name).call("flush", timeout=ANSWER_SECONDS), 300)) or "flushed"
        return str(fleet.queue_action(name, action, qid, timeout=ANSWER_SECONDS))
    except (RemoteError, QueueActionError, ConnectionError, TimeoutError) as exc:
        raise CliError(str(exc)) from None


def _remote_queue_list(args: argparse.Namespace, entries: list[HostEntry]) -> int:
    import time

    from mailtui.cli.output import print_json, print_table
    from mailtui.fleet.fleet import HostQueue, queue_of
    from mailtui.fleet.link import RemoteError
    from mailtui.system.queue import LIST_MESSAGES
    from mailtui.system.units import human_age, plural

    answers = ask(entries, "queue_list", limit=LIST_MESSAGES)
    listed: dict[str, HostQueue | str] = {}
    for name, (ok, result) in answers.items():
        try:
            listed[name] = queue_of(name, result) if ok else str(result)
        except RemoteError as exc:
            listed[name] = str(exc)
    failed = sum(isinstance(v, str) for v in listed.values())
    if args.json:
        hosts: list[dict[str, Any]] = []
        for name, got in listed.items():
            if isinstance(got, str):
                hosts.append({"host": name, "ok": False, "error": got})
                continue
            hosts.append(
                {
                    "host": name,
                    "ok": True,
                    "total": got.total,
                    "truncated": got.truncated,
                    "taken": got.taken,
                    "messages": [m.to_dict() for m in got.messages],
                }
            )
        print_json({"hosts": hosts})
        return 2 if failed else 0
    rows: list[list[str]] = []
    now = time.time()
    for name, got in listed.items():
        if isinstance(got, str):
            print(got if got.startswith(f"{name}:") else f"{name}: {got}")
            continue
        more = f" (the oldest {len(got.messages)} shown)" if got.truncated else ""
        print(
            f"{name}: " + (f"{plural(got.total, 'message')} in the queue{more}" if got.total else "the queue is empty")
        )
        # ages against the host's own clock when it said one, else this machine's
        taken = got.taken or now
        for m in got.messages:
            rows.append(
                [
                    name,
                    m.queue_id,
                    m.queue,
                    human_age(taken - m.arrival),
                    m.sender or "<>",
                    "; ".join(f"{r.address} ({r.reason})" if r.reason else r.address for r in m.recipients),
                ]
            )
    if rows:
        print_table(rows, ["host", "queue id", "queue", "age", "sender", "recipients"])
    return 2 if failed else 0
