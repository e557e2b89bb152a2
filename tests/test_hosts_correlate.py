"""Correlation scoped by host (issue 19): queue IDs, smtpd pids and Dovecot sessions are unique per
host only, and a message relayed between our own hosts is one conversation across them.

The lines are real Postfix and Dovecot shapes (the rig's captures, ../shared/corpus/realworld's
kdent and lograptor logs), given hosts mx1 (an MX relaying inward), mx2 (delivering) and imap1.
"""

from __future__ import annotations

from pathlib import Path

from mailtui.analysis.correlate import Correlator, context
from mailtui.analysis.who import Pair, conversation, iterate_files, lookup
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine

# mx1 takes a message from the Internet and relays it to mx2, which delivers it locally
MX1 = """\
Nov 29 10:00:00 mx1 postfix/smtpd[4100]: connect from mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1 postfix/smtpd[4100]: 4B80DE08044: client=mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1 postfix/cleanup[4101]: 4B80DE08044: message-id=<m1@sender.test>
Nov 29 10:00:00 mx1 postfix/qmgr[900]: 4B80DE08044: from=<ann@sender.test>, size=1793, nrcpt=1 (queue active)
Nov 29 10:00:01 mx1 postfix/smtpd[4100]: disconnect from mail.sender.test[127.0.0.77] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 29 10:00:02 mx1 postfix/smtp[4102]: 4B80DE08044: to=<bob@example.org>, relay=mx2.example.org[127.0.0.2]:25, delay=2, delays=0.05/0/0.14/1.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 73635C808F)
Nov 29 10:00:02 mx1 postfix/qmgr[900]: 4B80DE08044: removed
"""
MX2 = """\
Nov 29 10:00:01 mx2 postfix/smtpd[4100]: connect from mx1.example.org[127.0.0.1]
Nov 29 10:00:01 mx2 postfix/smtpd[4100]: 73635C808F: client=mx1.example.org[127.0.0.1]
Nov 29 10:00:01 mx2 postfix/cleanup[5101]: 73635C808F: message-id=<m1@sender.test>
Nov 29 10:00:02 mx2 postfix/qmgr[901]: 73635C808F: from=<ann@sender.test>, size=2101, nrcpt=1 (queue active)
Nov 29 10:00:02 mx2 postfix/smtpd[4100]: disconnect from mx1.example.org[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 29 10:00:03 mx2 postfix/local[5102]: 73635C808F: to=<bob@example.org>, relay=local, delay=1.1, delays=0.04/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 29 10:00:03 mx2 postfix/qmgr[901]: 73635C808F: removed
"""


def _pairs(text: str) -> list[Pair]:
    engine = default_engine()
    parser = EnvelopeParser(source="t")
    records = [parser.parse(line, n) for n, line in enumerate(text.splitlines(), 1)]
    records.sort(key=lambda r: r.timestamp or 0)  # stable: one stream merged by time
    return [(r, engine.recognize(r)) for r in records]


def _target(pairs: list[Pair], host: str, needle: str) -> Pair:
    return next(p for p in pairs if p[0].host == host and needle in p[0].line)


def test_a_message_relayed_between_our_hosts_is_one_conversation_in_order() -> None:
    pairs = _pairs(MX1 + MX2)
    for host, needle in (("mx2", "delivered to mailbox"), ("mx1", "relay=mx2"), ("mx2", "73635C808F: removed")):
        result = conversation(lambda: iter(pairs), _target(pairs, host, needle)[0])
        lines = [(t.record.host, t.record.message) for t in result.lines]
        # mx1 takes it, mx2 is handed it, mx1 says so and lets go, mx2 delivers it
        assert [h for h, _ in lines] == ["mx1"] * 3 + ["mx2"] * 2 + ["mx1"] * 2 + ["mx2"] * 3, lines
        assert lines[0][1].startswith("4B80DE08044: client=") and lines[3][1].startswith("73635C808F: client=")
        assert "queued as 73635C808F" in lines[5][1] and "delivered to mailbox" in lines[-2][1]
        assert result.hosts == ["mx1", "mx2"]
        assert "qid:4B80DE08044@mx1" in result.query and "qid:73635C808F@mx2" in result.query
        stamps = [t.record.timestamp for t in result.lines]
        assert stamps == sorted(stamps)
        # the connections are not the message: mx2's "connect from mx1" is not in it
        assert not any(m.startswith(("connect from", "disconnect from")) for _, m in lines)
    # the line that has mx1's smtpd connection brings that connection too, and no other
    result = conversation(lambda: iter(pairs), _target(pairs, "mx1", "4B80DE08044: client=")[0])
    connects = [t.record.host for t in result.lines if "connect from" in t.record.message]
    assert connects == ["mx1", "mx1"] and len(result.lines) == 12


