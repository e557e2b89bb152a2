"""The fast engine's two claims of sameness, checked where they are made:

- a catalog pattern translated for Rust's regex (mailtui/analysis/fast/native.py) finds what
  Python ``re`` finds — on every (pattern, message) pair of the corpora, groups included for the
  exact translations, a superset for the ones ``re`` confirms; and on generated text for the two
  lookbehind rewrites themselves;
- the vectorized envelope gives each line it takes the time, family, daemon, level and message
  ``EnvelopeParser`` gives it (corpus lines and Hypothesis-made envelopes).

Without Polars (``pip install 'mailtui[fast]'``) the module is skipped with a one-line reason;
in CI (MAILTUI_REQUIRE_FAST=1, set by .ci/run) that is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if os.environ.get("MAILTUI_REQUIRE_FAST") == "1":
    import polars as pl
else:
    pl = pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

from mailtui.analysis.fast import scan as fast
from mailtui.analysis.fast.native import CONFIRM, EXACT, PYTHON, ascii_classes, translate
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.reader import iter_lines
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.loader import load_catalog

MTIME = 1_796_000_000.0  # fixes the year of traditional stamps


DEMO = Path(__file__).resolve().parent.parent / "mailtui" / "demo" / "data"


def _corpus_lines(corpus: Path) -> list[str]:
    """Every log line of the corpora (the .log files, the realworld TSVs' first column) and of
    the rig captures the demo replays."""
    lines: list[str] = []
    for path in [*sorted(corpus.rglob("*.log")), *sorted(DEMO.glob("*.log"))]:
        lines += [text for _, text in iter_lines(str(path))]
    for tsv in sorted((corpus / "realworld").glob("*.tsv")):
        text = tsv.read_text(encoding="utf-8", errors="replace")
        lines += [row.split("\t", 1)[0] for row in text.splitlines() if row and not row.startswith("#")]
    return lines


def _messages(corpus: Path) -> list[str]:
    """The messages the vectorized path can be given (printable ASCII): of the corpus lines, of
    the grok test messages (Postfix messages without envelope) and of the catalog's samples."""
    parser = EnvelopeParser(source="corpus", year_reference=MTIME)
    samples = [s for r in load_catalog(include_user=False) for s in r.samples]
    out = {parser.parse(line, sanitized=True).message for line in _corpus_lines(corpus) + samples}
    flat = corpus / "postfix-grok-patterns" / "messages.flat.tsv"
    out.update(row.split("\t", 2)[-1] for row in flat.read_text(encoding="utf-8").splitlines()[1:])
    return sorted(m for m in out if m.isascii() and m.isprintable() and len(m) <= fast.FAST_MAX_CHARS)


# -- the translation -------------------------------------------------------------------------------


def test_the_catalog_runs_natively_and_only_two_patterns_need_re_to_confirm() -> None:
    kinds = {r.id: n for r, n in fast.compiled(Engine(load_catalog(include_user=False)))}
    confirm = sorted(rid for rid, n in kinds.items() if n.kind == CONFIRM)
    python = sorted(rid for rid, n in kinds.items() if n.kind == PYTHON)
    # the trailing negative lookaheads cannot be rewritten; every lookbehind could
    assert confirm == ["dovecot.login.cleartext_success", "postfix.smtpd.client"]
    assert python == []
    rewritten = [n for n in kinds.values() if n.kind == EXACT and "(?<" in n.text]
    assert rewritten == []
    assert "(?:^|[^0-9A-Za-z_])(?P<operation>" in kinds["dovecot.storage.permission"].text  # (\\W, as ASCII)


def test_corpus_pairs_match_the_same_in_re_and_in_rust(corpus: Path) -> None:
    messages = _messages(corpus)
    assert len(messages) > 1000, "too few corpus messages to prove anything"
    series = pl.Series(messages, dtype=pl.String)
    pairs = hits = 0
    for rec, native in fast.compiled(Engine(load_catalog(include_user=False))):
        if native.kind == PYTHON:
            continue
        found = series.str.contains(native.text).to_list()
        groups = series.str.extract_groups(native.text).to_list() if rec.regex.groupindex else None
        vetoed = series.str.contains(native.veto).to_list() if native.veto else [True] * len(messages)
        for i, message in enumerate(messages):
            m = rec.regex.search(message)
            pairs += 1
            if native.kind == EXACT or (found[i] and not vetoed[i]):  # exact, or a sure hit of a veto
                assert found[i] == (m is not None), (rec.id, message)
                if m is not None:
                    hits += 1
                    if groups is not None:
                        assert groups[i] == m.groupdict(), (rec.id, message)
            elif m is not None:  # confirm: the native pattern may find more, never less
                assert found[i], (rec.id, message)
    assert hits > 1000 and pairs > 100_000


_ALPHABET = st.text(alphabet="ab =[]:x-_.,1\t", max_size=30)


@settings(max_examples=300, deadline=None)
@given(before=_ALPHABET, after=_ALPHABET)
def test_the_rewrites_are_exact_on_generated_text(before: str, after: str) -> None:
    patterns = [
        r"(?<!\w)(?P<w>\w+)=(?P<v>\w*)",  # leading negative lookbehind -> (?:^|\W)
        r"(?<![\w.])a+(?P<t>[x-]*)",
        r"from (?<![^\s\[\]=])(?P<h>[^\s\[\]]*)\[(?P<ip>[^\]\s]*)\]",  # after a literal that passes it
        r"client=(?<![^\s\[\]=])(?P<h>[^\s\[\]]*)\[",
    ]
    text = f"{before}from a[b] client=x[ ab=a {after}"
    for pattern in patterns:
        regex = re.compile(pattern)
        native = translate(regex)
        assert native.kind == EXACT and "(?<" not in native.text, pattern
        m = regex.search(text)
        got = pl.Series([text]).str.extract_groups(native.text).to_list()[0]
        assert pl.Series([text]).str.contains(native.text)[0] == (m is not None), (pattern, text)
        if m is not None:
            assert got == m.groupdict(), (pattern, text)
    # a trailing negative lookahead: where the pattern matches and its veto does not, re matches too
    for pattern in (r"(?P<h>[a-z]*)\[(?P<ip>[^\]\s]*)\](?::\d+)?(?!, ab)", r"ab=(?P<v>\w*)(?!.*\bx\b)"):
        regex = re.compile(pattern)
        native = translate(regex)
        assert native.kind == CONFIRM and native.veto, pattern
        s = pl.Series([text])
        if s.str.contains(native.text)[0] and not s.str.contains(native.veto)[0]:
            m = regex.search(text)
            assert m is not None and s.str.extract_groups(native.text).to_list()[0] == m.groupdict(), (pattern, text)


_ATOMS = [
    r"\d",
    r"\w",
    r"\s",
    r"\D",
    r"\W",
    r"\S",
    "a",
    "1",
    " ",
    "-",
    "_",
    ":",
    r"\.",
    ".",
]  # (\B: Python reads it otherwise)
_ATOMS += [r"[\w-]", r"[^\s,]", r"[\d.]", r"[^\d]", r"[]a]", r"[^]\s]", r"[-\w]", r"[\s\d]", r"(?:\w|-)"]
_PATTERNS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(_ATOMS), st.sampled_from(["", "+", "*", "?", "{2}", "+?"])),
        st.tuples(st.sampled_from([r"\b", "^", "$"]), st.just("")),
    ),
    min_size=1,
    max_size=6,
).map(lambda parts: "".join(a + q for a, q in parts))
_ASCII_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24)


