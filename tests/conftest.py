"""Shared fixtures. The real-daemon rig lives in tests/rig and is loaded as a plugin;
helpers to import (waiting, the corpus) are in tests/helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui import config
from tests.helpers import CORPUS, corpus_dir

__all__ = ["CORPUS"]  # kept for branches written before the corpus fixture; take the fixture


@pytest.fixture
def corpus() -> Path:
    """``../shared/corpus``: a test that takes it is skipped with a one-line reason on a fresh
    clone without it, and fails when MAILTUI_REQUIRE_CORPUS=1 (CI)."""
    return corpus_dir()


@pytest.fixture(autouse=True)
def _no_machine_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads this machine's configuration: the system file is ``tmp_path/etc/config.toml``
    and XDG_CONFIG_HOME is ``tmp_path/xdg``, XDG_STATE_HOME ``tmp_path/xdg-state``, XDG_CACHE_HOME
    ``tmp_path/xdg-cache`` (absent until a test writes them; subprocesses inherit the variables). The one place tests isolate the configuration files."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))  # the DNS pane keeps its last check there
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # the parsed catalog (core/jsoncache.py)
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "etc" / "config.toml")


@pytest.fixture(autouse=True)
def _no_routed_tools() -> Iterator[None]:
    """A dashboard a test starts against a container lab routes postconf/doveconf into its containers
    (process-wide, as it should for the real app): undone after each test, so no later test asks a
    container that is gone."""
    yield
    from mailtui.mta.run import clear_routes

    clear_routes()


@pytest.fixture
def isolated_config(tmp_path: Path) -> config.Config:
    """A configuration that reads no file of this machine and watches one empty log."""
    log = tmp_path / "mail.log"
    log.write_text("")
    # fixed, absent fail2ban paths: the Bans pane shows the same "not connected" text everywhere
    return config.load(
        None,
        {
            "logs.files": [str(log)],
            "fail2ban.socket": "/nonexistent/fail2ban.sock",
            "logs.fail2ban": "/nonexistent/fail2ban.log",
            # no domain to check by default: the DNS pane shows its prompt
            "postfix.config_dir": "/nonexistent/postfix",
            "dovecot.config": "/nonexistent/dovecot.conf",
        },
    )


pytest_plugins = ["tests.rig.fixtures", "tests.terminal"]
