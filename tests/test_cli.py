"""The command line: help, version, config output, one-line errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mailtui


def run(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args], capture_output=True, text=True, timeout=60, env=full_env, input=stdin
    )


def test_help_lists_global_options() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for flag in ("--config", "--log", "--read-only", "--debug", "--version", "--demo", "config"):
        assert flag in proc.stdout


def test_version() -> None:
    proc = run("--version")
    assert proc.stdout.strip() == f"mailtui {mailtui.__version__}"


def test_config_json_reports_sources_and_cli_logs(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("")
    proc = run(
        "--read-only",
        "--log",
        str(log),
        "--log",
        str(tmp_path / "gone.log"),
        "config",
        "--json",
        env={"XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    settings = {row["key"]: row for row in data["settings"]}
    assert settings["ui.read_only"]["value"] is True
    assert settings["ui.read_only"]["source"] == "command line"
    assert [(loc["path"], loc["problem"]) for loc in data["logs"]] == [
        (str(log), ""),
        (str(tmp_path / "gone.log"), "does not exist"),
    ]


def test_config_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[logs]\nbackfill = 'x'\n")
    proc = run("--config", str(bad), "config")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"mailtui: {bad}: logs.backfill must be int")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[logs\n")
    proc = run("--debug", "--config", str(bad), "config")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_tui_refuses_without_a_terminal() -> None:
    proc = run()
    assert proc.returncode == 2
    assert "needs a terminal" in proc.stderr and "Traceback" not in proc.stderr


def test_unreadable_log_says_how_to_fix(tmp_path: Path) -> None:
    from mailtui.logs.locate import access_problem

    log = tmp_path / "mail.log"
    log.write_text("x\n")
    log.chmod(0)
    if os.geteuid() == 0:
        # root reads anything: check the message through a non-root child instead.
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-c",
                f"from mailtui.logs.locate import access_problem; print(access_problem({str(log)!r}))",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=Path(mailtui.__file__).parent.parent,
        )
        message = proc.stdout.strip()
    else:
        message = access_problem(str(log))
    assert message == "permission denied: run as root or join group adm"
