"""Catalog rules that hold across families (issue 16): rejects name their restriction, severities
are calibrated, and the wordings of several Postfix and Dovecot versions meet the same entry."""

from __future__ import annotations

import re

import pytest

from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.loader import load_catalog
from mailtui.recognizers.model import Match

CATALOG = load_catalog(include_user=False)
ENGINE = Engine(CATALOG)
REJECT_ACTION = re.compile(r": (?:reject|defer|proxy-reject|milter-reject): |: reject: ")


def recognize(line: str) -> Match | None:
    return ENGINE.recognize(EnvelopeParser().parse(line))


def test_every_reject_recognizer_names_its_restriction() -> None:
    rejects = [r for r in CATALOG if any(REJECT_ACTION.search(s) for s in r.samples) and r.rank >= 1]
    assert len(rejects) >= 40
    missing = [r.id for r in rejects if not r.restrictions]
    assert not missing, missing
    for r in rejects:
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in r.restrictions), r.restrictions


@pytest.mark.parametrize(
    "line, recognizer, restriction",
    [
        (
            (
                "Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 504 5.5.2 <pc1>: Helo command "
                "rejected: need fully-qualified hostname; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<pc1>"
            ),
            "postfix.helo.non_fqdn",
            "reject_non_fqdn_helo_hostname",
        ),
        (
            (
                "Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.2]: 554 5.7.1 Service "
                "unavailable; Client host [192.0.2.2] blocked using zen.example.net; from=<a@example.org> to=<b@example.net>"
            ),
            "postfix.rbl.client",
            "reject_rbl_client",
        ),
        (
            "Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.3]: 554 5.7.1 Service unavailable",
            "postfix.rbl.client_short",
            "reject_rbl_client",
        ),
        (
            (
                "Jan  1 00:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.4]: 550 5.7.1 <b@example.net>: "
                "No thanks; from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<x>"
            ),
            "postfix.reject.other",
            "check_recipient_access",
        ),
        (
            (
                "Jan  1 00:00:00 mx postfix/postscreen[1]: NOQUEUE: reject: RCPT from [192.0.2.5]:1234: 450 4.3.2 Service "
                "currently unavailable; from=<a@example.org>, to=<b@example.net>, proto=ESMTP, helo=<x>"
            ),
            "postscreen.reconnect_required",
            "postscreen_pipelining_enable",
        ),
    ],
)
def test_reject_lines_carry_the_restriction_in_json(line: str, recognizer: str, restriction: str) -> None:
    match = recognize(line)
    assert match is not None and match.recognizer.id == recognizer
    data = match.to_dict()
    assert restriction in data["restrictions"] and data["explained"] is True
    want = re.search(r"\[(192\.0\.2\.\d+)\]", line)
    assert want is not None and data["fields"]["client_ip"] == want.group(1)


@pytest.mark.parametrize(
    "line, recognizer, at_least",
    [
        (
            "Jan  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.9 listed by domain zen.example.net as 127.0.0.2",
            "postfix.dnsblog.listed",
            "notice",
        ),
        (
            "Jan  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.9 listed by domain zen.example.net as 127.255.255.254",
            "postfix.dnsblog.refused",
            "error",
        ),
        (
            "Jan  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.9 listed by domain zen.example.net as 127.255.255.252",
            "postfix.dnsblog.refused",
            "error",
        ),
        ("Jan  1 00:00:00 mx postfix/postscreen[1]: DENYLISTED [192.0.2.9]:1234", "postscreen.listed", "notice"),
        ("Jan  1 00:00:00 mx postfix/postscreen[1]: BLACKLISTED [192.0.2.9]:1234", "postscreen.listed", "notice"),
        (
            (
                "Jan  1 00:00:00 mx postfix/smtp[1]: certificate verification failed for mx.example.com[198.51.100.1]:25: "
                "untrusted issuer /CN=x"
            ),
            "tls.outbound_verification_failed",
            "notice",
        ),
        (
            (
                "Jan  1 00:00:00 mx postfix/smtp[1]: 1A2B3C4D5E: to=<x@example.com>, relay=mx.example.com[198.51.100.1]:25, "
                "delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.example.com[198.51.100.1] said: 550 5.1.1 "
                "<x@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command))"
            ),
            "delivery.remote_unknown_user",
            "notice",
        ),
    ],
)
def test_problems_are_rated_notice_or_above(line: str, recognizer: str, at_least: str) -> None:
    from mailtui.recognizers.model import SEVERITY_RANK

    match = recognize(line)
    assert match is not None and match.recognizer.id == recognizer
    assert match.recognizer.rank >= SEVERITY_RANK[at_least]


@pytest.mark.parametrize(
    "line",
    [
        "Jan  1 00:00:00 mx postfix/postscreen[1]: ALLOWLISTED [192.0.2.9]:1234",
        "Jan  1 00:00:00 mx postfix/postscreen[1]: WHITELISTED [192.0.2.9]:1234",
        "Jan  1 00:00:00 mx postfix/postscreen[1]: CONNECT from [192.0.2.9]:1234 to [198.51.100.1]:25",
        (
            "Jan  1 00:00:00 mx amavis[1]: (01234-01) Passed CLEAN {RelayedInbound}, [192.0.2.9]:1234 [192.0.2.9] "
            "<a@example.org> -> <b@example.net>, Message-ID: <m@x>, Hits: -1.0, size: 100, queued_as: 1A2B3C4D5E, 10 ms"
        ),
        "Jan  1 00:00:00 mx postfix/smtpd[1]: warning: dict_nis_init: NIS domain name not set - NIS lookups disabled",
        "Jan  1 00:00:00 mx dovecot: lmtp(123): Connect from local",
    ],
)
def test_harmless_lines_stay_info(line: str) -> None:
    match = recognize(line)
    assert match is not None and match.recognizer.severity == "info", match and match.recognizer.id


