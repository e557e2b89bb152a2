"""Match log records against the catalog: family dispatch, literal pre-filter, then the regex.

The first recognizer (in catalog order) whose literal occurs in the message, whose
daemon fits, and whose pattern matches wins. A pattern with alternatives names the same
field in each branch with a numeric suffix (``user``, ``user2``); they are merged.
"""

from __future__ import annotations

from collections import defaultdict

from mailtui.logs.record import LogRecord
from mailtui.recognizers.fields import common_fields
from mailtui.recognizers.model import Match, Recognizer


class Engine:
    def __init__(self, recognizers: list[Recognizer]) -> None:
        self.recognizers = list(recognizers)
        self._by_family: dict[str, list[Recognizer]] = defaultdict(list)
        for rec in self.recognizers:
            self._by_family[rec.family].append(rec)
        self.by_id = {r.id: r for r in self.recognizers}
        # family "*" recognizers (e.g. PAM lines under any program name) are tried last
        anywhere = self._by_family.pop("*", [])
        self._tail = anywhere
        self._lists: dict[str, tuple[Recognizer, ...]] = {}

    def _candidates(self, family: str) -> tuple[Recognizer, ...]:
        lst = self._lists.get(family)
        if lst is None:
            lst = tuple(self._by_family.get(family, ())) + tuple(self._tail)
            self._lists[family] = lst
        return lst

    def recognize(self, record: LogRecord) -> Match | None:
        message = record.message
        for rec in self._candidates(record.family):
            if rec.match not in message:
                continue
            if rec.daemons and record.daemon not in rec.daemons:
                continue
            m = rec.regex.search(message)
            if m is None:
                continue
            fields = common_fields(record.family, message)
            for key, value in m.groupdict().items():
                if value is not None:
                    # alternatives in one pattern name their groups user, user2, user3, ...
                    fields[key.rstrip("0123456789") or key] = value
            return Match(rec, fields)
        return None


_default: Engine | None = None


def default_engine() -> Engine:
    """The engine over the built-in and user catalogs, loaded once."""
    global _default
    if _default is None:
        from mailtui.recognizers.loader import load_catalog

        _default = Engine(load_catalog())
    return _default
