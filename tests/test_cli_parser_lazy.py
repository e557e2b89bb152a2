"""The parser built for the arguments given imports only the command they name, and parses as the full one.

``mailtui bans --json`` is timed as a whole process against a shell alias (issue 20): importing
the eleven other subcommand modules for a parser that will not use them cost ~25 ms of it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailtui.cli import SUBCOMMANDS, _command_of, build_parser

ROOT = Path(__file__).resolve().parent.parent

ARGVS = [
    ["bans", "--json", "--socket", "/run/x.sock"],
    ["--debug", "bans", "--jail", "sshd"],
    ["--config", "bans", "scan", "--json", "/var/log/mail.log"],  # "bans" is --config's value
    ["--config=/etc/m.toml", "--read-only", "who", "192.0.2.1"],
    ["--log", "/var/log/mail.log", "--demo", "check", "--json"],
    ["scan", "--engine", "python", "-"],
    ["config", "--json"],
]


@pytest.mark.parametrize("argv", ARGVS, ids=lambda a: " ".join(a))
def test_the_lazy_parser_parses_as_the_full_one(argv: list[str]) -> None:
    full = build_parser().parse_args(argv)
    lazy = build_parser(argv).parse_args(argv)
    assert vars(lazy) == vars(full)


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["bans", "--json"], "bans"),
        (["--debug", "--read-only", "scan"], "scan"),
        (["--config", "scan", "who"], "who"),
        (["--log=/x", "unban", "1.2.3.4"], "unban"),
        (["--help"], None),  # the full parser: --help lists every command
        (["--version", "bans"], None),
        (["--conf", "x", "bans"], None),  # an abbreviation: argparse decides, with the full parser
        (["-h", "bans"], None),
        ([], None),
    ],
)
def test_the_command_is_found_only_after_plain_options(argv: list[str], command: str | None) -> None:
    assert _command_of(argv) == command


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from mailtui.cli import SUBCOMMANDS, build_parser;"
        "build_parser(['bans', '--json']).parse_args(['bans', '--json']);"
        "print(' '.join(sorted(m for m in SUBCOMMANDS.values() if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.split() == ["mailtui.cli.bans_cmd"]
    assert len(SUBCOMMANDS) > 1


def test_help_of_a_command_and_of_the_whole_cli_are_unchanged() -> None:
    def run(*args: str) -> str:
        cmd = [sys.executable, "-m", "mailtui", *args]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60).stdout

    top = run("--help")
    assert all(name in top for name in SUBCOMMANDS)  # every command listed with its help
    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "command")
    assert run("bans", "--help") == sub.choices["bans"].format_help()  # type: ignore[attr-defined]
