"""The Logs pane's filter language, typed after ``/``.

Words are ANDed. ``text`` keeps lines containing it (any case); ``!text`` drops them;
``re:PATTERN`` keeps lines matching a regular expression; ``sev:warn`` keeps recognized
lines of that severity or worse; ``prog:smtpd`` keeps lines whose program contains it;
``known`` keeps only recognized lines.
"""

from __future__ import annotations

import re
from typing import Callable

from mailtui.analysis.live import LiveEntry
from mailtui.recognizers.model import SEVERITY_RANK

Predicate = Callable[[LiveEntry], bool]


class FilterError(ValueError):
    pass


def compile_filter(text: str) -> Predicate | None:
    tests: list[Predicate] = []
    for word in text.split():
        if word.startswith("re:"):
            try:
                rx = re.compile(word[3:], re.IGNORECASE)
            except re.error as exc:
                raise FilterError(f"bad regular expression {word[3:]!r}: {exc}") from None
            tests.append(lambda e, rx=rx: rx.search(e.record.line) is not None)
        elif word.startswith("sev:"):
            rank = SEVERITY_RANK.get(word[4:])
            if rank is None:
                raise FilterError(f"severity must be one of {', '.join(SEVERITY_RANK)}")
            tests.append(lambda e, rank=rank: e.match is not None and e.match.recognizer.rank >= rank)
        elif word.startswith("prog:"):
            tests.append(lambda e, p=word[5:].lower(): p in e.record.program.lower())
        elif word == "known":
            tests.append(lambda e: e.match is not None)
        elif word.startswith("!") and len(word) > 1:
            tests.append(lambda e, w=word[1:].lower(): w not in e.record.line.lower())
        else:
            tests.append(lambda e, w=word.lower(): w in e.record.line.lower())
    if not tests:
        return None
    return lambda e: all(t(e) for t in tests)
