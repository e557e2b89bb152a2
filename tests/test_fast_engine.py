"""``scan --engine fast`` as a whole: the same report as ``--engine python`` where the blocks are
cut small (every block boundary, read-ahead and thread hand-over is crossed many times), on
lines only the Python path may take (long, cut, invalid UTF-8, controls, CR), with a user
catalog whose lookarounds need ``re``; the vectorized path really takes the ordinary lines; and
Polars stays out of everything but the fast scan (``--help``, the dashboard, the live view).

tests/test_scan_engines.py runs it against the reference on the corpora, rotations, damaged
files and the rig captures like the other engines. Without Polars the module is skipped with a
one-line reason; in CI (MAILTUI_REQUIRE_FAST=1, set by .ci/run) that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

from bench.gen_log import generate
from mailtui import cli
from mailtui.analysis.fast import fold
from mailtui.analysis.fast import scan as fast
from mailtui.recognizers.engine import default_engine

STAMP = 1_796_000_000.0
REPO = Path(__file__).resolve().parent.parent


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    os.utime(path, (STAMP, STAMP))
    return path


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli._main(["scan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _same(capsys: pytest.CaptureFixture[str], *argv: str) -> None:
    for mode in (["--json"], []):
        want = _scan(capsys, *mode, "--engine", "python", *argv)
        got = _scan(capsys, *mode, "--engine", "fast", *argv)
        assert got == want, mode


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold, "BLOCK_BYTES", 3000)  # (fold cuts the blocks: scan re-exports the names)
    monkeypatch.setattr(fold, "CHUNK", 700)


def test_small_blocks_give_the_reference_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_blocks: None
) -> None:
    log = _write(tmp_path / "mail.log", "".join(line + "\n" for line in generate(6000, seed=3)).encode())
    _same(capsys, str(log))
    _same(capsys, "--since", "2026-03-01 00:02", "--until", "2026-03-01 00:05", str(log))
    _same(capsys, "--since", "2030-01-01", str(log))  # everything outside the range


def test_blocks_of_one_host_and_of_several_give_the_reference_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_blocks: None
) -> None:
    # a block of one host's lines has its per-host counts made from the block's (_aggregate):
    # blocks of "mx" alone, of "mx" and "relay" line by line, then of "relay" alone
    lines = [
        line.replace(" mx ", " relay ", 1) if i >= 2000 or (i >= 1000 and i % 2) else line
        for i, line in enumerate(generate(3000, seed=5))
    ]
    log = _write(tmp_path / "mail.log", "".join(line + "\n" for line in lines).encode())
    _same(capsys, str(log))
    code, out, _ = _scan(capsys, "--json", "--engine", "fast", str(log))
    hosts = {h["host"]: h["lines"] for h in json.loads(out)["hosts"]}
    assert code in (0, 1) and hosts == {"mx": 1500, "relay": 1500}


def test_lines_only_the_python_path_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_blocks: None
) -> None:
    ordinary = [line.encode() for line in generate(400, seed=5)]
    odd = [
        b"Nov 29 10:00:00 mx postfix/smtpd[1]: warning: " + b"x" * 40_000,  # cut at 32 KiB
        b"Nov 29 10:00:01 mx postfix/smtpd[1]: connect from caf\xc3\xa9.example[192.0.2.1]",  # UTF-8
        b"Nov 29 10:00:02 mx postfix/smtpd[1]: connect from bad\xff[192.0.2.2]",  # invalid UTF-8
        b"Nov 29 10:00:03 mx postfix/smtpd[1]: warning: ctl \x1b[31m here",
        b"Nov 29 10:00:04 mx postfix/smtpd[1]: connect from a.example[192.0.2.3]\r",
        b"Nov 29 10:00:05 mx postfix/smtpd[1]:\tconnect from tab.example[192.0.2.4]",
        b"Nov 29 10:00:06.123456 mx postfix/smtpd[1]: connect from frac.example[192.0.2.5]",
        b"@4000000068f1a2b30c1a2b3c imap-login: Info: Login: user=<a>, rip=192.0.2.6",
        b"2026-11-29 10:00:07,123 fail2ban.actions [9]: NOTICE [postfix] Ban 192.0.2.7",
        b"Nov 29 10:00:08 mx deliver(ann): msgid=<x>: saved mail to INBOX",
        b"",
        b"garbage without an envelope",
    ]
    lines = ordinary[:200] + odd + ordinary[200:]
    log = _write(
        tmp_path / "mail.log", b"\n".join(lines) + b"\n" + b"Nov 29 10:00:09 mx postfix/smtpd[1]: " + b"y" * 50_000
    )
    _same(capsys, str(log))


def test_empty_lines_in_a_printable_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_blocks: None
) -> None:
    # a block of printable ASCII is split by Polars' CSV reader, which reads an empty line as a
    # null: such a block is split by Python instead (nothing searches the bytes for them first)
    ordinary = [line.encode() for line in generate(300, seed=11)]
    lines = [*ordinary[:40], b"", *ordinary[40:90], b"", b"", b"", *ordinary[90:], b""]
    log = _write(tmp_path / "mail.log", b"\n".join(lines) + b"\n")
    _same(capsys, str(log))
    result = fast.scan_files([str(log)], default_engine(), None, None, [])
    assert result.summary.lines == len(lines) and result.mismatches == 0


def test_the_vectorized_path_takes_the_ordinary_lines(tmp_path: Path) -> None:
    log = _write(tmp_path / "mail.log", "".join(line + "\n" for line in generate(20_000, seed=9)).encode())
    result = fast.scan_files([str(log)], default_engine(), None, None, [])
    assert result.summary.lines == 20_000 and result.mismatches == 0
    assert result.python_lines == 0  # every generated line has an envelope the vectorized path knows


def test_a_user_catalog_with_lookarounds_gives_the_reference_report(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "mailtui" / "recognizers"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(
        r"""
[[recognizer]]
id = "postfix.relay.deferred"
family = "postfix"
daemons = ["smtpd"]
match = "Relay access denied"
pattern = '''(?<!\w)(?P<queue_id>NOQUEUE): reject: RCPT from (?P<client_host>[^\s\[\]]*)\[(?P<client_ip>[^\]\s]*)\]: 454 4\.7\.1 <(?P<recipient>[^>]*)(?<![5-9]@example\.com)>: Relay access denied(?!; from=<nobody@)'''
severity = "warn"
title = "relay refused (mine)"
summary = "relay refused to {client_ip}"
cause = "c"
fix = "f"
samples = ['Nov 29 10:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 454 4.7.1 <a@example.com>: Relay access denied; from=<x@example.org> to=<a@example.com> proto=ESMTP helo=<h>']
""",
        encoding="utf-8",
    )
    log = _write(tmp_path / "mail.log", "".join(line + "\n" for line in generate(3000, seed=4)).encode())
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    runs = [
        subprocess.run(
            [sys.executable, "-m", "mailtui", "scan", "--json", "--engine", engine, str(log)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        for engine in ("python", "fast")
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert '"relay refused (mine)"' in runs[0].stdout  # the user's entry replaced the built-in one
    assert (runs[1].returncode, runs[1].stdout, runs[1].stderr) == (runs[0].returncode, runs[0].stdout, runs[0].stderr)


def test_polars_is_loaded_by_the_fast_scan_only() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from mailtui import cli\n"
        "import mailtui.analysis.live, mailtui.ui.app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['scan', '--help']):\n"
        "        try:\n"
        "            cli._main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print('polars' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.stdout.strip() == "False", proc.stdout + proc.stderr