@pytest.mark.parametrize(
    "recognizer, lines",
    [
        (
            "postfix.rbl.lookup_error",
            [
                (
                    "warning: 9.2.0.192.zen.example.net: RBL lookup error: Host or domain name not found. Name service error "
                    "for name=9.2.0.192.zen.example.net type=A: Host not found, try again"
                ),
                (
                    "warning: 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.example.org: RBL lookup error: "
                    "Error looking up name=x type=A: Connection timed out"
                ),
            ],
        ),
        (
            "postfix.client.address_not_listed",
            [
                "warning: 192.0.2.44: address not listed for hostname host-44.example.net",
                "warning: 2001:db8::44: hostname host.example.net verification failed: No address associated with hostname",
            ],
        ),
        (
            "postfix.session.too_many_errors",
            [
                "too many errors after RCPT from unknown[192.0.2.1]",
                "too many errors after DATA (0 bytes) from unknown[192.0.2.1]",
                "too many errors after DATA (approximately 512 bytes) from a.example.org[192.0.2.1]",
            ],
        ),
        (
            "config.table_unavailable",
            [
                (
                    "warning: hash:/etc/postfix/transport is unavailable. open database /etc/postfix/transport.db: No such file "
                    "or directory"
                ),
                "warning: lmdb:/etc/postfix/virtual is unavailable. open database /etc/postfix/virtual.lmdb: Permission denied",
                "error: pgsql:/etc/postfix/pgsql.cf is unavailable. connect to pgsql server 127.0.0.1: Connection refused",
            ],
        ),
        (
            "config.fatal_parameter",
            [
                "fatal: file /etc/postfix/main.cf: parameter mail_owner: unknown user name value: postfx",
                "fatal: parameter inet_interfaces: no local interface found for 192.0.2.1",
                "fatal: bad numerical configuration: smtpd_timeout = 300x",
            ],
        ),
    ],
)
def test_families_cover_their_wordings(recognizer: str, lines: list[str]) -> None:
    daemon = {"postfix.session.too_many_errors": "smtpd", "config.table_unavailable": "cleanup"}.get(
        recognizer, "smtpd"
    )
    for text in lines:
        match = recognize(f"Jan  1 00:00:00 mx postfix/{daemon}[1]: {text}")
        assert match is not None and match.recognizer.id == recognizer, (text, match and match.recognizer.id)


@pytest.mark.parametrize(
    "line, recognizer",
    [
        # Dovecot 1.x, 2.2-2.3, 2.4 login failure wordings
        (
            "Jan  1 00:00:00 mx dovecot: pop3-login: Aborted login: user=<ann>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2",
            "dovecot.login.aborted_after_auth",
        ),
        (
            (
                "Jan  1 00:00:00 mx dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<ann>, "
                "method=PLAIN, rip=192.0.2.1, lip=192.0.2.2"
            ),
            "dovecot.login.auth_failed",
        ),
        (
            (
                "Jan  1 00:00:00 mx dovecot: imap-login: Login aborted: Logged out (auth failed, 1 attempts in 2 secs) "
                "(auth_failed): user=<ann>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, TLS, session=<x>"
            ),
            "dovecot.login.auth_failed",
        ),
        # configuration: 2.3 (ssl_cert) and 2.4 (ssl_server_cert_file), syslog and own log_path
        (
            (
                "Jan  1 00:00:00 mx dovecot: doveconf: Fatal: Error in configuration file /etc/dovecot/conf.d/10-ssl.conf "
                "line 12: ssl_cert: Can't open file /etc/ssl/x.pem: No such file or directory"
            ),
            "dovecot.config.cant_open_file",
        ),
        (
            (
                "2026-01-01 00:00:00 doveconf: Fatal: Error in configuration file /etc/dovecot/dovecot.conf line 40: "
                "ssl_server_cert_file: open(/etc/ssl/x.pem) failed: No such file or directory"
            ),
            "dovecot.config.cant_open_file",
        ),
        (
            (
                "Jan  1 00:00:00 mx dovecot: doveconf: Fatal: Error in configuration file /etc/dovecot/dovecot.conf line 5: "
                "Unknown setting: disable_plaintext_auth"
            ),
            "dovecot.config.unknown_setting",
        ),
        (
            "Jan  1 00:00:00 mx dovecot: Fatal: auth(default): Support not compiled in for passdb driver 'ldap'",
            "dovecot.config.driver_missing",
        ),
        # quota in LMTP, Sieve and 1.x deliver
        (
            (
                "Jan  1 00:00:00 mx dovecot: lmtp(ann)<1><x>: Error: sieve: msgid=<m@x>: failed to store into mailbox 'INBOX': "
                "Quota exceeded (mailbox for user is full)"
            ),
            "dovecot.quota.exceeded",
        ),
        (
            (
                "Jan  1 00:00:00 mx dovecot: lmtp(ann)<1><x>: Error: msgid=<m@x>: save failed to INBOX: Quota exceeded "
                "(mailbox for user is full)"
            ),
            "dovecot.quota.exceeded",
        ),
        (
            (
                "Jan  1 00:00:00 mx dovecot: imap-login: Maximum number of connections from user+IP exceeded "
                "(mail_max_userip_connections): user=<ann>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2"
            ),
            "dovecot.login.max_userip",
        ),
    ],
)
def test_dovecot_generations_meet_the_same_entries(line: str, recognizer: str) -> None:
    match = recognize(line)
    assert match is not None and match.recognizer.id == recognizer, match and match.recognizer.id
    assert match.recognizer.rank >= 1
