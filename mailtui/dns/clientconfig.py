"""Thunderbird autoconfig (``config-v1.1.xml``) and Outlook autodiscover (POX) documents.

Both come from the network, so they are parsed with defusedxml (no entities, no DTD
tricks, no billion laughs) after a size cap, and reduced to plain ``ServerEntry`` objects:
what a client would configure. Namespaces are ignored when matching element names because
servers in the wild disagree on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from mailtui.core.numbers import ascii_int

AUTODISCOVER_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{email}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""


@dataclass(frozen=True)
class ServerEntry:
    """One server a client would be told to use."""

    protocol: str  # imap, pop3, smtp
    host: str
    port: int
    tls: str  # "implicit", "starttls", "plain"
    auth: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "host": self.host,
            "port": self.port,
            "tls": self.tls,
            "auth": self.auth,
            "source": self.source,
        }


class XmlRefused(Exception):
    """The document is not acceptable XML (malformed, or uses entities/DTDs)."""


def _parse(data: bytes) -> Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise XmlRefused(
            f"XML refused: it uses {type(exc).__name__.replace('Forbidden', '').lower() or 'DTD'}"
            " declarations (possible entity-expansion attack)"
        ) from None
    except SafeET.ParseError as exc:
        raise XmlRefused(f"not well-formed XML: {exc}") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: Element, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""


def _port(text: str) -> int | None:
    port = ascii_int(text, max_digits=5)
    return port if port is not None and 0 < port < 65536 else None


@dataclass
class AutoconfigDoc:
    servers: list[ServerEntry] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


_SOCKET = {"ssl": "implicit", "tls": "implicit", "starttls": "starttls", "plain": "plain"}


def _document(data: bytes, root_name: str, child_name: str) -> Element:
    """The ``child_name`` element of a ``root_name`` document, or XmlRefused saying what is wrong."""
    root = _parse(data)
    if _local(root.tag) != root_name:
        raise XmlRefused(f"root element is <{_local(root.tag)[:40]}>, not <{root_name}>")
    child = _child(root, child_name)
    if child is None:
        raise XmlRefused(f"no <{child_name}> element")
    return child


def parse_autoconfig(data: bytes, source: str = "autoconfig") -> AutoconfigDoc:
    provider = _document(data, "clientConfig", "emailProvider")
    doc = AutoconfigDoc()
    doc.domains = [(d.text or "").strip() for d in provider if _local(d.tag) == "domain"]
    for el in provider:
        kind = _local(el.tag)
        if kind not in ("incomingServer", "outgoingServer"):
            continue
        protocol = (el.get("type") or "").lower()
        host, port = _text(el, "hostname"), _port(_text(el, "port"))
        socket_type = _text(el, "socketType").lower()
        if not host or port is None:
            doc.problems.append(f"{kind} {protocol or '?'} without a valid hostname and port")
            continue
        if socket_type not in _SOCKET:
            doc.problems.append(f"{kind} {host}:{port}: unknown socketType {socket_type[:20]!r}")
        auths = [(a.text or "").strip() for a in el if _local(a.tag) == "authentication"]
        doc.servers.append(
            ServerEntry(
                protocol, host.lower().rstrip("."), port, _SOCKET.get(socket_type, "plain"), ",".join(auths), source
            )
        )
    if not any(s.protocol in ("imap", "pop3") for s in doc.servers):
        doc.problems.append("no valid incoming server: Thunderbird rejects the file")
    if not any(s.protocol == "smtp" for s in doc.servers):
        doc.problems.append("no valid outgoing (smtp) server: Thunderbird rejects the file")
    return doc


@dataclass
class AutodiscoverDoc:
    action: str = ""  # settings, redirectAddr, redirectUrl, error
    redirect: str = ""
    servers: list[ServerEntry] = field(default_factory=list)
    error: str = ""
    problems: list[str] = field(default_factory=list)


# Thunderbird's reading of SSL=on: these ports speak STARTTLS, every other one implicit TLS
_STARTTLS_PORTS = {25, 110, 143, 587}


def parse_autodiscover(data: bytes, source: str = "autodiscover") -> AutodiscoverDoc:
    response = _document(data, "Autodiscover", "Response")
    doc = AutodiscoverDoc()
    error = _child(response, "Error")
    if error is not None:
        doc.action = "error"
        doc.error = f"{_text(error, 'ErrorCode')} {_text(error, 'Message')}".strip() or "error"
        return doc
    account = _child(response, "Account")
    if account is None:
        raise XmlRefused("no <Account> element")
    doc.action = _text(account, "Action") or "settings"
    if doc.action == "redirectAddr":
        doc.redirect = _text(account, "RedirectAddr")
    elif doc.action == "redirectUrl":
        doc.redirect = _text(account, "RedirectUrl")
    for proto in account:
        if _local(proto.tag) != "Protocol":
            continue
        kind = _text(proto, "Type").upper()
        if kind not in ("IMAP", "POP3", "SMTP"):
            continue
        host, port = _text(proto, "Server"), _port(_text(proto, "Port"))
        if not host or port is None:
            doc.problems.append(f"<Protocol> {kind} without a valid Server and Port")
            continue
        ssl_on = _text(proto, "SSL").lower() != "off"
        encryption = _text(proto, "Encryption").lower()
        if encryption == "none" or not ssl_on:
            tls = "plain"
        elif encryption == "ssl":
            tls = "implicit"
        elif encryption == "tls":
            tls = "starttls"
        else:
            tls = "starttls" if port in _STARTTLS_PORTS else "implicit"
        spa = _text(proto, "SPA").lower() != "off"
        if spa:
            doc.problems.append(
                f"{kind} {host}:{port}: SPA is on (the default when absent): Outlook "
                "tries NTLM, which Dovecot/Postfix rarely offer"
            )
        doc.servers.append(
            ServerEntry(kind.lower(), host.lower().rstrip("."), port, tls, "spa" if spa else "password", source)
        )
    return doc
