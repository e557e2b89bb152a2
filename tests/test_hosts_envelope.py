"""Every record carries its host (issue 19): the syslog hostname in every stamp format, the
journal's ``_HOSTNAME``, and for formats that name none (Dovecot's own log, fail2ban.log, TAI64N,
a syslog line without a host) the source's host, which a per-host layout sets."""

from __future__ import annotations

import pytest

from mailtui.logs.envelope import EnvelopeParser

# (line, host it names or None for "none: the source's", format, program, daemon, message start)
NAMED = [
    # traditional syslog (rsyslog's RSYSLOG_TraditionalFileFormat), a realworld corpus shape
    (
        "Jan 31 09:50:03 raptor postfix/smtp[14010]: ED36AD08054: to=<stegosaurus@ceratops.dinos.test>, "
        "relay=antispam.dinos.test[192.168.9.10]:25, delay=1.5, dsn=2.0.0, status=sent (250 Ok: queued as 73635C808F)",
        "raptor",
        "syslog",
        "postfix/smtp",
        "smtp",
        "ED36AD08054: to=",
    ),
    # Postfix's maillog_file (postlogd): zero-padded day, a fully qualified host
    (
        "Feb 09 10:35:59 mx1.example.org postfix/submission/smtpd[8343]: connect from a[192.0.2.1]",
        "mx1.example.org",
        "syslog",
        "postfix/submission/smtpd",
        "smtpd",
        "connect from",
    ),
    # RFC 3339 (rsyslog's RSYSLOG_FileFormat, Debian 12's default)
    (
        "2026-03-07T17:13:16.558813+00:00 mx2 postfix/cleanup[1873512]: 384B4762900: message-id=<a>",
        "mx2",
        "rfc3339",
        "postfix/cleanup",
        "cleanup",
        "384B4762900",
    ),
    # RFC 3339 with a priority in front (rsyslog's RSYSLOG_ForwardFormat, as written by real rsyslogd 8)
    (
        "<22>2026-12-01T11:29:19.977241+00:00 mx7 postfix/smtpd[123]: connect from a[192.0.2.1]",
        "mx7",
        "rfc3339",
        "postfix/smtpd",
        "smtpd",
        "connect from",
    ),
    # a traditional stamp with a priority in front (a network capture)
    ("<30>Nov 29 10:00:00 mx3 postfix/qmgr[5]: ABC123: removed", "mx3", "syslog", "postfix/qmgr", "qmgr", "ABC123"),
    # RFC 5424 (RSYSLOG_SyslogProtocol23Format, lines as real rsyslogd 8 wrote them: it keeps the
    # space after the tag's colon, and its APP-NAME of postfix/smtpd is "postfix")
    (
        "<22>1 2026-12-01T11:29:19.977241+00:00 mx7 postfix 123 - -  connect from a[192.0.2.1]",
        "mx7",
        "rfc5424",
        "postfix",
        "postfix",
        "connect from",
    ),
    (
        "<22>1 2026-12-01T11:29:19.977426+00:00 mx7 dovecot - - -  imap-login: Login: user=<a>, session=<abc>",
        "mx7",
        "rfc5424",
        "dovecot",
        "imap-login",
        "imap-login: Login",
    ),
    # RFC 5424 with structured data (an escaped bracket and quote inside), a BOM, a full tag
    (
        '<165>1 2026-11-29T10:00:01Z imap1.example.org dovecot 77 ID47 [meta sequenceId="1" x="a\\"]b"][o@1 y="2"] '
        "\ufeffimap(alice)<77><IySyoWBhEJt/AAAB>: Info: Disconnected: Logged out in=0",
        "imap1.example.org",
        "rfc5424",
        "dovecot",
        "imap",
        "imap(alice)",
    ),
    (
        "<22>1 2026-11-29T10:00:01.5+01:00 mx4 postfix/qmgr 991 - - ABC: removed",
        "mx4",
        "rfc5424",
        "postfix/qmgr",
        "qmgr",
        "ABC: removed",
    ),
    # fail2ban through syslog
    (
        "Sep 12 16:49:12 h2 fail2ban-server[11524]: fail2ban.actions        [11524]: NOTICE  [x] Ban 192.0.2.2",
        "h2",
        "syslog",
        "fail2ban-server",
        "actions",
        "[x] Ban",
    ),
]

HOSTLESS = [
    # Dovecot's own log_path, its three stamp styles
    ("Nov 29 01:58:37 imap(alice)<7658><IySyoWBhEJt/AAAB>: Info: Disconnected: Logged out in=0", "dovecot", "imap"),
    ("2013-08-11 03:56:40 auth-worker(default): Info: pam(u,192.0.2.4): x", "dovecot", "auth-worker"),
    ("@400000005b0e2b2a1d8c4e5c pop3-login: Info: Disconnected (no auth attempts)", "dovecot", "pop3-login"),
    # fail2ban.log
    (
        "2026-02-19 10:35:59,388 fail2ban.actions        [1234]: NOTICE  [postfix-sasl] Ban 192.0.2.1",
        "fail2ban",
        "actions",
    ),
    # a syslog line whose writer left the host out (the tag comes first)
    ("Nov 29 10:00:00 postfix/qmgr[5]: ABC123: removed", "syslog", "qmgr"),
    # RFC 5424's nil host
    ("<22>1 2026-11-29T10:00:01Z - postfix/qmgr - - - ABC123: removed", "rfc5424", "qmgr"),
]


