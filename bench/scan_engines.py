"""The scan engines against pflogsumm on one generated log, interleaved in one run.

    .venv/bin/python bench/scan_engines.py [--lines 1000000] [--rounds 3]
    (or bench/run.py --only engines, which writes docs/benchmarks.md)

Each round runs pflogsumm and every engine once, one after the other, so a busy machine
weighs on all of them alike; the table has the best wall time of the rounds, the CPU time of
that run (user + system, the workers included: they are waited for) and the ratio
pflogsumm / engine (above 1: faster than pflogsumm). Memory: the peak RSS of the largest single
process, and the peak of the summed PSS (proportional set size: pages shared by the forked
workers counted once) of the process and its workers, sampled every 20 ms, at two file sizes.
To add an engine, add it to ENGINES.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_log import generate  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
MAILTUI = [PYTHON, "-m", "mailtui", "scan"]

#: name -> extra arguments of `mailtui scan`
ENGINES = {
    "python": ["--engine", "python"],
    "parallel": ["--engine", "parallel"],
}


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the process and every child it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def _kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(argv: list[str]) -> tuple[int, int]:
    """(peak RSS of the largest process, peak summed PSS of the tree), KiB."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_pss = peak_rss = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        peak_pss = max(peak_pss, sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))
        peak_rss = max(peak_rss, *(_kib(f"/proc/{p}/status", "VmHWM:") for p in pids))
        time.sleep(0.02)
    return peak_rss, peak_pss


def write_log(path: Path, lines: int) -> None:
    with path.open("w") as fh:
        for line in generate(lines):
            fh.write(line + "\n")


def measure(lines: int = 1_000_000, rounds: int = 3) -> dict[str, object]:
    from bench.run import byte_compile

    byte_compile()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.log", Path(tmp) / "small.log"
        write_log(big, lines)
        write_log(small, lines // 10)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ["pflogsumm", *ENGINES]}
        load = []
        for _ in range(rounds):
            load.append(os.getloadavg()[0])
            runs["pflogsumm"].append(_run(["pflogsumm", str(big)]))
            for name, extra in ENGINES.items():
                runs[name].append(_run([*MAILTUI, *extra, str(big)]))
        mem = {
            name: (memory([*MAILTUI, *extra, str(small)]), memory([*MAILTUI, *extra, str(big)]))
            for name, extra in ENGINES.items()
        }
    best = {name: min(r) for name, r in runs.items()}
    return {"lines": lines, "cores": cores, "rounds": rounds, "best": best, "mem": mem, "load": load}


def section(m: dict[str, object]) -> str:
    n = m["lines"]
    best: dict[str, tuple[float, float]] = m["best"]  # type: ignore[assignment]
    mem: dict[str, tuple[tuple[int, int], tuple[int, int]]] = m["mem"]  # type: ignore[assignment]
    load: list[float] = m["load"]  # type: ignore[assignment]
    pfl = best["pflogsumm"][0]
    rows = []
    for name, (wall, cpu) in best.items():
        what = "pflogsumm (peer)" if name == "pflogsumm" else f"`mailtui scan --engine {name}`"
        rows.append(f"| {what} | {wall:.2f} s | {n / wall:,.0f} | {cpu:.2f} s | {n / cpu:,.0f} | {pfl / wall:.2f} |")
    mrows = [
        f"| `--engine {name}` | {s[0] / 1024:.1f} / {s[1] / 1024:.1f} MiB | {b[0] / 1024:.1f} / {b[1] / 1024:.1f} MiB |"
        for name, (s, b) in mem.items()
    ]
    return f"""## Scan engines against pflogsumm ({n:,} lines, {m["cores"]} cores)

`bench/scan_engines.py`: pflogsumm and each engine one after the other, {m["rounds"]} rounds, on one
generated log (`bench/gen_log.py`); best wall time, and the CPU time of that run (every worker
included). "lines/s per CPU-second" is the rate of one core; "pflogsumm / run" above 1 means faster
than pflogsumm. Load average (1 min) at the start of each round: {", ".join(f"{x:.1f}" for x in load)}
(the machine is shared: the wall times of a parallel run depend on the cores it is given).

| run | wall time | lines/s | CPU time | lines/s per CPU-second | pflogsumm / run |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Memory, peak RSS of the largest process / peak summed PSS of the process and its workers:

| engine | {n // 10:,} lines | {n:,} lines |
|---|---|---|
{chr(10).join(mrows)}
"""


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(section(measure(a.lines, a.rounds)))
