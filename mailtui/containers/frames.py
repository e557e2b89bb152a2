"""Split the engine's log and exec streams into lines.

A container without a TTY has its stdout and stderr multiplexed: each frame is an 8-byte
header (stream type 1 = stdout, 2 = stderr, three zero bytes, a big-endian 32-bit length)
followed by that many bytes. A TTY container's stream is raw. Frames do not respect line
boundaries, so the decoder keeps a partial line per stream until its newline arrives.
Everything is capped: a frame longer than ``MAX_FRAME`` is skipped (its length is still
honoured so the stream stays in step), a line longer than ``MAX_LINE`` is cut.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

STDOUT, STDERR = 1, 2
HEADER = 8
MAX_FRAME = 1 << 20  # one write of a container's process; longer is skipped, not buffered
MAX_LINE = 1 << 15  # bytes of one line kept; the rest of an over-long line is dropped


@dataclass
class FrameDecoder:
    """Feed it the bytes of a logs/exec stream as they come; it returns complete lines."""

    raw: bool = False  # a TTY container: no frame headers
    split_lines: bool = True  # False: hand over each frame's bytes as they are (exec output)
    _buf: bytearray = field(default_factory=bytearray)
    _skip: int = 0  # bytes of an oversized frame still to discard
    _partial: dict[int, bytearray] = field(default_factory=dict)
    skipped_frames: int = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Complete lines (stream, bytes without the newline) found so far."""
        if self.raw:
            return self._lines(STDOUT, data)
        out: list[tuple[int, bytes]] = []
        self._buf += data
        pos = 0
        buf = self._buf
        while True:
            if self._skip:
                n = min(self._skip, len(buf) - pos)
                pos += n
                self._skip -= n
                if self._skip:
                    break
            if len(buf) - pos < HEADER:
                break
            stream, length = struct.unpack_from(">B3xI", buf, pos)
            if stream not in (0, STDOUT, STDERR):
                # not a multiplexed stream after all (a TTY container we were not told about)
                self.raw = True
                rest = bytes(buf[pos:])
                self._buf = bytearray()
                return out + self._lines(STDOUT, rest)
            if length > MAX_FRAME:
                self.skipped_frames += 1
                self._skip = length
                pos += HEADER
                continue
            if len(buf) - pos - HEADER < length:
                break
            payload = bytes(buf[pos + HEADER : pos + HEADER + length])
            pos += HEADER + length
            out += self._lines(stream or STDOUT, payload)
        del buf[:pos]
        return out

    def _lines(self, stream: int, data: bytes) -> list[tuple[int, bytes]]:
        if not self.split_lines:
            return [(stream, data)] if data else []
        part = self._partial.setdefault(stream, bytearray())
        out: list[tuple[int, bytes]] = []
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                room = MAX_LINE - len(part)
                if room > 0:
                    part += data[start : start + room]
                break
            room = MAX_LINE - len(part)
            if room > 0:
                part += data[start : min(nl, start + room)]
            out.append((stream, bytes(part)))
            part.clear()
            start = nl + 1
        return out

    def flush(self) -> list[tuple[int, bytes]]:
        """The unterminated last line of each stream, when the stream has ended."""
        out = [(s, bytes(p)) for s, p in self._partial.items() if p]
        self._partial.clear()
        return out
