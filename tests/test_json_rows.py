"""``json_rows_text`` (``mailtui bans --json``: one line per banned address, through the C
encoder) is json_text's output above its row depth and the same JSON value at every depth;
``JailStatus.to_dict`` (written out for speed) is what ``dataclasses.asdict`` gave when it was a
dataclass (now a plain record: mailtui.core.plain), every field in order, records as dicts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.cli.bans_cmd import encode_bans
from mailtui.cli.output import EncodedRows, encode_rows, json_rows_text, json_text
from mailtui.core.plain import Record
from mailtui.fail2ban.status import BannedIP, JailStatus, ban_rows

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


def _asdict(obj: Any) -> Any:
    """What dataclasses.asdict does, for records: each field in order, nested records as dicts,
    lists copied, other values deep-copied."""
    if isinstance(obj, Record):
        return {name: _asdict(getattr(obj, name)) for name in obj.FIELDS}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_asdict(v) for v in obj)
    return copy.deepcopy(obj)


def test_jail_to_dict_is_asdict() -> None:
    jail = JailStatus(
        "postfix", 1, 2, 3, 4, ["/var/log/mail.log"], [BannedIP("192.0.2.1", 1.5, 600, 601.5), BannedIP("x")]
    )
    assert jail.to_dict() == _asdict(jail)
    assert list(jail.to_dict()) == list(_asdict(jail))  # the same key order, so the same JSON
    assert jail.to_dict()["files"] is not jail.files  # a copy, as asdict made


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


_numbers = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(), st.just(-0.0)
)
_bans = st.lists(
    st.builds(
        BannedIP,
        ip=st.text(st.characters(codec=None), max_size=10) | st.sampled_from(["192.0.2.1", "2001:db8::1"]),
        ban_start=_numbers | st.sampled_from([1764556800.0, 0.0, 1764556800.5]),
        ban_time=_numbers | st.sampled_from([600, -1]),
        ends=_numbers | st.sampled_from([1764557400.0, -0.0]),
    ),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(bans=_bans, depth=st.integers(0, 4))
def test_bans_encoded_by_rows_of_text_are_encode_rows_text(bans: list[BannedIP], depth: int) -> None:
    """``bans --json`` writes each ban with an f-string: the same text as json's encoder gives
    the same rows, for every value a field may hold (and the ones it should not: they take
    encode_rows' path), 0.0 and -0.0 in one list included."""
    got, want = encode_bans(bans, depth), encode_rows(ban_rows(bans), depth)
    assert type(got) is type(want) and got == want
    if isinstance(got, EncodedRows):
        assert json.loads(got) == json.loads(json.dumps(ban_rows(bans)))


def test_plain_bans_are_written_without_encode_rows(monkeypatch: Any) -> None:
    """The f-string path is the one taken for what fail2ban's replies give (else the test above
    would pass with every list sent to encode_rows)."""
    import mailtui.cli.bans_cmd as bans_cmd

    bans = [BannedIP("192.0.2.1", 1764556800.0, 600, 1764557400.0), BannedIP("x", None, None, None)]
    want = encode_rows(ban_rows(bans), 3)

    def refused(*_: Any) -> Any:
        raise AssertionError("encode_rows was used")

    monkeypatch.setattr(bans_cmd, "encode_rows", refused)
    assert bans_cmd.encode_bans(bans, 3) == want
    with pytest.raises(AssertionError, match="encode_rows was used"):
        bans_cmd.encode_bans([BannedIP("192.0.2.1", float("inf"))], 3)
