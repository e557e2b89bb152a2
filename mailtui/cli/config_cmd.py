"""``mailtui config``: the effective configuration, where each value came from, and the logs found."""

from __future__ import annotations

import argparse
import sys

from mailtui.cli.output import print_json, print_table
from mailtui.config import Config

HELP = "print the effective configuration, where each value comes from, and the logs found"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-logs", action="store_true", help="skip log auto-detection")


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.logs.locate import locate_logs

    logs = [] if args.no_logs else locate_logs(cfg)
    if args.json:
        print_json({
            "files_read": cfg.files_read,
            "settings": cfg.as_rows(),
            "logs": [loc.to_dict() for loc in logs],
        })
        return 0
    out = sys.stdout
    out.write("config files read: " + (", ".join(cfg.files_read) or "none") + "\n\n")
    print_table([[r["key"], repr(r["value"]), r["source"]] for r in cfg.as_rows()],
                ["setting", "value", "from"])
    if not args.no_logs:
        out.write("\nlogs:\n")
        rows = [[loc.kind, loc.path or "(journal)", loc.origin, loc.problem or "ok"] for loc in logs]
        if rows:
            print_table(rows, ["kind", "path", "found by", "status"])
        else:
            out.write("  none found: pass --log PATH or set [logs] mail = ... in the config\n")
    return 0
