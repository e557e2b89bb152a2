"""Configuration layering: defaults < /etc < XDG < --config < command line, with sources kept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
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
        ("[logs]\nbackfill = 'many'\n", "logs.backfill must be int from 0 to 1,000,000, got str"),
        ("[ui]\nread_only = 1\n", "ui.read_only must be true or false, got int"),
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


@pytest.mark.parametrize(
    "text, key, allowed",
    [
        ("[logs]\nmax_lines = -1\n", "logs.max_lines", "from 1 to 5,000,000"),
        ("[logs]\nmax_lines = 0\n", "logs.max_lines", "from 1 to 5,000,000"),
        ("[logs]\nmax_lines = 9223372036854775807\n", "logs.max_lines", "from 1 to 5,000,000"),
        ("[logs]\nbackfill = -5\n", "logs.backfill", "from 0 to 1,000,000"),
        ("[logs]\nbackfill = nan\n", "logs.backfill", "int from 0"),
        ("[logs]\nbackfill = 1.5\n", "logs.backfill", "int from 0"),
        ("[ui]\nrefresh_seconds = nan\n", "ui.refresh_seconds", "float from 0.5 to 3600"),
        ("[ui]\nrefresh_seconds = inf\n", "ui.refresh_seconds", "float from 0.5 to 3600"),
        ("[ui]\nrefresh_seconds = -inf\n", "ui.refresh_seconds", "float from 0.5 to 3600"),
        ("[ui]\nrefresh_seconds = 0\n", "ui.refresh_seconds", "float from 0.5 to 3600"),
        ("[alerts]\ndisk_percent = 1e308\n", "alerts.disk_percent", "float from 0 to 100"),
        ("[alerts]\ndeferred_age_hours = -1.0\n", "alerts.deferred_age_hours", "float from 0 to 87600"),
        ("[alerts]\ncert_days = 99999\n", "alerts.cert_days", "from 0 to 3,650"),
        ("[logs]\njournald = 'banana'\n", "logs.journald", "one of 'auto', 'yes', 'no'"),
        ("[logs]\njournald = true\n", "logs.journald", "one of 'auto', 'yes', 'no'"),
        ("[logs]\nfiles = [1, 2]\n", "logs.files", "a list of strings"),
        ("[logs]\nfiles = '/var/log/mail.log'\n", "logs.files", "a list of strings"),
        ('[logs]\nfiles = ["a\\u0000b"]\n', "logs.files", "NUL"),
        ('[logs]\nmail = "a\\u0000b"\n', "logs.mail", "NUL"),
        ("[dns]\nnameserver = 'localhost'\n", "dns.nameserver", "IP address"),
        ("[dns]\nnameserver = '127.0.0.1:0'\n", "dns.nameserver", "from 1 to 65535"),
        ("[ui]\nread_only = 'yes'\n", "ui.read_only", "true or false"),
    ],
)
def test_values_are_range_and_type_checked(xdg: Path, text: str, key: str, allowed: str) -> None:
    bad = write(xdg / "bad.toml", text)
    with pytest.raises(config.ConfigError) as err:
        config.load(bad)
    message = str(err.value)
    assert message.startswith(f"{bad}: {key}") and allowed in message, message
    assert "\n" not in message


def test_limits_themselves_are_accepted(xdg: Path) -> None:
    good = write(
        xdg / "good.toml",
        "[logs]\nmax_lines = 1\nbackfill = 0\njournald = 'no'\n"
        "[ui]\nrefresh_seconds = 3600\n[alerts]\ndisk_percent = 100\n"
        "[dns]\nnameserver = '[::1]:5353'\n",
    )
    cfg = config.load(good)
    assert cfg["logs.max_lines"] == 1 and cfg["ui.refresh_seconds"] == 3600.0


def test_file_that_is_not_utf8_or_too_deep_or_a_directory(xdg: Path) -> None:
    latin = xdg / "latin1.toml"
    latin.write_bytes(b"[logs]\nmail = '/var/log/m\xe9il.log'\n")
    with pytest.raises(config.ConfigError, match=r"latin1\.toml: not UTF-8 text \(byte 0xe9 at offset 25\)"):
        config.load(latin)
    deep = write(xdg / "deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(config.ConfigError, match=r"deep\.toml: invalid TOML"):
        config.load(deep)
    with pytest.raises(config.ConfigError, match="is a directory, not a config file"):
        config.load(xdg)
    # an automatic layer that is a directory is skipped with a warning, not fatal
    (xdg / "xdg" / "mailtui" / "config.toml").mkdir(parents=True)
    cfg = config.load()
    assert any("is a directory" in w for w in cfg.warnings)


def test_a_path_under_a_file_is_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ENOTDIR: XDG_CONFIG_HOME points below a regular file; there is simply no user layer
    afile = write(tmp_path / "plain", "x")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(afile / "sub"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", afile / "etc" / "config.toml")
    cfg = config.load()
    assert cfg.files_read == [] and cfg.warnings == []
    with pytest.raises(config.ConfigError, match="no such config file"):
        config.load(afile / "x.toml")


def _unprivileged(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the CLI without root: as root, mode 000 does not stop reads, so as user nobody then;
    run by a user, as that user (to whom mode 000 is unreadable too)."""
    repo = Path(config.__file__).resolve().parent.parent
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*drop, sys.executable, "-m", "mailtui", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(repo), **env},
    )


def test_unreadable_home_and_xdg_are_named_and_skipped() -> None:
    base = Path(tempfile.mkdtemp(prefix="mailtui-home-"))
    try:
        base.chmod(0o755)
        log = base / "mail.log"
        log.write_text("Jan  1 00:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.7]\n")
        log.chmod(0o644)
        locked = base / "locked"
        (locked / ".config" / "mailtui").mkdir(parents=True)
        locked.chmod(0)
        for env, unreadable in (
            ({"HOME": str(locked)}, locked / ".config" / "mailtui" / "config.toml"),
            ({"HOME": "/", "XDG_CONFIG_HOME": str(locked)}, locked / "mailtui" / "config.toml"),
        ):
            for args in (["config", "--no-logs"], ["scan", str(log)], ["explain", "x"], ["who", "a", str(log)]):
                proc = _unprivileged(args, env)
                assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
                assert proc.returncode in (0, 1), (args, proc.returncode, proc.stderr)
                assert f"{unreadable}: cannot be read (permission denied" in proc.stderr, proc.stderr
                assert proc.stderr.count(str(unreadable)) == 1  # said once
            # the user's recognizers folder is unreadable too: said, and the built-in catalog works
            proc = _unprivileged(["scan", "--json", str(log)], env)
            assert json.loads(proc.stdout)["recognized"] == 1
    finally:
        locked.chmod(0o755)
        shutil.rmtree(base)


def test_config_json_never_emits_nan() -> None:
    from mailtui.cli.output import json_text

    text = json_text({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": float("-inf")}})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "a": None,
        "b": [None, 1.5],
        "c": {"d": None},
    }
