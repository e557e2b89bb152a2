"""The fast engine asks Rust about a pattern when a block first needs it, not about all at start.

Compiling the 257 catalog patterns up front cost ~0.2 s of every ``scan --engine fast`` (issue 20)
although a log needs a few dozen. A pattern Rust refuses is still found out, at its first use,
and runs in ``re`` from then on: the report stays the python engine's, byte for byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

from bench.gen_log import generate
from mailtui.analysis.fast import scan as fast
from mailtui.analysis.fast.native import PYTHON
from mailtui.recognizers.engine import default_engine

REPO = Path(__file__).resolve().parent.parent

# the built-in connect recognizer, replaced by one with a backreference: Rust has none
CATALOG = r"""
[[recognizer]]
id = "postfix.session.connect"
family = "postfix"
daemons = ["smtpd"]
match = "connect from "
pattern = '''^co(n)\1ect from (?P<client_host>[^\s\[\]]*)\[(?P<client_ip>[^\]\s]*)\]'''
severity = "info"
title = "connect (mine, with a backreference)"
summary = "connect from {client_ip}"
cause = "c"
fix = "f"
samples = ['Nov 29 10:00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]']
"""


def test_nothing_is_compiled_before_a_block_needs_it() -> None:
    comp = fast._Compiled(default_engine())
    assert not any(comp.checked)
    c = comp.index["postfix.session.connect"]
    assert comp.usable(c).kind != PYTHON and comp.checked[c]
    assert sum(comp.checked) == 1


def test_a_pattern_rust_refuses_at_first_use_runs_in_re_with_the_same_report(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "mailtui" / "recognizers"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(CATALOG, encoding="utf-8")
    log = tmp_path / "mail.log"
    log.write_text("".join(line + "\n" for line in generate(3000, seed=5)), encoding="utf-8")
    os.utime(log, (1_796_000_000.0, 1_796_000_000.0))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    runs = [
        subprocess.run(
            [sys.executable, "-m", "mailtui", "scan", "--json", "--engine", engine, str(log)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            cwd=REPO,
        )
        for engine in ("python", "fast")
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert '"connect (mine, with a backreference)"' in runs[0].stdout  # it counted lines
    assert (runs[1].returncode, runs[1].stdout, runs[1].stderr) == (runs[0].returncode, runs[0].stdout, runs[0].stderr)
