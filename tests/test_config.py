"""Configuration layering: defaults < /etc < XDG < --config < command line, with sources kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui import config


@pytest.fixture
def xdg(tmp_path: Path) -> Path:
    """The isolated /etc and XDG files of tests/conftest.py live under tmp_path/etc and tmp_path/xdg."""
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_layers_and_sources(xdg: Path) -> None:
    system = write(xdg / "etc" / "config.toml", "[logs]\nbackfill = 10\nmail = '/a'\n")
    user = write(xdg / "xdg" / "mailtui" / "config.toml", "[logs]\nbackfill = 20\n")
    extra = write(xdg / "extra.toml", "[ui]\nrefresh_seconds = 2\n")
    cfg = config.load(extra, {"ui.read_only": True})
    assert cfg["logs.mail"] == "/a" and cfg.sources["logs.mail"] == str(system)
    assert cfg["logs.backfill"] == 20 and cfg.sources["logs.backfill"] == str(user)
    assert cfg["ui.refresh_seconds"] == 2.0 and cfg.sources["ui.refresh_seconds"] == str(extra)
    assert cfg["ui.read_only"] is True and cfg.sources["ui.read_only"] == "command line"
    assert cfg.sources["dns.domain"] == "default"
    assert cfg.files_read == [str(system), str(user), str(extra)]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[logs]\nbackfil = 1\n", "unknown setting 'logs.backfil'"),
        ("[logs]\nbackfill = 'many'\n", "logs.backfill must be int, got str"),
        ("[ui]\nread_only = 1\n", "ui.read_only must be bool, got int"),
        ("[logs\n", "invalid TOML"),
    ],
)
def test_bad_files_name_the_file_and_problem(xdg: Path, text: str, message: str) -> None:
    bad = write(xdg / "bad.toml", text)
    with pytest.raises(config.ConfigError) as err:
        config.load(bad)
    assert str(bad) in str(err.value) and message in str(err.value)


def test_missing_explicit_file(xdg: Path) -> None:
    with pytest.raises(config.ConfigError, match="no such config file"):
        config.load(xdg / "nope.toml")
