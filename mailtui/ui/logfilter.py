"""The Logs pane's filter language, typed after ``/``.

Words are ANDed. ``text`` keeps lines containing it (any case); ``!text`` drops them;
``re:PATTERN`` keeps lines matching a regular expression; ``sev:warn`` keeps recognized
lines of that severity or worse; ``prog:smtpd`` keeps lines whose program contains it;
``host:mx1`` keeps the lines of that host (its whole name or its first label, any case; ``*`` and
``?`` as in a file name, ``host:-`` the lines that name no host), ``!host:mx1`` drops them;
``known`` keeps only recognized lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase

from mailtui.analysis.live import LiveEntry
from mailtui.recognizers.model import SEVERITY_RANK

Predicate = Callable[[LiveEntry], bool]


class FilterError(ValueError):
    pass


def compile_filter(text: str) -> Predicate | None:
    tests = [_word_test(word) for word in text.split()]
    if not tests:
        return None
    return lambda e: all(t(e) for t in tests)


def _word_test(word: str) -> Predicate:
    """One word's test (a function per word, so each lambda closes over its own values)."""
    if word.startswith("re:"):
        try:
            rx = re.compile(word[3:], re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"bad regular expression {word[3:]!r}: {exc}") from None
        return lambda e: rx.search(e.record.line) is not None
    if word.startswith("sev:"):
        rank = SEVERITY_RANK.get(word[4:])
        if rank is None:
            raise FilterError(f"severity must be one of {', '.join(SEVERITY_RANK)}")
        return lambda e: e.match is not None and e.match.recognizer.rank >= rank
    if word.startswith("prog:"):
        program = word[5:].lower()
        return lambda e: program in e.record.program.lower()
    if word.startswith(("host:", "!host:")):
        negate = word.startswith("!")
        wanted = host_test(word.partition(":")[2])
        return (lambda e: not wanted(e.record.host)) if negate else (lambda e: wanted(e.record.host))
    if word == "known":
        return lambda e: e.match is not None
    if word.startswith("!") and len(word) > 1:
        absent = word[1:].lower()
        return lambda e: absent not in e.record.line.lower()
    present = word.lower()
    return lambda e: present in e.record.line.lower()


def host_test(pattern: str) -> Callable[[str], bool]:
    """Does a record's host match ``pattern``: the whole name or its first label, any case?"""
    pattern = pattern.lower()
    if not pattern:
        raise FilterError("host: needs a name (host:mx1, host:mx*, host:- for lines without one)")
    if pattern == "-":
        return lambda host: not host
    glob = any(c in pattern for c in "*?[")

    def test(host: str) -> bool:
        name = host.lower()
        first = name.split(".", 1)[0]
        if glob:
            return fnmatchcase(name, pattern) or fnmatchcase(first, pattern)
        return name == pattern or first == pattern

    return test
