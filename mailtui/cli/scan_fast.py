"""``scan --engine fast``: the vectorized engine (mailtui/analysis/fast, ``pip install 'mailtui[fast]'``)
behind the contract of scan_cmd's engines. Only scan_cmd imports this module, and it does not
load Polars: the process that scans blocks does (this one for a small input or ``--jobs 1``,
else the worker processes of analysis/fast/workers.py, forked from this one before that).

What the vectorized engine does not do itself goes to the python engine whole, with the same
output: ``--events`` (every event carries context from a correlation that follows each line in
order), ``--unknown`` (shapes of lines nobody explains, Python per line anyway), and stdin,
pipes and devices (read once, as they come).
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, TextIO

# (Polars is loaded by the process that scans blocks only: analysis/fast/load.py, workers.py)
from mailtui.analysis.fast.load import JEMALLOC_CONF, JEMALLOC_VAR, installed  # noqa: F401 - tests read them
from mailtui.cli.output import CliError
from mailtui.cli.scan_cmd import ScanOptions, ScanOutcome, _scan_python
from mailtui.cli.scan_parallel import EXIT_WORKER_LOST

if TYPE_CHECKING:
    from mailtui.recognizers.engine import Engine
    from mailtui.recognizers.explain import Explainer


def unavailable() -> str:
    """Why the engine cannot run here ("" when it can), without loading Polars (a scan in
    worker processes forks them from this process: it must not have Polars loaded)."""
    return "" if installed() else "it needs polars (pip install 'mailtui[fast]')"


def python_only(files: list[str], opts: ScanOptions) -> str:
    """Why this scan goes to the python engine ("" when the vectorized one takes it)."""
    if opts.events:
        return "--events follows each line's conversation in order"
    if opts.unknown:
        return "--unknown shapes lines one by one"
    for name in files:
        if name == "-" or not stat.S_ISREG(os.stat(name).st_mode):
            return f"{name} is read once, as it comes"
    return ""


def scan(
    files: list[str],
    opts: ScanOptions,
    engine: Engine,
    explainer: Explainer | None,
    out: TextIO,
    progress: bool,
    jobs: int = 1,
) -> ScanOutcome:
    """``jobs``: the worker processes a large input is scanned in (1: this process alone)."""
    if python_only(files, opts):
        return _scan_python(files, opts, engine, explainer, out, progress)
    from mailtui.analysis.fast import workers

    damaged: list[str] = []
    if workers.use_workers(files, jobs):
        try:
            result = workers.scan_files(files, engine, opts.since, opts.until, damaged, jobs)
        except workers.WorkerLost as exc:
            raise CliError(f"scan: {exc}: no report", exit_code=EXIT_WORKER_LOST) from None
    else:
        from mailtui.analysis.fast.scan import scan_files

        result = scan_files(files, engine, opts.since, opts.until, damaged)
    return ScanOutcome(
        result.summary,
        None,
        outside=result.outside,
        outside_first=result.outside_first,
        outside_last=result.outside_last,
        damaged=damaged,
    )
