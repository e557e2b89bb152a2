"""Stamps that name no real time (month 13, day 0 or 32, Feb 30 in RFC 3339, hour 25, minute 61)
in every envelope that carries one: the line keeps its text, host, program and meaning, without
a time; no engine stops with "internal error" (it did: exit 70 on a ValueError from datetime)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailtui.logs.envelope import EnvelopeParser
from tests.helpers import scan_engines

MSG = "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
BAD = [
    f"2026-13-29T10:00:00+00:00 mx1 postfix/smtpd[1]: {MSG}",  # month 13
    f"2026-02-30T10:00:00Z mx1 postfix/smtpd[1]: {MSG}",  # no Feb 30
    f"2026-01-01T25:61:00.5+02:00 mx1 postfix/smtpd[1]: {MSG}",  # hour 25, minute 61
    f"2026-00-10T10:00:00Z mx1 postfix/smtpd[1]: {MSG}",  # month 0
    f"Feb  0 25:00:00 mx1 postfix/smtpd[1]: {MSG}",  # day 0, hour 25
    f"Jan 32 10:00:00 mx1 postfix/smtpd[1]: {MSG}",  # day 32
    f"Jan  5 24:99:99.123 mx1 postfix/smtpd[1]: {MSG}",  # high-precision traditional
    f"<38>1 2026-13-01T00:00:00Z mx1 postfix/smtpd 1 - - {MSG}",  # RFC 5424
    f"<38>2026-12-40T00:00:00Z mx1 postfix/smtpd[1]: {MSG}",  # a priority before RFC 3339
    "2026-13-01 10:00:00 imap-login: Info: Disconnected (auth failed, 1 attempts): user=<a>, rip=192.0.2.9",
]


@pytest.mark.parametrize("line", BAD, ids=range(len(BAD)))
def test_a_stamp_that_is_no_time_leaves_the_rest_of_the_line(line: str) -> None:
    rec = EnvelopeParser(source="t").parse(line)
    assert rec.timestamp is None
    assert rec.fmt != "unknown"
    if "postfix" in line:
        assert (rec.host, rec.program, rec.message) == ("mx1", "postfix/smtpd", MSG)
    else:
        assert rec.family == "dovecot" and "auth failed" in rec.message


def test_good_lines_around_a_bad_one_keep_their_times() -> None:
    parser = EnvelopeParser(source="t")
    good = parser.parse(f"Jan  5 10:00:00 mx1 postfix/smtpd[1]: {MSG}")
    assert parser.parse(BAD[5]).timestamp is None
    again = parser.parse(f"Jan  5 10:00:00 mx1 postfix/smtpd[1]: {MSG}")  # the stamp cache is not poisoned
    assert good.timestamp is not None and again.timestamp == good.timestamp


def _scan(engine: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailtui", "scan", "--json", "--engine", engine, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_engine_reports_such_lines_without_an_internal_error(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("\n".join([f"Jan  5 10:00:00 mx1 postfix/smtpd[1]: {MSG}", *BAD]) + "\n")
    reference = _scan("python", log)
    assert reference.returncode == 0, reference.stderr
    report = json.loads(reference.stdout)
    assert report["lines"] == len(BAD) + 1 and report["unparsed"] == 0
    assert report["recognized"] == len(BAD) + 1  # every line still says what it means
    for engine in scan_engines()[1:]:
        got = _scan(engine, log)
        assert (got.returncode, got.stdout) == (0, reference.stdout), (engine, got.stderr)
