"""Reading a file that should be a regular one: never blocked by a FIFO, always capped.

``open()`` of a FIFO waits until something writes to it, so a FIFO planted where a config file
or a log is expected would stop a command (or the dashboard's worker) for good. Every read of a
config file, a catalog, a certificate, a saved report or a log tail goes through
``open_regular``: it opens without blocking, refuses what ``fstat`` says is not a regular file
(a FIFO, a device, a socket, a directory) with an ``OSError`` whose ``strerror`` says which
(``special_kind``, the words the log readers use too), and
then reads normally. ``read_capped`` reads at most ``cap`` bytes of it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # configparser is loaded by the callers that read INI files, not by every command
    import configparser


class NotRegularFile(OSError):
    """The path is there but is not a regular file (``strerror`` and ``kind`` say what it is)."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(0, f"is {kind}", path)
        self.kind = kind  # "a named pipe (FIFO)", "a directory", ...


def special_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words ("" for a regular file)."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | Path) -> BinaryIO:
    """The file opened for reading in binary mode; NotRegularFile if it is not a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(str(path), special_kind(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | Path, cap: int) -> bytes:
    """At most ``cap`` bytes of a regular file (callers that must know it was longer ask for cap + 1)."""
    with open_regular(path) as fh:
        return fh.read(cap)


def read_text_capped(path: str | Path, cap: int) -> str:
    """At most ``cap`` bytes of a regular file as text (undecodable bytes replaced)."""
    return read_capped(path, cap).decode("utf-8", "replace")


INI_CAP = 4 << 20  # bytes of one fail2ban .conf/.local file read


def read_ini_files(parser: configparser.RawConfigParser, files: list[Path]) -> None:
    """``parser.read(files)`` without its blocking ``open()``: each file that is there and regular
    is read (capped), in order, later ones overriding; missing or unreadable ones are skipped as
    configparser itself skips them. configparser.Error propagates."""
    for path in files:
        try:
            text = read_text_capped(path, INI_CAP)
        except OSError:
            continue
        parser.read_string(text, source=str(path))
