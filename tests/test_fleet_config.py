"""``[[hosts]]`` in the config: parsed next to the flat settings, checked, with provenance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailtui import config
from mailtui.fleet.link import spec_of

GOOD = """\
[logs]
backfill = 10

[[hosts]]
name = "mx1"
ssh = "admin@mx1.example.org"

[[hosts]]
name = "imap1"
ssh = "imap1"
command = "sudo -n mailtui agent --stdio"
read_only = true
ssh_config = "/etc/mailtui/ssh_config"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_hosts_are_read_with_their_file(tmp_path: Path) -> None:
    path = write(tmp_path / "fleet.toml", GOOD)
    cfg = config.load(path)
    assert [h.name for h in cfg.hosts] == ["mx1", "imap1"]
    mx1, imap1 = cfg.hosts
    assert (mx1.ssh, mx1.command, mx1.read_only, mx1.source) == (
        "admin@mx1.example.org",
        "mailtui agent --stdio",
        False,
        str(path),
    )
    assert imap1.read_only is True and imap1.command.startswith("sudo -n")
    assert cfg["logs.backfill"] == 10  # the flat settings beside them are untouched
    argv = spec_of(imap1).argv()
    assert argv[argv.index("--") + 1 :] == ["imap1", "sudo", "-n", "mailtui", "agent", "--stdio"]
    assert argv[argv.index("-F") : argv.index("-F") + 2] == ["-F", "/etc/mailtui/ssh_config"]
    joined = " ".join(argv)
    assert "StrictHostKeyChecking" not in joined and "UserKnownHostsFile" not in joined


def test_a_later_layer_replaces_the_hosts_list(tmp_path: Path) -> None:
    user = write(tmp_path / "xdg" / "mailtui" / "config.toml", GOOD)
    extra = write(tmp_path / "extra.toml", '[[hosts]]\nname = "mx9"\nssh = "mx9"\n')
    assert [h.source for h in config.load(None).hosts] == [str(user), str(user)]
    cfg = config.load(extra)
    assert [(h.name, h.source) for h in cfg.hosts] == [("mx9", str(extra))]


@pytest.mark.parametrize(
    "tables, message",
    [
        ('ssh = "mx1"', "[[hosts]] #1: needs a name"),
        ('name = "mx1"', "[[hosts]] 'mx1': needs ssh ="),
        ('name = "mx1"\nssh = 7', "[[hosts]] 'mx1': needs ssh ="),
        ('name = "mx1"\nssh = "mx1"\nport = 22', "unknown key 'port'"),
        ('name = "mx 1"\nssh = "mx1"', "the name must be 1-64 letters"),
        ('name = "mx1"\nssh = "-oProxyCommand=touch /tmp/x"', "is not an ssh target"),
        ('name = "mx1"\nssh = "admin@mx1 -v"', "is not an ssh target"),
        ('name = "mx1"\nssh = "a@b@c"', "is not an ssh target"),
        ('name = "mx1"\nssh = "mx1"\ncommand = ""', "command must be a non-empty string"),
        ('name = "mx1"\nssh = "mx1"\ncommand = "mailtui \'agent"', "cannot be split into words"),
        ('name = "mx1"\nssh = "mx1"\nread_only = "yes"', "read_only must be true or false"),
        ('name = "mx1"\nssh = "mx1"\n[[hosts]]\nname = "mx1"\nssh = "mx2"', "a second host named 'mx1'"),
    ],
)
def test_bad_hosts_are_one_line_naming_file_and_host(tmp_path: Path, tables: str, message: str) -> None:
    bad = write(tmp_path / "bad.toml", "[[hosts]]\n" + tables + "\n")
    with pytest.raises(config.ConfigError) as err:
        config.load(bad)
    text = str(err.value)
    assert str(bad) in text and message in text and "\n" not in text


def test_hosts_as_a_plain_value_is_refused(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", 'hosts = ["mx1"]\n')
    with pytest.raises(config.ConfigError, match=r"hosts must be \[\[hosts\]\] tables"):
        config.load(bad)


def test_accepted_targets(tmp_path: Path) -> None:
    for target in ("mx1", "admin@mx1.example.org", "root@192.0.2.1", "ops@[2001:db8::1]", "mx_1.lan"):
        path = write(tmp_path / "t.toml", f'[[hosts]]\nname = "h"\nssh = "{target}"\n')
        assert config.load(path).hosts[0].ssh == target


def test_mailtui_config_shows_hosts_and_where_they_came_from(tmp_path: Path) -> None:
    path = write(tmp_path / "fleet.toml", GOOD)
    run = [sys.executable, "-m", "mailtui", "--config", str(path), "config", "--no-logs"]
    env = {"XDG_CONFIG_HOME": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"}
    text = subprocess.run(run, capture_output=True, text=True, check=True, env=env).stdout
    block = text[text.index("hosts (") :]
    assert "mx1" in block and "admin@mx1.example.org" in block and str(path) in block
    assert "imap1" in block and "sudo -n mailtui agent --stdio (-F /etc/mailtui/ssh_config)" in block
    data = json.loads(subprocess.run([*run, "--json"], capture_output=True, text=True, check=True, env=env).stdout)
    assert [(h["name"], h["read_only"], h["source"]) for h in data["hosts"]] == [
        ("mx1", False, str(path)),
        ("imap1", True, str(path)),
    ]
