"""Real failures reproduced against the rig, with the log lines each one must produce.

A scenario drives real client sessions from a fresh 127.0.0.x address and names the lines
the daemons write in return. Expected lines are templates: literal text with
placeholders — ``{ip}`` (the scenario's source address), ``{pid}``, ``{n}`` (digits),
``{session}``, ``{qid}``, ``{any}``. Add a scenario by writing a ``drive`` function and
its expectations; ``capture.py`` then stores its real lines in ``tests/data``.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass

from tests.rig import clients
from tests.rig.fail2ban import MAXRETRY
from tests.rig.postfix import MESSAGE_SIZE_LIMIT, Postfix
from tests.rig.rig import Rig

PLACEHOLDERS = {
    "{pid}": r"\d+",
    "{n}": r"\d+",
    "{session}": r"[A-Za-z0-9+/]+",
    "{qid}": r"[0-9A-F]{6,}",
    "{any}": r".*?",
}


@dataclass(frozen=True)
class Expect:
    log: str  # postfix | dovecot | fail2ban
    template: str

    def regex(self, ip: str) -> re.Pattern[str]:
        parts = re.split(r"(\{pid\}|\{n\}|\{session\}|\{qid\}|\{any\}|\{ip\})", self.template)
        out = []
        for part in parts:
            if part == "{ip}":
                out.append(re.escape(ip) + r"(?!\d)")
            elif part in PLACEHOLDERS:
                out.append(PLACEHOLDERS[part])
            else:
                out.append(re.escape(part))
        return re.compile("".join(out) + "$")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    drive: Callable[[Rig, Postfix, str], None]
    expect: tuple[Expect, ...]
    #: False when the scenario needs fail2ban, which watches only the syslog instance's log
    maillog_file_variant: bool = True

    @property
    def uses_postfix(self) -> bool:
        return any(e.log == "postfix" for e in self.expect)

    def postfix_instances(self, rig: Rig) -> list[Postfix]:
        if self.uses_postfix and self.maillog_file_variant:
            return [rig.postfix, rig.postfix_file]
        return [rig.postfix]


def _pf(template: str) -> Expect:
    return Expect("postfix", template)


def _dc(template: str) -> Expect:
    return Expect("dovecot", template)


# -- Dovecot: plaintext authentication without TLS -------------------------------------------------


def pop3_user_pass(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(
        rig.dovecot.ports["pop3"], ip, [b"USER osakana@example.net\r\n", b"PASS fish-secret\r\n", b"QUIT\r\n"]
    )


def pop3_auth_plain(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(
        rig.dovecot.ports["pop3"], ip, [b"AUTH PLAIN AG9zYWthbmFAZXhhbXBsZS5uZXQAZmlzaC1zZWNyZXQ=\r\n", b"QUIT\r\n"]
    )


def imap_login(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(
        rig.dovecot.ports["imap"], ip, [b"a1 LOGIN osakana@example.net fish-secret\r\n", b"a2 LOGOUT\r\n"]
    )


def imap_authenticate_plain(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(
        rig.dovecot.ports["imap"],
        ip,
        [b"a1 AUTHENTICATE PLAIN AG9zYWthbmFAZXhhbXBsZS5uZXQAZmlzaC1zZWNyZXQ=\r\n", b"a2 LOGOUT\r\n"],
    )


# -- Dovecot: wrong passwords over TLS, TLS failure ----------------------------------------------------


def imap_auth_failed(rig: Rig, pf: Postfix, ip: str) -> None:
    with clients.imap(rig.dovecot.ports["imaps"], ip, tls="implicit") as client:
        try:
            client.login("alice", "wrong-password")
        except clients.imaplib.IMAP4.error:
            pass


def pop3_auth_failed(rig: Rig, pf: Postfix, ip: str) -> None:
    with clients.pop3(rig.dovecot.ports["pop3"], ip, tls="starttls") as client:
        client.user("bob")
        try:
            client.pass_("wrong-password")
        except clients.poplib.error_proto:
            pass


def _talk_first(port: int, ip: str, data: bytes) -> None:
    """Send before reading anything (no greeting wait), then read until the server hangs up."""
    import socket

    with socket.create_connection((clients.HOST, port), 5, source_address=(ip, 0)) as sock:
        sock.sendall(data)
        sock.settimeout(5)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


def imaps_tls_garbage(rig: Rig, pf: Postfix, ip: str) -> None:
    _talk_first(rig.dovecot.ports["imaps"], ip, b"this is not a TLS ClientHello\r\n" * 4)


# -- Postfix smtpd restrictions -------------------------------------------------------------------------


def _rcpt(pf: Postfix, ip: str, helo: str, sender: str, rcpt: str) -> tuple[int, bytes]:
    with clients.smtp(pf.ports["smtp"], ip, helo) as client:
        client.mail(sender)
        return client.rcpt(rcpt)


def helo_non_fqdn(rig: Rig, pf: Postfix, ip: str) -> None:
    assert _rcpt(pf, ip, "clienthostname", "osakana@osakana.net", "alice@rig.test")[0] == 504


def helo_unknown(rig: Rig, pf: Postfix, ip: str) -> None:
    assert _rcpt(pf, ip, "clienthostname.invalid", "osakana@osakana.net", "alice@rig.test")[0] == 450


def relay_denied(rig: Rig, pf: Postfix, ip: str) -> None:
    assert _rcpt(pf, ip, "client.rig.test", "osakana@osakana.net", "osakana@example.com")[0] == 454


def unknown_recipient(rig: Rig, pf: Postfix, ip: str) -> None:
    assert _rcpt(pf, ip, "client.rig.test", "osakana@osakana.net", "nosuchuser@rig.test")[0] == 550


def message_too_large(rig: Rig, pf: Postfix, ip: str) -> None:
    with clients.smtp(pf.ports["smtp"], ip, "client.rig.test") as client:
        code, _ = client.mail("osakana@osakana.net", [f"SIZE={MESSAGE_SIZE_LIMIT * 5}"])
        assert code == 552


def non_smtp_command(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(pf.ports["smtp"], ip, [b"GET / HTTP/1.1\r\nHost: mail.rig.test\r\n\r\n"])


def improper_pipelining(rig: Rig, pf: Postfix, ip: str) -> None:
    # Talking before the greeting: the classic spambot shortcut Postfix flags.
    _talk_first(
        pf.ports["smtp"], ip, b"EHLO client.rig.test\r\nMAIL FROM:<a@rig.test>\r\nRCPT TO:<alice@rig.test>\r\nQUIT\r\n"
    )


def too_many_errors(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(pf.ports["smtp"], ip, [b"XYZZY\r\n"] * 8)


def sasl_auth_failed(rig: Rig, pf: Postfix, ip: str) -> None:
    with clients.smtp(pf.ports["submission"], ip, "client.rig.test", starttls=True) as client:
        code, _ = clients.smtp_auth_plain(client, "alice", "wrong-password")
        assert code == 535


def lost_connection_after_auth(rig: Rig, pf: Postfix, ip: str) -> None:
    client = smtplib.SMTP(
        clients.HOST,
        pf.ports["submission"],
        local_hostname="client.rig.test",
        timeout=clients.TIMEOUT,
        source_address=(ip, 0),
    )
    client.ehlo("client.rig.test")
    client.starttls(context=clients.tls_context())
    client.ehlo("client.rig.test")
    client.putcmd("AUTH", "LOGIN")
    client.getreply()
    client.close()  # hang up in the middle of the AUTH exchange


def submission_tls_garbage(rig: Rig, pf: Postfix, ip: str) -> None:
    clients.raw_session(
        pf.ports["submission"],
        ip,
        [b"EHLO client.rig.test\r\n", b"STARTTLS\r\n", b"\x16\x03\x01\x00\x05garbage-not-tls\r\n"],
    )


def repeated_sasl_failures(rig: Rig, pf: Postfix, ip: str) -> None:
    for _ in range(MAXRETRY):
        sasl_auth_failed(rig, pf, ip)


_SMTPD = "postfix/smtpd[{pid}]: "
_SUBM = "postfix/submission/smtpd[{pid}]: "
_CLIENT = "unknown[{ip}]"

SCENARIOS: tuple[Scenario, ...] = (
    # 1. plaintext logins without TLS (Dovecot words each command differently)
    Scenario(
        "pop3_user_pass_plaintext",
        "POP3 USER/PASS without TLS",
        pop3_user_pass,
        (
            _dc(
                "pop3-login: Info: Login failed: Plaintext authentication disabled: user=<>, "
                "rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
            _dc(
                "pop3-login: Info: Login failed: Plaintext authentication disabled: "
                "user=<osakana@example.net>, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
            _dc(
                "pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 2 attempts "
                "in {n} secs): user=<osakana@example.net>, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "pop3_auth_plain_plaintext",
        "POP3 AUTH PLAIN without TLS",
        pop3_auth_plain,
        (
            _dc(
                "pop3-login: Info: Authenticate PLAIN failed: Plaintext authentication disabled.: "
                "user=<>, method=PLAIN, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
            _dc(
                "pop3-login: Info: Disconnected: Aborted login by logging out (tried to use disallowed "
                "plaintext auth): user=<>, method=PLAIN, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "imap_login_plaintext",
        "IMAP LOGIN without TLS",
        imap_login,
        (
            _dc(
                "imap-login: Info: Login failed: Plaintext authentication disabled: user=<>, "
                "rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
            _dc(
                "imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts "
                "in {n} secs): user=<osakana@example.net>, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "imap_authenticate_plain_plaintext",
        "IMAP AUTHENTICATE PLAIN without TLS",
        imap_authenticate_plain,
        (
            _dc(
                "imap-login: Info: Authenticate PLAIN failed: Plaintext authentication disabled.: "
                "user=<>, method=PLAIN, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
            _dc(
                "imap-login: Info: Disconnected: Aborted login by logging out (tried to use disallowed "
                "plaintext auth): user=<>, method=PLAIN, rip={ip}, lip=127.0.0.1, session=<{session}>"
            ),
        ),
    ),
    # 2.-4. the seed lines' restrictions
    Scenario(
        "helo_non_fqdn",
        "HELO with a bare host name",
        helo_non_fqdn,
        (
            _pf(
                _SMTPD + "NOQUEUE: reject: RCPT from " + _CLIENT + ": 504 5.5.2 <clienthostname>: Helo "
                "command rejected: need fully-qualified hostname; from=<osakana@osakana.net> "
                "to=<alice@rig.test> proto=ESMTP helo=<clienthostname>"
            ),
        ),
    ),
    Scenario(
        "helo_unknown",
        "HELO name that does not resolve",
        helo_unknown,
        (
            _pf(
                _SMTPD + "NOQUEUE: reject: RCPT from " + _CLIENT + ": 450 4.7.1 <clienthostname.invalid>: "
                "Helo command rejected: Host not found; from=<osakana@osakana.net> to=<alice@rig.test> "
                "proto=ESMTP helo=<clienthostname.invalid>"
            ),
        ),
    ),
    Scenario(
        "relay_denied",
        "unauthenticated client relaying on port 25",
        relay_denied,
        (
            _pf(
                _SMTPD + "NOQUEUE: reject: RCPT from " + _CLIENT + ": 454 4.7.1 <osakana@example.com>: "
                "Relay access denied; from=<osakana@osakana.net> to=<osakana@example.com> proto=ESMTP "
                "helo=<client.rig.test>"
            ),
        ),
    ),
    # 5. the rest of the classic failures
    Scenario(
        "sasl_auth_failed",
        "wrong password on submission",
        sasl_auth_failed,
        (
            _pf(
                _SUBM + "warning: " + _CLIENT + ": SASL PLAIN authentication failed: (reason "
                "unavailable), sasl_username=alice"
            ),
            _dc("auth: Info: passwd-file(alice,{ip}): Password mismatch"),
        ),
    ),
    Scenario(
        "unknown_recipient",
        "unknown local recipient",
        unknown_recipient,
        (
            _pf(
                _SMTPD + "NOQUEUE: reject: RCPT from " + _CLIENT + ": 550 5.1.1 <nosuchuser@rig.test>: "
                "Recipient address rejected: User unknown in local recipient table; "
                "from=<osakana@osakana.net> to=<nosuchuser@rig.test> proto=ESMTP helo=<client.rig.test>"
            ),
        ),
    ),
    Scenario(
        "message_too_large",
        "message over message_size_limit",
        message_too_large,
        (
            _pf(
                _SMTPD + "NOQUEUE: reject: MAIL from " + _CLIENT + ": 552 5.3.4 Message size exceeds "
                "fixed limit; from=<osakana@osakana.net> proto=ESMTP helo=<client.rig.test>"
            ),
        ),
    ),
    Scenario(
        "non_smtp_command",
        "an HTTP request on the SMTP port",
        non_smtp_command,
        (_pf(_SMTPD + "warning: non-SMTP command from " + _CLIENT + ": GET / HTTP/1.1"),),
    ),
    Scenario(
        "improper_pipelining",
        "client talks before the greeting",
        improper_pipelining,
        (
            # usually "after CONNECT" with the whole input; when the bytes race the greeting, Postfix
            # reads EHLO normally and reports the rest "after EHLO"
            _pf(
                _SMTPD + "improper command pipelining after {any} from " + _CLIENT + ": {any}"
                "RCPT TO:<alice@rig.test>\\r\\nQUIT\\r\\n"
            ),
        ),
    ),
    Scenario(
        "too_many_errors",
        "too many bad commands",
        too_many_errors,
        (
            _pf(_SMTPD + "too many errors after UNKNOWN from " + _CLIENT),
            _pf(_SMTPD + "disconnect from " + _CLIENT + " unknown=0/5 commands=0/5"),
        ),
    ),
    Scenario(
        "lost_connection_after_auth",
        "client hangs up during AUTH",
        lost_connection_after_auth,
        (_pf(_SUBM + "lost connection after AUTH from " + _CLIENT),),
    ),
    Scenario(
        "imap_auth_failed",
        "wrong IMAP password over TLS",
        imap_auth_failed,
        (
            _dc("auth: Info: passwd-file(alice,{ip},<{session}>): Password mismatch"),
            _dc(
                "imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts "
                "in {n} secs): user=<alice>, method=PLAIN, rip={ip}, lip=127.0.0.1, TLS, "
                "session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "pop3_auth_failed",
        "wrong POP3 password after STARTTLS",
        pop3_auth_failed,
        (
            _dc("auth: Info: passwd-file(bob,{ip},<{session}>): Password mismatch"),
            _dc(
                "pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts "
                "in {n} secs): user=<bob>, method=PLAIN, rip={ip}, lip=127.0.0.1, TLS, "
                "session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "imaps_tls_failure",
        "TLS handshake failure on IMAPS",
        imaps_tls_garbage,
        (
            # the parenthesis depends on timing: "no auth attempts in 0 secs" or "disconnected
            # before auth was ready, waited 0 secs"
            _dc(
                "imap-login: Info: Disconnected: Connection closed: SSL_accept() failed: {any} "
                "({any} secs): user=<>, rip={ip}, "
                "lip=127.0.0.1, TLS handshaking: SSL_accept() failed: {any}, session=<{session}>"
            ),
        ),
    ),
    Scenario(
        "smtp_tls_failure",
        "TLS handshake failure after STARTTLS",
        submission_tls_garbage,
        (
            _pf(_SUBM + "SSL_accept error from " + _CLIENT + ": -1"),
            _pf(_SUBM + "lost connection after STARTTLS from " + _CLIENT),
        ),
    ),
    Scenario(
        "fail2ban_ban",
        "repeated SASL failures get the client banned",
        repeated_sasl_failures,
        (
            _pf(
                _SUBM + "warning: " + _CLIENT + ": SASL PLAIN authentication failed: (reason "
                "unavailable), sasl_username=alice"
            ),
            Expect("fail2ban", "fail2ban.filter{any}[{pid}]: INFO    [postfix-sasl] Found {ip} - {any}"),
            Expect("fail2ban", "fail2ban.actions{any}[{pid}]: NOTICE  [postfix-sasl] Ban {ip}"),
        ),
        maillog_file_variant=False,
    ),
)

BY_NAME = {s.name: s for s in SCENARIOS}
