"""Catastrophic backtracking: refuse a pattern before one hostile log line can freeze mailtui.

Python's ``re`` backtracks, so a pattern such as ``(a+)+$`` needs 2^n steps on ``aaaa…!``
(40 characters: minutes of CPU, with the GIL held). Two checks, both used for the user's
catalogs by the loader and for the built-in catalog by tests/test_catalog.py:

* :func:`structural_problem` reads the parsed pattern: a repeat without upper bound whose
  body is itself repeated (``(a+)+``, ``(\\w+\\s?)*``) or offers alternatives that can start
  with the same character (``(a|ab)*``), unless every iteration must pass a character the
  inner repeat cannot take (``(?:\\w+\\.)+`` is fine: each ``.`` ends an iteration).
  Possessive repeats and atomic groups never backtrack and are not reported.
* :func:`probe` times searches on adversarial inputs (the test's generic ones plus runs of
  the pattern's own characters ending in a character that fails the match) at two sizes:
  catastrophic backtracking shows as a search that takes whole seconds, or as time growing
  far faster than the input. Times are CPU time of this process, not wall time, so a busy
  machine does not make a good pattern look bad; the margins are generous for the same
  reason (a linear search of these inputs takes about a millisecond).

:func:`probe_isolated` runs the probe in a child interpreter with a CPU-time alarm, so a
catastrophic pattern is stopped after its budget even when the caller is not the main
thread (the dashboard loads catalogs in a worker thread, where no alarm can interrupt
``re``).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailtui.recognizers.pattern import Regex

if sys.version_info >= (3, 11):
    import re._constants as _c  # type: ignore[import-not-found,unused-ignore]
    import re._parser as _p  # type: ignore[import-not-found,unused-ignore]
else:  # pragma: no cover - Python 3.10
    import sre_constants as _c
    import sre_parse as _p

import re

# Generic hostile inputs (long runs of what log patterns look for), as in the catalog test.
ADVERSARIAL = [
    "a" * 20000,
    " " * 20000,
    "[" * 20000,
    "<" * 20000,
    "x[" * 10000,
    "a: " * 7000,
    "NOQUEUE: reject: RCPT from " + "a[" * 5000,
    "(" * 20000,
    "auth failed, " * 2000,
    "warning: " + "x" * 20000 + ": SASL LOGIN authentication failed: " + "," * 5000,
]
RUN_LENGTH = 5000  # characters in a pattern-derived run
MAX_SEARCH_SECONDS = 0.5  # CPU seconds for one search of the big input: 100x a linear search
MAX_GROWTH = 64  # time(4n) / time(n): 4 for linear, 16 quadratic, 64 cubic
MIN_TIMED = 0.02  # below this a search is too quick for its growth to mean anything
PATTERN_BUDGET = 1.0  # CPU seconds for all of one pattern's probes (a linear one needs ~5 ms)

# a sample alphabet on which character sets are compared
_ALPHABET = [chr(i) for i in range(256)] + ["\u00e9", "\u2028", "\u4e2d", "\U0001f600"]
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": lambda ch: ch.isdigit(),
    "CATEGORY_NOT_DIGIT": lambda ch: not ch.isdigit(),
    "CATEGORY_SPACE": lambda ch: ch.isspace(),
    "CATEGORY_NOT_SPACE": lambda ch: not ch.isspace(),
    "CATEGORY_WORD": lambda ch: ch.isalnum() or ch == "_",
    "CATEGORY_NOT_WORD": lambda ch: not (ch.isalnum() or ch == "_"),
}
_ALL = frozenset(_ALPHABET)


def _in_set(items: list[tuple[Any, Any]]) -> frozenset[str]:
    chars: set[str] = set()
    negate = False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.add(chr(av))
        elif name == "RANGE":
            chars |= {ch for ch in _ALPHABET if av[0] <= ord(ch) <= av[1]}
        elif name == "CATEGORY":
            test = _CATEGORIES.get(str(av))
            chars |= {ch for ch in _ALPHABET if test is None or test(ch)}
    return _ALL - chars if negate else frozenset(chars)


def _atom(op: Any, av: Any) -> frozenset[str] | None:
    """The characters a one-character item matches, None when it is not one."""
    name = str(op)
    if name == "LITERAL":
        return frozenset({chr(av)})
    if name == "NOT_LITERAL":
        return _ALL - {chr(av)}
    if name == "ANY":
        return _ALL
    if name == "IN":
        return _in_set(av)
    return None


class _Info:
    """What a piece of pattern can do: match empty, the characters it can consume."""

    def __init__(self, nullable: bool, chars: frozenset[str], first: frozenset[str]) -> None:
        self.nullable = nullable
        self.chars = chars  # every character it can consume anywhere
        self.first = first  # characters it can start with


def _seq(items: Any) -> _Info:
    nullable, chars, first = True, frozenset[str](), frozenset[str]()
    for op, av in items:
        info = _item(op, av)
        chars |= info.chars
        if nullable:
            first |= info.first
        nullable = nullable and info.nullable
    return _Info(nullable, chars, first)


def _item(op: Any, av: Any) -> _Info:
    name = str(op)
    atom = _atom(op, av)
    if atom is not None:
        return _Info(False, atom, atom)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        body = _seq(av[2])
        return _Info(av[0] == 0 or body.nullable, body.chars, body.first)
    if name == "SUBPATTERN":
        return _seq(av[-1])
    if name == "ATOMIC_GROUP":
        return _seq(av)
    if name == "BRANCH":
        infos = [_seq(b) for b in av[1]]
        return _Info(
            any(i.nullable for i in infos),
            frozenset().union(*(i.chars for i in infos)),
            frozenset().union(*(i.first for i in infos)),
        )
    if name == "GROUPREF_EXISTS":
        infos = [_seq(b) for b in av[1:] if b is not None]
        return _Info(True, frozenset().union(*(i.chars for i in infos)), frozenset().union(*(i.first for i in infos)))
    if name == "GROUPREF":
        return _Info(True, _ALL, _ALL)
    return _Info(True, frozenset(), frozenset())  # AT, ASSERT, ASSERT_NOT: consume nothing


def _inner_repeats(items: Any) -> list[frozenset[str]]:
    """Character sets of the repeats (max > 1) inside ``items`` that can backtrack."""
    found: list[frozenset[str]] = []
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            if av[1] > 1:
                found.append(_seq(av[2]).chars)
            found += _inner_repeats(av[2])
        elif name == "SUBPATTERN":
            found += _inner_repeats(av[-1])
        elif name == "BRANCH":
            for b in av[1]:
                found += _inner_repeats(b)
        elif name == "GROUPREF_EXISTS":
            for b in av[1:]:
                if b is not None:
                    found += _inner_repeats(b)
        # ATOMIC_GROUP, POSSESSIVE_REPEAT: no backtracking into them; ASSERT*: lookarounds
    return found


def _separators(items: Any) -> list[frozenset[str]]:
    """Character sets of the single characters every match of the sequence must contain."""
    out: list[frozenset[str]] = []
    for op, av in items:
        atom = _atom(op, av)
        if atom is not None:
            out.append(atom)
        elif str(op) == "SUBPATTERN":
            out += _separators(av[-1])
        elif str(op) in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            out += _separators(av[2])
    return out


def _walk(items: Any) -> str | None:
    for op, av in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT") and av[1] == _c.MAXREPEAT:
            body = av[2]
            problem = _body_problem(body)
            if problem:
                return problem
        for sub in _children(op, av):
            problem = _walk(sub)
            if problem:
                return problem
    return None


def _children(op: Any, av: Any) -> list[Any]:
    name = str(op)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [av[2]]
    if name == "SUBPATTERN":
        return [av[-1]]
    if name == "ATOMIC_GROUP":
        return [av]
    if name == "BRANCH":
        return list(av[1])
    if name == "GROUPREF_EXISTS":
        return [b for b in av[1:] if b is not None]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    return []


def _flatten_groups(items: Any) -> list[tuple[Any, Any]]:
    """A body that is one group is looked at through it: ``((a+))+`` is ``(a+)+``."""
    flat: list[tuple[Any, Any]] = list(items)
    while len(flat) == 1 and str(flat[0][0]) == "SUBPATTERN":
        flat = list(flat[0][1][-1])
    return flat


def _body_problem(body: Any) -> str | None:
    items = _flatten_groups(body)
    info = _seq(items)
    inner = _inner_repeats(items)
    if inner and info.nullable:
        return "a repeated group can match the empty string and contains a repeat, e.g. (a*)*"
    separators = _separators(items)
    for chars in inner:
        # a mandatory character the inner repeat cannot take ends each iteration unambiguously
        if not any(sep and not (sep & chars) for sep in separators):
            return (
                "nested quantifiers over the same characters, e.g. (a+)+ or (\\w+\\s?)*: "
                "a line of repeated characters that does not match takes exponential time"
            )
    if len(items) == 1 and str(items[0][0]) == "BRANCH":
        firsts = [_seq(b).first for b in items[0][1][1]]
        for i, a in enumerate(firsts):
            for b in firsts[i + 1 :]:
                if a & b:
                    return (
                        "a repeated group of alternatives that can start with the same character, "
                        "e.g. (a|ab)+: ambiguous repetition takes exponential time"
                    )
    return None


def structural_problem(pattern: str) -> str | None:
    """Why ``pattern`` can backtrack catastrophically, or None. Parse errors are not ours."""
    try:
        parsed = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None  # the compile step reports these
    try:
        return _walk(parsed.data if hasattr(parsed, "data") else parsed)
    except RecursionError:
        return "nested too deeply to check"


def _representatives(pattern: str) -> list[str]:
    """One character for each literal and class in the pattern (the runs' material)."""
    try:
        parsed = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return []
    reps: list[str] = []

    def visit(items: Any) -> None:
        for op, av in items:
            atom = _atom(op, av)
            if atom:
                ch = min(atom, key=lambda c: (not c.isalnum(), c))
                if ch not in reps:
                    reps.append(ch)
            for sub in _children(op, av):
                visit(sub)

    try:
        visit(parsed.data if hasattr(parsed, "data") else parsed)
    except RecursionError:
        pass
    return reps[:16]


def _prefix(pattern: str) -> str:
    """The literal text every match starts with (``custom (a+)+`` -> ``custom ``), after any ^."""
    try:
        parsed = _p.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return ""
    out = []
    for op, av in parsed.data if hasattr(parsed, "data") else parsed:
        if str(op) == "AT":
            continue
        if str(op) != "LITERAL":
            break
        out.append(chr(av))
    return "".join(out)


def adversarial_inputs(pattern: str, literal: str = "") -> list[tuple[str, str, str]]:
    """(head, body, tail) triples: the generic hostile inputs between two copies of the match
    literal, then runs of the pattern's own characters that end badly, after the match literal
    and after the pattern's own literal start (so the run reaches the repeats instead of
    failing on the first character). The body is what grows; head and tail stay."""
    inputs = [(literal, text, literal) for text in ADVERSARIAL]
    reps = _representatives(pattern)
    for start in dict.fromkeys([literal, _prefix(pattern)]):
        for ch in reps:
            end = next(e for e in ("!", "\x00", "\n") if e != ch)
            inputs.append((start, ch * RUN_LENGTH, end))
        for a, b in itertools.pairwise(reps):  # alternating pairs: (\w+\s?)+ on "a a a …"
            inputs.append((start, (a + b) * (RUN_LENGTH // 2), "\x00"))
    return inputs


def probe(regex: Regex, literal: str = "") -> str | None:
    """Time ``regex`` on the adversarial inputs at two sizes; why it fails, or None.

    Runs in this process: only for patterns already known to end (the built-in catalog in
    the test). Untrusted patterns go through :func:`probe_isolated`.
    """
    for head, body, tail in adversarial_inputs(regex.pattern, literal):
        text = head + body + tail
        t_small = _cpu(regex, head + body[: len(body) // 4] + tail)
        t_big = _cpu(regex, text)
        shown = (head + body)[:24]
        if t_big > MAX_SEARCH_SECONDS:
            return f"one search of a {len(text):,}-character line took {t_big:.1f} s of CPU (input like {shown!r}…)"
        if t_big > MIN_TIMED and t_big / max(t_small, 1e-4) > MAX_GROWTH:
            return f"search time grows {t_big / max(t_small, 1e-4):.0f}x when the line grows 4x (input like {shown!r}…)"
    return None


def _cpu(regex: Regex, text: str) -> float:
    start = time.process_time()
    regex.search(text)
    return time.process_time() - start


# The child: patterns on stdin as JSON, one verdict per pattern on stdout. A CPU-time alarm
# (ITIMER_VIRTUAL) stops a search past its budget; re checks for signals while it works.
_CHILD = r"""
import json, re, signal, sys
from mailtui.recognizers import redos
class Budget(Exception):
    pass
def over(*_):
    raise Budget()
signal.signal(signal.SIGVTALRM, over)
out = []
for pattern, literal in json.load(sys.stdin):
    signal.setitimer(signal.ITIMER_VIRTUAL, redos.PATTERN_BUDGET)
    try:
        out.append(redos.probe(re.compile(pattern), literal))
    except Budget:
        out.append("a search of a hostile line did not finish within "
                   f"{redos.PATTERN_BUDGET:g} s of CPU")
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    sys.stdout.write(json.dumps(out[-1]) + "\n")
    sys.stdout.flush()
"""


def probe_isolated(items: list[tuple[str, str]], timeout: float = 120.0) -> list[str | None]:
    """:func:`probe` for each (pattern, literal) in a child process; a verdict per item.

    ``timeout`` is wall time for the whole child, a last resort far beyond its CPU budgets
    (a loaded machine stretches wall time, not CPU time). A child that cannot run or dies
    leaves the remaining items with a verdict saying so.
    """
    if not items:
        return []
    # -I -S: nothing from the environment or site-packages; the package is found by its path
    code = f"import sys; sys.path.insert(0, {_package_root()!r})\n" + _CHILD
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code],
            input=json.dumps(items),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = proc.stdout.splitlines()
    except (OSError, subprocess.SubprocessError) as exc:
        lines = []
        why = f"the backtracking check could not run ({type(exc).__name__})"
    else:
        why = "the backtracking check stopped before it"
    verdicts: list[str | None] = []
    for i in range(len(items)):
        verdicts.append(json.loads(lines[i]) if i < len(lines) else why)
    return verdicts


def _package_root() -> str:
    import os

    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
