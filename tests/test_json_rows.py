"""``json_rows_text`` (``mailtui bans --json``: one line per banned address, through the C
encoder) is json_text's output above its row depth and the same JSON value at every depth;
``JailStatus.to_dict`` (written out for speed) is what ``dataclasses.asdict`` gave."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.cli.output import encode_rows, json_rows_text, json_text
from mailtui.fail2ban.status import BannedIP, JailStatus

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12))
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data=_json, rows_at=st.integers(0, 6))
def test_rows_are_the_same_json(data: Any, rows_at: int) -> None:
    text = json_rows_text(data, rows_at)
    assert json.loads(text) == json.loads(json_text(data))
    assert json_rows_text(data, 99) == json_text(data)  # deep enough: byte for byte the same
    assert "\x1b" not in text and "\u202e" not in text  # escaped as everywhere else


def test_a_row_is_one_line_and_unsafe_text_stays_escaped() -> None:
    data = {"jails": [{"name": "j", "banned": [{"ip": "\x1b[31m\u202e", "ends": float("inf")}, {"ip": "192.0.2.1"}]}]}
    lines = json_rows_text(data, 4).splitlines()
    assert '        {"ip": "\\u001b[31m\\u202e", "ends": null},' in lines
    assert '        {"ip": "192.0.2.1"}' in lines


def test_jail_to_dict_is_asdict() -> None:
    jail = JailStatus(
        "postfix", 1, 2, 3, 4, ["/var/log/mail.log"], [BannedIP("192.0.2.1", 1.5, 600, 601.5), BannedIP("x")]
    )
    assert jail.to_dict() == asdict(jail)
    assert list(jail.to_dict()) == list(asdict(jail))  # the same key order, so the same JSON


def _with_encoded_lists(data: Any, rows_at: int, depth: int = 0) -> Any:
    """``data`` with every list that sits right above ``rows_at`` replaced by its encode_rows."""
    if isinstance(data, dict):
        return {k: _with_encoded_lists(v, rows_at, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        if depth + 1 == rows_at:
            return encode_rows(data, depth)
        return [_with_encoded_lists(v, rows_at, depth + 1) for v in data]
    return data


@settings(max_examples=300, deadline=None)
@given(data=_json, rows_at=st.integers(1, 6))
def test_rows_encoded_ahead_are_the_same_text(data: Any, rows_at: int) -> None:
    """``bans --json`` encodes each jail's bans while fail2ban formats the next jail's: the
    text must be what json_rows_text writes when it encodes them itself, NaN and all."""
    assert json_rows_text(_with_encoded_lists(data, rows_at), rows_at) == json_rows_text(data, rows_at)


def test_encoded_ban_rows_are_the_jails_rows() -> None:
    jail = JailStatus("postfix", banned=[BannedIP("192.0.2.1", 1.5, 600, 601.5), BannedIP("\x1b]0;x\x07")])
    data = {"jails": [jail.to_dict()]}
    ahead = {"jails": [jail.to_dict(encode_rows(jail.banned_rows(), depth=3))]}
    assert json_rows_text(ahead, 4) == json_rows_text(data, 4)
    assert "\x1b" not in json_rows_text(ahead, 4)
