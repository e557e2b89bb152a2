"""Numbers read out of untrusted text (log lines, DNS TXT, HTTP bodies, fail2ban's replies).

Two traps sit between ``str.isdigit()`` and ``int()``: ``isdigit`` admits characters ``int``
refuses ("²", "①": digits, but not decimal ones) and ``int`` refuses more than 4,300 digits
(``sys.get_int_max_str_digits``) with a ValueError. Either made a command stop with "internal
error" on one hostile line or record (a DMARC ``pct=²``, a syslog stamp ``Dec  1 ²²:00:00``, a
pid of 5,000 digits). ``ascii_int`` reads only what a daemon writes: ASCII digits, a bounded
number of them.
"""

from __future__ import annotations

#: more than any count, port, pid, time or size a mail server writes (int64 has 19 digits)
MAX_DIGITS = 18


def is_ascii_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits 0-9 (``str.isdigit`` also takes "²" and "٣")."""
    return text.isascii() and text.isdigit()


def ascii_int(text: str, max_digits: int = MAX_DIGITS, signed: bool = False) -> int | None:
    """The integer ``text`` writes in ASCII digits (after a '-' when ``signed``; surrounding
    whitespace ignored), None for anything else, longer numbers included."""
    text = text.strip()
    digits = text[1:] if signed and text.startswith("-") else text
    if not digits or len(digits) > max_digits or not is_ascii_digits(digits):
        return None
    return int(text)


__all__ = ["MAX_DIGITS", "ascii_int", "is_ascii_digits"]
