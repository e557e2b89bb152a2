"""Argument types for argparse: every numeric option and address is checked before any work.

A bad value is an argparse error (one line, exit 2) naming the option and what is allowed,
instead of NaN reaching asyncio, a zero deadline that checks nothing, or int()'s message.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A finite number of seconds, ``low < value <= high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or not low < value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: give seconds, more than {low:g} and at most {high:g}")
        return value

    return parse


def count(low: int, high: int) -> Callable[[str], int]:
    """A whole number, ``low <= value <= high``."""

    def parse(text: str) -> int:
        stripped = text.strip()
        if not (stripped.isascii() and stripped.lstrip("-").isdigit()) or len(stripped) > 12:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        value = int(stripped)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: give a number from {low:,} to {high:,}")
        return value

    return parse


def nameserver(text: str) -> str:
    from mailtui.config import parse_nameserver

    try:
        parse_nameserver(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def nonempty(what: str) -> Callable[[str], str]:
    """A name that must not be empty: ``--jail ""`` from an unset $JAIL must not widen the scope."""

    def parse(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"empty {what}: name one (an unset shell variable?)")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
            raise argparse.ArgumentTypeError(f"{what} {text!r} contains a control character")
        return text.strip()

    return parse
