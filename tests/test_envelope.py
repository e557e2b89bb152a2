"""Envelope parsing of every supported line format, including year inference and odd programs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtui.logs.envelope import EnvelopeParser, YearGuesser

JAN_2027 = datetime(2027, 1, 2, 12, 0).timestamp()


@pytest.mark.parametrize(
    "line, fmt, host, program, pid, family, daemon, level, message",
    [
        (
            "Feb  9 10:35:59 mx1 postfix/smtpd[8343]: connect from a[192.0.2.1]",
            "syslog",
            "mx1",
            "postfix/smtpd",
            8343,
            "postfix",
            "smtpd",
            "",
            "connect from a[192.0.2.1]",
        ),
        (
            "Feb 09 10:35:59 mx1 postfix/submission/smtpd[8343]: warning: x",
            "syslog",
            "mx1",
            "postfix/submission/smtpd",
            8343,
            "postfix",
            "smtpd",
            "warning",
            "warning: x",
        ),
        (
            "2026-03-07T17:13:16.558813+00:00 mail postfix/cleanup[1873512]: 384B4762900: message-id=<a>",
            "rfc3339",
            "mail",
            "postfix/cleanup",
            1873512,
            "postfix",
            "cleanup",
            "",
            "384B4762900: message-id=<a>",
        ),
        (
            "Nov 29 01:58:37 imap(alice)<7658><IySyoWBhEJt/AAAB>: Info: Disconnected: Logged out in=0",
            "dovecot",
            "",
            "dovecot",
            None,
            "dovecot",
            "imap",
            "Info",
            "imap(alice)<7658><IySyoWBhEJt/AAAB>: Disconnected: Logged out in=0",
        ),
        (
            "2013-08-11 03:56:40 auth-worker(default): Info: pam(u,192.0.2.4): x",
            "dovecot",
            "",
            "dovecot",
            None,
            "dovecot",
            "auth-worker",
            "Info",
            "auth-worker(default): pam(u,192.0.2.4): x",
        ),
        (
            "Jun 12 19:07:29 hostname dovecot[241]: imap-login: Login aborted: Connection closed",
            "syslog",
            "hostname",
            "dovecot",
            241,
            "dovecot",
            "imap-login",
            "",
            "imap-login: Login aborted: Connection closed",
        ),
        (
            "Jul 02 13:49:32 h dovecot[442]: dovecot: auth(default): pam(a,192.0.2.2): failed",
            "syslog",
            "h",
            "dovecot",
            442,
            "dovecot",
            "auth",
            "",
            "auth(default): pam(a,192.0.2.2): failed",
        ),
        (
            "2026-02-19 10:35:59,388 fail2ban.actions        [1234]: NOTICE  [postfix-sasl] Ban 192.0.2.1",
            "fail2ban",
            "",
            "fail2ban.actions",
            1234,
            "fail2ban",
            "actions",
            "NOTICE",
            "[postfix-sasl] Ban 192.0.2.1",
        ),
        (
            "Sep 12 16:49:12 h fail2ban-server[11524]: fail2ban.actions        [11524]: NOTICE  [x] Ban 192.0.2.2",
            "syslog",
            "h",
            "fail2ban-server",
            11524,
            "fail2ban",
            "actions",
            "NOTICE",
            "[x] Ban 192.0.2.2",
        ),
        (
            "Mar  1 00:00:00 sol postfix/smtpd[1]: [ID 197553 mail.info] connect from a[192.0.2.9]",
            "syslog",
            "sol",
            "postfix/smtpd",
            1,
            "postfix",
            "smtpd",
            "",
            "connect from a[192.0.2.9]",
        ),
    ],
)
def test_formats(line, fmt, host, program, pid, family, daemon, level, message) -> None:
    rec = EnvelopeParser(source="t").parse(line, 7)
    assert (rec.fmt, rec.host, rec.program, rec.pid, rec.family, rec.daemon, rec.level, rec.message) == (
        fmt,
        host,
        program,
        pid,
        family,
        daemon,
        level,
        message,
    )
    assert rec.timestamp is not None and rec.lineno == 7 and rec.source == "t"


def test_rfc3339_timestamp_is_exact() -> None:
    rec = EnvelopeParser().parse("2026-03-07T17:13:16.5+01:00 h p[1]: m")
    # (Python 3.10's fromisoformat does not take a one-digit fraction, so the reference is built)
    expected = datetime(2026, 3, 7, 17, 13, 16, 500000, tzinfo=timezone(timedelta(hours=1))).timestamp()
    assert rec.timestamp == expected


def test_tai64n() -> None:
    rec = EnvelopeParser().parse("@400000004c91b044077a9e94 imap-login: Info: Aborted login (x)")
    assert rec.fmt == "dovecot" and rec.daemon == "imap-login"
    assert abs(rec.timestamp - 1284616250) < 60


def test_year_inference_across_new_year() -> None:
    parser = EnvelopeParser(year_reference=JAN_2027)
    dec = parser.parse("Dec 31 23:59:59 h p[1]: a")
    jan = parser.parse("Jan  1 00:00:01 h p[1]: b")
    assert datetime.fromtimestamp(dec.timestamp).year == 2026
    assert datetime.fromtimestamp(jan.timestamp).year == 2027
    assert jan.timestamp - dec.timestamp == 2


def test_a_live_parser_follows_the_clock_across_days_and_new_year(monkeypatch) -> None:
    """The live view parses for days: its year must come from today, not from start-up."""
    import mailtui.logs.envelope as envelope

    clock = [datetime(2026, 3, 1, 10, 0).timestamp()]
    monkeypatch.setattr(envelope.time, "time", lambda: clock[0])
    parser = EnvelopeParser()  # no reference: the clock's
    assert datetime.fromtimestamp(parser.parse("Mar  1 10:00:00 h p[1]: a").timestamp).year == 2026
    clock[0] = datetime(2026, 3, 3, 9, 0).timestamp()  # two days later, same process
    assert datetime.fromtimestamp(parser.parse("Mar  3 08:59:00 h p[1]: b").timestamp).year == 2026
    clock[0] = datetime(2026, 12, 20, 12, 0).timestamp()
    parser = EnvelopeParser()
    parser.parse("Dec 20 11:59:00 h p[1]: c")
    clock[0] = datetime(2027, 1, 2, 0, 0, 5).timestamp()  # left running over New Year
    jan = parser.parse("Jan  2 00:00:04 h p[1]: d")
    dec = parser.parse("Dec 31 23:59:59 h p[1]: e")  # a late line from the old year
    assert datetime.fromtimestamp(jan.timestamp) == datetime(2027, 1, 2, 0, 0, 4)
    assert datetime.fromtimestamp(dec.timestamp) == datetime(2026, 12, 31, 23, 59, 59)


def test_feb_29_in_a_guessed_non_leap_year_does_not_crash() -> None:
    g = YearGuesser(datetime(2027, 3, 1).timestamp())
    assert g.epoch(2, 29, 0, 0, 0) > 0


def test_unknown_lines_keep_their_text() -> None:
    rec = EnvelopeParser().parse("garbage \x1b[31m line")
    assert rec.fmt == "unknown" and rec.message == "garbage ␛[31m line" and rec.timestamp is None


def test_markup_in_lines_is_kept_literally() -> None:
    line = "Feb  9 10:35:59 h postfix/smtpd[1]: HELO [bold]x[/bold] [/usr/sbin/postfix] [link=x]y[/link]"
    rec = EnvelopeParser().parse(line)
    assert rec.message == "HELO [bold]x[/bold] [/usr/sbin/postfix] [link=x]y[/link]"


@given(st.text(max_size=300))
def test_parser_never_crashes(text: str) -> None:
    rec = EnvelopeParser().parse(text)
    assert isinstance(rec.message, str)


@given(
    st.from_regex(
        r"[A-Z][a-z]{2} [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \S{1,10} \S{0,20}(\[\d{1,6}\])?: .{0,80}",
        fullmatch=True,
    )
)
def test_syslog_shaped_input_never_crashes(text: str) -> None:
    EnvelopeParser(year_reference=time.time()).parse(text)