def test_the_relay_link_holds_when_each_hosts_file_is_read_in_turn(tmp_path: Path) -> None:
    # mx1's file first: its relay line comes before any line of mx2 (who reads files one by one)
    (tmp_path / "mx1.log").write_text(MX1)
    (tmp_path / "mx2.log").write_text(MX2)
    files = [str(tmp_path / "mx1.log"), str(tmp_path / "mx2.log")]
    sources = [iterate_files([f]) for f in files]

    def one_after_the_other():
        for source in sources:
            yield from source()

    result = lookup(one_after_the_other, "bob@example.org")
    assert result.hosts == ["mx1", "mx2"]
    # both delivery lines mention bob; through the link, every line of both queue IDs is there
    messages = [t.record.message for t in result.lines]
    assert sum(m.startswith("4B80DE08044:") for m in messages) == 5
    assert sum(m.startswith("73635C808F:") for m in messages) == 5


def test_the_same_queue_id_on_two_hosts_stays_two_messages() -> None:
    other = MX1.replace("mx1", "mx3").replace("relay=mx2.example.org", "relay=mail.elsewhere.test")
    pairs = _pairs(MX1 + other)
    result = conversation(lambda: iter(pairs), _target(pairs, "mx3", "removed")[0])
    assert {t.record.host for t in result.lines} == {"mx3"}
    assert len(result.lines) == 5 and result.query == "qid:4B80DE08044"  # one host: the key says no host
    # and the relay out of mx3 went to a host that is not ours: nothing is linked
    assert result.hosts == ["mx3"]


def test_a_relay_to_a_host_that_is_not_ours_links_nothing() -> None:
    corr = Correlator()
    keys: list[list[str]] = [corr.keys(r, m) for r, m in _pairs(MX1.replace("mx2.example.org", "mx2.other.test"))]
    # "mx2" is not in this log at all: no second queue ID
    assert all(k == [] or k[0].startswith(("qid:4B80DE08044@mx1", "smtpd:mx1/")) for k in keys)
    assert not any("73635C808F" in key for k in keys for key in k)


def test_the_same_smtpd_pid_on_two_hosts_is_two_connections() -> None:
    pairs = _pairs(MX1 + MX2)  # both hosts' smtpd ran as pid 4100 at the same second
    result = lookup(lambda: iter(pairs), "127.0.0.77")
    assert {t.record.host for t in result.lines} == {"mx1", "mx2"}  # the relayed message reached mx2
    # mx2's connection from mx1 is not the Internet client's connection on mx1
    assert not any(t.record.host == "mx2" and "connect from" in t.record.message for t in result.lines)


DOVECOT_MX = """\
Nov 29 11:00:00 imap1 dovecot: auth: passwd-file(alice,127.0.0.9,<IySyoWBhEJt/AAAB>): Password mismatch
Nov 29 11:00:02 imap1 dovecot: imap-login: Disconnected: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, TLS, session=<IySyoWBhEJt/AAAB>
Nov 29 11:00:05 imap2 dovecot: imap-login: Disconnected: Aborted login (auth failed, 1 attempts in 2 secs): user=<alice>, rip=127.0.0.9, lip=127.0.0.1, session=<IySyoWBhEJt/AAAB>
"""


def test_a_dovecot_session_and_what_auth_said_about_it_are_per_host() -> None:
    pairs = _pairs(DOVECOT_MX)
    corr = Correlator()
    found = []
    for rec, match in pairs:
        keys = corr.keys(rec, match)
        assert keys == [f"dovecot:IySyoWBhEJt/AAAB@{rec.host}"]
        if match is not None and match.recognizer.id == "dovecot.login.auth_failed":
            found.append((rec.host, context(rec, match, keys, corr)))
    assert [h for h, _ in found] == ["imap1", "imap2"]
    # imap1's auth process checked the password: the line means what it says
    assert found[0][1] is None
    # imap2's session of the same id had no auth line *on imap2*: a cleartext login refused, maybe
    assert found[1][1] is not None and found[1][1].means == "dovecot.login.plaintext_refused"


def test_one_host_keeps_its_keys_and_lines_without_a_host_have_keys_without_one() -> None:
    engine = default_engine()
    rec = EnvelopeParser().parse("Nov 29 01:58:37 imap-login: Info: Login: user=<a>, rip=127.0.0.9, session=<S1x>")
    assert Correlator().keys(rec, engine.recognize(rec)) == ["dovecot:S1x"]
