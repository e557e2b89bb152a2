"""``scan --engine fast`` in worker processes (analysis/fast/workers.py): the same report as
``--engine python``, byte for byte, with blocks cut small so that every file is many byte ranges
(rotation sets, a compressed file read by the main process, lines only the Python path takes,
a cut line, no final newline, --since/--until, a user catalog the workers inherit); the main
process never loads Polars (it forks the workers); and a read that stops in one range drops the
ranges after it with the python engine's message. (A worker killed mid-scan, and Ctrl-C: in
tests/test_scan_engines.py, for both engines that use workers.)

Each case runs the CLI in a fresh interpreter, as an admin does: a pytest process has Polars
loaded by the other fast tests, and a process with Polars loaded does not fork workers
(``use_workers``), so here the workers really run.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

from bench.gen_log import generate
from mailtui.analysis.fast import fold, workers
from mailtui.logs.ranges import line_ranges
from mailtui.logs.sanitize import MAX_LINE_BYTES
from mailtui.recognizers.engine import default_engine

STAMP = 1_796_000_000.0
REPO = Path(__file__).resolve().parent.parent
BLOCK = 20_000  # bytes: a few dozen ranges per file

# the CLI with small blocks: --engine fast (in workers: --jobs 2) then --engine python, each
# in --json and text, and whether this process loaded Polars
RUNNER = """
import contextlib, io, json, sys
from mailtui.analysis.fast import fold, workers
from mailtui.recognizers.engine import default_engine
fold.BLOCK_BYTES = int(sys.argv[1])
fold.CHUNK = 700
used = []
real = workers.scan_files
def scan_files(*args):
    used.append(True)
    return real(*args)
workers.scan_files = scan_files
from mailtui import cli
out = {}
for engine in (["--engine", "fast", "--jobs", "2"], ["--engine", "python"]):
    for mode in (["--json"], []):
        buf, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            code = cli._main(["scan", *mode, *engine, *sys.argv[2:]])
        out[" ".join(engine[:2] + mode)] = [code, buf.getvalue(), err.getvalue()]
out["workers"] = bool(used)
out["polars"] = "polars" in sys.modules
print(json.dumps(out))
"""


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    os.utime(path, (STAMP, STAMP))
    return path


def _log(n: int, seed: int) -> bytes:
    return "".join(line + "\n" for line in generate(n, seed=seed)).encode()


def _same(*argv: str, env: dict[str, str] | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(BLOCK), *argv],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, object] = json.loads(proc.stdout)
    assert out["workers"] is True, "the scan did not run in worker processes"
    assert out["polars"] is False, "the main process loaded Polars (it forks the workers)"
    for mode in ("--json", ""):
        want = out[f"--engine python {mode}".strip()]
        got = out[f"--engine fast {mode}".strip()]
        assert got == want, mode
    return out


def test_a_large_log_in_workers_gives_the_reference_report(tmp_path: Path) -> None:
    log = _write(tmp_path / "mail.log", _log(6000, 3))
    assert log.stat().st_size > 20 * BLOCK
    _same(str(log))
    _same("--since", "2026-03-01 00:02", "--until", "2026-03-01 00:05", str(log))


def test_lines_only_the_python_path_takes_in_workers(tmp_path: Path) -> None:
    ordinary = [line.encode() for line in generate(600, seed=5)]
    odd = [
        b"Nov 29 10:00:00 mx postfix/smtpd[1]: warning: " + b"x" * 40_000,  # cut at 32 KiB, longer than a block
        b"Nov 29 10:00:01 mx postfix/smtpd[1]: connect from caf\xc3\xa9.example[192.0.2.1]",
        b"Nov 29 10:00:02 mx postfix/smtpd[1]: connect from bad\xff[192.0.2.2]",
        b"Nov 29 10:00:03 mx postfix/smtpd[1]: warning: ctl \x1b[31m here",
        b"Nov 29 10:00:04 mx postfix/smtpd[1]: connect from a.example[192.0.2.3]\r",
        b"@4000000068f1a2b30c1a2b3c imap-login: Info: Login: user=<a>, rip=192.0.2.6",
        b"",
        b"garbage without an envelope",
    ]
    # the odd lines in several ranges: the Python path's samples cross to the main process as texts
    lines = ordinary[:150] + odd + ordinary[150:400] + odd[1:] + ordinary[400:]
    body = b"\n".join(lines) + b"\n" + b"Nov 29 10:00:09 mx postfix/smtpd[1]: " + b"y" * 50_000
    _same(str(_write(tmp_path / "mail.log", body)))


def test_a_rotation_set_with_a_compressed_file_and_a_user_catalog(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "mailtui" / "recognizers"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(
        """
