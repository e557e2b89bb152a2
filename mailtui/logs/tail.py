"""Follow log files like ``tail -F``: back-fill, then every new line exactly once, across rotation.

Rotation handling, checked on every poll:
* rename (logrotate's default) or delete + re-create: the path's inode changes. The old
  file is drained to its end first, then the new one is read from its start.
* copytruncate: same inode, but the file is shorter than what was read, or its first
  line changed (it was truncated and refilled before this poll): read again from 0.
A file that cannot be read is reported ("run as root or join group adm") and retried; so is
a path that is not a regular file (a named pipe, a device): it is opened without blocking and
refused with a message, never read (a FIFO's open would wait for a writer, a device never ends).
Bytes are split on newlines here (reader.LineSplitter); a partial last line waits until its
newline arrives, and a line longer than MAX_LINE_BYTES is cut, its rest counted, not kept.
Every read is bounded: a poll reads POLL_BYTES, the back-fill looks back BACKFILL_BYTES at most.
"""

from __future__ import annotations

import os
import stat
import zlib
from dataclasses import dataclass, field

from mailtui.core.files import special_kind
from mailtui.logs.reader import LineSplitter, only_regular
from mailtui.logs.sanitize import decode

READ_CHUNK = 1 << 20
HEAD_BYTES = 256
BACKFILL_BYTES = 8 << 20  # the back-fill looks this far back at most (500 lines are ~100 KB)
MISSED_BYTES = 8 << 20  # what is read back from a copytruncate copy at most
# read at most this much per poll (~6,000 lines); ``more`` says the rest is waiting. While the
# panes are behind, the batch being shown and the one being parsed are what this process
# holds of the backlog: the rest stays in the file
POLL_BYTES = 1 << 20


@dataclass
class TailStatus:
    path: str
    problem: str = ""
    rotations: int = 0
    truncations: int = 0
    lines: int = 0


