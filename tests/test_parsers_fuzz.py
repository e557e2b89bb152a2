"""Hypothesis over the parsers the earlier property tests did not reach: journald records, fail2ban
replies and log, ``postqueue -j`` and ``mailq`` output, doveconf service dumps. Any input gets an
answer, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.fail2ban.offline import from_log
from mailtui.fail2ban.status import _jail_names, _parse_jail, parse_ban_list, parse_with_time
from mailtui.logs.envelope import EnvelopeParser
from mailtui.system.listeners import parse_doveconf_services
from mailtui.system.queue import parse_mailq, parse_postqueue_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["MESSAGE", "SYSLOG_IDENTIFIER", "_PID", "__REALTIME_TIMESTAMP", "_HOSTNAME", "PRIORITY", "_COMM"]
        ),
        json_values,
        max_size=7,
    )
)
def test_journal_records_never_raise(entry) -> None:
    rec = EnvelopeParser().parse_journal(entry)
    assert isinstance(rec.message, str) and "\x1b" not in rec.message


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fail2ban_status_replies_never_raise(reply) -> None:
    _parse_jail("jail", reply)
    _jail_names(reply)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_banip_with_time_entries_never_raise(entry: str) -> None:
    ban = parse_with_time(entry)
    assert isinstance(ban.ip, str)


_stamps = st.sampled_from(
    [
        "2026-11-29 01:08:54",
        "2026-13-40 25:61:61",
        "1970-01-01 00:00:00",
        "permanent",
        "x",
        "\u0662\u0660\u0662\u0666-11-29 01:08:54",  # other decimal digits: \d takes them, int() reads them
        "2026-11-29 01:08:5\u0664",
    ]
)
_entries = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda ip, gap, start, ban, end, tail: f"{ip}{gap}{start} + {ban} = {end}{tail}",
        st.sampled_from(
            ["192.0.2.1", "2001:db8::1", "host name", "a\nb", "", "\x1b[2J", "1.2.3.4 \t", "1.2.3.4\u2003x", "a  b"]
        ),
        st.sampled_from([" \t", " ", "\t", "\n", "\r", "\u2003", " \n "]),
        _stamps,
        st.sampled_from(["600", "-1", "0", "9" * 5000, "6\u0660\u0660", "\u0666"]),
        _stamps,
        st.sampled_from(["", " extra", "\n", "\n2026-11-29 01:08:54 + 1 = x"]),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_entries, max_size=8))
def test_ban_list_in_one_pass_is_each_entry_parsed(entries: list[str]) -> None:
    """parse_ban_list reads a jail's whole reply with one regex pass; entries with newlines,
    odd whitespace, impossible stamps or a bantime of 5,000 digits must give what parsing each
    entry alone gives (the one-pass regex differs from the single one in its whitespace)."""
    assert parse_ban_list(entries) == [parse_with_time(e) for e in entries]


def test_a_real_ban_list_takes_the_one_pass_regex() -> None:
    """fail2ban's own shape ("%s \\t%s + %d = %s") is read by the one pass, not entry by entry."""
    from mailtui.fail2ban.status import _WITH_TIME_LINES

    entries = [
        "192.0.2.1 \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54",
        "2001:db8::1 \t2026-11-29 01:08:54 + -1 = permanent",
        "host.example \t2026-11-29 01:08:54 + 86400 = 2026-11-30 01:08:54",
    ]
    assert len(_WITH_TIME_LINES.findall("\n".join(entries))) == len(entries)
    assert parse_ban_list(entries) == [parse_with_time(e) for e in entries]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=20))
def test_fail2ban_log_never_raises(lines: list[str]) -> None:
    from_log(lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values.map(json.dumps) | st.text(max_size=80), max_size=10))
def test_postqueue_json_never_raises(lines: list[str]) -> None:
    snap = parse_postqueue_json("\n".join(lines))
    snap.counts(), snap.reasons(), snap.top_domains(), snap.oldest_age()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_mailq_and_doveconf_dumps_never_raise(text: str) -> None:
    parse_mailq(text)
    parse_doveconf_services(text)


def test_well_formed_ban_lists_take_the_one_pass(monkeypatch) -> None:
    import mailtui.fail2ban.status as status

    entries = [f"192.0.2.{n} \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54" for n in range(50)]
    expected = [parse_with_time(e) for e in entries]

    def refuse(entry: str) -> None:
        raise AssertionError("a well-formed list went entry by entry")

    monkeypatch.setattr(status, "parse_with_time", refuse)
    assert parse_ban_list(entries) == expected
    with pytest.raises(AssertionError, match="entry by entry"):  # one entry with a newline: each alone
        parse_ban_list([*entries, "192.0.2.99\n2026-11-29 01:08:54 + 1 = x"])
