"""IMAP/POP3 logins with and without TLS against Dovecots configured three ways.

The seed story: "Windows Live Mail can't fetch mail" — the client logs in without TLS while
Dovecot refuses cleartext. What Dovecot writes for that depends on ``auth_verbose``:

* ``rig`` — the rig's own configuration (``auth_verbose = yes``): a ``Login failed: Plaintext
  authentication disabled`` line per refused command, then ``Disconnected … (auth failed, N
  attempts …)``; a wrong password has the auth process's ``Password mismatch`` first.
* ``debian`` — Debian 12's default ``auth_verbose = no``: only the ``Disconnected … (auth
  failed …)`` line, for a refused cleartext login and for a wrong password alike. What tells them
  apart is on the line (``TLS``, ``method=``) and in the configuration (``disable_plaintext_auth``).
* ``cleartext_allowed`` — ``debian`` plus ``disable_plaintext_auth = no``: the same clients log in
  (or fail with a real wrong password) without TLS.

Each case drives one real session from its own 127.0.9.x address; ``cleartext`` says whether it
is a login without TLS (refused by ``rig`` and ``debian``) and ``good_password`` whether the
password is right.

    sudo .venv/bin/python -m tests.rig.logins     # refresh tests/data/context_logins/*.log
"""

from __future__ import annotations

import base64
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.rig import clients
from tests.rig.dovecot import Dovecot, start_dovecot

VARIANTS = {
    "rig": "",
    "debian": "auth_verbose = no\n",
    "cleartext_allowed": "auth_verbose = no\ndisable_plaintext_auth = no\n",
}
DATA = Path(__file__).resolve().parent.parent / "data" / "context_logins"


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@dataclass(frozen=True)
class Login:
    name: str
    title: str
    drive: Callable[[Dovecot, str], None]
    cleartext: bool  # without TLS
    good_password: bool
    ip: str  # the case's own source address (the same on every variant: one log per variant)


def _pop3_user_pass_clear(dc: Dovecot, ip: str) -> None:
    clients.raw_session(dc.ports["pop3"], ip, [b"USER osakana@example.net\r\n", b"PASS fish-secret\r\n", b"QUIT\r\n"])


def _pop3_auth_plain_clear(dc: Dovecot, ip: str) -> None:
    clients.raw_session(
        dc.ports["pop3"], ip, [f"AUTH PLAIN {_plain('osakana@example.net', 'fish-secret')}\r\n".encode(), b"QUIT\r\n"]
    )


def _imap_login_clear(dc: Dovecot, ip: str) -> None:
    clients.raw_session(dc.ports["imap"], ip, [b"a1 LOGIN osakana@example.net fish-secret\r\n", b"a2 LOGOUT\r\n"])


def _imap_authenticate_clear(dc: Dovecot, ip: str) -> None:
    clients.raw_session(
        dc.ports["imap"],
        ip,
        [f"a1 AUTHENTICATE PLAIN {_plain('osakana@example.net', 'fish-secret')}\r\n".encode(), b"a2 LOGOUT\r\n"],
    )


def _pop3_user_pass_clear_wrong(dc: Dovecot, ip: str) -> None:
    clients.raw_session(dc.ports["pop3"], ip, [b"USER alice\r\n", b"PASS wrong-password\r\n", b"QUIT\r\n"])


def _imap_login_clear_wrong(dc: Dovecot, ip: str) -> None:
    clients.raw_session(dc.ports["imap"], ip, [b"a1 LOGIN alice wrong-password\r\n", b"a2 LOGOUT\r\n"])


def _pop3_user_pass_tls_wrong(dc: Dovecot, ip: str) -> None:
    with clients.pop3(dc.ports["pop3s"], ip, tls="implicit") as client:
        client.user("alice")
        try:
            client.pass_("wrong-password")
        except clients.poplib.error_proto:
            pass


def _pop3_auth_plain_tls_wrong(dc: Dovecot, ip: str) -> None:
    with clients.pop3(dc.ports["pop3"], ip, tls="starttls") as client:
        try:
            client._shortcmd(f"AUTH PLAIN {_plain('alice', 'wrong-password')}")
        except clients.poplib.error_proto:
            pass


