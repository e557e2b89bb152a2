"""Is this text a domain name worth querying? One-line reasons for what is not.

The dashboard's DNS input checks what was typed before anything is sent: a typo such as
``bad domain!`` would otherwise become an escaped name (``bad\\032domain!``) and a wasted
round of queries ending in NXDOMAIN, which reads as if the domain were broken.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_BAD_CHAR = re.compile(r"[^a-z0-9.-]")
MAX_NAME = 253


def domain_problem(text: str) -> str:
    """ "" when ``text`` is a usable domain name (IDN allowed), else why not, in one line."""
    name = text.strip().rstrip(".").lower()
    shown = text.strip()[:60]
    if not name:
        return "no domain given"
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return f"{shown!r} is not a domain name: it cannot be written in IDNA (punycode)"
    bad = _BAD_CHAR.search(name)
    if bad:
        char = bad.group()
        what = "a space" if char == " " else repr(char)
        return f"{shown!r} is not a domain name: {what} is not allowed (letters, digits, hyphens and dots only)"
    if len(name) > MAX_NAME:
        return f"{shown!r} is not a domain name: longer than {MAX_NAME} characters"
    for label in name.split("."):
        if not label:
            return f"{shown!r} is not a domain name: it has an empty label (two dots in a row)"
        if len(label) > 63:
            return f"{shown!r} is not a domain name: the label {label[:20]!r}… is longer than 63 characters"
        if not _LABEL.match(label):
            return f"{shown!r} is not a domain name: the label {label!r} starts or ends with a hyphen"
    if name.rsplit(".", 1)[-1].isdigit():
        return f"{shown!r} is an address, not a domain name"
    return ""
