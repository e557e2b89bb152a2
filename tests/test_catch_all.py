"""The catch-all (leveled lines no recognizer claims) and ``mailtui scan --unknown``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers import engine as engine_module
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.loader import load_catalog
from mailtui.recognizers.model import Match
from mailtui.recognizers.summary import _NORMALISE, UnknownShapes, line_shape

ENGINE = Engine(load_catalog(include_user=False))


def recognize(line: str) -> Match | None:
    return ENGINE.recognize(EnvelopeParser().parse(line))


@pytest.mark.parametrize(
    "line, recognizer, severity, fields",
    [
        (
            "Mar  1 10:00:00 mx postfix/smtp[1]: warning: smtp_connect_addr: bind 192.0.2.1: Cannot assign requested address",
            "unexplained.postfix.warning",
            "warn",
            {},
        ),
        (
            "Mar  1 10:00:00 mx postfix/smtpd[1]: warning: mta.example.org[192.0.2.5]: something new and odd",
            "unexplained.postfix.warning",
            "warn",
            {"client_ip": "192.0.2.5", "client_host": "mta.example.org"},
        ),
        (
            "Mar  1 10:00:00 mx postfix/smtpd[1]: warning: 192.0.2.6: a bare client address first",
            "unexplained.postfix.warning",
            "warn",
            {"client_ip": "192.0.2.6"},
        ),
        (
            "Mar  1 10:00:00 mx postfix/cleanup[1]: error: 4B5C6D7E8F: something broke here",
            "unexplained.postfix.error",
            "error",
            {"queue_id": "4B5C6D7E8F"},
        ),
        ("Mar  1 10:00:00 mx postfix/local[1]: fatal: something we never saw", "unexplained.postfix.fatal", "crit", {}),
        (
            "Mar  1 10:00:00 mx dovecot: auth: Error: ldap(ann,192.0.2.7,<abc>): Connection appears to be hanging",
            "unexplained.dovecot.error",
            "error",
            {"user": "ann", "client_ip": "192.0.2.7"},
        ),
        (
            "Mar  1 10:00:00 mx dovecot: imap(bob)<77><sess>: Warning: some new warning",
            "unexplained.dovecot.warning",
            "warn",
            {"user": "bob", "session": "sess"},
        ),
        (
            "2026-03-01 10:00:00 imap(bob): Panic: file x.c: line 1: assertion failed",  # Dovecot's own log_path
            "unexplained.dovecot.panic",
            "crit",
            {"user": "bob"},
        ),
        ("Mar  1 10:00:00 mx dovecot: Fatal: some 1.x fatal, level first", "unexplained.dovecot.fatal", "crit", {}),
    ],
)
def test_leveled_lines_nobody_claims_are_surfaced_by_level(
    line: str, recognizer: str, severity: str, fields: dict[str, str]
) -> None:
    match = recognize(line)
    assert match is not None, line
    assert match.recognizer.id == recognizer and match.recognizer.severity == severity
    assert match.recognizer.explained is False
    assert fields.items() <= match.fields.items(), match.fields
    assert match.summary.startswith("not explained yet: ") and "?" not in match.summary
    assert match.to_dict()["explained"] is False


@pytest.mark.parametrize(
    "line",
    [
        "Mar  1 10:00:00 mx postfix/smtpd[1]: some routine line nobody knows",
        "Mar  1 10:00:00 mx dovecot: imap(bob): Info: an info line nobody knows",
        "Mar  1 10:00:00 mx someprog[1]: warning: not a mail daemon",
    ],
)
def test_unleveled_and_info_lines_stay_unrecognized(line: str) -> None:
    assert recognize(line) is None


def test_a_specific_recognizer_wins_over_the_catch_all() -> None:
    match = recognize(
        "Mar  1 10:00:00 mx postfix/qmgr[1]: warning: connect to transport private/amavis: No such file or directory"
    )
    assert match is not None and match.recognizer.id == "config.transport_unreachable"
    assert match.recognizer.explained is True


def test_dovecot_debug_lines_are_explained_at_info() -> None:
    match = recognize("Mar  1 10:00:00 mx dovecot: imap(ann): Debug: Effective uid=1000, gid=1000")
    assert match is not None and match.recognizer.id == "dovecot.debug"
    assert match.recognizer.severity == "info" and match.recognizer.explained


ADVERSARIAL = [
    "a" * 20000,
    "[" * 20000,
    "a[" * 10000,
    "a: " * 7000,
    "(" * 20000,
    "a(a," * 5000,
    "1.1.1.1: " * 2000,
    "<" * 20000,
    "a.a." * 5000,
    "1:1:" * 5000,
]


def _time(pattern: re.Pattern[str], text: str) -> float:
    start = time.perf_counter()
    pattern.search(text)
    pattern.sub("", text)
    return time.perf_counter() - start


@pytest.mark.parametrize("name", ["_CA_POSTFIX", "_CA_NAMADDR", "_CA_DOVECOT", "_CA_AUTHUSER", "normalise"])
def test_catch_all_and_shape_patterns_stay_linear(name: str) -> None:
    patterns = [p for p, _ in _NORMALISE] if name == "normalise" else [getattr(engine_module, name)]
    for pattern in patterns:
        for text in ADVERSARIAL:
            probe = "warning: " + text
            # best of three: a 2-core machine shared by many jobs adds 10 ms pauses at random
            t_small = max(min(_time(pattern, probe[: len(probe) // 4]) for _ in range(3)), 1e-4)
            t_big = min(_time(pattern, probe) for _ in range(3))
            assert t_big < 0.5 and t_big / t_small < 64, (pattern.pattern[:40], text[:10], t_small, t_big)


def test_shapes_normalise_ids_addresses_users_and_numbers() -> None:
    parser = EnvelopeParser()
    a = parser.parse(
        "Mar  1 10:00:00 mx postfix/smtpd[11]: 4B5C6D7E8F: odd thing from a.example.org[192.0.2.1]: "
        "user=<ann> 12 <x@example.org>"
    )
    b = parser.parse(
        "Mar  1 10:00:01 mx postfix/smtpd[12]: 5C6D7E8F9A: odd thing from b.example.net[2001:db8::5]: "
        "user=<bob> 345 <y@example.net>"
    )
    assert line_shape(a) == line_shape(b) == "postfix/smtpd: QID: odd thing from HOST[IP]: user=* N <ADDR>"
    c = parser.parse("Mar  1 10:00:02 mx dovecot: auth: Error: ldap(ann,192.0.2.7,<abc>): hanging")
    assert line_shape(c) == "dovecot: Error: auth: ldap(USER,IP): hanging"
    shapes = UnknownShapes()
    for rec in (a, b, c):
        shapes.add(rec, None)
    top = shapes.top(5)
    assert shapes.total == 3 and top[0]["count"] == 2 and top[0]["example"] == a.line


def mailtui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}  # no user catalog
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


LOG = """\
Mar  1 10:00:00 mx postfix/smtpd[1]: connect from a.example.org[192.0.2.1]
Mar  1 10:00:01 mx postfix/smtpd[1]: frobnicated widget 17 for a.example.org[192.0.2.1]
Mar  1 10:00:02 mx postfix/smtpd[2]: frobnicated widget 923 for b.example.org[192.0.2.2]
Mar  1 10:00:03 mx postfix/smtpd[3]: frobnicated widget 4 for c.example.org[192.0.2.3]
Mar  1 10:00:04 mx postfix/smtp[4]: warning: smtp_connect_addr: bind 192.0.2.9: Cannot assign requested address
Mar  1 10:00:05 mx dovecot: imap(ann): Info: something else
"""


def test_scan_unknown_text_and_json(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(LOG)
    proc = mailtui(tmp_path, "scan", "--unknown", str(log))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "6 lines, 5 not explained by any recognizer, in 3 shapes" in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith("3 "))
    assert "postfix/smtpd: frobnicated widget N for HOST[IP]" in lines[first]
    assert "e.g. Mar 1 10:00:01 mx postfix/smtpd[1]: frobnicated widget 17" in lines[first + 1]
    assert "[surfaced by unexplained.postfix.warning]" in out
    assert "docs/recognizers.md" in out

    proc = mailtui(tmp_path, "scan", "--unknown", "--json", str(log))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["lines"] == 6 and data["unknown"] == 5 and data["shapes"] == 3
    assert data["top"][0] == {
        "shape": "postfix/smtpd: frobnicated widget N for HOST[IP]",
        "count": 3,
        "example": LOG.splitlines()[1],
        "surfaced_as": None,
    }
    assert {"unexplained.postfix.warning", None} == {t["surfaced_as"] for t in data["top"][1:]}


def test_scan_events_mark_catch_all_lines_not_explained(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(LOG)
    proc = mailtui(tmp_path, "scan", "--json", "--events", str(log))
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    by_line = {e["lineno"]: e for e in events}
    assert by_line[1]["explained"] is True and by_line[1]["recognizer"] == "postfix.session.connect"
    assert by_line[5]["explained"] is False and by_line[5]["severity"] == "warn"
    assert set(by_line) == {1, 5}


def test_scan_report_marks_the_catch_all_not_explained(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(LOG)
    proc = mailtui(tmp_path, "scan", "--json", str(log))
    assert proc.returncode == 0, proc.stderr
    by_id = {r["recognizer"]: r for r in json.loads(proc.stdout)["recognizers"]}
    assert by_id["unexplained.postfix.warning"]["explained"] is False
    assert by_id["postfix.session.connect"]["explained"] is True
    text = mailtui(tmp_path, "scan", str(log)).stdout
    assert "Postfix warning (not explained yet)  (unexplained.postfix.warning)" in text


def test_scan_unknown_refuses_events(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(LOG)
    proc = mailtui(tmp_path, "scan", "--unknown", "--json", "--events", str(log))
    assert proc.returncode != 0 and "--unknown and --events" in proc.stderr
    assert "Traceback" not in proc.stderr


UNEXPLAINED = (
    "Feb 19 10:41:49 mx postfix/smtp[11]: warning: smtp_connect_addr: bind 192.0.2.1: Cannot assign requested address\n"
)


async def test_problems_pane_and_explanation_mark_unexplained_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import DataTable

    from mailtui import config
    from mailtui.ui.panes import ProblemsPane
    from mailtui.ui.screens.explain import ExplainScreen
    from tests.helpers import until, until_screen
    from tests.ui_apps import make_app

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    log = tmp_path / "mail.log"
    log.write_text(UNEXPLAINED)
    app = make_app(config.load(None, {"logs.files": [str(log)], "logs.max_lines": 200}))
    async with app.run_test(size=(120, 35)) as pilot:
        pane = app.query_one(ProblemsPane)
        await until(pilot, lambda: pane.groups, what="a problem group")
        # the table is redrawn at most twice a second: until no redraw is pending
        await until(pilot, lambda: not pane._dirty and pane.table.row_count, what="the Problems table drawn")
        assert set(pane.groups) == {"unexplained.postfix.warning"}
        table = pane.query_one(DataTable)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[3] == "Postfix warning (not explained yet)"
        table.focus()
        await pilot.press("enter")
        screen = await until_screen(pilot, ExplainScreen, what="the explanation")
        # the explanation is read in a worker: wait for its body rather than a fixed 0.2 s
        shown = await until(
            pilot,
            lambda: "Not explained" in (text := str(screen.body.render())) and text,
            what="the explanation's body",
        )
        assert "Not explained" in shown and "level warning" in shown and "scan --unknown" in shown
        assert "not explained yet: smtp_connect_addr: bind 192.0.2.1" in shown
