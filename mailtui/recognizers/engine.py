"""Match log records against the catalog: (family, daemon) dispatch, literal pre-filter, regex.

The first recognizer (in catalog order) whose literal occurs in the message and whose
pattern matches wins. Candidate lists are built once per (family, daemon) pair, so the
daemon test is not repeated per line. A pattern with alternatives names the same field in
each branch with a numeric suffix (``user``, ``user2``); they are merged (see Match.fields).
"""

from __future__ import annotations

import re

from mailtui.core.record import LogRecord
from mailtui.recognizers.model import Match, Recognizer

Candidate = tuple[str, re.Pattern[str], Recognizer]


class Engine:
    def __init__(self, recognizers: list[Recognizer]) -> None:
        self.recognizers = list(recognizers)
        self.by_id = {r.id: r for r in self.recognizers}
        self._lists: dict[tuple[str, str], tuple[Candidate, ...]] = {}

    def _candidates(self, family: str, daemon: str) -> tuple[Candidate, ...]:
        key = (family, daemon)
        lst = self._lists.get(key)
        if lst is None:
            # family "*" recognizers (PAM lines under any program name) are tried last
            ordered = [r for r in self.recognizers if r.family == family] + \
                      [r for r in self.recognizers if r.family == "*"]
            lst = tuple((r.match, r.regex, r) for r in ordered if not r.daemons or daemon in r.daemons)
            self._lists[key] = lst
        return lst

    def recognize(self, record: LogRecord) -> Match | None:
        message = record.message
        candidates = self._lists.get((record.family, record.daemon))
        if candidates is None:
            candidates = self._candidates(record.family, record.daemon)
        for literal, regex, rec in candidates:
            if literal in message:
                m = regex.search(message)
                if m is not None:
                    return Match(rec, None, record.family, message, m)
        return None


_default: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in and user catalogs, loaded once."""
    global _default
    if _default is None:
        from mailtui.recognizers.loader import load_catalog

        _default = Engine(load_catalog())
    return _default
