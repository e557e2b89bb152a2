"""Typed, frozen settings: one dataclass per section of the schema, built from a loaded Config.

``mailtui/config.py`` stays the one place a key is declared (``SCHEMA``: default, kind, range,
help) and the ``Config`` it loads keeps every value with where it came from, which
``mailtui config`` shows. This module is the typed view the rest of the code reads:
``settings_from(cfg).logs.backfill`` is an ``int``, ``.containers.mode`` one of
``"auto" | "yes" | "no"``, a list of strings a ``tuple[str, ...]``; nothing is ``Any`` and
nothing can be changed after it is built (a pane cannot alter what another pane sees).

A field is the key's last part in the section's class (``logs.max_lines`` ->
``LogsSettings.max_lines``). Adding a key means adding it to ``SCHEMA`` and a field here;
tests/test_settings.py fails, naming the key, when one is missing or its type does not match
``Setting.kind`` (and the choices, for ``Literal`` fields).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from mailtui.config import SCHEMA, Config

#: a setting that is detected unless told: auto, or forced on / off
AutoYesNo = Literal["auto", "yes", "no"]


@dataclass(frozen=True)
class LogsSettings:
    files: tuple[str, ...]
    mail: str
    dovecot: str
    fail2ban: str
    journal_dir: str
    journald: AutoYesNo
    backfill: int
    max_lines: int


@dataclass(frozen=True)
class Fail2banSettings:
    socket: str


@dataclass(frozen=True)
class PostfixSettings:
    config_dir: str


@dataclass(frozen=True)
class DovecotSettings:
    config: str


@dataclass(frozen=True)
class DnsSettings:
    domain: str
    nameserver: str
    ca_file: str
    blocklists: tuple[str, ...]


@dataclass(frozen=True)
class AlertsSettings:
    deferred_max: int
    deferred_age_hours: float
    cert_days: int
    disk_percent: float


@dataclass(frozen=True)
class UiSettings:
    read_only: bool
    refresh_seconds: float


@dataclass(frozen=True)
class ContainersSettings:
    mode: AutoYesNo
    socket: str
    postfix: str
    dovecot: str
    mailcow_url: str
    mailcow_api_key: str = dataclasses.field(repr=False)  # secrets: never in a repr or a traceback
    mailcow_api_key_rw: str = dataclasses.field(repr=False)
    mailcow_verify_tls: bool


@dataclass(frozen=True)
class Settings:
    """Every section, typed; ``origins`` says where each dotted key's value came from."""

    logs: LogsSettings
    fail2ban: Fail2banSettings
    postfix: PostfixSettings
    dovecot: DovecotSettings
    dns: DnsSettings
    alerts: AlertsSettings
    ui: UiSettings
    containers: ContainersSettings
    origins: Mapping[str, str] = dataclasses.field(default_factory=lambda: types.MappingProxyType({}), repr=False)

    def origin(self, key: str) -> str:
        """Where the value of ``key`` ("logs.files") came from: "default", a file, "command line"."""
        return self.origins.get(key, "default")


#: fields of Settings that are not a section of flat keys: the origins, and (when one is added)
#: a table array such as ``[[hosts]]``, which gets its own field (a tuple of frozen dataclasses),
#: is named here and is built by settings_from
NOT_SECTIONS = frozenset({"origins"})

#: section name -> its class: the fields of Settings except NOT_SECTIONS
SECTIONS: dict[str, type[Any]] = {
    name: cls for name, cls in get_type_hints(Settings).items() if name not in NOT_SECTIONS
}


def _section(cls: type[Any], name: str, values: Mapping[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = f"{name}.{f.name}"
        value = values[key] if key in values else SCHEMA[key].default
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def settings_from(cfg: Config) -> Settings:
    """The typed view of ``cfg`` as it is now (a later ``cfg.set`` needs a new view).

    Values were type- and range-checked when they were set, so this only sorts them into their
    sections and freezes the lists."""
    sections = {name: _section(cls, name, cfg.values) for name, cls in SECTIONS.items()}
    return Settings(**sections, origins=types.MappingProxyType(dict(cfg.sources)))


def defaults() -> Settings:
    """The built-in defaults, read from no file (for tests and tools that build a pane alone)."""
    return settings_from(Config(values={k: s.default for k, s in SCHEMA.items()}))
