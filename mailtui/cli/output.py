"""Shared helpers for subcommands: the error type, safe standard streams, JSON output, tables.

Every byte a command prints passes through here. :func:`guard_streams` (called first by
``main``) puts a closed stdin/stdout/stderr back on /dev/null, so no file opened later
lands on fd 0-2 and no command meets ``sys.stdin is None``, then wraps stdout and stderr
in :class:`SafeStream`: text from the server, the logs, DNS or HTTP goes through the log
reader's sanitizer (``logs/sanitize.py``) whatever command printed it, and a closed output
pipe is noticed once, silently, instead of turning into a traceback or a wrong exit code.
"""

from __future__ import annotations

import errno
import io
import math
import os
import sys
from collections.abc import Callable, Iterable
from functools import cache
from itertools import repeat
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # json is imported where JSON is written: ``bans --json`` writes it once fail2ban answers
    import json

from mailtui.logs.sanitize import clean_output, escape_json


class CliError(Exception):
    """An expected failure: printed as one line, exit code ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class SafeStream(io.TextIOBase):
    """A text stream that sanitizes what is written and survives its reader going away.

    After EPIPE (``mailtui check | head -1``) the rest of the output is dropped and the
    command goes on to its own exit code; any other write error (a full disk) is kept in
    :attr:`error` for ``main`` to report.
    """

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw
        self.broken = False
        self.error: OSError | None = None

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        try:
            return not self.broken and self.raw.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self.raw.fileno()

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self.raw.write(clean_output(text))
            except OSError as exc:
                self._failed(exc)
        return len(text)

    def write_raw(self, text: str) -> None:
        """For our own terminal controls (the progress line's carriage return)."""
        if not self.broken:
            try:
                self.raw.write(text)
                self.raw.flush()
            except OSError as exc:
                self._failed(exc)

    def flush(self) -> None:
        if not self.broken:
            try:
                self.raw.flush()
            except OSError as exc:
                self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        self.broken = True
        if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
            self.error = exc
        # what is still buffered goes to /dev/null, so the interpreter's own flush at exit
        # finds nothing to complain about ("Exception ignored ... BrokenPipeError")
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.raw.fileno())
            os.close(null)
        except (OSError, ValueError):
            pass


_stdin_closed = False


def guard_streams() -> None:
    """Closed fds 0-2 onto /dev/null; stdout and stderr wrapped in :class:`SafeStream`."""
    global _stdin_closed
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    for fd in closed:
        new = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
        if new != fd:
            os.dup2(new, fd)
            os.close(new)
    _stdin_closed = 0 in closed
    if sys.stdin is None or 0 in closed:
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        if isinstance(stream, SafeStream):
            continue
        if stream is None or fd in closed:
            stream = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        try:
            # a file name that is not UTF-8 is printed escaped, not as UnicodeEncodeError
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass
        setattr(sys, name, SafeStream(stream))


def stdin_closed() -> bool:
    """True when the process was started with fd 0 closed (``<&-``)."""
    return _stdin_closed


def need_stdin(what: str) -> None:
    """Refuse before reading stdin that is closed (it now reads as /dev/null: say so instead)."""
    if _stdin_closed:
        raise CliError(f"standard input is closed: {what}")


def progress(text: str) -> None:
    """Rewrite the progress line on stderr (a terminal)."""
    err = sys.stderr
    line = "\r" + clean_output(text).replace("\n", " ").replace("\t", " ")
    if isinstance(err, SafeStream):
        err.write_raw(line)
    else:
        err.write(line)
        err.flush()


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def json_text(data: Any, indent: int | None = 2) -> str:
    """JSON with every value kept exactly and no raw control character (see escape_json).

    NaN and infinities are not JSON (``json.loads`` elsewhere rejects them): they become null.
    """
    import json

    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    return escape_json(text)


@cache
def _compact() -> json.JSONEncoder:
    """One-line JSON through the C encoder (``json.dumps`` with an indent runs the pure-Python one)."""
    import json

    return json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)


def _one_line_encoder() -> tuple[Callable[[Any], str], Callable[[Any, int], Any] | None]:
    """``_compact().encode``, minus the encoder object it builds on every call (half its time for a
    small row): the C encoder json itself uses, made once, with the same settings; and that C
    encoder itself (None without json's C speed-ups), whose pieces of a container joined are
    ``encode``'s text."""
    from json import encoder as std

    make = getattr(std, "c_make_encoder", None)  # not in the typeshed stubs: a CPython detail
    if make is None:  # an interpreter without json's C speed-ups
        return _compact().encode, None
    # markers, default, string encoder, indent, key sep., item sep., sort_keys, skipkeys, allow_nan
    chunks = make(None, str, std.encode_basestring, None, ": ", ", ", False, False, False)
    compact = _compact().encode

    def encode(obj: Any) -> str:
        if isinstance(obj, (dict, list, tuple)):
            return "".join(chunks(obj, 0))
        return compact(obj)

    return encode, chunks


