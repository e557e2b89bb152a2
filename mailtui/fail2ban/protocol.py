"""fail2ban's socket protocol, spoken without importing fail2ban and without trusting the reply.

Requests are pickled lists of strings ended by ``<F2B_END_COMMAND>`` (pickle protocol 2,
which every server version reads). Replies are pickles too, so they are loaded with an
unpickler that admits only the builtin types replies are made of; ``builtins.str`` is
needed because fail2ban pickles its IPAddr objects as ``str(...)``. Exceptions the server
sends back become :class:`RemoteError`; anything else is refused, so a forged reply
cannot run code in mailtui.

A reply cannot make mailtui allocate without bound either: it is read up to MAX_REPLY bytes
within one total deadline (a server trickling a byte at a time cannot hold a call), the few
callables a pickle may name are wrapped so they only rebuild values of the size they are given
(``bytes(2**31-1)`` is refused), and the loaded value is walked once, iteratively, against caps
on string length, integer size, nesting depth and the number of values (shared references are
counted every time they appear, so a memo reference repeated a million times counts a million
times).
"""

from __future__ import annotations

import _pickle as pickle  # what pickle.py re-exports (Unpickler, dumps, ...), without its pure-Python half
import builtins
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import _socket

END = b"<F2B_END_COMMAND>"
CLOSE = b"<F2B_CLOSE_COMMAND>"
MAX_REPLY = 32 * 1024 * 1024
# caps on a decoded reply; a real server's replies are far inside them (20,000 bans with times
# are ~1.3 MB, nested 4 deep)
MAX_TEXT = 4 * 1024 * 1024  # characters (or bytes) in one string
MAX_TOTAL_TEXT = 64 * 1024 * 1024  # characters in all strings, counting every reference
MAX_VALUES = 2_000_000  # values in all, counting every reference
MAX_DEPTH = 100  # containers inside containers
MAX_INT_BITS = 4096  # ~1,233 decimal digits
MAX_NUMBER_TEXT = 1000  # a number rebuilt from text (int("..."), float("..."))

_SAFE_BUILTINS = {"str", "int", "float", "bool", "list", "tuple", "dict", "set", "frozenset", "bytes", "complex"}


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


def _remote_exception(name: str) -> Callable[..., RemoteError]:
    """A stand-in for the exception class a reply names: calling it makes a RemoteError."""
    return lambda *args: RemoteError(name, *args)


def _sized(value: Any) -> Any:
    """Refuse, before a callable rebuilds it, anything it could inflate."""
    if isinstance(value, (str, bytes, bytearray)) and len(value) > MAX_TEXT:
        raise pickle.UnpicklingError(f"a string of {len(value):,} characters (cap {MAX_TEXT:,})")
    if isinstance(value, (list, tuple, set, frozenset, dict)) and len(value) > MAX_VALUES:
        raise pickle.UnpicklingError(f"a container of {len(value):,} values (cap {MAX_VALUES:,})")
    return value


def _guarded(name: str) -> Callable[..., Any]:
    """``builtins.<name>`` for a pickle's REDUCE, taking only arguments it cannot inflate:
    ``bytes(n)``/``str(<list>)``/``list("<32 MiB>")`` would make a small reply a huge value."""
    real = getattr(builtins, name)

    def call(*args: Any) -> Any:
        if len(args) > 2:
            raise pickle.UnpicklingError(f"{name}() with {len(args)} arguments in a fail2ban reply")
        for arg in args:
            _sized(arg)
        first = args[0] if args else None
        if (
            name in ("str", "bytes")
            and args
            and not isinstance(first, (str, bytes, bytearray, float, bool))
            and not (isinstance(first, int) and name == "str")
            and not (name == "bytes" and isinstance(first, (list, tuple)))
        ):
            raise pickle.UnpicklingError(f"{name}() of {type(first).__name__} in a fail2ban reply")
        if (
            name in ("int", "float", "complex")
            and isinstance(first, (str, bytes, bytearray))
            and len(first) > MAX_NUMBER_TEXT
        ):
            raise pickle.UnpicklingError(f"a number written with {len(first):,} characters")
        if (
            name in ("list", "tuple", "set", "frozenset", "dict")
            and args
            and not isinstance(first, (list, tuple, set, frozenset, dict))
        ):
            raise pickle.UnpicklingError(f"{name}() of {type(first).__name__} in a fail2ban reply")
        return real(*args)

    return call


_GUARDED = {name: _guarded(name) for name in _SAFE_BUILTINS}


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode``: how protocol 2 writes bytes (as latin-1 text): same size out as in."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode of anything but latin-1 text in a fail2ban reply")
    encoded: bytes = _sized(text).encode("latin-1")
    return encoded


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        # protocol 2 names Python 2's modules (the C unpickler maps them only in its own find_class)
        module = {"__builtin__": "builtins", "exceptions": "builtins"}.get(module, module)
        if module == "builtins" and name in _SAFE_BUILTINS:
            return _GUARDED[name]
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module == "builtins" or module.startswith("fail2ban.")) and (
            name.endswith(("Error", "Exception")) or name == "Exception"
        ):
            return _remote_exception(name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name} from a fail2ban reply")


