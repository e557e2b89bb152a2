"""Shared helpers for subcommands: the error type, JSON output, plain tables."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


class CliError(Exception):
    """An expected failure: printed as one line, exit code ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def print_json(data: Any, out: TextIO | None = None) -> None:
    json.dump(data, out or sys.stdout, indent=2, ensure_ascii=False, default=str)
    (out or sys.stdout).write("\n")


def print_table(rows: list[list[str]], headers: list[str], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out.write(fmt.format(*headers).rstrip() + "\n")
    for row in rows:
        out.write(fmt.format(*row).rstrip() + "\n")


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal; refuse to guess when there is none (scripts must pass --yes)."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise CliError("confirmation needed: run in a terminal or pass --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
