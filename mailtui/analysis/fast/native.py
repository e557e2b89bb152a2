"""Catalog patterns (Python ``re`` syntax) as patterns for Rust's regex crate, which Polars runs.

Rust's regex has no lookarounds and no backreferences. Each pattern becomes one of:

- ``exact``: the native text finds the same lines and the same groups as ``re``. Lookarounds are
  only removed by two rewrites proven from the parsed pattern, not guessed from its text:
  a one-character lookbehind right after a literal character that already satisfies it is
  dropped (``from (?<![^\\s\\[\\]=])`` — the space before it always passes); a negative
  one-character lookbehind leading the whole pattern (no top-level ``|``) becomes
  ``(?:^|[^…])``: the leftmost place the rest can match is the same, so are its groups.
- ``confirm``: the other lookarounds are removed, which can only widen what matches; the
  native pattern picks candidates and Python ``re`` decides on those hits alone (and gives
  the groups).
- ``python``: Rust refuses the pattern, or its syntax means something else there (class set
  operations ``&&`` ``--`` ``~~``, nested classes, verbose mode): ``re`` runs it, on the rows
  its literal pre-filter left.

In every native text the Perl classes ``\\d \\w \\s`` (and ``\\D \\W \\S`` outside a class) are
written as ASCII classes and ``\\b`` as an ASCII word boundary (``ascii_classes``; a pattern with
``\\B`` runs in ``re``, see _rust_hazard): the
vectorized path only gives Rust printable ASCII, on which both read the same, and Rust's
Unicode classes cost twice as long to compile (~0.35 ms a pattern; Polars keeps 32 compiled
patterns a thread, so a log that needs more compiles some again in every block).

tests/test_fast_native.py compares ``re`` and the native pattern on every (pattern, message)
pair of the corpora. User catalogs go through the same translation.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailtui.recognizers.pattern import Regex

# the parser of the re module (sre_parse before 3.11): the structure the rewrites are proven on
_NEW = sys.version_info >= (3, 11)
_p: Any = importlib.import_module("re._parser" if _NEW else "sre_parse")
_c: Any = importlib.import_module("re._constants" if _NEW else "sre_constants")

EXACT, CONFIRM, PYTHON = "exact", "confirm", "python"


@dataclass(frozen=True)
class Native:
    kind: str  # exact | confirm | python
    text: str  # the Rust pattern ("" for python)
    why: str = ""  # what was rewritten or why it runs in Python
    #: confirm only: the pattern with its trailing negative lookahead ``(?!Y)`` as ``Y`` itself.
    #: A line ``text`` matches and ``veto`` does not is a match for re too (no path of the rest is
    #: followed by Y, so the first one passes, with the same groups): re is asked about the others.
    veto: str = ""


def _lookaround_spans(pattern: str) -> list[tuple[int, int]]:
    """(start, end) of every outermost lookaround group in the pattern text."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[int, bool]] = []  # (start, is lookaround) of each open group
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a class: skip to its end ("]" first is a literal, escapes inside)
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "(":
            look = pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i)
            stack.append((i, look))
        elif ch == ")" and stack:
            start, look = stack.pop()
            if look and not any(is_look for _, is_look in stack):
                spans.append((start, i + 1))
        i += 1
    return spans


def _asserts(items: list[Any]) -> list[tuple[list[Any], int]]:
    """Every outermost assertion node, in pattern order, with the sequence it sits in."""
    found: list[tuple[list[Any], int]] = []

    def walk(seq: list[Any]) -> None:
        for idx, (op, av) in enumerate(seq):
            if op in (_c.ASSERT, _c.ASSERT_NOT):
                found.append((seq, idx))
            elif op is _c.SUBPATTERN:
                walk(list(av[-1]))
            elif op is _c.BRANCH:
                for alt in av[1]:
                    walk(list(alt))
            elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
                walk(list(av[2]))
            elif op is getattr(_c, "ATOMIC_GROUP", None):
                walk(list(av))

    walk(items)
    return found


def _negated(body: str) -> str | None:
    """The one-character class that is the complement of ``body`` (``\\w`` -> ``\\W``), or None."""
    if body in ("\\w", "\\d", "\\s"):
        return body.upper()
    if body in ("\\W", "\\D", "\\S"):
        return body.lower()
    if body.startswith("[^") and body.endswith("]") and len(body) > 3:
        return "[" + body[2:]
    if body.startswith("[") and body.endswith("]") and len(body) > 2:
        return "[^" + body[1:]
    return None


