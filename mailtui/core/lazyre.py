"""A module-level regex that ``re`` compiles on its first use, not when the module loads.

Compiling costs ~0.5-3.5 M instructions a pattern (a character set with ranges the most), paid by
every command that imports the module: ``mailtui bans --json`` imported ten it never uses before it
asks fail2ban (the sanitizer's sets, the config's host and path checks, the ban-list patterns,
which are needed only once fail2ban's answers arrive). :class:`LazyRegex` offers the methods of
``re.Pattern`` these modules call; the first call of one compiles the pattern and puts every bound
method in its slot, so a call then costs what the compiled pattern's costs (a slot read and the C
method): the log readers call ``search`` on every line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

_METHODS = ("search", "match", "fullmatch", "findall", "finditer", "sub")


class LazyRegex:
    """``re.compile(pattern, flags)``, compiled on the first call of one of its methods."""

    __slots__ = ("flags", "pattern", *_METHODS)

    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    findall: Callable[..., list[Any]]
    finditer: Callable[..., Iterator[re.Match[str]]]
    sub: Callable[..., str]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (``re`` caches it: compiling again costs a dictionary lookup)."""
        return re.compile(self.pattern, self.flags)

    def __getattr__(self, name: str) -> Any:  # only for a slot not filled yet
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = self.compiled()
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern!r}, {self.flags!r})"


__all__ = ["LazyRegex"]