@settings(max_examples=400, deadline=None)
@given(pattern=_PATTERNS, texts=st.lists(_ASCII_TEXT, min_size=1, max_size=8))
def test_ascii_classes_find_what_re_finds_on_printable_ascii(pattern: str, texts: list[str]) -> None:
    """The ASCII form Rust is given of every native pattern (native.ascii_classes) finds the same
    leftmost match as ``re`` with its Unicode classes, on the text the vectorized path takes."""
    rust = ascii_classes(pattern)
    series = pl.Series(texts, dtype=pl.String)
    found = series.str.contains(rust).to_list()
    whole = series.str.extract(f"({rust})", 1).to_list()
    for text, hit, got in zip(texts, found, whole):
        m = re.search(pattern, text)
        assert hit == (m is not None), (pattern, rust, text)
        if m is not None:
            assert got == m.group(0), (pattern, rust, text)


def test_ascii_classes_rewrites_perl_classes_only() -> None:
    assert ascii_classes(r"[\w-]+\s\d") == r"[0-9A-Za-z_-]+[\t\n\x0B\x0C\r ][0-9]"
    assert ascii_classes(r"[^,\s]+\S\b\B\W\D") == (
        r"[^,\t\n\x0B\x0C\r ]+[^\t\n\x0B\x0C\r ](?-u:\b)(?-u:\B)[^0-9A-Za-z_][^0-9]"
    )
    assert ascii_classes(r"[]\w]a\\w[^]\d]") == r"[]0-9A-Za-z_]a\\w[^]0-9]"  # ']' first is a literal
    assert ascii_classes(r"[\S\d]x") == r"[\S\d]x"  # a negated escape inside a class: left as it is
    assert ascii_classes(r"from=<(?P<s>[^>]*)>") == r"from=<(?P<s>[^>]*)>"
    # every native text of the catalog went through it: none keeps a Unicode Perl class
    engine = Engine(load_catalog(include_user=False))
    texts = [n.text for n in (translate(r.regex) for r in engine.recognizers) if n.kind != PYTHON]
    cleaned = [t.replace("\\\\", "").replace("(?-u:\\b)", "").replace("(?-u:\\B)", "") for t in texts]
    assert len(texts) > 200 and not [t for t in cleaned if re.search(r"\\[dwsDWSbB]", t)]


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        (r"(?<!\w)a|b", CONFIRM),  # a leading lookbehind before a top-level | is not rewritten
        (r"x(?<=y)z", CONFIRM),  # a literal that does not satisfy it: nothing to drop
        (r"(?:a|b)(?<! )c", CONFIRM),  # a group before it, not a literal: no proof, re confirms
        (r"a(?!b)", CONFIRM),
        (r"[a&&b]", PYTHON),  # Rust: intersection; Python: the characters a, &, b
        (r"[[a]", PYTHON),  # Rust: a nested class
        (r"a\Z", PYTHON),
        (r"a\B", PYTHON),  # Python's \B never matches an empty text, Rust's does
        (r"(?x) a b", PYTHON),
        (r"(a)\1", PYTHON),  # Rust refuses backreferences
    ],
)
def test_what_is_not_rewritten_is_confirmed_or_left_to_re(pattern: str, kind: str) -> None:
    native = fast._checked(translate(re.compile(pattern)))
    assert native.kind == kind, native