def _imap_login_tls_wrong(dc: Dovecot, ip: str) -> None:
    with clients.imap(dc.ports["imap"], ip, tls="starttls") as client:
        try:
            client.login("alice", "wrong-password")
        except clients.imaplib.IMAP4.error:
            pass


def _imap_authenticate_tls_wrong(dc: Dovecot, ip: str) -> None:
    with clients.imap(dc.ports["imaps"], ip, tls="implicit") as client:
        try:
            client.authenticate("PLAIN", lambda _: b"\0alice\0wrong-password")
        except clients.imaplib.IMAP4.error:
            pass


LOGINS: tuple[Login, ...] = (
    Login("pop3_user_pass_clear", "POP3 USER/PASS without TLS", _pop3_user_pass_clear, True, True, "127.0.9.11"),
    Login("pop3_auth_plain_clear", "POP3 AUTH PLAIN without TLS", _pop3_auth_plain_clear, True, True, "127.0.9.12"),
    Login("imap_login_clear", "IMAP LOGIN without TLS", _imap_login_clear, True, True, "127.0.9.13"),
    Login(
        "imap_authenticate_clear",
        "IMAP AUTHENTICATE PLAIN without TLS",
        _imap_authenticate_clear,
        True,
        True,
        "127.0.9.14",
    ),
    Login(
        "pop3_user_pass_clear_wrong",
        "POP3 USER/PASS without TLS, wrong password",
        _pop3_user_pass_clear_wrong,
        True,
        False,
        "127.0.9.15",
    ),
    Login(
        "imap_login_clear_wrong",
        "IMAP LOGIN without TLS, wrong password",
        _imap_login_clear_wrong,
        True,
        False,
        "127.0.9.16",
    ),
    Login(
        "pop3_user_pass_tls_wrong",
        "POP3 USER/PASS on POP3S, wrong password",
        _pop3_user_pass_tls_wrong,
        False,
        False,
        "127.0.9.17",
    ),
    Login(
        "pop3_auth_plain_tls_wrong",
        "POP3 AUTH PLAIN after STLS, wrong password",
        _pop3_auth_plain_tls_wrong,
        False,
        False,
        "127.0.9.18",
    ),
    Login(
        "imap_login_tls_wrong",
        "IMAP LOGIN after STARTTLS, wrong password",
        _imap_login_tls_wrong,
        False,
        False,
        "127.0.9.19",
    ),
    Login(
        "imap_authenticate_tls_wrong",
        "IMAP AUTHENTICATE PLAIN on IMAPS, wrong password",
        _imap_authenticate_tls_wrong,
        False,
        False,
        "127.0.9.20",
    ),
)
BY_NAME = {case.name: case for case in LOGINS}


def start_variant(dir: Path, variant: str) -> Dovecot:
    return start_dovecot(dir, extra=VARIANTS[variant])


def run_logins(dc: Dovecot) -> str:
    """Drive every case against ``dc``; return what its log gained (the cases' lines only)."""
    offset = dc.log_offset()
    for case in LOGINS:
        case.drive(dc, case.ip)
    ips = tuple(f"rip={case.ip}," for case in LOGINS) + tuple(f",{case.ip}," for case in LOGINS)
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline:  # login processes write their Disconnected line last
        text = dc.log.read_bytes()[offset:].decode("utf-8", "replace")
        if all(case.ip in text for case in LOGINS):
            break
        time.sleep(0.1)
    time.sleep(0.3)
    text = dc.log.read_bytes()[offset:].decode("utf-8", "replace")
    return "".join(line + "\n" for line in text.splitlines() if any(ip in line for ip in ips))


def main() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    for variant in VARIANTS:
        base = Path(tempfile.mkdtemp(prefix="mailtui-logins-"))
        base.chmod(0o755)
        dc = start_variant(base / "dovecot", variant)
        try:
            (DATA / f"{variant}.log").write_text(run_logins(dc))
        finally:
            dc.stop()
            shutil.rmtree(base, ignore_errors=True)
        print(f"captured {variant}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
