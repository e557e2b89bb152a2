"""Listening ports: what Postfix's master.cf and Dovecot's services say should listen, what does.

Ports are mapped to a *service*, never to one pid: Postfix's master hands port 25 to its
smtpd children, so psutil may name either. Without root psutil still lists every listening
socket (from /proc/net) but not who owns it; the owner is then "unknown" and the report says so.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Any

import psutil

from mailtui.core.numbers import ascii_int, is_ascii_digits
from mailtui.mta.run import run_tool

#: ports an admin expects to see on a mail server, with what usually listens there
WELL_KNOWN: dict[int, str] = {
    25: "smtp",
    465: "submissions",
    587: "submission",
    110: "pop3",
    995: "pop3s",
    143: "imap",
    993: "imaps",
    4190: "managesieve",
    24: "lmtp",
}
_SERVICE_PORTS = {"smtp": 25, "submission": 587, "submissions": 465, "smtps": 465, "lmtp": 24}
WILDCARD = "*"


@dataclass(frozen=True)
class Expected:
    """A listener the configuration asks for."""

    daemon: str  # "postfix" / "dovecot"
    service: str  # "smtp", "submission", "imap-login/imaps", ...
    address: str  # an IP, or "*" for every address
    port: int
    tls: str  # "implicit", "starttls" (may upgrade), or "" when unknown


@dataclass(frozen=True)
class Listening:
    address: str
    port: int
    pid: int | None


@dataclass
class PortStatus:
    port: int
    address: str
    service: str
    daemon: str
    tls: str
    expected: bool
    listening: bool
    owner: str  # daemon key, process name, or "unknown"

    @property
    def state(self) -> str:
        if self.expected and not self.listening:
            return "missing"
        if self.listening and not self.expected:
            return "unexpected"
        return "ok" if self.listening else "not configured"

    def to_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "address": self.address,
            "service": self.service,
            "daemon": self.daemon,
            "tls": self.tls,
            "expected": self.expected,
            "listening": self.listening,
            "owner": self.owner,
            "state": self.state,
        }


def _port(text: str) -> int | None:
    if is_ascii_digits(text):
        return ascii_int(text, max_digits=5)
    try:
        return socket.getservbyname(text, "tcp")
    except OSError:
        return _SERVICE_PORTS.get(text)


def _interfaces(value: str) -> list[str]:
    out = []
    for item in re.split(r"[\s,]+", value.strip()):
        if item in ("", "all"):
            return [WILDCARD]
        if item == "loopback-only" or item == "localhost":
            out.append("127.0.0.1")
        else:
            out.append(item.strip("[]"))
    return out or [WILDCARD]


def postfix_expected(config_dir: str = "") -> list[Expected]:
    """inet services of master.cf, with addresses from the service name or inet_interfaces."""
    conf = ["-c", config_dir] if config_dir else []
    master = run_tool(["postconf", *conf, "-M"], timeout=5)
    if not master.ok:
        return []
    iface = run_tool(["postconf", *conf, "-h", "inet_interfaces"], timeout=5)
    default_hosts = _interfaces(iface.stdout) if iface.ok else [WILDCARD]
    out: list[Expected] = []
    for line in master.stdout.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[1] != "inet":
            continue
        name = fields[0]
        host, _, port_text = name.rpartition(":")
        port = _port(port_text)
        if port is None:
            continue
        hosts = [host.strip("[]")] if host else default_hosts
        options = dict(re.findall(r"-o\s+([A-Za-z0-9_]+)=(\S*)", line))
        label = options.get("syslog_name", "").removeprefix("postfix/") or port_text
        tls = "implicit" if options.get("smtpd_tls_wrapper_mode") == "yes" else "starttls"
        out.extend(Expected("postfix", label, h, port, tls) for h in hosts)
    return out


def parse_doveconf_services(text: str) -> list[tuple[str, str, str, str, int, bool]]:
    """(service, protocol, listener, address, port, ssl) for every inet_listener in ``doveconf service``."""
    out = []
    stack: list[tuple[str, str]] = []
    service_protocol: dict[str, str] = {}
    listener: dict[str, str] = {}
    pending: list[tuple[str, str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.endswith("{"):
            kind, _, name = line[:-1].strip().partition(" ")
            stack.append((kind, name.strip()))
            if kind == "inet_listener":
                listener = {}
            continue
        if line == "}":
            if stack:
                kind, name = stack.pop()
                if kind == "inet_listener" and stack:
                    pending.append((stack[-1][1], name, listener))
            continue
        key, eq, value = line.partition("=")
        if not eq or not stack:
            continue
        key, value = key.strip(), value.strip()
        if stack[-1][0] == "inet_listener":
            listener[key] = value
        elif stack[-1][0] == "service" and len(stack) == 1 and key == "protocol":
            service_protocol[stack[-1][1]] = value
    for service, name, values in pending:
        try:
            port = int(values.get("port", "0"))
        except ValueError:
            continue
        out.append(
            (
                service,
                service_protocol.get(service, ""),
                name,
                values.get("address", ""),
                port,
                values.get("ssl", "no") == "yes",
            )
        )
    return out


def dovecot_expected(config_file: str = "") -> list[Expected]:
    conf = ["-c", config_file] if config_file else []
    services = run_tool(["doveconf", *conf, "service"], timeout=5)
    if not services.ok:
        return []
    values = run_tool(["doveconf", *conf, "-h", "protocols", "listen"], timeout=5)
    lines = values.stdout.splitlines() if values.ok else []
    protocols = set(lines[0].split()) if lines else set()
    listen = lines[1] if len(lines) > 1 else "*, ::"
    out = []
    for service, protocol, name, address, port, ssl in parse_doveconf_services(services.stdout):
        if port <= 0 or (protocol and protocol not in protocols):
            continue
        hosts = [WILDCARD if a in ("*", "::") else a.strip("[]") for a in re.split(r"[\s,]+", address or listen) if a]
        for host in dict.fromkeys(hosts):
            out.append(Expected("dovecot", f"{service}/{name}", host, port, "implicit" if ssl else "starttls"))
    return out


def listening_sockets() -> list[Listening]:
    out = []
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr:
            out.append(Listening(conn.laddr.ip, conn.laddr.port, conn.pid))
    return out


def _covers(expected_addr: str, actual_addr: str) -> bool:
    if expected_addr in (WILDCARD, actual_addr):
        return True
    if actual_addr == "0.0.0.0":
        return ":" not in expected_addr
    return actual_addr == "::"


def match_ports(expected: list[Expected], actual: list[Listening], owner_of: dict[int, str]) -> list[PortStatus]:
    """Every expected listener (present or missing), then every unexpected one on a mail port
    or held by a mail daemon. ``owner_of`` maps pid -> daemon key."""
    rows: list[PortStatus] = []
    used: set[int] = set()
    for exp in expected:
        hits = [i for i, a in enumerate(actual) if a.port == exp.port and _covers(exp.address, a.address)]
        used.update(hits)
        owner = ""
        if hits:
            pids = [actual[i].pid for i in hits]
            owner = next((owner_of.get(p, "") for p in pids if p is not None and p in owner_of), "") or (
                "unknown" if all(p is None for p in pids) else "other process"
            )
        rows.append(
            PortStatus(
                exp.port,
                exp.address,
                exp.service,
                exp.daemon,
                exp.tls,
                expected=True,
                listening=bool(hits),
                owner=owner,
            )
        )
    seen: set[tuple[str, int]] = set()
    for i, a in enumerate(actual):
        if i in used or (a.address, a.port) in seen:
            continue
        owner = owner_of.get(a.pid, "") if a.pid is not None else ""
        if a.port not in WELL_KNOWN and not owner:
            continue
        seen.add((a.address, a.port))
        rows.append(
            PortStatus(
                a.port,
                a.address,
                WELL_KNOWN.get(a.port, ""),
                owner,
                "",
                expected=False,
                listening=True,
                owner=owner or ("unknown" if a.pid is None else _proc_name(a.pid)),
            )
        )
    return rows


def _proc_name(pid: int) -> str:
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, OSError):
        return "unknown"