[[recognizer]]
id = "postfix.session.connect"
family = "postfix"
daemons = ["smtpd"]
match = "connect from"
pattern = 'connect from (?P<client_host>mta1[0-9]\\.example\\.org)\\[(?P<client_ip>[^\\]]+)\\]'
severity = "notice"
title = "a busy relay (mine)"
summary = "{client_ip}"
cause = "c"
fix = "f"
samples = ['Nov 29 10:00:00 mx postfix/smtpd[1]: connect from mta13.example.org[203.0.113.5]']
""",
        encoding="utf-8",
    )
    old = _write(tmp_path / "mail.log.2.gz", gzip.compress(_log(2500, 21)))
    middle = _write(tmp_path / "mail.log.1", _log(2500, 22))
    empty = _write(tmp_path / "empty.log", b"")
    current = _write(tmp_path / "mail.log", _log(2500, 23)[:-1])  # no final newline
    out = _same(str(old), str(middle), str(empty), str(current), env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert "a busy relay (mine)" in str(out["--engine python"])  # the user's entry replaced the built-in one


def test_a_damaged_compressed_file_stops_where_the_python_engine_does(tmp_path: Path) -> None:
    data = gzip.compress(_log(3000, 31))
    broken = _write(tmp_path / "mail.log.1.gz", data[: len(data) * 2 // 3])
    after = _write(tmp_path / "mail.log", _log(800, 32))
    out = _same(str(broken), str(after))
    assert "compressed data is corrupt or truncated after line" in str(out["--engine fast --json"])


def test_a_read_that_stops_drops_the_later_ranges_of_that_file_only(tmp_path: Path) -> None:
    # (a read error inside a range cannot be made on purpose here: the fold is given the parts)
    comp = fold._Compiled(default_engine())
    result = fold.FastScan(fold.ScanSummary())
    damaged: list[str] = []
    first = workers._Folding(fold.Fold(comp, result, "a.log", STAMP, None, None))
    second = workers._Folding(fold.Fold(comp, result, "b.log", STAMP, None, None))
    parts = [
        (first, workers.Part([], 10)),
        (first, workers.Part([], 5, "Input/output error")),
        (first, workers.Part([], 7)),  # read after the error: not the file's
        (second, workers.Part([], 3)),
    ]
    for folding, part in parts:
        workers._fold(folding, _Done(part), damaged)  # type: ignore[arg-type]
    assert damaged == ["a.log: read error after line 15 (Input/output error); the rest of this file was not read"]
    assert (first.lines, second.lines) == (-1, 3)


def test_workers_only_where_they_can_run_and_pay(tmp_path: Path) -> None:
    small = _write(tmp_path / "small.log", _log(50, 1))
    big = _write(tmp_path / "big.log", b"x\n" * (fold.BLOCK_BYTES // 2 + 1))
    code = (
        "import sys; from mailtui.analysis.fast import workers;"
        f"print(workers.use_workers([{str(big)!r}], 2), workers.use_workers([{str(big)!r}], 1),"
        f" workers.use_workers([{str(small)!r}], 2));"
        "import polars; print(workers.use_workers([sys.argv[1]], 2))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(big)], capture_output=True, text=True, timeout=120, cwd=REPO, check=True
    )
    # large on two cores: yes; one core: no; small: no; Polars already loaded here: no (no fork)
    assert proc.stdout.split() == ["True", "False", "False", "False"]
    import polars  # noqa: F401 - (this process: loaded by the other fast tests, or here)

    assert not workers.use_workers([str(big)], 2)


class _Done:
    def __init__(self, part: workers.Part) -> None:
        self.part = part

    def result(self) -> workers.Part:
        return self.part


def test_the_corpora_in_workers(corpus: Path, tmp_path: Path) -> None:
    """The corpus logs and the realworld lines (other projects' logs: odd envelopes, non-ASCII,
    lines only the Python path takes), many ranges each, in one scan."""
    logs = sorted(str(p) for p in corpus.rglob("*.log"))
    assert len(logs) >= 5, "the corpus logs are missing"
    lines = []
    for tsv in sorted((corpus / "realworld").glob("*.tsv")):
        text = tsv.read_text(encoding="utf-8", errors="surrogateescape")
        lines += [row.split("\t", 1)[0] for row in text.splitlines() if row and not row.startswith("#")]
    assert len(lines) > 500
    realworld = tmp_path / "realworld.log"
    realworld.write_text("".join(line + "\n" for line in lines), encoding="utf-8", errors="surrogateescape")
    os.utime(realworld, (STAMP, STAMP))
    _same(*logs, str(realworld))


_LINE = st.one_of(
    st.sampled_from([line.encode() for line in generate(40, seed=9)]),
    st.just(b""),  # an empty line, also one alone in a range
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),  # controls, invalid UTF-8
    st.integers(1, 3).map(lambda k: b"Nov 29 10:00:00 mx postfix/smtpd[1]: " + b"z" * (k * MAX_LINE_BYTES // 2)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, min_size=1, max_size=30), final=st.booleans(), chunk=st.integers(1, 400))
def test_a_range_read_in_one_go_gives_what_the_pieces_give(
    tmp_path: Path, lines: list[bytes], final: bool, chunk: int
) -> None:
    """_scan_whole (a bounded range in one read) against _scan_pieces (the last range, or one
    larger than two blocks): the same lines, the same folded report, range by range."""
    log = _write(tmp_path / "one.log", b"\n".join(lines) + (b"\n" if final else b""))
    size = log.stat().st_size
    workers._STATE["comp"] = comp = fold._Compiled(default_engine())
    try:
        folds = [fold.Fold(comp, fold.FastScan(fold.ScanSummary()), str(log), STAMP, None, None) for _ in "ab"]
        seen = [0, 0]
        starts = [0, *(i + 1 for i, c in enumerate(log.read_bytes()) if c == 10)]
        # the ranges a scan cuts, then each line as a range of its own (an empty one too)
        ranges = [r for r in line_ranges(str(log), size, chunk) if r[1] is not None]
        for start, end in [*ranges, *pairwise(starts)]:
            assert end is not None
            scanner = workers._file(str(log), STAMP, None, None)
            whole = workers._scan_whole(scanner, str(log), start, end - start)
            pieces = workers._scan_pieces(scanner, str(log), start, end)
            assert (whole.lines, whole.error) == (pieces.lines, pieces.error)
            for i, part in enumerate((whole, pieces)):
                for block in part.blocks:
                    folds[i].add(block, seen[i])
                seen[i] += part.lines
        a, b = (f.result.summary.to_dict() for f in folds)
        assert a == b
    finally:
        workers._STATE.clear()
