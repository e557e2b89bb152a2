"""The fast scan's stamp times (scan._File._stamp_times): a block's traditional stamps are timed
per run of equal stamps in time-ordered logs and per distinct stamp otherwise; both give each
line the time the Python parser gives its stamp (invalid dates None), whatever the order."""

from __future__ import annotations

import os

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.analysis.fast import scan as fast
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine

STAMP = 1_796_000_000.0
_COMP = fast._Compiled(default_engine())
_stamp = st.builds(
    lambda mon, day, h, m, s: f"{mon} {day:>2} {h:02d}:{m:02d}:{s:02d}",
    st.sampled_from(["Jan", "Feb", "Mar", "Nov", "Dec"]),
    st.integers(0, 32),  # 0 and 32: no such day
    st.integers(0, 24),
    st.integers(0, 61),
    st.integers(0, 61),
)


def _reference(stamps: list[str]) -> list[float | None]:
    parser = EnvelopeParser(source="x", year_reference=STAMP)
    out: list[float | None] = []
    for s in stamps:
        record = parser.parse(f"{s} mx postfix/smtpd[1]: connect from a[192.0.2.1]", 1, sanitized=True)
        out.append(record.timestamp if record.fmt == "syslog" and record.family == "postfix" else None)
    return out


@settings(max_examples=150, deadline=None)
@given(runs=st.lists(st.tuples(_stamp, st.integers(1, 12)), max_size=30), shuffle=st.randoms())
def test_stamp_times_are_the_parsers_in_runs_and_out_of_order(runs: list[tuple[str, int]], shuffle: object) -> None:
    ordered = [s for s, n in runs for _ in range(n)]
    mixed = list(ordered)
    shuffle.shuffle(mixed)  # type: ignore[attr-defined]
    for stamps in (ordered, mixed):
        scanner = fast._File(_COMP, fast.FastScan(fast.ScanSummary()), "x", STAMP, None, None)
        got = scanner._stamp_times(pl.Series(stamps, dtype=pl.String)).to_list()
        assert got == _reference(stamps)
