"""A hostile DNS server on loopback for tests: UDP and TCP on one 127.0.0.1 port.

Every query is handed to ``answer(query) -> Message | bytes | None``: a crafted dnspython
message (alias loops, DNAME cycles, endless chains), raw bytes, or None for silence. With
``trickle`` set, TCP answers are sent one byte per ``trickle`` seconds. This is a real peer on
a real socket, not a mock: the resolver under test speaks to it exactly as to NSD.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from tests.fakes import udp_and_tcp

Answer = Callable[[dns.message.Message], "dns.message.Message | bytes | None"]


class FakeDns:
    def __init__(self, answer: Answer, trickle: float = 0.0, truncate_udp: bool = False) -> None:
        self.answer = answer
        self.trickle = trickle
        self.truncate_udp = truncate_udp
        self.queries = 0
        self._stop = threading.Event()
        self.udp, self.tcp = udp_and_tcp()
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(16)
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stop.set()
        self.udp.close()
        self.tcp.close()

    def __enter__(self) -> FakeDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reply(self, data: bytes, udp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - a fake server ignores what it cannot read
            return None
        self.queries += 1
        if udp and self.truncate_udp:
            reply = dns.message.make_response(query)
            reply.flags |= dns.flags.TC
            return reply.to_wire()
        out = self.answer(query)
        if out is None or isinstance(out, bytes):
            return out
        return out.to_wire(max_size=65535)

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            wire = self._reply(data, udp=True)
            if wire is not None:
                try:
                    self.udp.sendto(wire, peer)
                except OSError:
                    pass

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._one_tcp, args=(conn,), daemon=True).start()

    def _one_tcp(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            size = struct.unpack("!H", conn.recv(2))[0]
            data = b""
            while len(data) < size:
                chunk = conn.recv(size - len(data))
                if not chunk:
                    return
                data += chunk
            wire = self._reply(data, udp=False)
            if wire is None:
                self._stop.wait(30)
                return
            framed = struct.pack("!H", len(wire)) + wire
            if not self.trickle:
                conn.sendall(framed)
                return
            for i in range(len(framed)):
                if self._stop.is_set():
                    return
                conn.sendall(framed[i : i + 1])
                time.sleep(self.trickle)
        except (OSError, struct.error):
            pass
        finally:
            conn.close()


def response(query: dns.message.Message, *records: tuple[str, str, str]) -> dns.message.Message:
    """An authoritative-looking answer to ``query`` holding (owner, type, rdata) records."""
    reply = dns.message.make_response(query)
    for owner, rdtype, rdata in records:
        reply.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, rdata))
    return reply


def qname(query: dns.message.Message) -> dns.name.Name:
    return query.question[0].name


def qtype(query: dns.message.Message) -> str:
    return dns.rdatatype.to_text(query.question[0].rdtype)