@pytest.mark.parametrize("default", ["", "mx9"])
@pytest.mark.parametrize("line, host, fmt, program, daemon, start", NAMED)
def test_a_line_that_names_its_host_keeps_it(line, host, fmt, program, daemon, start, default) -> None:
    rec = EnvelopeParser(source="t", host=default).parse(line, 1)
    assert (rec.host, rec.fmt, rec.program, rec.daemon) == (host, fmt, program, daemon)
    assert rec.message.startswith(start), rec.message
    assert rec.timestamp is not None


@pytest.mark.parametrize("line, fmt, daemon", HOSTLESS)
def test_a_line_without_a_host_takes_the_sources(line, fmt, daemon) -> None:
    assert EnvelopeParser(source="t").parse(line, 1).host == ""
    rec = EnvelopeParser(source="/var/log/hosts/mx2/x.log", host="mx2").parse(line, 1)
    assert (rec.host, rec.fmt, rec.daemon) == ("mx2", fmt, daemon)
    assert rec.timestamp is not None


def test_journal_hostname_and_the_sources_host_when_it_has_none() -> None:
    parser = EnvelopeParser(host="central")
    entry = {"MESSAGE": "connect from a[192.0.2.1]", "SYSLOG_IDENTIFIER": "postfix/smtpd", "_PID": "31"}
    remote = parser.parse_journal({**entry, "_HOSTNAME": "mx2", "__REALTIME_TIMESTAMP": "1700000000000000"})
    assert (remote.host, remote.program, remote.pid, remote.daemon) == ("mx2", "postfix/smtpd", 31, "smtpd")
    assert parser.parse_journal(entry).host == "central"
    assert EnvelopeParser().parse_journal(entry).host == ""


def test_rfc5424_field_values_are_untrusted_text() -> None:
    rec = EnvelopeParser().parse("<22>1 2026-11-29T10:00:01Z mx\x1b[31m postfix/qmgr - - - ABC: removed\x07")
    assert "\x1b" not in rec.host and "\x07" not in rec.message
    assert rec.fmt == "rfc5424"


def test_a_bad_rfc5424_line_is_still_read_as_a_line() -> None:
    for line in ("<22>1 2026-11-29T10:00:01Z", "<22>1 2026-11-29T10:00:01Z mx p 1 - [unclosed x", "<999999>hi"):
        rec = EnvelopeParser().parse(line)
        assert rec.line == line and rec.message


RSYSLOG_CONF = """\
global(workDirectory="{dir}/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{dir}/sock" HostName="{host}" Annotate="off" RateLimit.Interval="0")
$RepeatedMsgReduction off
mail.*  action(type="omfile" file="{dir}/traditional.log" template="RSYSLOG_TraditionalFileFormat")
mail.*  action(type="omfile" file="{dir}/rfc3339.log" template="RSYSLOG_FileFormat")
mail.*  action(type="omfile" file="{dir}/rfc5424.log" template="RSYSLOG_SyslogProtocol23Format")
mail.*  action(type="omfile" file="{dir}/forward.log" template="RSYSLOG_ForwardFormat")
"""
SENT = [
    ("postfix/smtpd", 4100, "connect from mail.sender.test[127.0.0.77]"),
    ("postfix/qmgr", 900, "4B80DE08044: from=<ann@sender.test>, size=1793, nrcpt=1 (queue active)"),
    ("dovecot", 77, "imap-login: Login: user=<bob>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, TLS, session=<S1x>"),
]


@pytest.mark.daemons
def test_every_format_real_rsyslogd_writes_names_the_host(tmp_path) -> None:
    """rsyslogd on a socket of its own (no port, not /dev/log) stamps the lines as host mx7 in four
    templates; the parser reads mx7 and the message back from each."""
    import socket
    import subprocess

    from tests.rig.base import need_daemon, stop_process, wait_for

    exe = need_daemon("rsyslogd")
    (tmp_path / "work").mkdir()
    conf = tmp_path / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(dir=tmp_path, host="mx7"))
    proc = subprocess.Popen([exe, "-n", "-f", str(conf), "-i", str(tmp_path / "pid")], stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (tmp_path / "sock").exists(), what="rsyslogd's socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(str(tmp_path / "sock"))
            for tag, pid, message in SENT:  # facility mail (2), severity info (6): <22>
                s.send(f"<22>Nov 29 10:00:00 {tag}[{pid}]: {message}".encode())
        files = ["traditional", "rfc3339", "rfc5424", "forward"]
        wait_for(lambda: all(_written(tmp_path / f"{n}.log") >= 3 for n in files), what="the lines in every file")
    finally:
        stop_process(proc)
    text = (tmp_path / "forward.log").read_text()  # this template ends lines with no newline
    assert text.count("<22>") == 3
    for name in files:
        lines = (tmp_path / f"{name}.log").read_text().replace("<22>2", "\n<22>2").split("\n")
        records = [EnvelopeParser(source=name, host="elsewhere").parse(line) for line in lines if line]
        assert len(records) == 3, (name, lines)
        for rec, (tag, pid, message) in zip(records, SENT):
            assert rec.host == "mx7", (name, rec.line)
            assert rec.message == message, (name, rec.line)
            assert rec.family == tag.split("/")[0] and rec.timestamp is not None
            # RFC 5424's APP-NAME as rsyslog makes it stops at the "/": postfix/smtpd is "postfix" there
            assert rec.program == (tag.split("/")[0] if name == "rfc5424" else tag)
            assert rec.pid == pid or (name == "rfc5424" and tag == "dovecot" and rec.pid in (pid, None))


def _written(path) -> int:
    """Lines rsyslogd wrote so far (RSYSLOG_ForwardFormat puts no newline between them)."""
    try:
        return path.read_text().count("<22>") if path.name == "forward.log" else len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0
