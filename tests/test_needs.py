"""What recognizers/needs.py reads from a pattern holds for every message the pattern matches.

A claim that is wrong would make the engine skip a candidate that matches (a line recognized
differently than catalog order says), so each is checked against ``re`` itself: on strings
Hypothesis generates from each catalog pattern, on the catalog's samples and the corpora, and on
generated patterns (with inline flags, alternatives, groups, sets, quantifiers, lookarounds) and
messages. The engine's use of them is compared with trying every candidate in catalog order in
tests/test_scan_fast_paths.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import Engine, default_engine
from mailtui.recognizers.model import Recognizer
from mailtui.recognizers.needs import NOTHING, needs
from tests.test_scan_fast_paths import STAMP, _corpus_lines, _first_match, _recognized


def _holds(pattern: str, flags: int, message: str) -> None:
    """If ``pattern`` matches ``message``, what needs() says of its matches is true of it."""
    if re.compile(pattern, flags).search(message) is None:
        return
    words, first, last = needs(pattern, flags)
    pieces = message.split(" ")
    assert words <= set(pieces), (pattern, message)
    if first is not None:
        assert pieces[0] == first, (pattern, message)
    if last is not None:
        assert pieces[0].endswith(last), (pattern, message)


def _catalog_patterns() -> list[str]:
    return sorted({r.regex.pattern for r in default_engine().recognizers})


def test_the_catalog_is_read() -> None:
    """Most built-in patterns give the engine something to key on (else the index does nothing)."""
    read = [needs(p) for p in _catalog_patterns()]
    assert sum(1 for w, f, e in read if w or f or e) > len(read) * 2 // 3
    assert needs(r"^connect from (?P<client_ip>\S+)") == (frozenset({"from"}), "connect", None)
    assert needs(r"^(?P<queue_id>[0-9A-F]{6,}): to=<(?P<r>[^>]*)>, relay=") == (frozenset(), None, ":")
    assert needs(r"x: reject: RCPT from") == (frozenset({"reject:", "RCPT"}), None, None)


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        (r"^a b c", re.IGNORECASE),  # "A B C" matches
        (r"^a b c", re.VERBOSE),  # the spaces mean nothing
        (r"(?i)^a b c", 0),
        (r"(?x)^a b c", 0),
        (r"^a b c|^x y z", 0),  # a top-level alternative
        (r"^a b c(?#comment) d", 0),
        (r"(?P<x>a) (?P=x) c", 0),  # a named back-reference: left alone
    ],
)
def test_what_changes_the_meaning_of_the_text_reads_nothing(pattern: str, flags: int) -> None:
    assert needs(pattern, flags) == NOTHING


def test_multiline_keeps_the_words_not_the_first_piece() -> None:
    assert needs(r"^ab x y ", re.MULTILINE) == (frozenset({"x", "y"}), None, None)
    _holds(r"^ab x y ", re.MULTILINE, "zz\nab x y ")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data(), pattern=st.sampled_from(_catalog_patterns()))
def test_claims_hold_on_what_each_catalog_pattern_matches(data: st.DataObject, pattern: str) -> None:
    message = data.draw(st.from_regex(re.compile(pattern)))
    _holds(pattern, 0, message)


def test_claims_hold_on_the_samples_and_the_corpus(corpus: Path) -> None:
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    engine = default_engine()
    lines = _corpus_lines(corpus) + [s for r in engine.recognizers for s in r.samples]
    messages = sorted({parser.parse(line).message for line in lines})
    checked = 0
    for pattern in _catalog_patterns():
        regex = re.compile(pattern)
        for message in messages:
            if regex.search(message) is not None:
                _holds(pattern, 0, message)
                checked += 1
    assert checked > len(engine.recognizers)


_PIECES = [
    "^", "$", " ", "  ", "a", "b", ":", "=", "-", "ab", "a b", "\\b", "\\B", "\\d", "\\s", "\\S", "\\w", "\\W",
    "\\ ", "\\[", "\\.", "\\x20", "\\040", ".", "[ab]", "[^ ]", "[^a]", "[ -~]", "[!-/]", "[a-z]", "[\\s]", "[^\\s:]",
    "[]a]", "[^]a]", "[\\w-]", "(?:a|b)", "(?P<g>x)", "(a )", "(?:a b)", "(?<!a)", "(?<= )", "(?=b)", "(?!a)",
    "?", "*", "+", "{2}", "{1,}", "{,2}", "{}", "{x", "}", "]", "*?", "+?", "|", "(?i)", "(?i:a)", "(?:a|$)", "(?:^a)",
    "(?:\\Z)", "\\A",
]  # fmt: skip


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    anchor=st.sampled_from(["^", "", "\\b"]),
    head=st.lists(st.sampled_from(_PIECES), max_size=4),
    space=st.sampled_from([" ", ": ", "a ", " x ", "\\ ", "", "( )", " ?"]),
    tail=st.lists(st.sampled_from(_PIECES), max_size=5),
    flags=st.sampled_from([0, re.MULTILINE, re.IGNORECASE, re.ASCII, re.DOTALL]),
    messages=st.lists(st.text(alphabet="ab :=-1xAB\n", max_size=14), max_size=6),
    data=st.data(),
)
def test_claims_hold_for_made_up_patterns(
    anchor: str, head: list[str], space: str, tail: list[str], flags: int, messages: list[str], data: st.DataObject
) -> None:
    """Patterns made of the constructs needs() reads or refuses, shaped as an anchored first piece
    then the rest (where its claims are made), on random messages and ones the pattern matches."""
    pattern = anchor + "".join(head) + space + "".join(tail)
    try:
        regex = re.compile(pattern, flags)
    except (re.error, OverflowError):
        assume(False)
        return
    try:  # strings the pattern matches, when Hypothesis can make them (of few characters: spaces often)
        messages.append(data.draw(st.from_regex(regex, alphabet=" a:b1=-\n")))
    except Exception:  # noqa: BLE001 - from_regex does not take every pattern re takes
        pass
    for message in messages:
        _holds(pattern, flags, message)


def _user(ident: str, pattern: re.Pattern[str], literal: str) -> Recognizer:
    return Recognizer(
        id=ident,
        family="postfix",
        match=literal,
        regex=pattern,
        severity="info",
        title="t",
        summary="s",
        cause="c",
        fix="f",
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(
        st.tuples(
            st.lists(
                st.sampled_from(["^", "a", "b", " ", ":", "\\w+", "[^ ]+", "(?:a|b )", "x?", "|", "(?i)"]),
                min_size=1,
                max_size=6,
            ),
            st.sampled_from([0, re.IGNORECASE, re.MULTILINE, re.VERBOSE]),
            st.sampled_from(["a", "b", " ", ":", "a b", ""]),
        ),
        min_size=1,
        max_size=8,
    ),
    message=st.text(alphabet="ab :AB\n", max_size=12),
)
def test_a_user_catalog_is_recognized_in_catalog_order(specs: list[tuple[list[str], int, str]], message: str) -> None:
    """Compiled patterns with any flags: the engine finds the first match in catalog order."""
    recognizers = []
    for n, (parts, flags, literal) in enumerate(specs):
        try:
            regex = re.compile("".join(parts), flags)
        except re.error:
            continue
        recognizers.append(_user(f"user.r{n}", regex, literal))
    engine = Engine(recognizers)
    from mailtui.core.record import LogRecord

    record = LogRecord(line="", message=message, family="postfix", daemon="smtpd")
    assert _recognized(engine, record) == _first_match(engine, record)


_SPACE_ONES = [
    r"[^a]", r"[^]a]", r"[^ ]", r"[^\s]", r"\S", r"\W", r"\D", r"\s", r".", r"[!-/]", r"[ -~]", r"[\x20]", r"\x20",
    r"\040", r"\ ", r"(?:a|\s)", r"(?:a| )", r"a?", r"a*", r"(?: )?", r"(?=\s)", r"(?<= )", r"\b", r"\B", r"[\w-]",
    r"(?:a|$)", r"(?:^|a)", r"{}", r"[a-z]", r"[!-~]", "[\x1f-!]", "[\x1f-\x1f]",
]  # fmt: skip
_SHORT = [""] + [
    a + b + c + d for a in " a:b!~" for b in ["", *" a:b!~"] for c in ["", *" a:b!~"] for d in ["", " ", "a", ":"]
]


@pytest.mark.parametrize("atom", _SPACE_ONES)
@pytest.mark.parametrize("shape", ["^{}: x", "^{}a x", "^a{} x", "^{}{} x", "^{} x", "^({}) x", "^{}:\\ x"])
def test_claims_hold_on_every_short_message(atom: str, shape: str) -> None:
    """Atoms that can or cannot match a space, before an anchored first piece's end: every
    message of up to five characters of a small alphabet."""
    pattern = shape.replace("{}", atom, 1) if shape.count("{}") == 1 else shape.format(atom, atom)
    try:
        re.compile(pattern)
    except re.error:
        return
    for message in _SHORT:
        _holds(pattern, 0, message + " x")
