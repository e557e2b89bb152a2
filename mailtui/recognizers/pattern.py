"""A built-in catalog pattern that ``re`` compiles on first use, not when the catalog loads.

Compiling the catalog's ~250 patterns took 0.06 s of every start (most of loading it), and a
scan needs few of them: a pattern is searched only once its literal occurs in a message, so
most are never run. :class:`LazyPattern` has the ``re.Pattern`` attributes the code reads
(``search``, ``match``, ... and ``pattern``, ``flags``, ``groupindex``, ``groups``); the first
access to one that needs the compiled pattern compiles it and keeps its bound methods in slots,
so a search costs what ``re.Pattern.search`` costs (a slot read, then the C method).

``pattern``, ``flags``, ``groupindex`` and ``groups`` are read from the text without compiling
when it uses only plain groups, named groups, ``(?:`` (or ``(?i:``), lookarounds, escapes and sets
(:func:`read_groups`); anything else (inline flags, comments, conditionals, ...) is compiled
for them. Only the built-in catalog is loaded this way: its patterns are fixed with the
package, and tests/test_lazy_pattern.py proves each compiles and that every attribute read
here equals the compiled pattern's. A user's patterns are compiled (and refused) at load.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Protocol

#: the attributes filled from the compiled pattern on first use
_FROM_COMPILED = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner")
_READ = ("flags", "groupindex", "groups")
_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
# "(?:" and "(?i:", "(?-i:", ...: groups that capture nothing (their flags are not the pattern's)
_NON_CAPTURING = re.compile(r"\(\?[imsx]*(?:-[imsx]+)?:")


class Regex(Protocol):
    """What a recognizer's pattern offers: a ``re.Pattern[str]`` or a :class:`LazyPattern`."""

    @property
    def pattern(self) -> str: ...
    @property
    def flags(self) -> int: ...
    @property
    def groupindex(self) -> Mapping[str, int]: ...
    @property
    def groups(self) -> int: ...
    def search(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
    def match(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
    def fullmatch(self, string: str, pos: int = ..., endpos: int = ...) -> re.Match[str] | None: ...
    def finditer(self, string: str, pos: int = ..., endpos: int = ...) -> Iterator[re.Match[str]]: ...


def read_groups(pattern: str) -> dict[str, int] | None:
    """The named groups of ``pattern`` and their numbers (``re.compile(pattern).groupindex``),
    and under the key ``""`` how many groups it has, read from the text; None when it has a
    construct this reading leaves to ``re`` (inline flags, comments, conditionals, ...)."""
    names: dict[str, int] = {}
    groups = 0
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":  # an escape: the next character is not syntax (\x41, \1: no ( [ \ after it)
            i += 2
        elif c == "[":
            # a set ends at the first unescaped "]" that is not its first member ("[]a]", "[^]a]")
            j = i + 1
            if pattern.startswith("^", j):
                j += 1
            if pattern.startswith("]", j):
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            if j >= n:
                return None
            i = j + 1
        elif c == "(":
            if not pattern.startswith("?", i + 1):
                groups += 1
                i += 1
            elif pattern.startswith("(?P<", i):
                end = pattern.find(">", i)
                name = pattern[i + 4 : end]
                if end < 0 or not (name.isidentifier() and name.isascii()) or name in names:
                    return None
                groups += 1
                names[name] = groups
                i = end + 1
            elif pattern.startswith(_LOOKAROUNDS, i):
                i += 4 if pattern.startswith("(?<", i) else 3
            elif (scoped := _NON_CAPTURING.match(pattern, i)) is not None:
                i = scoped.end()
            else:
                return None
        else:
            i += 1
    names[""] = groups
    return names


class LazyPattern:
    """``re.compile(pattern)``, compiled on first use (see the module docstring)."""

    __slots__ = ("_where", *_FROM_COMPILED, *_READ, "compiled", "pattern")
    pattern: str
    compiled: re.Pattern[str]
    flags: int
    groupindex: Mapping[str, int]
    groups: int
    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    finditer: Callable[..., Iterator[re.Match[str]]]
    findall: Callable[..., list[Any]]
    sub: Callable[..., str]
    subn: Callable[..., tuple[str, int]]
    split: Callable[..., list[str | Any]]
    scanner: Callable[..., Any]

    def __init__(self, pattern: str, where: str = "") -> None:
        self.pattern = pattern
        self._where = where  # "file: recognizer 'id'", for the message if it does not compile
        read = read_groups(pattern)
        if read is not None:
            self.groups = read.pop("")
            self.groupindex = MappingProxyType(read)
            self.flags = re.UNICODE  # a str pattern without inline flags

    def __getattr__(self, name: str) -> Any:
        # called only for a slot not set yet: every one of them comes from the compiled pattern
        if name not in _FROM_COMPILED and name not in _READ and name != "compiled":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        try:
            compiled = re.compile(self.pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            from mailtui.recognizers.loader import CatalogError

            raise CatalogError(f"{self._where}: pattern does not compile: {exc}") from None
        self.compiled = compiled
        for attr in (*_FROM_COMPILED, *_READ):
            setattr(self, attr, getattr(compiled, attr))
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LazyPattern):
            return NotImplemented
        return self.pattern == other.pattern

    def __hash__(self) -> int:
        return hash((LazyPattern, self.pattern))

    def __repr__(self) -> str:
        return repr(self.compiled)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyPattern, (self.pattern, self._where))
