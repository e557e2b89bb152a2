"""Correlation (queue IDs, smtpd connections, Dovecot sessions) and the "who is complaining?" lookup."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from mailtui.analysis.who import lookup, query_kind
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine

DATA = Path(__file__).parent / "data"

LINES = """\
Mar  1 10:00:00 mx postfix/smtpd[100]: connect from pc.example.org[192.0.2.9]
Mar  1 10:00:01 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from pc.example.org[192.0.2.9]: 504 5.5.2 <pc>: Helo command rejected: need fully-qualified hostname; from=<ann@example.org> to=<bob@example.com> proto=ESMTP helo=<pc>
Mar  1 10:00:02 mx postfix/smtpd[100]: disconnect from pc.example.org[192.0.2.9] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
Mar  1 10:00:03 mx postfix/smtpd[100]: connect from other.example.net[198.51.100.1]
Mar  1 10:00:04 mx postfix/smtpd[100]: 4A1B2C3D4E: client=other.example.net[198.51.100.1]
Mar  1 10:00:04 mx postfix/cleanup[101]: 4A1B2C3D4E: message-id=<m1@example.net>
Mar  1 10:00:04 mx postfix/qmgr[102]: 4A1B2C3D4E: from=<x@example.net>, size=900, nrcpt=1 (queue active)
Mar  1 10:00:05 mx postfix/local[103]: 4A1B2C3D4E: to=<ann@example.org>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)
Mar  1 10:00:05 mx postfix/qmgr[102]: 4A1B2C3D4E: removed
Mar  1 10:00:06 mx postfix/smtpd[100]: disconnect from other.example.net[198.51.100.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Mar  1 10:00:07 mx dovecot: imap-login: Login: user=<ann@example.org>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, mpid=5, TLS, session=<S1>
Mar  1 10:00:08 mx postfix/smtpd[100]: connect from pc.example.org[192.0.2.9]
Mar  1 10:00:09 mx postfix/smtpd[100]: NOQUEUE: reject: RCPT from pc.example.org[192.0.2.9]: 504 5.5.2 <pc>: Helo command rejected: need fully-qualified hostname; from=<ann@example.org> to=<bob@example.com> proto=ESMTP helo=<pc>
Mar  1 10:00:10 mx postfix/smtpd[100]: disconnect from pc.example.org[192.0.2.9] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
"""


def source(text: str):
    engine = default_engine()

    def gen():
        parser = EnvelopeParser()
        for n, line in enumerate(text.splitlines(), 1):
            rec = parser.parse(line, n)
            yield rec, engine.recognize(rec)

    return gen


def test_query_kinds() -> None:
    assert [query_kind(q) for q in ("192.0.2.9", "2001:db8::1", "ann@example.org", "ann", "mx.example")] == [
        "ip",
        "ip",
        "email",
        "name",
        "name",
    ]


def test_email_lookup_follows_queue_ids_and_connections() -> None:
    result = lookup(source(LINES), "ann@example.org")
    numbers = [t.record.lineno for t in result.lines]
    # both HELO rejects with their connect/disconnect, the whole life of the message to ann,
    # and her IMAP login
    assert numbers == [1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 14]
    assert [t.record.lineno for t in result.problems] == [2, 13]


def test_context_says_it_is_your_own_users_client() -> None:
    result = lookup(source(LINES), "192.0.2.9")
    first, second = (t for t in result.lines if t.match and t.match.recognizer.id == "postfix.helo.non_fqdn")
    assert first.note == ""  # before the IMAP login nothing links the address to a user
    assert "logged in to IMAP/POP3 as ann@example.org" in second.note


def test_relay_denied_on_port_25_without_auth_is_explained() -> None:
    text = (DATA / "relay_denied" / "syslog.log").read_text()
    ip = re.search(r"unknown\[([\d.]+)\]", text).group(1)
    result = lookup(source(text), ip)
    relay = next(t for t in result.lines if t.match and t.match.recognizer.id == "postfix.relay.deferred")
    assert "port-25 service" in relay.note and "587" in relay.note


def test_who_cli_across_postfix_and_dovecot_logs(tmp_path: Path) -> None:
    mail, dove = tmp_path / "mail.log", tmp_path / "dovecot.log"
    mail.write_text((DATA / "sasl_auth_failed" / "syslog.log").read_text())
    dove.write_text(
        (DATA / "sasl_auth_failed" / "dovecot.log").read_text()
        + (DATA / "imap_auth_failed" / "dovecot.log").read_text()
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mailtui", "who", "--json", "alice", str(mail), str(dove)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    data = json.loads(proc.stdout)
    files = {Path(line["file"]).name for line in data["lines"]}
    recognizers = {line.get("recognizer") for line in data["lines"]}
    assert files == {"mail.log", "dovecot.log"}
    assert {"postfix.sasl.auth_failed", "dovecot.auth.password_mismatch", "dovecot.login.auth_failed"} <= recognizers
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "who", "nobody@nowhere.example", str(mail)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.returncode == 1 and "nothing in" in text.stdout


def test_an_authenticated_connection_is_forgotten_at_disconnect() -> None:
    from mailtui.analysis.correlate import Correlator, context_note

    engine = default_engine()
    parser = EnvelopeParser()
    corr = Correlator()
    lines = [
        "Mar  1 10:00:00 mx postfix/smtpd[7]: connect from pc.example.org[192.0.2.9]",
        "Mar  1 10:00:01 mx postfix/smtpd[7]: 4A1B2C3D4F: client=pc.example.org[192.0.2.9], "
        "sasl_method=PLAIN, sasl_username=ann@example.org",
        "Mar  1 10:00:02 mx postfix/smtpd[7]: NOQUEUE: reject: RCPT from pc.example.org[192.0.2.9]: 454 4.7.1 "
        "<bob@example.com>: Relay access denied; from=<ann@example.org> to=<bob@example.com> proto=ESMTP helo=<pc>",
    ]
    for line in lines:
        rec = parser.parse(line)
        match = engine.recognize(rec)
        keys = corr.keys(rec, match)
    assert corr.authenticated == {keys[0]}
    # while the connection lasts, its AUTH still rules out "never authenticated"
    assert "never authenticated" not in context_note(rec, match, keys, corr)
    rec = parser.parse(
        "Mar  1 10:00:03 mx postfix/smtpd[7]: disconnect from pc.example.org[192.0.2.9] "
        "ehlo=1 auth=1 mail=1 rcpt=0/1 quit=1 commands=4/5"
    )
    corr.keys(rec, engine.recognize(rec))
    assert corr.authenticated == set() and corr._open == {}


def _alice_logs(tmp_path: Path) -> tuple[Path, Path]:
    """The issue's case: Postfix from 02:05:18, Dovecot 02:05:19-02:05:30, in two files."""
    mail, dove = tmp_path / "mail.log", tmp_path / "dovecot.log"
    mail.write_text(
        (DATA / "sasl_auth_failed" / "syslog.log").read_text() + (DATA / "fail2ban_ban" / "syslog.log").read_text()
    )
    dove.write_text(
        (DATA / "sasl_auth_failed" / "dovecot.log").read_text()
        + (DATA / "imap_auth_failed" / "dovecot.log").read_text()
    )
    return mail, dove


def test_who_is_one_timeline_in_time_order_across_files(tmp_path: Path) -> None:
    mail, dove = _alice_logs(tmp_path)
    # Dovecot's file named first: the order of the arguments must not decide the order of time
    proc = subprocess.run(
        [sys.executable, "-m", "mailtui", "who", "--json", "alice", str(dove), str(mail)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    data = json.loads(proc.stdout)
    stamps = [line["timestamp"] for line in data["lines"]]
    assert stamps == sorted(stamps) and len(set(stamps)) > 3
    # equal times keep the order of their file (stable), and the two files interleave
    files = [Path(line["file"]).name for line in data["lines"]]
    assert files[0] == "mail.log" and "dovecot.log" in files[1:3] and files[-1] == "mail.log"
    for a, b in zip(data["lines"], data["lines"][1:]):
        if a["timestamp"] == b["timestamp"] and a["file"] == b["file"]:
            assert a["lineno"] < b["lineno"]
    summary = data["summary"]
    assert summary["first"] == stamps[0] and summary["last"] == stamps[-1]
    # 4 SMTP AUTH failures, 1 IMAP session (its auth line and its Disconnected line are one login)
    assert summary["logins"] == {"ok": 0, "failed": 5}
    assert set(summary["addresses"]) == {"127.0.0.113", "127.0.0.114", "127.0.0.127", "127.0.0.132"}
    problems = {p["recognizer"]: p["count"] for p in summary["problems"]}
    assert problems["postfix.sasl.auth_failed"] == 4 and problems["dovecot.login.auth_failed"] == 1
    # the auth process's line joins its IMAP session (same conversation key)
    imap = [line for line in data["lines"] if "127.0.0.127" in line["line"]]
    assert len(imap) == 2 and imap[0]["conversations"] == imap[1]["conversations"] != []
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "who", "alice", str(dove), str(mail)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    head = text.splitlines()[:6]
    assert head[0] == "alice: 14 lines, 10 recognized problems"
    assert head[1].startswith("  seen Nov 29 02:05:18 .. Nov 29 02:05:30")
    assert "  logins: 0 ok, 5 failed" in head
    assert any(h.startswith("  problems: SMTP AUTH failed: wrong user name or password ×4") for h in head)
    body = [m.group(1) for ln in text.splitlines()[6:] if (m := re.match(r"\S?\s{1,2}Nov 29 (\S+)", ln))]
    assert body == sorted(body) and len(body) == 14


def test_who_screen_shows_the_summary_and_the_merged_timeline(tmp_path: Path) -> None:
    from mailtui.analysis.who import iterate_files
    from mailtui.ui.screens.who import timeline_content

    mail, dove = _alice_logs(tmp_path)
    result = lookup(iterate_files([str(dove), str(mail)]), "alice")
    text = str(timeline_content(result))
    assert "  logins: 0 ok, 5 failed" in text and "  seen Nov 29 02:05:18 .. Nov 29 02:05:30" in text
    times = [m.group(0) for ln in text.splitlines() if (m := re.match(r"\S? ?(\d\d:\d\d:\d\d)", ln))]
    times = [t[-8:] for t in times]
    assert times == sorted(times) and times[0] == "02:05:18" and times[-1] == "02:05:30"
