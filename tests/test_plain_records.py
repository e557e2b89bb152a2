"""The plain records (mailtui.core.plain) behave as the dataclasses they replaced: the same
fields in the same order, defaults, repr, equality, hashing and frozenness.

They replaced ``@dataclass`` on the classes ``mailtui bans --json`` builds before it asks
fail2ban (config's Setting, Config, HostEntry; fail2ban's BannedIP, JailStatus, Fail2banSnapshot,
ServerState, BansResult): importing dataclasses and compiling their methods was ~70 M
instructions of its ~190 M before the batch was sent. Each is compared here with a dataclass
declared as the class used to be.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from typing import Any

import pytest

from mailtui.config import DEFAULT_AGENT_COMMAND, Config, HostEntry, Setting
from mailtui.core.plain import FrozenError, FrozenRecord, Record
from mailtui.fail2ban.source import RUNNING, BansResult, ServerState
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus

F = dataclasses.field
NOW = object()  # the default is the time of making


#: each record: (class, frozen, the dataclass fields it had: (name, default or F(default_factory=...)) or name)
WAS: list[tuple[type[Record], bool, list[Any]]] = [
    (Setting, True, ["default", "kind", "help", ("low", None), ("high", None), ("choices", ())]),
    (
        Config,
        False,
        [(n, F(default_factory=dict)) for n in ("values", "sources")]
        + [(n, F(default_factory=list)) for n in ("files_read", "warnings", "hosts")],
    ),
    (
        HostEntry,
        True,
        ["name", "ssh", ("command", DEFAULT_AGENT_COMMAND), ("read_only", False), ("ssh_config", ""), ("source", "")],
    ),
    (BannedIP, False, ["ip", ("ban_start", None), ("ban_time", None), ("ends", None)]),
    (
        JailStatus,
        False,
        [
            "name",
            *[(n, 0) for n in ("currently_failed", "total_failed", "currently_banned", "total_banned")],
            ("files", F(default_factory=list)),
            ("banned", F(default_factory=list)),
        ],
    ),
    (
        Fail2banSnapshot,
        False,
        ["jails", "source", ("version", ""), ("taken", F(default_factory=time.time)), ("note", "")],
    ),
    (ServerState, True, ["state", "running", "detail", ("socket", ""), ("pid", None)]),
    (
        BansResult,
        False,
        [
            "snapshot",
            "mode",
            ("reason", ""),
            ("server", F(default_factory=lambda: ServerState(RUNNING, True, ""))),
            ("source_file", ""),
            ("as_of", None),
            ("blocked", ""),
        ],
    ),
]


def _dataclass(cls: type[Record], frozen: bool, fields: list[Any]) -> Any:
    spec = [
        f if isinstance(f, str) else (f[0], Any, f[1] if isinstance(f[1], dataclasses.Field) else F(default=f[1]))
        for f in fields
    ]
    made = dataclasses.make_dataclass(cls.__name__, spec, frozen=frozen)
    made.__qualname__ = cls.__qualname__
    return made


def _names(fields: list[Any]) -> list[str]:
    return [f if isinstance(f, str) else f[0] for f in fields]


@pytest.mark.parametrize(("cls", "frozen", "fields"), WAS, ids=[c.__name__ for c, _, _ in WAS])
def test_a_record_is_the_dataclass_it_was(cls: type[Record], frozen: bool, fields: list[Any]) -> None:
    was = _dataclass(cls, frozen, fields)
    names = _names(fields)
    assert list(cls.FIELDS) == names
    assert list(inspect.signature(cls).parameters) == names  # __init__ takes them in that order
    assert issubclass(cls, FrozenRecord) is frozen
    required = [f"v{i}" for i, f in enumerate(fields) if isinstance(f, str)]
    ours, theirs = cls(*required), was(*required)
    # defaults (the factories' values equal, each a new object per record)
    for name in names:
        a, b = getattr(ours, name), getattr(theirs, name)
        if name == "taken":
            assert isinstance(a, float) and abs(a - b) < 60
        else:
            assert a == b, name
    if not frozen:
        for name in names:
            value = getattr(ours, name)
            if isinstance(value, (list, dict)):
                assert value is not getattr(cls(*required), name), f"{name}: one default shared"
    # every field given, by position and by keyword
    values = [f"x{i}" for i in range(len(names))]
    ours, theirs = cls(*values), was(*values)
    assert repr(ours) == repr(theirs)
    assert ours == cls(**dict(zip(names, values))) and theirs == was(**dict(zip(names, values)))
    for i in range(len(names)):
        other = [*values[:i], "other", *values[i + 1 :]]
        assert (ours == cls(*other)) is (theirs == was(*other)) is False
    assert ours != tuple(values) and ours.__eq__(theirs) is NotImplemented
    if frozen:
        assert hash(ours) == hash(theirs) == hash(cls(*values))
        for name in (names[0], "new"):
            with pytest.raises(AttributeError):
                setattr(ours, name, 1)
            with pytest.raises(AttributeError):
                setattr(theirs, name, 1)
        with pytest.raises(FrozenError):
            del ours.FIELDS  # type: ignore[misc]
    else:
        with pytest.raises(TypeError):
            hash(ours)
        with pytest.raises(TypeError):
            hash(theirs)
        setattr(ours, names[0], "changed")
        assert getattr(ours, names[0]) == "changed"
