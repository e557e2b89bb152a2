"""Make untrusted log text safe to keep and display: decode, neutralise controls, cap length.

Everything read from a log passes through here first. Control characters become visible
symbols (ESC shows as ␛) so no byte sequence from an attacker-controlled HELO or
username can reach the terminal as a control sequence, and bidirectional overrides are
replaced so a line cannot display reordered text.
"""

from __future__ import annotations

import re

from mailtui.core.lazyre import LazyRegex

MAX_LINE_CHARS = 8192


# Compiled on first use (mailtui.core.lazyre): a command whose output is ASCII needs none of them.
# C0 except TAB, DEL, C1, and the bidi embedding/override/isolate controls.
_UNSAFE = LazyRegex("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


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


# The same set without newline: for whole outputs (a command's report), where "\n" is
# the command's own line structure, not text from outside.
UNSAFE_IN_OUTPUT = LazyRegex("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON leaves raw with ensure_ascii=False: C1, DEL, bidi controls and lone surrogates
_UNSAFE_IN_JSON = LazyRegex("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


# What UNSAFE_IN_OUTPUT leaves in ASCII text (the log readers test whole chunks with it too).
# A whole report is usually ASCII (2 MB of ``bans --json``): for it, deleting these bytes in C
# and finding nothing left is ~5x faster than the regex's scan, and says the same.
SAFE_ASCII_OUTPUT = bytes(range(0x20, 0x7F)) + b"\t\n"


def clean_output(text: str) -> str:
    """:func:`clean` for text a command prints: newlines and tabs kept, no length cap."""
    if text.isascii():
        if not text.encode("ascii").translate(None, SAFE_ASCII_OUTPUT):
            return text
    elif UNSAFE_IN_OUTPUT.search(text) is None:
        return text
    return UNSAFE_IN_OUTPUT.sub(_visible, text)


def escape_json(text: str) -> str:
    """JSON text with every unsafe character still raw in it written as a ``\\uXXXX`` escape.

    ``json.dumps(..., ensure_ascii=False)`` already escapes C0 controls; only the characters
    above can reach a terminal from a string value, and escaping them keeps the value exact.
    """
    if text.isascii() and "\x7f" not in text:  # of the set, ASCII holds only DEL: no scan
        return text
    if _UNSAFE_IN_JSON.search(text) is None:
        return text
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
