"""Shared fixtures. The real-daemon rig lives in tests/rig and is loaded as a plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui import config

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> config.Config:
    """A configuration that reads no file of this machine and watches one empty log."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "etc" / "config.toml")
    log = tmp_path / "mail.log"
    log.write_text("")
    # fixed, absent fail2ban paths: the Bans pane shows the same "not connected" text everywhere
    return config.load(None, {"logs.files": [str(log)], "fail2ban.socket": "/nonexistent/fail2ban.sock",
                              "logs.fail2ban": "/nonexistent/fail2ban.log",
                              # no domain to check by default: the DNS pane shows its prompt
                              "postfix.config_dir": "/nonexistent/postfix",
                              "dovecot.config": "/nonexistent/dovecot.conf"})


pytest_plugins = ["tests.rig.fixtures", "tests.terminal"]
