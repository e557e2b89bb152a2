"""Client helpers that drive real SMTP, POP3 and IMAP sessions from a chosen 127.0.0.x address.

Dovecot treats a connection whose remote and local addresses are equal as secured, and
Postfix's ``mynetworks`` is 127.0.0.1/32, so scenarios connect *from* other loopback
addresses to look like outside clients. Every helper passes an explicit HELO so
smtplib never looks up this machine's FQDN.
"""

from __future__ import annotations

import base64
import imaplib
import poplib
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"
TIMEOUT = 10


def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the rig's certificate is self-signed
    return ctx


@contextmanager
def smtp(port: int, source: str, helo: str, starttls: bool = False) -> Iterator[smtplib.SMTP]:
    client = smtplib.SMTP(HOST, port, local_hostname=helo, timeout=TIMEOUT, source_address=(source, 0))
    try:
        client.ehlo(helo)
        if starttls:
            client.starttls(context=tls_context())
            client.ehlo(helo)
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def smtp_auth_plain(client: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    return client.docmd("AUTH", f"PLAIN {token}")


def _connect_from(host: str, port: int, timeout: float | None, source: str) -> socket.socket:
    return socket.create_connection((host, port), timeout, source_address=(source, 0))


class _SourcePOP3(poplib.POP3):
    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, timeout=TIMEOUT)

    def _create_socket(self, timeout):
        return _connect_from(self.host, self.port, timeout, self._source)


class _SourcePOP3_SSL(poplib.POP3_SSL):
    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, timeout=TIMEOUT, context=tls_context())

    def _create_socket(self, timeout):
        sock = _connect_from(self.host, self.port, timeout, self._source)
        return self.context.wrap_socket(sock, server_hostname=self.host)


@contextmanager
def pop3(port: int, source: str, tls: str = "none") -> Iterator[poplib.POP3]:
    """``tls``: none | starttls | implicit."""
    client: poplib.POP3
    client = _SourcePOP3_SSL(HOST, port, source) if tls == "implicit" else _SourcePOP3(HOST, port, source)
    try:
        if tls == "starttls":
            client.stls(context=tls_context())
        yield client
    finally:
        try:
            client.quit()
        except (poplib.error_proto, OSError):
            client.close()


class _SourceIMAP4(imaplib.IMAP4):
    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, timeout=TIMEOUT)

    def _create_socket(self, timeout):
        return _connect_from(self.host, self.port, timeout, self._source)


class _SourceIMAP4_SSL(imaplib.IMAP4_SSL):
    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, ssl_context=tls_context(), timeout=TIMEOUT)

    def _create_socket(self, timeout):
        sock = _connect_from(self.host, self.port, timeout, self._source)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


@contextmanager
def imap(port: int, source: str, tls: str = "none") -> Iterator[imaplib.IMAP4]:
    client: imaplib.IMAP4
    client = _SourceIMAP4_SSL(HOST, port, source) if tls == "implicit" else _SourceIMAP4(HOST, port, source)
    try:
        if tls == "starttls":
            client.starttls(ssl_context=tls_context())
        yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            client.shutdown()


def raw_session(port: int, source: str, sends: list[bytes], pause: float = 0.05, wait_close: float = 5.0) -> bytes:
    """Connect, send each chunk (after the greeting), return everything the server said."""
    with socket.create_connection((HOST, port), TIMEOUT, source_address=(source, 0)) as sock:
        sock.settimeout(TIMEOUT)
        received = sock.recv(4096)
        for chunk in sends:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server hung up, which is often the point of the scenario
            time.sleep(pause)
        sock.settimeout(wait_close)
        deadline = time.monotonic() + wait_close
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            received += data
    return received
