"""The fast scan's key=value fields (scan._kv_first, _kv_first_nonempty): the first ``from=``,
``sasl_username=`` (Postfix) and first non-empty ``rip=``, ``user=`` (Dovecot) value of a message
are findall()'s, as common_fields takes them, on messages made to trip a shortcut: keys inside
angle values and inside bare values, keys without a word boundary, empty and unclosed values,
every separator. (A one-match shortcut that was exact on these took twice the time: not kept.)"""

from __future__ import annotations

import os

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.analysis.fast import scan as fast
from mailtui.recognizers.fields import _DOVECOT_KV, _POSTFIX_KV, _strip

_KEYS = ["from", "to", "orig_to", "helo", "sasl_username", "user", "rip", "lip", "session", "xfrom", "_rip"]
_token = st.one_of(
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(_KEYS),
        st.one_of(
            st.sampled_from(["", "<>", "<", "<a b>", "<x from=y>", "a.from=b", "a;from=c", "u@example.org"]),
            st.from_regex(r"\A<[a-z =,;@.]{0,8}>?\Z"),
            st.from_regex(r"\A[a-z.@=]{0,6}\Z"),
        ),
    ),
    st.sampled_from(["RCPT", "from", "unknown[192.0.2.1]:", "554", "5.7.1", "=<", "<", ">", "x"]),
)
_sep = st.sampled_from([" ", ", ", "; ", ",", ";", ""])
_message = st.lists(st.tuples(_token, _sep), max_size=8).map(lambda parts: "".join(t + s for t, s in parts))


def _reference(message: str, pattern: object, key: str, nonempty: bool) -> str | None:
    for k, v in pattern.findall(message):  # type: ignore[attr-defined]
        if k == key:
            v = _strip(v)
            if v or not nonempty:
                return str(v)
    return None


def _kv(msgs: pl.Series, pattern: str, key: str, nonempty: bool) -> pl.Series:
    return fast._kv_first_nonempty(msgs, pattern, key) if nonempty else fast._kv_first(msgs, pattern, key)


@settings(max_examples=300, deadline=None)
@given(messages=st.lists(_message, min_size=1, max_size=20))
def test_kv_values_are_findalls(messages: list[str]) -> None:
    msgs = pl.Series(messages, dtype=pl.String)
    for pattern, key, nonempty in (
        (_POSTFIX_KV, "from", False),
        (_POSTFIX_KV, "sasl_username", False),
        (_DOVECOT_KV, "rip", True),
        (_DOVECOT_KV, "user", True),
    ):
        got = _kv(msgs, pattern.pattern, key, nonempty).to_list()
        assert got == [_reference(m, pattern, key, nonempty) for m in messages], (key, messages)


@pytest.mark.parametrize(
    "message",
    [
        "user=a;rip=192.0.2.1, lip=x",  # ';' does not end a Dovecot bare value: rip= is inside user='s
        "user=<a rip=192.0.2.9>, rip=192.0.2.1",  # inside an angle value
        "x=<a, rip=192.0.2.9>, rip=192.0.2.1",  # "=<" of a key the pattern does not know
        "rip=, rip=192.0.2.2",  # the first is empty: the next non-empty one
        "to=a.from=b, from=<c@x>",  # Postfix: from= inside to='s bare value
        "to=a;from=b",  # ';' ends a Postfix bare value
        "xfrom=a from=b",  # no word boundary before the first
        "helo=<from=x> from=<y>",
        "from=<unclosed from=z",
        "user=<>, user=ann",
    ],
)
def test_kv_values_on_lines_made_to_trip_the_shortcut(message: str) -> None:
    msgs = pl.Series([message], dtype=pl.String)
    for pattern, key, nonempty in (
        (_POSTFIX_KV, "from", False),
        (_DOVECOT_KV, "rip", True),
        (_DOVECOT_KV, "user", True),
    ):
        got = _kv(msgs, pattern.pattern, key, nonempty).to_list()
        assert got == [_reference(message, pattern, key, nonempty)], key
