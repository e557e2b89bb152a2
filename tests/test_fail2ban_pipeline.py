"""Pipelined calls (``Fail2banClient.call_many``): every request sent at once, replies read in order.

``collect`` asks for every jail's ban list this way (issue 20: the server formats the next list
while the last is parsed). The replies of one connection arrive in arbitrary pieces: several in
one read, a marker cut between two reads, a byte at a time. What is read past one reply belongs to
the next; a consumer that stops early leaves replies unread, so the connection is dropped and the
next call starts on a new one, never reading a stale answer.
"""

from __future__ import annotations

import os
import pickle
import socket
import threading
from pathlib import Path

import pytest

from mailtui.fail2ban.client import Fail2banClient
from mailtui.fail2ban.protocol import END, RemoteError


def _server(path: Path, chunking: str) -> list[list[list[str]]]:
    """A fake fail2ban-server: answers ``echo X`` with X and anything else with an error,
    every reply of a read at once, sent in ``chunking`` pieces ("whole", "bytes", "split"). One
    list of commands per connection, in order."""
    conns: list[list[list[str]]] = []
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    path.chmod(0o600)
    srv.listen(4)

    def send(conn: socket.socket, data: bytes) -> None:
        if chunking == "bytes":
            for i in range(len(data)):
                conn.sendall(data[i : i + 1])
        elif chunking == "split":  # every end marker cut in two, between two sends
            pos = 0
            while (at := data.find(END, pos)) >= 0:
                conn.sendall(data[pos : at + 4])
                pos = at + 4
            conn.sendall(data[pos:])
        else:
            conn.sendall(data)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            seen: list[list[str]] = []
            conns.append(seen)
            buf = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buf += chunk
                out = b""
                while END in buf:
                    raw, buf = buf.split(END, 1)
                    if raw.startswith(b"<F2B_CLOSE"):
                        continue
                    command = pickle.loads(raw)
                    seen.append(command)
                    ok = command[0] == "echo"
                    reply = (0, command[1]) if ok else (1, ValueError(f"unknown {command[0]}"))
                    out += pickle.dumps(reply, protocol=2) + END
                if out:
                    send(conn, out)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return conns


@pytest.mark.parametrize("chunking", ["whole", "bytes", "split"])
def test_replies_come_in_order_whatever_the_pieces(tmp_path: Path, chunking: str) -> None:
    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    conns = _server(sock, chunking)
    words = [f"w{i}" * (i * 50 + 1) for i in range(12)]  # replies of many sizes, some over one read
    with Fail2banClient(str(sock), owner_uid=os.geteuid()) as client:
        got = list(client.call_many([("echo", w) for w in words]))
        assert got == words
        assert client.call("echo", "after") == "after"  # nothing left over from the pipelined ones
    assert len(conns) == 1 and [c[1] for c in conns[0]] == [*words, "after"]


def test_an_error_midway_drops_the_connection_and_the_next_call_starts_afresh(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    conns = _server(sock, "whole")
    with Fail2banClient(str(sock), owner_uid=os.geteuid()) as client:
        replies = client.call_many([("echo", "a"), ("nope", "x"), ("echo", "c")])
        assert next(replies) == "a"
        with pytest.raises(RemoteError, match="unknown nope"):
            next(replies)
        # "c" was never read: taken by the next call it would answer "d" with "c"
        assert client.call("echo", "d") == "d"
    assert [[c[1] for c in seen] for seen in conns] == [["a", "x", "c"], ["d"]]


def test_a_single_call_keeps_its_connection(tmp_path: Path) -> None:
    """call() is call_many of one: after its reply (or its RemoteError) the connection is reused."""
    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    conns = _server(sock, "whole")
    with Fail2banClient(str(sock), owner_uid=os.geteuid()) as client:
        assert client.call("echo", "1") == "1"
        with pytest.raises(RemoteError):
            client.call("nope")
        assert client.call("echo", "2") == "2"
    assert len(conns) == 1