def test_a_user_catalog_with_lookarounds_goes_through_the_same_translation(tmp_path: Path) -> None:
    from mailtui.recognizers.model import Recognizer

    base = load_catalog(include_user=False)
    extra = Recognizer(
        id="user.ahead",
        family="postfix",
        match="connect from ",
        regex=re.compile(r"^connect from (?P<client_host>[^\s\[\]]*)(?!\.example\.org)\["),
        severity="notice",
        title="t",
        summary="s",
        cause="c",
        fix="f",
    )
    forms = {r.id: n for r, n in fast.compiled(Engine([extra, *base]))}
    assert forms["user.ahead"].kind == CONFIRM


# -- the envelope ----------------------------------------------------------------------------------


_COMPILED: list[fast._Compiled] = []


def _vectorized(lines: list[str]) -> dict[int, tuple[object, ...]]:
    if not _COMPILED:
        _COMPILED.append(fast._Compiled(Engine(load_catalog(include_user=False))))
    f = fast._File(_COMPILED[0], fast.FastScan(fast.ScanSummary()), "t.log", MTIME, None, None)
    df = pl.DataFrame(
        {"idx": list(range(1, len(lines) + 1)), "line": lines}, schema={"idx": pl.Int64, "line": pl.String}
    )
    rows = f.envelope(df)
    return {r[0]: r[1:] for r in rows.select("idx", "ts", "family", "daemon", "level", "message").iter_rows()}


def _python(lines: list[str]) -> dict[int, tuple[object, ...]]:
    parser = EnvelopeParser(source="t.log", year_reference=MTIME)
    out = {}
    for i, line in enumerate(lines, 1):
        r = parser.parse(line, i, sanitized=True)
        out[i] = (r.timestamp, r.family, r.daemon, r.level, r.message)
    return out


def test_the_vectorized_envelope_is_the_parsers_on_the_corpus(corpus: Path) -> None:
    lines = [line for line in _corpus_lines(corpus) if line]
    got, want = _vectorized(lines), _python(lines)
    assert len(got) > 0.6 * len(lines), "the vectorized path should take most corpus lines"
    for i, fields in got.items():
        assert fields == want[i], lines[i - 1]


_WORD = st.text(alphabet="ab:[]()<>0-9 ./_", max_size=12)
_STAMP = st.sampled_from(
    [
        "Nov 29 10:00:00",
        "Feb  9 23:59:59",
        "Feb 29 01:00:00",
        "Dec 31 12:00:00",
        "Jan  0 10:00:00",
        "2026-11-29T10:00:00.123456+01:00",
        "2026-11-29T10:00:00Z",
        "2026-11-29 10:00:00",
        "2026-11-29T10:00:00,5",
    ]
)
_PROG = st.sampled_from(
    ["postfix/smtpd", "postfix/submission/smtpd", "dovecot", "fail2ban.actions", "opendkim", "x", ""]
)
_MSG = st.sampled_from(
    [
        "warning: x",
        "imap-login: Info: Login: user=<a>",
        "Info: imap(a)<1><s>: Disconnected",
        "dovecot: auth: Error: x",
        "[ID 123 mail.info] connect from a[1.2.3.4]",
        "fail2ban.filter [1]: INFO x",
        "",
        "connect from a[1.2.3.4]",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    stamp=_STAMP,
    host=_WORD,
    prog=_PROG,
    pid=st.sampled_from(["", "[12]", "[x]", "[]"]),
    sep=st.sampled_from([": ", ":", " "]),
    msg=_MSG,
    tail=_WORD,
)
def test_the_vectorized_envelope_is_the_parsers_on_odd_envelopes(
    stamp: str, host: str, prog: str, pid: str, sep: str, msg: str, tail: str
) -> None:
    lines = [f"{stamp} {host} {prog}{pid}{sep}{msg}{tail}", f"{stamp} {prog}{pid}{sep}{msg}{tail}"]
    got, want = _vectorized(lines), _python(lines)
    for i, fields in got.items():
        assert fields == want[i], lines[i - 1]