def check_size(value: Any) -> None:
    """Walk a loaded reply once, without recursion, against the caps; ProtocolError names the cap."""
    values = 1
    text = 0
    stack: list[Any] = [iter((value,))]
    while stack:
        obj: Any = next(stack[-1], _DONE)
        if obj is _DONE:
            stack.pop()
            continue
        kind = type(obj)
        if kind is str or kind is bytes or kind is bytearray:
            text += len(obj)
            if len(obj) > MAX_TEXT:
                raise ProtocolError(f"reply refused: a string of {len(obj):,} characters (cap {MAX_TEXT:,})")
            if text > MAX_TOTAL_TEXT:
                raise ProtocolError(f"reply refused: more than {MAX_TOTAL_TEXT:,} characters of text")
        elif kind is int:
            if obj.bit_length() > MAX_INT_BITS:
                raise ProtocolError(
                    f"reply refused: an integer of about {obj.bit_length() * 0.30103:,.0f} digits "
                    f"(cap {MAX_INT_BITS * 0.30103:,.0f})"
                )
        elif (kind is list or kind is tuple) and set(map(type, obj)) == {str}:
            # a list of strings (a jail's ban list: thousands) checked in C; a list that breaks a
            # cap is walked item by item below, so the error names the same cap as ever
            size = sum(map(len, obj))
            if (
                values + len(obj) <= MAX_VALUES
                and len(stack) <= MAX_DEPTH
                and text + size <= MAX_TOTAL_TEXT
                and max(map(len, obj)) <= MAX_TEXT
            ):
                values += len(obj)
                text += size
            else:
                values += len(obj)
                if values > MAX_VALUES:
                    raise ProtocolError(f"reply refused: more than {MAX_VALUES:,} values")
                if len(stack) > MAX_DEPTH:
                    raise ProtocolError(f"reply refused: nested more than {MAX_DEPTH} deep")
                stack.append(iter(obj))
        elif kind in (list, tuple, set, frozenset, dict) or kind is RemoteError:
            items = obj.args if kind is RemoteError else obj
            values += len(items) * (2 if kind is dict else 1)
            if values > MAX_VALUES:
                raise ProtocolError(f"reply refused: more than {MAX_VALUES:,} values")
            if len(stack) > MAX_DEPTH:
                raise ProtocolError(f"reply refused: nested more than {MAX_DEPTH} deep")
            stack.append(iter(items.items()) if kind is dict else iter(items))
        elif kind not in (float, complex, bool, type(None)):
            raise ProtocolError(f"reply refused: unexpected {kind.__name__}")


_DONE = object()


def loads(data: bytes) -> Any:
    if len(data) > MAX_REPLY:
        raise ProtocolError(f"reply larger than {MAX_REPLY // (1024 * 1024)} MiB")
    try:
        value = SafeUnpickler(io.BytesIO(data), encoding="utf-8", errors="replace").load()
    except pickle.UnpicklingError as exc:
        raise ProtocolError(str(exc) if "refused" in str(exc) else f"reply refused: {exc}") from None
    except MemoryError:
        raise ProtocolError("reply refused: it claims a value larger than memory") from None
    except RecursionError:
        raise ProtocolError(f"reply refused: nested more than {MAX_DEPTH} deep") from None
    except Exception as exc:  # noqa: BLE001 - any malformed pickle is a protocol error
        raise ProtocolError(f"unreadable reply: {type(exc).__name__}: {exc}") from None
    check_size(value)
    return value


def encode(command: list[str]) -> bytes:
    return pickle.dumps([str(c) for c in command], protocol=2) + END


def receive(
    sock: _socket.socket, limit: int = MAX_REPLY, deadline: float | None = None, pending: bytearray | None = None
) -> bytes:
    """One reply up to the end marker. ``deadline`` (time.monotonic) bounds the whole reply, not
    each read: a server sending one byte every few seconds raises socket.timeout at it.
    ``pending``: bytes already read past the previous reply (pipelined calls); what follows this
    reply's marker is left in it for the next one."""
    buf = pending if pending is not None else bytearray()
    start = 0
    while True:
        end = buf.find(END, start)
        if end >= 0:
            if end > limit:
                raise ProtocolError(f"reply larger than {limit // (1024 * 1024)} MiB")
            reply = bytes(buf[:end])
            del buf[: end + len(END)]
            return reply
        if len(buf) > limit:
            raise ProtocolError(f"reply larger than {limit // (1024 * 1024)} MiB")
        start = max(0, len(buf) - len(END) + 1)  # the marker may straddle two chunks
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("reply not complete by the deadline")  # = socket.timeout
            sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError("fail2ban-server closed the connection")
        buf += chunk


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
