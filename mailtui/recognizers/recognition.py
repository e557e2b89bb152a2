"""The two faces of a recognized log line, declared once, whichever object carries them.

The CLI's scan keeps a :class:`~mailtui.core.record.LogRecord` and a
:class:`~mailtui.recognizers.model.Match` apart (they die young); the live view keeps one
``LiveEntry`` per line that is both (mailtui.analysis.live: ``entry.record`` and ``entry.match``
are the entry itself). Code that reads either kind takes these protocols, and mypy checks
Match, LiveEntry and who's TimelineLine against them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from mailtui.core.record import LogRecord
from mailtui.recognizers.model import Match, Recognizer


class Recognition(Protocol):
    """What matching a recognizer produced: a :class:`Match`, or a recognized ``LiveEntry``."""

    @property
    def recognizer(self) -> Recognizer: ...

    @property
    def groups(self) -> dict[str, str | None]: ...

    @property
    def fields(self) -> dict[str, str]: ...

    @property
    def summary(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class RecognizedLine(Protocol):
    """A parsed line with what recognized it (``match`` is None for a line no recognizer knows)."""

    @property
    def record(self) -> LogRecord: ...

    @property
    def match(self) -> Recognition | None: ...


if TYPE_CHECKING:  # mypy proves the scan's Match is a Recognition
    _match: type[Recognition] = Match
