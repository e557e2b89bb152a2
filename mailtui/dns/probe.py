"""Live probes of advertised mail ports: connect, greeting, STARTTLS or implicit TLS, certificate.

A probe speaks just enough SMTP, IMAP or POP3 to see what a client would: the greeting,
whether authentication is offered before TLS, whether STARTTLS is offered, and the
certificate served (chain validity against the system store or the configured CA, the
name, the expiry). Blocking sockets in a thread: each probe is bounded by socket timeouts
and a byte cap on every reply, and runs beside the DNS lookups.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailtui.dns.records import name_matches
from mailtui.logs.sanitize import decode

MAX_REPLY = 16 * 1024
PROBE_DEADLINE_FACTOR = 3  # a whole conversation may take this many read timeouts
PROTOCOL_OF_PORT = {25: "smtp", 465: "smtp", 587: "smtp", 143: "imap", 993: "imap", 110: "pop3", 995: "pop3"}


@dataclass
class ProbeResult:
    host: str
    address: str
    port: int
    protocol: str
    mode: str  # what was asked: "implicit", "starttls" or "plain"
    connected: bool = False
    greeting: str = ""
    starttls_offered: bool | None = None
    auth_before_tls: list[str] = field(default_factory=list)  # mechanisms/commands offered in clear
    tls_version: str = ""
    subject: str = ""
    names: list[str] = field(default_factory=list)
    not_after: float | None = None
    verify_error: str = ""
    error: str = ""
    elapsed: float = 0.0
    der: bytes = b""  # the certificate served, for DANE matching

    @property
    def name_ok(self) -> bool:
        return any(name_matches(self.host, n) for n in self.names)

    @property
    def tls_ok(self) -> bool:
        return bool(self.tls_version) and not self.verify_error

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "address": self.address,
            "port": self.port,
            "protocol": self.protocol,
            "mode": self.mode,
            "connected": self.connected,
            "greeting": self.greeting,
            "starttls_offered": self.starttls_offered,
            "auth_before_tls": self.auth_before_tls,
            "tls_version": self.tls_version,
            "subject": self.subject,
            "names": self.names,
            "not_after": self.not_after,
            "verify_error": self.verify_error,
            "name_ok": self.name_ok,
            "error": self.error,
        }


class _Conn:
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.buf = b""
        # the socket timeout bounds each read; the deadline bounds the whole conversation, so a
        # server sending one byte just before each timeout cannot hold the probe
        self.deadline = deadline
        self.read_timeout = sock.gettimeout()

    def line(self) -> str:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_REPLY:
                raise OSError("reply line too long")
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise OSError("no complete answer in time")
            limited = self.read_timeout is None or remaining < self.read_timeout
            self.sock.settimeout(remaining if limited else self.read_timeout)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                if limited:
                    raise OSError("no complete answer in time") from None
                raise
            if not chunk:
                raise OSError("connection closed by the server")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return decode(raw)

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode("ascii") + b"\r\n")

    def smtp_reply(self) -> list[str]:
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-" or len(lines) > 200:
                return lines

    def until(self, done: Callable[[str], bool]) -> list[str]:
        lines: list[str] = []
        while len(lines) < 200:
            line = self.line()
            lines.append(line)
            if done(line):
                break
        return lines


def _capabilities(conn: _Conn, protocol: str) -> list[str]:
    if protocol == "smtp":
        conn.send("EHLO mailtui.invalid")
        return [ln[4:].strip() for ln in conn.smtp_reply()[1:]]
    if protocol == "imap":
        conn.send("a1 CAPABILITY")
        lines = conn.until(lambda ln: ln.startswith("a1 "))
        return [w for ln in lines if ln.upper().startswith("* CAPABILITY") for w in ln.split()[2:]]
    conn.send("CAPA")
    first = conn.line()
    if not first.startswith("+OK"):
        return []
    return [ln for ln in conn.until(lambda ln: ln == ".") if ln != "."]


def _auth_in_clear(caps: list[str], protocol: str) -> tuple[bool, list[str]]:
    """(STARTTLS offered, authentication offered before TLS)."""
    upper = [c.upper() for c in caps]
    if protocol == "smtp":
        auth = [c for c in upper if c.startswith("AUTH")]
        return "STARTTLS" in upper, [m for c in auth for m in c.replace("=", " ").split()[1:]]
    if protocol == "imap":
        offered = [c for c in upper if c.startswith("AUTH=")]
        if "LOGINDISABLED" not in upper:
            offered.append("LOGIN")
        return "STARTTLS" in upper, offered
    offered = [m for c in upper if c.startswith("SASL") for m in c.split()[1:]]
    if "USER" in upper:
        offered.append("USER")
    return "STLS" in upper, offered


def _starttls(conn: _Conn, protocol: str) -> None:
    if protocol == "smtp":
        conn.send("STARTTLS")
        reply = conn.smtp_reply()
        ok = reply[-1].startswith("220")
    elif protocol == "imap":
        conn.send("a2 STARTTLS")
        ok = conn.until(lambda ln: ln.startswith("a2 "))[-1].upper().startswith("A2 OK")
    else:
        conn.send("STLS")
        ok = conn.line().startswith("+OK")
    if not ok:
        raise OSError("the server refused STARTTLS")


def _greeting(conn: _Conn, protocol: str) -> str:
    if protocol == "smtp":
        reply = conn.smtp_reply()
        if not reply[0].startswith("220"):
            raise OSError(f"unexpected SMTP greeting {reply[0][:80]!r}")
        return reply[0]
    line = conn.line()
    if not line.startswith("* OK" if protocol == "imap" else "+OK"):
        raise OSError(f"unexpected {protocol.upper()} greeting {line[:80]!r}")
    return line


def probe(
    host: str,
    address: str,
    port: int,
    protocol: str,
    mode: str,
    timeout: float = 5.0,
    ssl_context: ssl.SSLContext | None = None,
) -> ProbeResult:
    """Connect to ``address`` (resolved by the caller) and speak ``protocol`` in ``mode``."""
    result = ProbeResult(host, address, port, protocol, mode)
    started = time.monotonic()
    try:
        _probe(result, timeout, ssl_context or ssl.create_default_context())
    except (OSError, ssl.SSLError, UnicodeError) as exc:
        result.error = str(exc) or type(exc).__name__
    result.elapsed = time.monotonic() - started
    return result


def _probe(result: ProbeResult, timeout: float, verified: ssl.SSLContext) -> None:
    sock = socket.create_connection((result.address, result.port), timeout=timeout)
    result.connected = True
    try:
        if result.mode == "implicit":
            sock = _wrap(result, sock, verified, timeout)
        conn = _Conn(sock, time.monotonic() + PROBE_DEADLINE_FACTOR * timeout)
        result.greeting = _greeting(conn, result.protocol)
        caps = _capabilities(conn, result.protocol)
        if result.mode != "implicit":
            offered, clear_auth = _auth_in_clear(caps, result.protocol)
            result.starttls_offered = offered
            result.auth_before_tls = clear_auth
            if result.mode == "starttls":
                if not offered:
                    result.error = "STARTTLS is not offered"
                    return
                _starttls(conn, result.protocol)
                conn.sock = _wrap(result, conn.sock, verified, timeout)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _wrap(result: ProbeResult, sock: socket.socket, verified: ssl.SSLContext, timeout: float) -> socket.socket:
    """TLS with verification; when that fails, note why and look at the certificate anyway."""
    try:
        tls = verified.wrap_socket(sock, server_hostname=result.host)
    except ssl.SSLCertVerificationError as exc:
        result.verify_error = exc.verify_message or str(exc)
        sock.close()
        # the failed handshake consumed the connection: look again without verifying to
        # report the certificate itself (STARTTLS is replayed by the caller only for the data)
        return _unverified(result, timeout)
    _record(result, tls)
    return tls


def _unverified(result: ProbeResult, timeout: float) -> socket.socket:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection((result.address, result.port), timeout=timeout)
    if result.mode == "starttls":
        conn = _Conn(sock, time.monotonic() + PROBE_DEADLINE_FACTOR * timeout)
        _greeting(conn, result.protocol)
        _capabilities(conn, result.protocol)
        _starttls(conn, result.protocol)
    tls = ctx.wrap_socket(sock, server_hostname=result.host)
    _record(result, tls)
    return tls


def _record(result: ProbeResult, tls: ssl.SSLSocket) -> None:
    from cryptography import x509

    from mailtui.system.certs import describe_certificate

    result.tls_version = tls.version() or ""
    der = tls.getpeercert(binary_form=True)
    if der:
        result.der = der
        result.subject, result.names, result.not_after = describe_certificate(x509.load_der_x509_certificate(der))
