"""Hostile servers on loopback for the CLI error and chaos tests: fail2ban and DNS.

``FakeFail2ban`` speaks fail2ban's socket protocol (pickles ended by the END marker) on a
Unix socket in a root-only directory, so mailtui's ownership checks accept it, and answers
every command through a function: a Python value (sent as ``(0, value)``) or raw bytes
(garbage, hostile pickles). It records the commands it got, so a test can assert what
mailtui sent (``unban`` of an IPv4-mapped address). ``trickle`` sends the reply one byte
every ``trickle`` seconds. ``FakeDns`` answers UDP (and TCP) queries on 127.0.0.1 with
whatever a function returns for the query: garbage, a self-CNAME, nothing at all.
"""

from __future__ import annotations

import pickle
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

END = b"<F2B_END_COMMAND>"
CLOSE = b"<F2B_CLOSE_COMMAND>"


def jails_answer(jails: dict[str, list[str]], version: str = "1.0.2") -> Callable[[list[str]], Any]:
    """A fail2ban 1.0 server with these jails and banned IPs (any text: hostile names too)."""

    def answer(cmd: list[str]) -> Any:
        if cmd == ["ping"]:  # unban asks first whether the server answers at all
            return "pong"
        if cmd == ["version"]:
            return version
        if cmd == ["status"]:
            return [("Number of jail", len(jails)), ("Jail list", ", ".join(jails))]
        if len(cmd) >= 2 and cmd[0] == "status" and cmd[1] in jails:
            ips = jails[cmd[1]]
            return [
                ("Filter", [("Currently failed", 0), ("Total failed", 3), ("File list", ["/var/log/x"])]),
                ("Actions", [("Currently banned", len(ips)), ("Total banned", len(ips)), ("Banned IP list", ips)]),
            ]
        if len(cmd) == 4 and cmd[0] == "get" and cmd[2] == "banip":
            return [f"{ip} \t2026-11-29 03:40:01 + 600 = 2026-11-29 03:50:01" for ip in jails.get(cmd[1], [])]
        if cmd[:1] == ["unban"]:
            return 1
        if cmd[:1] == ["set"] and "unbanip" in cmd:
            return 1
        return (1, "unknown command")

    return answer


class FakeFail2ban:
    def __init__(self, directory: Path, answer: Callable[[list[str]], Any], trickle: float = 0.0) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        self.path = directory / "f2b.sock"
        if self.path.exists():
            self.path.unlink()
        self.answer = answer
        self.trickle = trickle
        self.commands: list[list[str]] = []
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(str(self.path))
        self.path.chmod(0o600)
        self._srv.listen(16)
        self._srv.settimeout(0.2)
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def __enter__(self) -> FakeFail2ban:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._srv.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._srv.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not self._stop.is_set():
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while END in buf:
                    request, buf = buf.split(END, 1)
                    if request.startswith(CLOSE):
                        return
                    command = pickle.loads(request)
                    self.commands.append(command)
                    reply = self.answer(command)
                    if not isinstance(reply, bytes):
                        reply = pickle.dumps(reply if isinstance(reply, tuple) else (0, reply), protocol=2) + END
                    self._send(conn, reply)
        except OSError:
            pass
        finally:
            conn.close()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        if not self.trickle:
            conn.sendall(data)
            return
        for i in range(len(data)):
            if self._stop.is_set():
                return
            conn.sendall(data[i : i + 1])
            time.sleep(self.trickle)


# -- DNS ---------------------------------------------------------------------------------------


def dns_reply(query: bytes, answers: list[bytes], rcode: int = 0) -> bytes:
    """A response to ``query`` (its id and question copied) with pre-built answer records."""
    qid = query[:2]
    flags = 0x8180 | rcode  # QR, RD, RA
    question = query[12:]
    # the question section ends at the first zero label plus 4 bytes (EDNS OPT follows it)
    end = question.index(b"\x00") + 5
    return qid + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) + question[:end] + b"".join(answers)


def cname_record(target_labels: list[str]) -> bytes:
    """A CNAME answer for the question's name (a compression pointer to offset 12)."""
    rdata = b"".join(bytes([len(label)]) + label.encode() for label in target_labels) + b"\x00"
    return b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(rdata)) + rdata


def qname(query: bytes) -> list[str]:
    labels, i = [], 12
    while query[i]:
        labels.append(query[i + 1 : i + 1 + query[i]].decode("ascii", "replace"))
        i += query[i] + 1
    return labels


def udp_and_tcp() -> tuple[socket.socket, socket.socket]:
    """A UDP and a TCP socket bound to the same free port of 127.0.0.1, as a DNS server needs. A
    port the kernel gives free for UDP may be taken for TCP (CI met it: one fixture, 158 errors),
    so another is tried until both bind."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
        except OSError:
            udp.close()
            tcp.close()
            continue
        return udp, tcp
    raise OSError("no port of 127.0.0.1 free for both UDP and TCP in 50 tries")


class FakeDns:
    """UDP (and TCP) on 127.0.0.1:<port>; ``answer(query) -> bytes | None`` (None: silence)."""

    def __init__(self, answer: Callable[[bytes], bytes | None], trickle: float = 0.0) -> None:
        self.answer = answer
        self.trickle = trickle
        self.udp, self.tcp = udp_and_tcp()
        self.port = self.udp.getsockname()[1]
        self.tcp.listen(16)
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self.queries = 0
        self._stop = threading.Event()
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakeDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.udp.close()
        self.tcp.close()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                query, peer = self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.queries += 1
            reply = self.answer(query)
            if reply is not None:
                try:
                    self.udp.sendto(reply, peer)
                except OSError:
                    pass

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._talk_tcp, args=(conn,), daemon=True).start()

    def _talk_tcp(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            head = conn.recv(2)
            if len(head) < 2:
                return
            query = conn.recv(struct.unpack("!H", head)[0])
            reply = self.answer(query)
            if reply is None:
                time.sleep(5)
                return
            data = struct.pack("!H", len(reply)) + reply
            if self.trickle:
                for i in range(len(data)):
                    if self._stop.is_set():
                        return
                    conn.sendall(data[i : i + 1])
                    time.sleep(self.trickle)
            else:
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()
