"""Command-line entry point: global options, subcommands, one-line errors.

Each subcommand is a small module in this package exposing ``HELP``,
``add_arguments(parser)`` and ``run(args, cfg) -> int``. Every module is imported for
building the parser, and each keeps its heavy imports (engine, dnspython, psutil, Textual)
inside ``run``, so ``mailtui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from mailtui import __version__
from mailtui.cli.output import CliError, SafeStream, guard_streams

# name -> module; order is the order shown in --help.
SUBCOMMANDS: dict[str, str] = {
    "scan": "mailtui.cli.scan_cmd",
    "explain": "mailtui.cli.explain_cmd",
    "who": "mailtui.cli.who_cmd",
    "bans": "mailtui.cli.bans_cmd",
    "unban": "mailtui.cli.unban_cmd",
    "check": "mailtui.cli.check_cmd",
    "services": "mailtui.cli.services_cmd",
    "containers": "mailtui.cli.containers_cmd",
    "queue": "mailtui.cli.queue_cmd",
    "where": "mailtui.cli.where_cmd",
    "config": "mailtui.cli.config_cmd",
    "agent": "mailtui.cli.agent_cmd",
}

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_IOERR = 74
EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, found the same way: $COLUMNS when it is a positive
    number, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, closed, not a terminal
        return 80
    return size.columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, given the width argparse would ask ``shutil`` for: argparse makes one
    for every ``add_argument`` (to check its metavar), and importing shutil (with zlib, bz2 and
    lzma) cost ~7 M instructions of ``mailtui bans --json``, which prints no help."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error (argparse prints the usage first)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)  # subparsers are made of this class too
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


#: the top-level options that take a value (the next argument, or ``--opt=value``)
_VALUED = ("--config", "--log")
_FLAGS = ("--read-only", "--debug", "--demo")


def _command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names when only plain top-level options come before it (None
    when anything else does: --help, --version, an abbreviation, an unknown word)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in SUBCOMMANDS:
            return arg
        if arg in _FLAGS or arg.startswith(tuple(f"{o}=" for o in _VALUED)):
            i += 1
        elif arg in _VALUED:
            i += 2
        else:
            return None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the arguments, the only subcommand module imported is the one they name
    (each costs its imports: ~25 ms for all of them, a tenth of ``mailtui bans --json``), and the
    only subparser made (~0.4 ms each): what follows the command is its subparser's alone."""
    command = _command_of(argv) if argv is not None else None
    parser = _Parser(
        prog="mailtui",
        description="Terminal dashboard for Postfix + Dovecot + fail2ban. With no command, starts the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"mailtui {__version__}")
    parser.add_argument("--config", type=Path, metavar="PATH", help="extra config file (read last)")
    parser.add_argument(
        "--log",
        action="append",
        metavar="PATH",
        default=None,
        help="watch this log file instead of the auto-detected ones (repeatable)",
    )
    parser.add_argument("--read-only", action="store_true", help="no action may change the server")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--demo", action="store_true", help="replay captured daemon logs; no mail server needed")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        if command is not None and name != command:
            continue
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


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).strip()


def _os_message(exc: OSError) -> str:
    """``path: reason`` for an OSError that reached the top (EMFILE, EACCES, ENOTDIR...)."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.EMFILE:
        reason += " (too many files open: raise `ulimit -n` or name fewer files)"
    return f"{exc.filename}: {reason}" if exc.filename else reason


def main(argv: list[str] | None = None) -> int:
    guard_streams()
    code = _main(argv)
    try:
        from mailtui.cli.catalog import report_problems

        report_problems()
    except Exception:  # noqa: BLE001 - a warning must not change the result
        pass
    # a full disk is only known once the buffer is written: say so, do not exit 0
    sys.stdout.flush()
    out = sys.stdout
    if isinstance(out, SafeStream) and out.error is not None:
        print(f"mailtui: cannot write the output: {_os_message(out.error)}", file=sys.stderr)
        return code or EXIT_IOERR
    return code


def _main(argv: list[str] | None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        from mailtui import config

        try:
            cfg = config.load(args.config, cli_overrides(args))
        except config.ConfigError as exc:
            raise CliError(str(exc)) from None
        for warning in cfg.warnings:
            print(f"mailtui: warning: {_one_line(warning)}", file=sys.stderr)
        if args.command is None:
            from mailtui.cli.tui import run_tui

            return run_tui(args, cfg)
        module = importlib.import_module(SUBCOMMANDS[args.command])
        return int(module.run(args, cfg))
    except CliError as exc:
        if args.debug:
            raise
        print(f"mailtui: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # a pipe other than stdout (stdout's is handled by SafeStream): nothing to say
        return EXIT_PIPE
    except OSError as exc:
        # the environment, not a bug: a file that vanished, too many open files, ...
        if args.debug:
            raise
        print(f"mailtui: {_one_line(_os_message(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        if args.debug:
            raise
        print("mailtui: the input is nested too deeply to read", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("mailtui: out of memory", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"mailtui: internal error: {type(exc).__name__}: {_one_line(str(exc))[:300]} (rerun with --debug)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
