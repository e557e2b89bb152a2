"""plural(): every count the CLI and the panes write in words."""

from __future__ import annotations

import pytest

from mailtui.system.units import plural


@pytest.mark.parametrize(
    ("n", "noun", "expected"),
    [
        (0, "problem", "0 problems"),
        (1, "problem", "1 problem"),
        (2, "problem", "2 problems"),
        (1, "ban", "1 ban"),
        (5, "ban", "5 bans"),
        (-1, "ban", "-1 bans"),
        (2, "match", "2 matches"),
        (3, "address", "3 addresses"),
        (2, "box", "2 boxes"),
        (2, "entry", "2 entries"),
        (2, "query", "2 queries"),
        (2, "day", "2 days"),
        (2, "key", "2 keys"),
        (2, "child", "2 children"),
        (1, "child", "1 child"),
    ],
)
def test_plural(n: int, noun: str, expected: str) -> None:
    assert plural(n, noun) == expected


def test_plural_irregular_form_and_noun_alone() -> None:
    assert plural(2, "mouse", "mice") == "2 mice"
    assert plural(1, "mouse", "mice") == "1 mouse"
    assert plural(1, "ban", show_count=False) == "ban"
    assert plural(4, "ban", show_count=False) == "bans"


def test_fail2ban_span_writes_times_as_fail2ban_does() -> None:
    from mailtui.system.units import fail2ban_span

    cases = {
        None: "?",
        -1: "permanent",
        600: "10m",
        7200: "2h",
        604800: "1w",
        45: "45s",
        90: "1m30s",
        5400: "90m",
        3690: "1h01m",
    }
    for seconds, shown in cases.items():
        assert fail2ban_span(seconds) == shown, seconds
