"""``mailtui who QUERY``: the timeline of a user, address, IP or host across all logs, explained."""

from __future__ import annotations

import argparse
from datetime import datetime

from mailtui.cli.output import CliError, print_json
from mailtui.config import Config

HELP = "who is complaining? everything the logs say about a user, email address, IP or host"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="email address, user name, IP address or host name")
    parser.add_argument("files", nargs="*", metavar="FILE", help="logs to search (default: the configured logs)")
    parser.add_argument("--since", help="only lines at or after this time (2026-02-19, 2h, 7d)")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.analysis.who import iterate_files, lookup
    from mailtui.cli.scan_cmd import _files
    from mailtui.cli.timespec import parse_time
    from mailtui.logs.locate import access_problem

    if not args.query.strip():
        raise CliError("give a user, address, IP or host name to look up")
    args.rotated = False
    files = _files(args, cfg)
    for name in files:
        problem = access_problem(name)
        if problem:
            raise CliError(f"{name}: {problem}")
    since = parse_time(args.since) if args.since else None
    result = lookup(iterate_files(files, since), args.query)
    if args.json:
        print_json({"query": result.query, "kind": result.kind, "truncated": result.truncated,
                    "problems": len(result.problems), "lines": [t.to_dict() for t in result.lines]})
        return 0 if result.lines else 1
    if not result.lines:
        print(f"nothing in {', '.join(files)} mentions {args.query}")
        return 1
    print(f"{args.query}: {len(result.lines)} lines, {len(result.problems)} recognized problems")
    last_conv = None
    for t in result.lines:
        conv = t.keys[0] if t.keys else None
        if conv != last_conv:
            print()
            last_conv = conv
        when = datetime.fromtimestamp(t.record.timestamp).strftime("%b %d %H:%M:%S") if t.record.timestamp else "-"
        mark = {"crit": "✖", "error": "✖", "warn": "⚠", "notice": "•"}.get(
            t.match.recognizer.severity if t.match else "", " ")
        print(f"{mark} {when} {t.record.program:<24} {t.record.message}")
        if t.match is not None and t.match.recognizer.rank >= 1:
            print(f"    → {t.match.recognizer.title}: {t.match.summary}")
            if t.note:
                print(f"    → {t.note}")
    if result.truncated:
        print("\n(timeline cut: narrow it with --since)")
    return 0
