"""Make untrusted log text safe to keep and display: decode, neutralise controls, cap length.

Everything read from a log passes through here first. Control characters become visible
symbols (ESC shows as ␛) so no byte sequence from an attacker-controlled HELO or
username can reach the terminal as a control sequence, and bidirectional overrides are
replaced so a line cannot display reordered text.
"""

from __future__ import annotations

import re

MAX_LINE_CHARS = 8192

# C0 except TAB, DEL, C1, and the bidi embedding/override/isolate controls.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␀ … ␛ …
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def is_safe(text: str) -> bool:
    """Short enough and free of anything :func:`clean` would replace."""
    return len(text) <= MAX_LINE_CHARS and _UNSAFE.search(text) is None


def clean(text: str) -> str:
    """Replace every unsafe character with a visible stand-in and cap the length."""
    if len(text) > MAX_LINE_CHARS:
        extra = len(text) - MAX_LINE_CHARS
        text = f"{text[:MAX_LINE_CHARS]}… [{extra} more characters]"
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)


MAX_LINE_BYTES = MAX_LINE_CHARS * 4  # of a longer line only this much is kept (by every reader)


def cut(head: bytes, length: int) -> str:
    """A line of ``length`` bytes of which only ``head`` (its first MAX_LINE_BYTES) was kept."""
    text = clean(head.decode("utf-8", "replace")[:MAX_LINE_CHARS])
    return f"{text}… [line cut: {length:,} bytes]"


def decode(raw: bytes) -> str:
    """Bytes of one line (without its newline) to safe text; invalid UTF-8 becomes U+FFFD."""
    if len(raw) > MAX_LINE_BYTES:
        return cut(raw[:MAX_LINE_BYTES], len(raw))
    return clean(raw.decode("utf-8", "replace").rstrip("\r"))