def _rust_hazard(pattern: str) -> str:
    """Why the pattern's text would mean something else to Rust ("" when it would not).

    Inside a class Rust reads ``&&`` ``--`` ``~~`` as set operations and ``[`` as a nested
    class, where Python reads plain characters; outside, ``(?x`` and ``\\Z`` differ, and
    Python's ``\\B`` never matches an empty text where Rust's does."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if pattern[i + 1 : i + 2] in ("Z", "B"):
                return "\\" + pattern[i + 1]
            i += 2
            continue
        if pattern.startswith("(?x", i):
            return "verbose mode"
        if ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == "[" or pattern[j : j + 2] in ("&&", "--", "~~"):
                    return "a class Rust reads as nested or as a set operation"
                j += 1
            i = j + 1
            continue
        i += 1
    return ""


_ASCII_CLASS = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\x0B\\x0C\\r "}
# an escape, a class's opening (with its '^' and a literal ']' first), ']', '[', or a run of the rest
_TOKEN = re.compile(r"\\.|\[\^?\]?|\]|[^\\\[\]]+|\\")


def ascii_classes(text: str) -> str:
    """``text`` (Rust syntax) with its Perl classes as ASCII classes and its word boundaries as
    ASCII ones: the same matches on ASCII text. A negated class escape inside a class
    (``[\\S…]``) or a nested class leaves the text as it is."""
    if "\\" not in text:
        return text
    out: list[str] = []
    in_class = False
    for tok in _TOKEN.findall(text):
        if tok[0] == "\\" and len(tok) == 2:
            e = tok[1]
            if e in "dws":
                tok = _ASCII_CLASS[e] if in_class else f"[{_ASCII_CLASS[e]}]"
            elif e in "DWS":
                if in_class:
                    return text
                tok = f"[^{_ASCII_CLASS[e.lower()]}]"
            elif e in "bB" and not in_class:
                tok = f"(?-u:\\{e})"
        elif tok[0] == "[":
            if in_class:
                return text
            in_class = True
        elif tok == "]":
            in_class = False
        out.append(tok)
    return "".join(out)


def translate(regex: Regex) -> Native:
    """The native form of one compiled catalog pattern (see the module docstring)."""
    native = _translate(regex)
    if native.kind == PYTHON:
        return native
    return Native(native.kind, ascii_classes(native.text), native.why, native.veto and ascii_classes(native.veto))


def _translate(regex: Regex) -> Native:
    pattern = regex.pattern
    extra = regex.flags & ~(re.UNICODE | re.ASCII)
    if extra & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL):
        return Native(PYTHON, "", "flags Rust does not share (verbose, locale, ...)")
    hazard = _rust_hazard(pattern)
    if hazard:
        return Native(PYTHON, "", f"Rust reads it otherwise: {hazard}")
    prefix = "".join(f for flag, f in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s")) if extra & flag)
    prefix = f"(?{prefix})" if prefix else ""
    spans = _lookaround_spans(pattern)
    if not spans:
        return Native(EXACT, prefix + pattern)
    parsed = list(_p.parse(pattern, regex.flags))
    nodes = _asserts(parsed)
    if len(nodes) != len(spans):  # the text scan and the parser disagree: do not guess
        return Native(PYTHON, "", "lookarounds the translation could not place")
    out: list[str] = []
    pos, exact, rewrites = 0, True, []
    removed: list[tuple[int, Any, int, str]] = []  # (direction, op, index in the top level or -1, body)
    for (start, end), (seq, idx) in zip(spans, nodes):
        op, av = seq[idx]
        direction, body_items = av
        body = pattern[start + (4 if pattern[start + 2] == "<" else 3) : end - 1]
        one_char = _p.SubPattern(_p.State(), list(body_items)).getwidth() == (1, 1)
        out.append(pattern[pos:start])
        pos = end
        if direction == -1 and one_char and idx > 0 and seq[idx - 1][0] is _c.LITERAL:
            before = chr(seq[idx - 1][1])
            holds = re.fullmatch(body, before, regex.flags) is not None
            if holds == (op is _c.ASSERT):  # the literal before it always satisfies it
                rewrites.append("lookbehind after a literal that satisfies it dropped")
                continue
        # a top-level '|' parses to one BRANCH that is the whole pattern ('(?:a|b)' inside a
        # sequence is a BRANCH item among others)
        top_branch = len(parsed) == 1 and parsed[0][0] is _c.BRANCH
        if direction == -1 and one_char and op is _c.ASSERT_NOT and seq is parsed and idx == 0 and not top_branch:
            neg = _negated(body)
            if neg is not None:
                out.append(f"(?:^|{neg})")
                rewrites.append("leading lookbehind as (?:^|[^...])")
                continue
        exact = False  # removed: the native pattern matches a superset, re confirms
        removed.append((direction, op, idx if seq is parsed else -1, body))
    out.append(pattern[pos:])
    text = prefix + "".join(out)
    if exact:
        return Native(EXACT, text, "; ".join(rewrites))
    veto = ""
    if len(removed) == 1:
        direction, op, idx, body = removed[0]
        if direction == 1 and op is _c.ASSERT_NOT and idx == len(parsed) - 1 and not _lookaround_spans(body):
            veto = f"{text}(?:{body})"
    return Native(CONFIRM, text, "lookaround removed, re confirms the hits", veto)
