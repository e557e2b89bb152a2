"""Plain records: what ``@dataclass`` gives a class (``__eq__``, ``__repr__``; frozen: ``__hash__``
and no assignment), for the classes every command builds before it can start its work.

Importing ``dataclasses`` (with inspect, ast, dis and tokenize) costs ~43 M instructions and each
``@dataclass`` ~3.4 M more (it compiles its methods from source when the module loads): for
``mailtui bans --json`` that was a third of its work before it asks fail2ban. A class here names its
``FIELDS`` in ``__init__``'s order and writes its own ``__init__``; equality, repr and hash follow
from ``FIELDS`` as a dataclass's follow from its fields. tests/test_plain_records.py holds each one
to the dataclass it replaced (same repr, equality, hashing, frozenness and defaults).
"""

from __future__ import annotations

from typing import Any, ClassVar


class FrozenError(AttributeError):
    """An assignment to a frozen record (``dataclasses.FrozenInstanceError`` is one too)."""


class Record:
    """Equality on ``FIELDS`` between records of one class, repr as a dataclass writes it;
    unhashable, as a dataclass with ``eq`` and not frozen."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.FIELDS])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, Record)
            return self._values() == other._values()
        return NotImplemented

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__qualname__}({shown})"


class FrozenRecord(Record):
    """A :class:`Record` whose fields cannot be assigned once made (``__init__`` fills
    ``__dict__``), and so is hashable on its fields."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())


__all__ = ["FrozenError", "FrozenRecord", "Record"]