_CONTAINERS = frozenset((dict, list, tuple))


class EncodedRows(str):
    """A list of rows already written as :func:`json_rows_text` writes a list whose items are
    rows (see :func:`encode_rows`); ``json_rows_text`` puts it in verbatim. For a command that can
    encode its rows while it waits for more input (``bans --json``: each jail's bans while
    fail2ban-server formats the next jail's), so the encoding is not all left to the end."""


def encode_rows(rows: list[Any], depth: int) -> EncodedRows | list[Any]:
    """``rows`` as ``json_rows_text`` writes a list at ``depth`` whose items sit at its
    ``rows_at`` (= ``depth + 1``); ``rows`` itself back when it cannot be (a NaN or an infinity in
    it: the whole text is then written by json_rows_text's own fallback)."""
    if not rows:
        return rows
    encode, chunks = _one_line_encoder()
    pad = "\n" + "  " * (depth + 1)
    try:
        if chunks is not None and _CONTAINERS.issuperset(map(type, rows)):
            body = f",{pad}".join(map("".join, map(chunks, rows, repeat(0))))
        else:
            body = f",{pad}".join(map(encode, rows))
    except ValueError:
        return rows
    return EncodedRows(f"[{pad}{body}\n{'  ' * depth}]")


def json_rows_text(data: Any, rows_at: int) -> str:
    """:func:`json_text` (indent 2), except that every container ``rows_at`` levels deep is
    written on one line: 20,000 bans become 20,000 lines, written by the C encoder instead of
    ~400,000 pieces of the pure-Python one. Above that depth the text is json_text's exactly."""
    parts: list[str] = []
    encode, chunks = _one_line_encoder()

    def rows(obj: Any) -> Iterable[str]:
        if chunks is not None and _CONTAINERS.issuperset(map(type, obj)):
            return map("".join, map(chunks, obj, repeat(0)))  # no Python frame per row
        return map(encode, obj)

    def emit(obj: Any, depth: int) -> None:
        if type(obj) is EncodedRows:
            parts.append(obj)  # written by encode_rows for this depth
            return
        if depth >= rows_at or not isinstance(obj, (dict, list, tuple)) or not obj:
            parts.append(encode(obj))
            return
        pad = "\n" + "  " * (depth + 1)
        if isinstance(obj, dict):
            parts.append("{")
            for i, (key, value) in enumerate(obj.items()):
                name = encode(key) if isinstance(key, str) else encode({key: 0})[1:-4]  # json's key rules
                parts.append(f"{',' if i else ''}{pad}{name}: ")
                emit(value, depth + 1)
            parts.append("\n" + "  " * depth + "}")
        elif depth + 1 >= rows_at:  # a list of rows: each one C call, joined at once
            parts.append(f"[{pad}{f',{pad}'.join(rows(obj))}\n{'  ' * depth}]")
        else:
            parts.append("[")
            for i, value in enumerate(obj):
                parts.append(f"{',' if i else ''}{pad}")
                emit(value, depth + 1)
            parts.append("\n" + "  " * depth + "]")

    try:
        emit(data, 0)
    except ValueError:  # NaN or an infinity somewhere: null, as json_text does
        parts.clear()
        emit(_finite(data), 0)
    return escape_json("".join(parts))


def print_json(data: Any, out: TextIO | None = None, rows_at: int | None = None) -> None:
    """``rows_at``: see :func:`json_rows_text` (for outputs of many small records)."""
    stream = out or sys.stdout
    stream.write(json_text(data) if rows_at is None else json_rows_text(data, rows_at))
    stream.write("\n")  # not joined: 2 MB of ``bans --json`` would be copied once more for it


def print_table(rows: list[list[str]], headers: list[str], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out.write(fmt.format(*headers).rstrip() + "\n")
    for row in rows:
        out.write(fmt.format(*row).rstrip() + "\n")


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on the terminal; refuse to guess when there is none (scripts must pass --yes)."""
    if assume_yes:
        return True
    if _stdin_closed or not sys.stdin.isatty():
        raise CliError("confirmation needed: run in a terminal or pass --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
