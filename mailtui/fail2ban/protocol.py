"""fail2ban's socket protocol, spoken without importing fail2ban and without trusting the reply.

Requests are pickled lists of strings ended by ``<F2B_END_COMMAND>`` (pickle protocol 2,
which every server version reads). Replies are pickles too, so they are loaded with an
unpickler that admits only the builtin types replies are made of; ``builtins.str`` is
needed because fail2ban pickles its IPAddr objects as ``str(...)``. Exceptions the server
sends back become :class:`RemoteError`; anything else is refused, so a forged reply
cannot run code in mailtui.
"""

from __future__ import annotations

import io
import pickle
import socket
from collections.abc import Callable
from typing import Any

END = b"<F2B_END_COMMAND>"
CLOSE = b"<F2B_CLOSE_COMMAND>"
MAX_REPLY = 32 * 1024 * 1024

_SAFE_BUILTINS = {"str", "int", "float", "bool", "list", "tuple", "dict", "set", "frozenset",
                  "bytes", "complex"}


class ProtocolError(Exception):
    """The server's reply could not be read (or was refused as unsafe)."""


class RemoteError(Exception):
    """fail2ban-server answered with an exception (unknown jail, not banned, ...)."""

    def __init__(self, kind: str, *args: Any) -> None:
        super().__init__(*args)
        self.kind = kind

    def __str__(self) -> str:
        detail = ", ".join(str(a) for a in self.args)
        return f"{self.kind}: {detail}" if detail else self.kind


def _remote_exception(name: str) -> Callable[..., RemoteError]:  # a class factory used by the unpickler
    return lambda *args: RemoteError(name, *args)


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            import builtins

            return getattr(builtins, name)
        if (module == "builtins" or module.startswith("fail2ban.")) and (
                name.endswith(("Error", "Exception")) or name == "Exception"):
            return _remote_exception(name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name} from a fail2ban reply")


def loads(data: bytes) -> Any:
    try:
        return SafeUnpickler(io.BytesIO(data), encoding="utf-8", errors="replace").load()
    except pickle.UnpicklingError as exc:
        raise ProtocolError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any malformed pickle is a protocol error
        raise ProtocolError(f"unreadable reply: {type(exc).__name__}: {exc}") from None


def encode(command: list[str]) -> bytes:
    return pickle.dumps([str(c) for c in command], protocol=2) + END


def receive(sock: socket.socket, limit: int = MAX_REPLY) -> bytes:
    buf = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError("fail2ban-server closed the connection")
        start = max(0, len(buf) - len(END))  # the marker may straddle two chunks
        buf += chunk
        end = buf.find(END, start)
        if end >= 0:
            return bytes(buf[:end])
        if len(buf) > limit:
            raise ProtocolError(f"reply larger than {limit // (1024 * 1024)} MiB")


def unwrap(reply: Any) -> Any:
    """``(0, result)`` -> result; ``(1, error)`` -> raise RemoteError; a bare string is an error."""
    if isinstance(reply, tuple) and len(reply) == 2 and reply[0] in (0, 1):
        code, value = reply
        if code == 0:
            return value
        if isinstance(value, RemoteError):
            raise value
        raise RemoteError("Error", value)
    if isinstance(reply, str) and reply.startswith("ERROR"):
        raise RemoteError("Error", reply)
    raise ProtocolError(f"unexpected reply shape: {type(reply).__name__}")
