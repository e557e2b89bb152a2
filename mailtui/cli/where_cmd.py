"""``mailtui where KEY``: every file and line that sets a Postfix or Dovecot setting, and which wins."""

from __future__ import annotations

import argparse
from typing import Any

from mailtui.cli.output import print_json
from mailtui.config import Config

HELP = "show where a Postfix or Dovecot setting is set (every file and line) and its live value"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", help="a postconf or doveconf name, e.g. smtpd_helo_restrictions or ssl")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig

    postfix = PostfixConfig(cfg["postfix.config_dir"])
    dovecot = DovecotConfig(cfg["dovecot.config"])
    report: list[dict[str, Any]] = []
    for daemon, reader in (("postfix", postfix), ("dovecot", dovecot)):
        if not reader.available:
            report.append({"daemon": daemon, "value": None, "set_in": [], "note": reader.problem})
            continue
        value = reader.values([args.key]).get(args.key)
        locations = reader.where(args.key)
        if value is None and not locations:
            continue
        report.append({"daemon": daemon, "value": value,
                       "set_in": [loc.to_dict() for loc in locations], "note": ""})
    if args.json:
        print_json({"key": args.key, "found": report})
    else:
        known = [r for r in report if r["value"] is not None or r["set_in"]]
        for r in report:
            if r["note"]:
                print(f"{r['daemon']}: {r['note']}")
        for r in known:
            print(f"{r['daemon']}: {args.key} = {r['value'] if r['value'] is not None else '(unknown)'}")
            if not r["set_in"]:
                print("  not set in any file: this is the built-in default")
            for loc in r["set_in"]:
                scope = f" [{loc['section']}]" if loc["section"] else ""
                state = "  <- in force" if loc["effective"] else "  (overridden)"
                print(f"  {loc['file']}:{loc['line']}{scope}: {args.key} = {loc['value']}{state}")
        if not known and not any(r["note"] for r in report):
            print(f"{args.key}: neither Postfix nor Dovecot knows this setting")
    return 0 if any(r["value"] is not None or r["set_in"] for r in report) else 1
