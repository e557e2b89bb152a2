"""Command-line entry point: global options, subcommands, one-line errors.

Each subcommand is a small module in this package exposing ``HELP``,
``add_arguments(parser)`` and ``run(args, cfg) -> int``. Every module is imported for
building the parser, and each keeps its heavy imports (engine, dnspython, psutil, Textual)
inside ``run``, so ``mailtui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from mailtui import __version__
from mailtui.cli.output import CliError

# name -> module; order is the order shown in --help.
SUBCOMMANDS: dict[str, str] = {
    "scan": "mailtui.cli.scan_cmd",
    "explain": "mailtui.cli.explain_cmd",
    "who": "mailtui.cli.who_cmd",
    "bans": "mailtui.cli.bans_cmd",
    "unban": "mailtui.cli.unban_cmd",
    "check": "mailtui.cli.check_cmd",
    "services": "mailtui.cli.services_cmd",
    "queue": "mailtui.cli.queue_cmd",
    "where": "mailtui.cli.where_cmd",
    "config": "mailtui.cli.config_cmd",
}

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 70


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailtui",
        description="Terminal dashboard for Postfix + Dovecot + fail2ban. "
        "With no command, starts the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"mailtui {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH", help="extra config file (read last)")
    parser.add_argument(
        "--log", action="append", metavar="PATH", default=None,
        help="watch this log file instead of the auto-detected ones (repeatable)",
    )
    parser.add_argument("--read-only", action="store_true", help="no action may change the server")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--demo", action="store_true", help="replay captured daemon logs; no mail server needed"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        sp.add_argument("--json", action="store_true", help="machine-readable output")
        module.add_arguments(sp)
    return parser


def cli_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.log:
        overrides["logs.files"] = list(args.log)
    if args.read_only:
        overrides["ui.read_only"] = True
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from mailtui import config

        try:
            cfg = config.load(args.config, cli_overrides(args))
        except config.ConfigError as exc:
            raise CliError(str(exc)) from None
        if args.command is None:
            from mailtui.cli.tui import run_tui

            return run_tui(args, cfg)
        module = importlib.import_module(SUBCOMMANDS[args.command])
        return int(module.run(args, cfg))
    except CliError as exc:
        if args.debug:
            raise
        print(f"mailtui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `mailtui scan ... | head` closes the pipe early; that is not an error.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        if args.debug:
            raise
        print(f"mailtui: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
              file=sys.stderr)
        return EXIT_INTERNAL
