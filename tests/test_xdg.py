"""core/xdg.py: one XDG rule for the config, state and cache directories (config.user_config_dir,
dns.diff.state_file and core/jsoncache.cache_dir all take it), including a process with no home."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui import config
from mailtui.core import jsoncache
from mailtui.core.xdg import xdg_base
from mailtui.dns.diff import state_file


def _no_home(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(refuse))


def test_the_variable_wins_and_an_empty_one_falls_back_to_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable))
    assert config.user_config_dir() == tmp_path / "XDG_CONFIG_HOME" / "mailtui"
    assert state_file("Example.ORG.") == tmp_path / "XDG_STATE_HOME" / "mailtui" / "dns" / "example.org.json"
    assert jsoncache.cache_dir() == tmp_path / "XDG_CACHE_HOME" / "mailtui"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, "")
    home = tmp_path / "home"
    assert config.user_config_dir() == home / ".config" / "mailtui"
    assert state_file("example.org") == home / ".local" / "state" / "mailtui" / "dns" / "example.org.json"
    assert jsoncache.cache_dir() == home / ".cache" / "mailtui"


def test_no_home_gives_no_directory_and_no_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    _no_home(monkeypatch)
    assert xdg_base("XDG_CACHE_HOME", ".cache") is None
    assert jsoncache.cache_dir() is None  # (the cache is skipped: the catalog is parsed each time)
    assert config.user_config_dir() == Path("/nonexistent/mailtui")  # no user layer
    assert state_file("example.org").is_relative_to("/nonexistent")  # read as absent, written as refused
