"""The fast engine's envelope stage against the code it stands for, on generated variants.

``_File.envelope`` cuts the common traditional line ("Mmm dd hh:mm:ss host prog[pid]: text") in
one anchored match (``_TRAD_TAGGED``) and every other line with the general steps. Both are
proven here on lines built from the pieces where the two could part (hosts ending in ':',
empty hosts, tags with odd pids or no colon, programs of every family, spaces and colons in
the message, impossible stamps): the rows it gives are those of the general steps alone, and
each row says what ``EnvelopeParser`` says of that line.
"""

from __future__ import annotations

import os

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtui.analysis.fast import scan as fast
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine

STAMP = 1_796_000_000.0
NEVER = r"^(?P<head>(?P<host>x)(?P<prog>x))[^\s\S]"  # matches no line: the general steps take all

_stamps = st.sampled_from(
    ["Mar  1 00:00:00", "Dec 31 23:59:59", "Feb 29 12:00:00", "Jan 00 10:00:00", "Apr 10 24:61:61", "Foo  1 00:00:00"]
)
_hosts = st.sampled_from(["mx", "", "mx:", "a:b", "mx.example.org", "h[1]", "postfix:", "dovecot:", "x:y:"])
_progs = st.sampled_from(
    [
        "postfix/smtpd",
        "postfix/submission/smtpd",
        "postfix",
        "dovecot",
        "deliver(user)",
        "fail2ban.actions",
        "opendkim",
        "postscreen",
        "x[y",
        "a]b",
        "prog name",
        "",
    ]
)
_pids = st.sampled_from(["", "[123]", "[]", "[12a]", "[1][2]", "[0]"])
_texts = st.text(alphabet="ab :[]=<>-.,()0123456789", max_size=30)
_messages = st.one_of(
    _texts,
    st.sampled_from(
        [
            "warning: hostname x does not resolve",
            "fatal: no",
            "imap-login: Info: Login: user=<u>, rip=192.0.2.1",
            "Error: x",
            "auth: Info: y",
            "[ID 123 mail.info] z",
            "fail2ban.filter: x",
            "connect from a[192.0.2.1]",
        ]
    ),
)


@st.composite
def _lines(draw: st.DrawFn) -> str:
    sep = draw(st.sampled_from([" ", "  ", ""]))
    colon = draw(st.sampled_from([":", ": ", ":  ", "", " :"]))
    return f"{draw(_stamps)} {draw(_hosts)} {draw(_progs)}{draw(_pids)}{colon}{sep}{draw(_messages)}"


_COMP: list[fast._Compiled] = []


def _file() -> fast._File:
    if not _COMP:
        _COMP.append(fast._Compiled(default_engine()))
    comp = _COMP[0]
    return fast._File(comp, fast.FastScan(fast.ScanSummary()), "mail.log", STAMP, None, None)


def _envelope(lines: list[str]) -> pl.DataFrame:
    df = pl.DataFrame(
        {"idx": list(range(1, len(lines) + 1)), "line": lines}, schema={"idx": pl.Int64, "line": pl.String}
    )
    return _file().envelope(df).sort("idx")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_lines(), min_size=1, max_size=40))
def test_the_one_match_envelope_is_the_general_one(lines: list[str]) -> None:
    got = _envelope(lines)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(fast, "_TRAD_TAGGED", NEVER)
        want = _envelope(lines)
    assert got.to_dicts() == want.to_dicts()
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    for row in got.iter_rows(named=True):
        record = parser.parse(lines[row["idx"] - 1], row["idx"], sanitized=True)
        assert (row["ts"], row["host"], row["family"], row["daemon"], row["level"], row["message"]) == (
            record.timestamp,
            record.host,
            record.family,
            record.daemon,
            record.level,
            record.message,
        ), lines[row["idx"] - 1]


def test_the_one_match_takes_the_common_line() -> None:
    line = "Mar  1 00:00:00 mx postfix/smtpd[123]: connect from a[192.0.2.1]"
    head = pl.Series([line]).str.extract_groups(fast._TRAD_TAGGED).struct.unnest()
    assert head.row(0) == ("Mar  1 00:00:00 mx postfix/smtpd[123]:", "mx", "postfix/smtpd")
    assert _envelope([line]).select("host", "family", "daemon", "message").row(0) == (
        "mx",
        "postfix",
        "smtpd",
        "connect from a[192.0.2.1]",
    )
