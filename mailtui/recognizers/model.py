"""What a recognizer is, and what matching one produces."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailtui.recognizers.pattern import Regex

SEVERITIES = ("info", "notice", "warn", "error", "crit")
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}
WEAKENS = ("no", "slightly", "yes")
#: field names every recognizer uses for the same things
CANONICAL_FIELDS = (
    "client_ip",
    "client_host",
    "user",
    "helo",
    "sender",
    "recipient",
    "queue_id",
    "session",
    "dsn",
    "relay",
    "jail",
)


@dataclass(frozen=True)
class Setting:
    """A configuration setting a recognizer depends on: ``postfix:NAME`` or ``dovecot:NAME23/NAME24``."""

    daemon: str  # postfix | dovecot
    name: str  # the name to ask the running version for (2.3 name for Dovecot)
    name_24: str = ""  # Dovecot 2.4's name when it was renamed

    @classmethod
    def parse(cls, spec: str) -> Setting:
        daemon, sep, names = spec.partition(":")
        if not sep or daemon not in ("postfix", "dovecot") or not names:
            raise ValueError(f"setting {spec!r} must look like postfix:NAME or dovecot:NAME[/NAME24]")
        name, _, name_24 = names.partition("/")
        return cls(daemon, name, name_24)

    def __str__(self) -> str:
        return f"{self.daemon}:{self.name}" + (f"/{self.name_24}" if self.name_24 else "")


@dataclass(frozen=True)
class Recognizer:
    id: str
    family: str
    match: str  # a literal every matching message contains (cheap pre-filter)
    regex: Regex  # re.Pattern[str], or a LazyPattern for the built-in catalog
    severity: str
    title: str
    summary: str
    cause: str
    fix: str
    daemons: frozenset[str] = frozenset()
    settings: tuple[Setting, ...] = ()
    server_fix: str = ""
    weakens_security: str = "no"
    samples: tuple[str, ...] = ()
    origin: str = ""  # catalog file it came from
    #: the Postfix restriction(s) or postscreen action that produce a reject line
    #: (reject_rbl_client, reject_invalid_helo_hostname, postscreen_dnsbl_action, ...)
    restrictions: tuple[str, ...] = ()
    #: False for the catch-all entries: the line is surfaced by its level, nobody explained it yet
    explained: bool = True

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


class _Blank(dict[str, str]):
    """Template fields: ``{f}`` shows ``?`` when missing, ``{f?}`` nothing, ``{f|text}`` the text."""

    def __missing__(self, key: str) -> str:
        if key.endswith("?"):
            return str(self.get(key[:-1], ""))
        if "|" in key:
            base, _, default = key.partition("|")
            return str(self.get(base, default))
        return "?"


_FORMATTER = string.Formatter()


def fill(template: str, fields: dict[str, str]) -> str:
    """Fill ``{field}`` placeholders (see :class:`_Blank`); never raises."""
    try:
        return _FORMATTER.vformat(template, (), _Blank(fields))
    except (ValueError, IndexError, AttributeError):
        return template


def match_fields(family: str, message: str, groups: dict[str, str | None]) -> dict[str, str]:
    """The fields of a match: the ones every line of the family carries, then the pattern's groups."""
    from mailtui.recognizers.fields import common_fields

    fields = common_fields(family, message) if message else {}
    for key, value in groups.items():
        if value is not None:
            # alternatives in one pattern name their groups user, user2, user3, ...
            fields[key.rstrip("0123456789") or key] = value
    return fields


def match_dict(recognizer: Recognizer, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "recognizer": recognizer.id,
        "severity": recognizer.severity,
        "title": recognizer.title,
        "summary": fill(recognizer.summary, fields),
        "fields": dict(fields),
        "explained": recognizer.explained,
        "restrictions": list(recognizer.restrictions),
    }


class MatchedFields:
    """``summary`` and ``to_dict`` of a match, from its recognizer and fields. :class:`Match` and
    the live view's ``LiveEntry`` share them; each keeps the recognizer and computes the fields
    (once, on first use) from attributes of its own."""

    __slots__ = ()

    @property
    def recognizer(self) -> Recognizer | None:
        raise NotImplementedError

    @property
    def fields(self) -> dict[str, str]:
        raise NotImplementedError

    @property
    def summary(self) -> str:
        return fill(self.recognizer.summary, self.fields) if self.recognizer is not None else ""

    def to_dict(self) -> dict[str, Any]:
        assert self.recognizer is not None, "only a recognized line is a match"
        return match_dict(self.recognizer, self.fields)

    def who(self) -> tuple[str | None, str | None, str | None]:
        """The fields client_ip, user and sender (None: absent), as a scan counts them."""
        f = self.fields
        return f.get("client_ip"), f.get("user"), f.get("sender")


class Match(MatchedFields):
    """A recognizer that matched a message. ``fields`` is computed on first use: a scan over
    millions of routine lines never pays for field extraction it does not look at.
    (The live view's entries carry the same attributes themselves: see analysis.live.LiveEntry.)"""

    __slots__ = ("_family", "_fields", "_groups", "_message", "_regex_match", "recognizer")
    recognizer: Recognizer

    def __init__(
        self,
        recognizer: Recognizer,
        groups: dict[str, str | None] | None,
        family: str = "",
        message: str = "",
        regex_match: re.Match[str] | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        self.recognizer = recognizer
        self._groups = groups
        self._regex_match = regex_match  # groups are taken from it on first use
        self._family = family
        self._message = message
        self._fields = fields  # given when the match is rebuilt from a worker's (scan --engine parallel)

    @property
    def source(self) -> tuple[str, str]:
        """(family, message) the match was made on."""
        return self._family, self._message

    @property
    def groups(self) -> dict[str, str | None]:
        if self._groups is None:
            self._groups = self._regex_match.groupdict() if self._regex_match is not None else {}
            self._regex_match = None
        return self._groups

    @property
    def fields(self) -> dict[str, str]:
        if self._fields is None:
            self._fields = match_fields(self._family, self._message, self.groups)
        return self._fields

    def who(self) -> tuple[str | None, str | None, str | None]:
        if self._fields is not None:
            return super().who()
        if self._regex_match is not None:  # groups not read yet: only the three are
            from mailtui.recognizers.fields import who_of_match

            return who_of_match(self._family, self._message, self._regex_match)
        from mailtui.recognizers.fields import who

        return who(self._family, self._message, self.groups)
