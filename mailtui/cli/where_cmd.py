"""``mailtui where KEY``: every file and line that sets a Postfix or Dovecot setting, and which wins.

A Postfix setting overridden in master.cf (``-o``) has more than one value in force: main.cf's
for most services, the override's for its own. Each service's value is listed with the program
name its lines carry (what links a log line to it).
"""

from __future__ import annotations

import argparse
from typing import Any

from mailtui.cli.output import print_json
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "show where a Postfix or Dovecot setting is set (every file and line) and its live value"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", help="a postconf or doveconf name, e.g. smtpd_helo_restrictions or ssl")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig

    settings = settings_from(cfg)
    postfix = PostfixConfig(settings.postfix.config_dir)
    dovecot = DovecotConfig(settings.dovecot.config)
    report: list[dict[str, Any]] = []
    for daemon, reader in (("postfix", postfix), ("dovecot", dovecot)):
        if not reader.available:
            report.append({"daemon": daemon, "value": None, "set_in": [], "note": reader.problem})
            continue
        value = reader.values([args.key]).get(args.key)
        locations = reader.where(args.key)
        if value is None and not locations:
            continue
        services = []
        if isinstance(reader, PostfixConfig):
            services = [
                {"service": s.name, "program": s.program, "value": s.overrides[args.key]}
                for s in reader.services()
                if args.key in s.overrides
            ]
        report.append(
            {
                "daemon": daemon,
                "value": value,
                "services": services,
                "set_in": [loc.to_dict() for loc in locations],
                "note": "",
            }
        )
    if args.json:
        print_json({"key": args.key, "found": report})
    else:
        known = [r for r in report if r["value"] is not None or r["set_in"]]
        for r in report:
            if r["note"]:
                print(f"{r['daemon']}: {r['note']}")
        for r in known:
            shown = r["value"] if r["value"] is not None else "(unknown)"
            services = r.get("services") or []
            others = "  (main.cf: in force for every service without its own -o override)" if services else ""
            print(f"{r['daemon']}: {args.key} = {shown}{others}")
            for svc in services:
                print(
                    f"  {svc['service']} (logs as {svc['program']}): {args.key} = {svc['value']}"
                    "  <- in force for this service (master.cf -o)"
                )
            if not r["set_in"]:
                print("  not set in any file: this is the built-in default")
            for loc in r["set_in"]:
                scope = f" [{loc['section']}]" if loc["section"] else ""
                if not loc["effective"]:
                    state = "  (overridden)"
                elif loc["section"] and r["daemon"] == "postfix":
                    state = f"  <- in force for {loc['section']}"
                elif services:
                    state = "  <- in force for the other services"
                else:
                    state = "  <- in force"
                print(f"  {loc['file']}:{loc['line']}{scope}: {args.key} = {loc['value']}{state}")
        if not known and not any(r["note"] for r in report):
            print(f"{args.key}: neither Postfix nor Dovecot knows this setting")
    return 0 if any(r["value"] is not None or r["set_in"] for r in report) else 1
