"""Numbers in untrusted text: "²" passes ``str.isdigit`` and fails ``int``; 5,000 digits pass
both checks and fail ``int`` (its 4,300-digit limit). Each reader of a number from a DNS record,
an HTTP body, a fail2ban or mailcow reply, a container stamp or a command line answers such
text as "not a number", never with an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtui.core.numbers import MAX_DIGITS, ascii_int, is_ascii_digits

#: each is a digit to str.isdigit, and none is a number a daemon writes
HOSTILE = ["²", "1²", "①", "٣", "３", "9" * 5000, "-" + "9" * 5000, " 1 2 ", ""]


@given(st.text(max_size=30))
def test_ascii_int_reads_ascii_digits_only(text: str) -> None:
    got = ascii_int(text, signed=True)
    body = text.strip().removeprefix("-")
    if body and body.isascii() and body.isdigit() and len(body) <= MAX_DIGITS:
        assert got == int(text)
    else:
        assert got is None


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_digits_are_not_numbers(text: str) -> None:
    assert ascii_int(text) is None and ascii_int(text, signed=True) is None
    assert not is_ascii_digits(text.strip()) or len(text.strip()) > MAX_DIGITS


@pytest.mark.parametrize("text", HOSTILE)
def test_dmarc_pct_and_sts_max_age(text: str) -> None:
    from mailtui.dns.records import parse_dmarc, parse_sts_policy

    rec = parse_dmarc(f"v=DMARC1; p=reject; rua=mailto:d@example.org; pct={text}")
    assert any("must be 0-100" in e for e in rec.errors) or text.strip() == ""
    assert all(len(e) < 200 for e in rec.errors)  # the 5,000 digits are not repeated back
    pol = parse_sts_policy(f"version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: {text}\n")
    assert "max_age is missing or not a number" in pol.errors


@pytest.mark.parametrize("text", HOSTILE)
def test_autoconfig_port(text: str) -> None:
    from mailtui.dns.clientconfig import parse_autoconfig

    body = (
        '<clientConfig version="1.1"><emailProvider id="example.org"><domain>example.org</domain>'
        '<incomingServer type="imap"><hostname>mail.example.org</hostname>'
        f"<port>{text}</port><socketType>SSL</socketType></incomingServer></emailProvider></clientConfig>"
    ).encode()
    doc = parse_autoconfig(body)
    assert not doc.servers and any("without a valid hostname and port" in p for p in doc.problems)


@pytest.mark.parametrize("text", HOSTILE)
def test_fail2ban_and_mailcow_replies(text: str) -> None:
    from mailtui.containers.mailcow import _int, seconds_left
    from mailtui.fail2ban.settings import _number

    assert _number(text) is None and _int(text) is None
    assert seconds_left(f"{text}h {text}m {text}s") is None
    assert _number(float("inf")) is None and _number(float("nan")) is None  # int(inf) raises


def test_container_stamps_and_ban_time_words() -> None:
    from mailtui.cli.bans_more import _seconds
    from mailtui.containers.follow import parse_stamp
    from mailtui.containers.services import _epoch

    assert parse_stamp("2026-12-01T08:15:49.12²45Z line".encode())[0] is None  # not a stamp, no exception
    assert _epoch("2026-12-01T08:15:49.12²45Z") == pytest.approx(_epoch("2026-12-01T08:15:49.1245Z"))
    for text in HOSTILE:
        assert _seconds(text) is None and _seconds(f"{text}d") is None
    assert _seconds("2d") == 172800 and _seconds("600") == 600


MSG = "warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
LOG_LINES = [
    f"Dec  1 ²²:00:00 mx1 postfix/smtpd[1]: {MSG}",  # superscripts in the stamp's fast path
    f"Dec ²1 10:²0:00 mx1 postfix/smtpd[1]: {MSG}",
    f"Dec  1 10:00:00 mx1 postfix/smtpd[{'9' * 5000}]: {MSG}",  # a pid int() refuses
    f"Dec  1 10:00:00 mx1 postfix/smtpd[٣]: {MSG}",  # a digit that is no ASCII digit
    f"2026-12-01T10:00:00+00:00 mx1 postfix/smtpd[{'1' * 4301}]: {MSG}",
    f"2026-12-01 10:00:00,123 fail2ban.filter [{'7' * 5000}]: INFO [postfix] Found 192.0.2.9",
]


@pytest.mark.parametrize("line", LOG_LINES, ids=range(len(LOG_LINES)))
def test_log_lines_with_hostile_digits_parse(line: str) -> None:
    from mailtui.logs.envelope import EnvelopeParser

    rec = EnvelopeParser(source="t").parse(line)  # raised ValueError: exit 70 in every engine
    if "smtpd[" in line and "²" not in line:
        assert (rec.host, rec.program, rec.message, rec.pid) == ("mx1", "postfix/smtpd", MSG, None)


def test_every_engine_scans_them_alike(tmp_path) -> None:
    import json
    import subprocess
    import sys

    log = tmp_path / "mail.log"
    log.write_text("\n".join([f"Dec  1 10:00:00 mx1 postfix/smtpd[1]: {MSG}", *LOG_LINES]) + "\n")
    from tests.helpers import scan_engines

    runs = {}
    for engine in scan_engines():
        argv = [sys.executable, "-m", "mailtui", "scan", "--json", "--engine", engine, str(log)]
        runs[engine] = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    ref = runs["python"]
    assert ref.returncode == 0, ref.stderr
    assert json.loads(ref.stdout)["lines"] == len(LOG_LINES) + 1
    for engine, got in runs.items():
        assert (got.returncode, got.stdout) == (0, ref.stdout), (engine, got.stderr)
