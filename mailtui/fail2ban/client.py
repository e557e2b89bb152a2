"""A client for fail2ban-server's socket: safety checks first, one connection per refresh.

Before connecting, the socket must be a socket owned by root or by the user mailtui runs as
(or the configured owner) and not accessible to group/others, and every directory above it
must be owned by one of them and not writable by others (unless sticky, like /tmp), so no
other unprivileged user can put a fake server in its place. (A socket of our own user was
made by our own processes: trusting it gives nobody anything they do not have. Run as root,
that is root alone, as before.) Every call has a total deadline (TIMEOUT for its whole reply, not
per read), and so has the whole conversation (CONVERSATION from connecting): a server that
trickles bytes, or answers each of many calls just in time, cannot hold a refresh for long.
"""

from __future__ import annotations

import _socket  # the C socket itself: socket.py's enums and selectors are ~14 M instructions of bans --json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mailtui.fail2ban.protocol import CLOSE, END, ProtocolError, RemoteError, encode, loads, receive, unwrap

TIMEOUT = 5.0  # one call, request to end marker
CONVERSATION = 20.0  # everything from connect to close (a refresh of every jail is one)


class SocketUnavailable(Exception):
    """The socket cannot be used (missing, permissions, unsafe, server down); the message says why."""


def socket_path(configured: str = "") -> str:
    if configured:
        return configured
    from mailtui.logs.locate import fail2ban_socket_path

    return fail2ban_socket_path(configured)


def trusted_owners(owner_uid: int | None = None) -> tuple[int, ...]:
    """Who may own the socket and the directories above it: root and the user we run as, or
    root and ``owner_uid`` when one is given."""
    return (0, os.geteuid() if owner_uid is None else owner_uid)


def check_socket(path: str, owner_uid: int | None = None) -> None:
    """Refuse a socket another unprivileged user could have created or could replace."""
    owners = trusted_owners(owner_uid)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise SocketUnavailable(
            f"{path} does not exist: fail2ban-server is not running (or uses another socket: set [fail2ban] socket)"
        ) from None
    except PermissionError:
        raise SocketUnavailable(
            f"{path}: permission denied: the fail2ban socket is root-only, run mailtui as root"
        ) from None
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketUnavailable(f"{path} is not a socket")
    if st.st_uid not in owners:
        allowed = "root" if set(owners) == {0} else f"root or uid {max(owners)}"
        raise SocketUnavailable(
            f"{path} is owned by uid {st.st_uid}, not {allowed}: refusing to talk "
            "to it (it could be a fake fail2ban-server)"
        )
    if st.st_mode & 0o077:
        raise SocketUnavailable(f"{path} is accessible to group/others (mode {st.st_mode & 0o777:o}): refusing")
    for parent in Path(path).absolute().parents:
        pst = os.stat(parent)
        if pst.st_uid not in owners:
            raise SocketUnavailable(
                f"{parent} is owned by uid {pst.st_uid}: another user could replace the socket; refusing"
            )
        if pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX:
            raise SocketUnavailable(
                f"{parent} is writable by group/others: another user could replace the socket; refusing"
            )


class Fail2banClient:
    def __init__(
        self,
        path: str = "",
        timeout: float = TIMEOUT,
        owner_uid: int | None = None,
        conversation: float = CONVERSATION,
    ) -> None:
        self.path = socket_path(path)
        self.timeout = timeout
        self.conversation = conversation
        self.owner_uid = owner_uid
        self._sock: _socket.socket | None = None
        self._ends = 0.0  # time.monotonic() by which the conversation must be over
        self._pending = bytearray()  # read past the last reply (pipelined calls): the next one's

    def __enter__(self) -> Fail2banClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        check_socket(self.path, self.owner_uid)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        self._ends = time.monotonic() + self.conversation
        try:
            sock.connect(self.path)
        except PermissionError:
            sock.close()
            raise SocketUnavailable(f"{self.path}: permission denied: run mailtui as root") from None
        except (ConnectionRefusedError, FileNotFoundError):
            sock.close()
            raise SocketUnavailable(f"{self.path}: nobody answers: fail2ban-server is stopped or restarting") from None
        except OSError as exc:
            sock.close()
            raise SocketUnavailable(f"{self.path}: {exc.strerror or exc}") from None
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.sendall(CLOSE + END)
            except OSError:
                pass
            self._sock.close()
            self._sock = None
            self._pending.clear()

    def call(self, *command: str) -> Any:
        """Send one command; return its result or raise RemoteError / ProtocolError / SocketUnavailable."""
        return next(self.call_many([command]))

    def call_many(self, commands: list[tuple[str, ...]]) -> Iterator[Any]:
        """Send every command at once, then yield their results in order, each as it arrives
        (the server answers the next while the caller handles one). A RemoteError is raised at
        its command's turn; the other errors as for :meth:`call`. The first reply is due within
        TIMEOUT of the send, each next one within TIMEOUT of the one before, all within the
        conversation's deadline."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        sock = self._sock
        call_ends = time.monotonic() + self.timeout
        answered = 0
        try:
            for data in self._replies(sock, commands, call_ends):
                answered += 1  # read whole: the connection stays in step even if this raises
                yield unwrap(loads(data))
        finally:
            if answered < len(commands) and self._sock is sock:
                self.close()  # replies left unread would be taken for the next call's: start afresh

    def _replies(self, sock: _socket.socket, commands: list[tuple[str, ...]], call_ends: float) -> Iterator[bytes]:
        for n, command in enumerate(commands):
            if n:
                call_ends = time.monotonic() + self.timeout
            deadline = min(call_ends, self._ends)
            try:
                if not n:
                    sock.settimeout(max(0.001, deadline - time.monotonic()))
                    sock.sendall(b"".join(encode(list(c)) for c in commands))
                data = receive(sock, deadline=deadline, pending=self._pending)
            except TimeoutError:  # socket.timeout
                self.close()
                if deadline < call_ends:
                    raise SocketUnavailable(
                        f"fail2ban-server did not finish answering within {self.conversation:g}s (at {command[0]!r})"
                    ) from None
                raise SocketUnavailable(
                    f"fail2ban-server did not answer {command[0]!r} within {self.timeout:g}s"
                ) from None
            except (ConnectionError, BrokenPipeError) as exc:
                self.close()
                raise SocketUnavailable(f"fail2ban-server went away: {exc}") from None
            except ProtocolError:
                self.close()
                raise
            yield data


__all__ = [
    "Fail2banClient",
    "ProtocolError",
    "RemoteError",
    "SocketUnavailable",
    "check_socket",
    "socket_path",
]
