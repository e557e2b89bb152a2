"""Hypothesis over the parsers the earlier property tests did not reach: journald records, fail2ban
replies and log, ``postqueue -j`` and ``mailq`` output, doveconf service dumps. Any input gets an
answer, never an exception."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.fail2ban.offline import from_log
from mailtui.fail2ban.status import _jail_names, _parse_jail, parse_with_time
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
