"""The built-in catalog's patterns are compiled on first use (recognizers/pattern.py): provably
the same as compiling them at load. Every built-in pattern compiles; what LazyPattern reads from
the text (flags, groupindex, groups) equals the compiled pattern's; its searches are re's; a user
catalog is still compiled, and refused, at load."""

from __future__ import annotations

import pickle
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.loader import CatalogError, builtin_catalog_files, load_catalog, parse_catalog
from mailtui.recognizers.pattern import LazyPattern, read_groups

LAZY = load_catalog(include_user=False)
EAGER = [rec for origin, text in builtin_catalog_files() for rec in parse_catalog(text, origin)]


def _compiled_yet(p: LazyPattern) -> bool:
    try:
        object.__getattribute__(p, "compiled")
    except AttributeError:
        return False
    return True


def test_every_builtin_pattern_compiles_and_loads_the_same_as_when_compiled_at_load() -> None:
    # parse_catalog without lazy compiles each pattern (and raises CatalogError if one does not)
    assert [r.id for r in LAZY] == [r.id for r in EAGER]
    for lazy, eager in zip(LAZY, EAGER):
        assert isinstance(lazy.regex, LazyPattern) and isinstance(eager.regex, re.Pattern)
        assert lazy.regex.pattern == eager.regex.pattern, lazy.id
        others = {k: v for k, v in vars(lazy).items() if k != "regex"}
        assert others == {k: v for k, v in vars(eager).items() if k != "regex"}, lazy.id


def test_what_is_read_from_the_text_equals_the_compiled_pattern() -> None:
    for rec in LAZY:
        p = LazyPattern(rec.regex.pattern)
        compiled = re.compile(p.pattern)
        assert p.flags == compiled.flags, rec.id
        assert list(p.groupindex.items()) == list(compiled.groupindex.items()), rec.id
        assert p.groups == compiled.groups, rec.id
        # the fast engine reads these of every recognizer: they must not cost the compile
        assert not _compiled_yet(p), f"{rec.id}: read_groups cannot read its pattern: it is compiled at start"


def test_searches_are_the_compiled_patterns() -> None:
    parser = EnvelopeParser()
    for lazy, eager in zip(LAZY, EAGER):
        for sample in lazy.samples:
            message = parser.parse(sample).message
            for text in (message, message[1:], message + " x", message.upper()):
                for method in ("search", "match", "fullmatch"):
                    a, b = getattr(lazy.regex, method)(text), getattr(eager.regex, method)(text)
                    assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict())), (lazy.id, text)
                assert [m.span() for m in lazy.regex.finditer(text)] == [m.span() for m in eager.regex.finditer(text)]
        assert lazy.regex.findall("x") == eager.regex.findall("x")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(LAZY))), st.text(max_size=200))
def test_searches_agree_on_any_text(i: int, text: str) -> None:
    lazy, eager = LAZY[i].regex, EAGER[i].regex
    a, b = lazy.search(text), eager.search(text)
    assert (a and (a.span(), a.groupdict())) == (b and (b.span(), b.groupdict()))
    assert (lazy.match(text) is None) == (eager.match(text) is None)


# patterns built of what read_groups reads (groups nested in each other, sets, escapes) and of
# what it must leave to re (inline flags, comments, conditionals, backreferences)
ATOMS = st.sampled_from([
    "a", ".", "\\(", "\\)", "\\[", "\\]", "\\\\", "\\d", "[(]", "[)]", "[]()]", "[^]a(]", "[\\]()]", "[a-]",
    "<", ">", ":", "=", "?", "(?i)", "(?#c(d)", "(?P=x)", "(?(1)a|b)", "(?P<x", "[[]", "$",
])  # fmt: skip
OPENERS = st.sampled_from(
    ["(", "(?:", "(?P<x>", "(?P<y1>", "(?P<_z>", "(?=", "(?!", "(?<=", "(?<!", "(?i:", "(?-i:", "(?s-i:"]
)
PATTERNS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(OPENERS, inner).map(lambda t: f"{t[0]}{t[1]})"),
        st.lists(inner, min_size=2, max_size=4).map("".join),
        st.tuples(inner, inner).map("|".join),
        st.tuples(inner, st.sampled_from(["*", "+?", "{2}"])).map("".join),
    ),
    max_leaves=12,
)


@settings(max_examples=2000, deadline=None)
@given(PATTERNS)
def test_read_groups_is_the_compiled_groupindex_or_leaves_it_to_re(pattern: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": a pattern as any other
            compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return  # the built-in patterns compile (above); a user's are compiled at load
    read = read_groups(pattern)
    if read is not None:
        groups = read.pop("")
        assert list(read.items()) == list(compiled.groupindex.items()), pattern
        assert groups == compiled.groups, pattern
        assert compiled.flags == re.UNICODE, pattern
    p = LazyPattern(pattern)
    assert (p.flags, dict(p.groupindex), p.groups) == (compiled.flags, dict(compiled.groupindex), compiled.groups)


def test_a_broken_builtin_pattern_is_reported_at_first_use_with_its_file_and_entry() -> None:
    p = LazyPattern("(unclosed", "catalog/x.toml: recognizer 'x.y'")
    assert p.pattern == "(unclosed"
    with pytest.raises(CatalogError, match=r"^catalog/x\.toml: recognizer 'x\.y': pattern does not compile: "):
        p.search("x")


def test_a_user_pattern_is_still_compiled_and_refused_at_load(tmp_path) -> None:
    fields = "".join(f"{k} = 'v'\n" for k in ("family", "match", "title", "summary", "cause", "fix"))
    (tmp_path / "bad.toml").write_text(
        f"[[recognizer]]\nid = 'u.x'\n{fields}pattern = 'v('\nseverity = 'info'\nsamples = ['v']\n"
    )
    problems: list[str] = []
    catalog = load_catalog(user_dir=tmp_path, problems=problems)
    assert len(problems) == 1 and "bad.toml: recognizer 'u.x': pattern does not compile" in problems[0]
    assert [r.id for r in catalog] == [r.id for r in LAZY]


def test_equality_hash_pickle_and_repr_as_a_pattern() -> None:
    a, b = LazyPattern("a(?P<n>b)"), LazyPattern("a(?P<n>b)")
    assert a == b and hash(a) == hash(b) and a != LazyPattern("ab")
    c = pickle.loads(pickle.dumps(a))
    assert c == a and c.search("xab") is not None and c.search("xab").group("n") == "b"
    assert repr(a) == repr(re.compile("a(?P<n>b)"))
    with pytest.raises(AttributeError):
        a.no_such_attribute  # noqa: B018