def _problem(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied: run as root or join group adm"
    if isinstance(exc, FileNotFoundError):
        return "does not exist (waiting for it to appear)"
    return exc.strerror or str(exc)


@dataclass
class FileFollower:
    path: str
    backfill: int = 500
    #: read the file from its start, without back-fill: a file that appeared while running (a
    #: new host's log under a [logs] files pattern) is all new
    from_start: bool = False
    status: TailStatus = field(init=False)
    _fd: int | None = field(default=None, init=False)
    _ino: tuple[int, int] | None = field(default=None, init=False)
    _pos: int = field(default=0, init=False)
    _head: bytes = field(default=b"", init=False)
    _lines: LineSplitter = field(default_factory=LineSplitter, init=False)
    _started: bool = field(default=False, init=False)
    #: the last poll stopped at POLL_BYTES: more is already written and waits for the next poll
    more: bool = field(default=False, init=False)
    #: resume() could not find the file it was to continue in (rotated twice, or deleted)
    resume_gap: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.status = TailStatus(self.path)
        self._started = self.from_start

    # -- public ------------------------------------------------------------------------------------
    def poll(self) -> list[str]:
        """Every complete line written since the last poll (the back-fill on the first call)."""
        out: list[str] = []
        if self._fd is None:
            if not self._open(initial=not self._started):
                return out
            if not self._started:
                self._started = True
                out.extend(self._backfill_lines())
        self._check_truncation(out)
        out.extend(self._read_new())
        if not self.more:  # a rotated-away file is switched only once it has been read to its end
            self._check_replaced(out)
        self.status.lines += len(out)
        return out

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def position(self) -> tuple[int, int, int, int] | None:
        """(device, inode, offset after the last complete line handed out, checksum of the file's
        first bytes): where a later follower resumes with :meth:`resume`, so that nothing is read
        twice or skipped. The checksum tells a re-created file that got the same inode apart."""
        if self._ino is None or self._fd is None:
            return None
        offset = self._pos - self._lines.length  # the unfinished last line is read again later
        return (self._ino[0], self._ino[1], offset, zlib.crc32(os.pread(self._fd, min(offset, HEAD_BYTES), 0)))

    def _same_file(self, fd: int, offset: int, head_crc: int) -> bool:
        return os.fstat(fd).st_size >= offset and zlib.crc32(os.pread(fd, min(offset, HEAD_BYTES), 0)) == head_crc

    def resume(self, position: tuple[int, int, int, int]) -> list[str]:
        """Start after ``position`` instead of back-filling. The same file: from that offset. A
        file rotated away since: the rest of it (``path.1``, ``path-DATE``), then this one from
        its start. Returns the lines of the rotated file; ``resume_gap`` says when the old file
        could not be found (lines written to it after ``position`` are then missing)."""
        dev, ino, offset, head_crc = position
        self._started = True
        if not self._open(initial=False):
            return []
        assert self._ino is not None and self._fd is not None
        if self._ino == (dev, ino) and self._same_file(self._fd, offset, head_crc):
            self._pos = offset
            return []
        old = self._rotated_file(dev, ino)
        if old is not None and not self._same_file(old, offset, head_crc):
            os.close(old)
            old = None
        if old is None:
            self.resume_gap = True
            return []
        try:
            size = os.fstat(old).st_size
            data = os.pread(old, max(0, size - offset), offset) if size > offset else b""
        finally:
            os.close(old)
        splitter = LineSplitter()
        raw, cuts = splitter.feed(data)
        lines = [splitter.text(r, cuts.get(i, 0)) for i, r in enumerate(raw)]
        if splitter.length:  # the old file's last line, which will never be ended now
            lines.append(splitter.text(splitter.head, splitter.length))
        return lines

    def _rotated_file(self, dev: int, ino: int) -> int | None:
        directory, name = os.path.split(self.path)
        try:
            entries = [e for e in os.scandir(directory or ".") if e.name.startswith(name) and e.name != name]
        except OSError:
            return None
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (dev, ino):
                try:
                    return os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError:
                    return None
        return None

    # -- internals ---------------------------------------------------------------------------------
    def _open(self, initial: bool) -> bool:
        try:
            # O_NONBLOCK: a named pipe's open would otherwise wait for a writer (and hold the
            # worker, and the process's exit, with it)
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError as exc:
            self.status.problem = _problem(exc)
            return False
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            self.status.problem = only_regular(self.path, special_kind(st.st_mode))
            return False
        self._fd, self._ino = fd, (st.st_dev, st.st_ino)
        self.status.problem = ""
        self._pos = st.st_size if initial else 0
        self._head = os.pread(fd, HEAD_BYTES, 0)
        return True

    def _backfill_lines(self) -> list[str]:
        """The last ``backfill`` complete lines before the end the follower started at."""
        if self.backfill <= 0 or self._pos == 0:
            return []
        assert self._fd is not None
        end = offset = self._pos
        newlines = 0
        while offset > 0 and newlines <= self.backfill and end - offset < BACKFILL_BYTES:
            size = min(READ_CHUNK, offset)
            offset -= size
            newlines += os.pread(self._fd, size, offset).count(b"\n")
        splitter = LineSplitter()
        raw, cuts = splitter.feed(os.pread(self._fd, end - offset, offset))
        self._lines = splitter  # the unfinished last line goes on in the next poll
        lines = [splitter.text(r, cuts.get(i, 0)) for i, r in enumerate(raw)]
        if offset > 0:
            lines = lines[1:]  # the first piece is the tail of an older line
        return lines[-self.backfill :]

    def _read_new(self) -> list[str]:
        assert self._fd is not None
        out: list[str] = []
        read = 0
        self.more = False
        while True:
            if read >= POLL_BYTES:
                # a burst is handed over in pieces: bounded batches, bounded memory per poll
                self.more = True
                break
            chunk = os.pread(self._fd, READ_CHUNK, self._pos)
            if not chunk:
                break
            read += len(chunk)
            self._pos += len(chunk)
            raw, cuts = self._lines.feed(chunk)
            if cuts:
                out.extend(self._lines.text(r, cuts.get(i, 0)) for i, r in enumerate(raw))
            else:
                out.extend(decode(r) for r in raw)
        return out

    def _check_truncation(self, out: list[str]) -> None:
        """copytruncate: the file was emptied (and maybe refilled) under us; read it from 0 again.

        Checked before reading, so the middle of the refilled file is never read as lines.
        Lines written after our last read but before the truncation live on only in the copy
        (mail.log.1 or mail.log-DATE); they are read from there first."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        head = os.pread(self._fd, HEAD_BYTES, 0) if self._head else b""
        if size < self._pos or head[: len(self._head)] != self._head:
            self.status.truncations += 1
            out.extend(self._read_missed_from_copy())
            self._lines.reset()
            self._pos = 0
            self._head = head
        elif len(self._head) < HEAD_BYTES and size > len(self._head):
            self._head = os.pread(self._fd, HEAD_BYTES, 0)

    def _check_replaced(self, out: list[str]) -> None:
        """rename or delete + re-create: the old file was read to its end above; switch files."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return  # renamed away and the new file is not there yet: keep the old fd
        except OSError as exc:
            self.status.problem = _problem(exc)
            return
        if (st.st_dev, st.st_ino) != self._ino:
            out.extend(self._flush_partial())
            self.close()
            self.status.rotations += 1
            if self._open(initial=False):
                out.extend(self._read_new())

    def _read_missed_from_copy(self) -> list[str]:
        directory, name = os.path.split(self.path)
        try:
            candidates = [
                e for e in os.scandir(directory or ".") if e.name == name + ".1" or e.name.startswith(name + "-")
            ]
        except OSError:
            return []
        for entry in sorted(candidates, key=lambda e: e.stat().st_mtime, reverse=True)[:3]:
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if (
                    not stat.S_ISREG(st.st_mode)
                    or os.pread(fd, len(self._head), 0) != self._head
                    or st.st_size < self._pos
                ):
                    continue
                data = os.pread(fd, min(st.st_size - self._pos, MISSED_BYTES), self._pos)
            finally:
                os.close(fd)
            raw, cuts = self._lines.feed(data)
            out = [self._lines.text(r, cuts.get(i, 0)) for i, r in enumerate(raw)]
            return out + self._flush_partial()
        return []

    def _flush_partial(self) -> list[str]:
        rest = self._lines.flush()
        return [] if rest is None else [self._lines.text(*rest)]
