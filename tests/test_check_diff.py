"""``check --diff``: only what changed between two check reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailtui.dns.diff import DiffError, diff, load_previous, save


def report(*checks: dict) -> dict:  # type: ignore[type-arg]
    return {"domain": "example.org", "checks": list(checks)}


def f(id: str, status: str, summary: str, **data: str) -> dict:  # type: ignore[type-arg]
    return {"id": id, "group": "Mail routing", "status": status, "summary": summary, **({"data": data} if data else {})}


def test_unchanged_reports_give_no_changes() -> None:
    r = report(f("mx", "ok", "MX mail.example.org"), f("spf", "ok", "SPF -all"))
    assert diff(r, json.loads(json.dumps(r))).changes == []


def test_new_gone_and_changed_are_told_apart() -> None:
    before = report(
        f("mx", "ok", "MX mail.example.org"),
        f("dmarc", "ok", "p=reject"),
        f("probe", "ok", "993 answers", host="mail.example.org", port=993),
        f("probe", "ok", "995 answers", host="mail.example.org", port=995),
    )
    after = report(
        f("mx", "ok", "MX mail.example.org"),
        f("dmarc", "warn", "p=none"),
        f("probe", "ok", "993 answers", host="mail.example.org", port=993),
        f("blocklist.listed.zen", "fail", "203.0.113.7 is listed", target="203.0.113.7", zone="zen"),
    )
    lines = [c.line() for c in diff(before, after).changes]
    assert lines == [
        "~ dmarc: ok -> warn: p=none",
        "+ blocklist.listed.zen: fail: 203.0.113.7 is listed",
        "- probe: ok: 995 answers",
    ]


def test_same_id_is_paired_by_what_it_is_about_not_by_position() -> None:
    before = report(f("probe", "ok", "a", host="a", port=1), f("probe", "fail", "b", host="b", port=1))
    after = report(f("probe", "fail", "b", host="b", port=1), f("probe", "ok", "a", host="a", port=1))
    assert diff(before, after).changes == []


def test_previous_report_files(tmp_path: Path) -> None:
    assert load_previous(str(tmp_path / "first-run.json")) == {}  # the first run: all is new
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(DiffError, match="not a JSON check report"):
        load_previous(str(bad))
    other = tmp_path / "other.json"
    other.write_text('{"jails": []}')
    with pytest.raises(DiffError, match='no "checks" list'):
        load_previous(str(other))
    keep = tmp_path / "last.json"
    save(str(keep), report(f("mx", "ok", "x")))
    assert load_previous(str(keep))["checks"][0]["id"] == "mx"
    assert not (tmp_path / "last.json.tmp").exists()
