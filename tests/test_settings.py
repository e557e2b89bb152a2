"""The typed settings (mailtui/settings.py) cover the schema exactly, with its types, frozen.

A key added to ``config.SCHEMA`` without a field in its section's class (or a field with no
key) fails here, naming the key and what to add; so does a field whose type is not the one
``Setting.kind`` (and ``choices``) says.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Literal

import pytest

from mailtui import config, settings
from mailtui.settings import SECTIONS, Settings, settings_from

#: Setting.kind -> the type its field must have (lists are frozen into tuples)
FIELD_TYPE: dict[type, Any] = {str: str, int: int, float: float, bool: bool, list: tuple[str, ...]}


def _fields() -> dict[str, Any]:
    """Every typed field as its dotted key -> its resolved type."""
    out: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        for name, hint in typing.get_type_hints(cls).items():
            out[f"{section}.{name}"] = hint
    return out


def test_every_schema_key_has_exactly_one_typed_field_and_back() -> None:
    fields = _fields()
    missing = [k for k in config.SCHEMA if k not in fields]
    assert not missing, (
        f"keys in config.SCHEMA with no field in mailtui/settings.py: {missing}; add each as a field "
        "of its section's class (logs.x -> LogsSettings.x), or a new section class to Settings"
    )
    extra = [k for k in fields if k not in config.SCHEMA]
    assert not extra, f"fields in mailtui/settings.py with no key in config.SCHEMA: {extra}"
    sections = {k.split(".", 1)[0] for k in config.SCHEMA}
    assert set(SECTIONS) == sections, "every section of the schema is one field of Settings, and only those"
    # one field per key: no two sections read the same key, no key is split over two fields
    assert len(fields) == len(config.SCHEMA)


def test_each_field_has_the_type_its_setting_kind_says() -> None:
    wrong = []
    for key, hint in _fields().items():
        setting = config.SCHEMA[key]
        if setting.choices:
            if typing.get_origin(hint) is not Literal or typing.get_args(hint) != setting.choices:
                wrong.append(f"{key}: {hint} (want Literal{list(setting.choices)}, in the schema's order)")
        elif hint != FIELD_TYPE[setting.kind]:
            wrong.append(f"{key}: {hint} (want {FIELD_TYPE[setting.kind]} for kind {setting.kind.__name__})")
    assert not wrong, "fields whose type does not match config.SCHEMA: " + "; ".join(wrong)


def test_a_loaded_config_is_sorted_into_sections_with_its_origins(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text("[logs]\nfiles = ['/var/log/a.log', '/var/log/b.log']\nbackfill = 7\n[alerts]\ncert_days = 3\n")
    cfg = config.load(extra, {"ui.read_only": True, "containers.mode": "no"})
    s = settings_from(cfg)
    assert s.logs.files == ("/var/log/a.log", "/var/log/b.log") and s.logs.backfill == 7
    assert s.alerts.cert_days == 3 and s.ui.read_only is True and s.containers.mode == "no"
    # values not set anywhere are the schema's defaults
    assert s.ui.refresh_seconds == config.SCHEMA["ui.refresh_seconds"].default
    # the provenance `mailtui config` shows is kept: the Config has it, and the typed view too
    assert s.origin("logs.files") == str(extra) == cfg.sources["logs.files"]
    assert s.origin("ui.read_only") == "command line" and s.origin("dns.domain") == "default"
    # every value of the view is the config's (tuples for lists)
    for key, value in cfg.values.items():
        section, name = key.split(".", 1)
        got = getattr(getattr(s, section), name)
        assert got == (tuple(value) if isinstance(value, list) else value), key


def test_settings_are_frozen_and_the_view_does_not_follow_later_changes(isolated_config: config.Config) -> None:
    s = settings_from(isolated_config)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.logs.backfill = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ui = s.ui  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.origins["logs.files"] = "x"  # type: ignore[index]
    assert isinstance(s.logs.files, tuple)  # a list in the config, frozen here
    isolated_config.set("logs.backfill", 3, "test")
    assert s.logs.backfill == 500 and settings_from(isolated_config).logs.backfill == 3


def test_defaults_are_the_schema_defaults() -> None:
    s = settings.defaults()
    for key, setting in config.SCHEMA.items():
        section, name = key.split(".", 1)
        value = setting.default
        assert getattr(getattr(s, section), name) == (tuple(value) if isinstance(value, list) else value), key


def test_api_keys_do_not_show_in_a_repr() -> None:
    cfg = config.load(None, {"containers.mailcow_api_key": "SECRET-ro", "containers.mailcow_api_key_rw": "SECRET-rw"})
    s = settings_from(cfg)
    assert s.containers.mailcow_api_key == "SECRET-ro"
    assert "SECRET" not in repr(s) and "SECRET" not in repr(s.containers)


def test_settings_holds_the_sections_and_nothing_unaccounted_for() -> None:
    # Settings holds the sections and what NOT_SECTIONS names (the origins), nothing else: a
    # stray field would be a value nobody can set
    assert {f.name for f in dataclasses.fields(Settings)} == {*SECTIONS, *settings.NOT_SECTIONS}
    assert "origins" in settings.NOT_SECTIONS
