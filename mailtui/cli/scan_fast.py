"""``scan --engine fast``: the vectorized engine (mailtui/analysis/fast, ``pip install 'mailtui[fast]'``)
behind the contract of scan_cmd's engines. Importing this module imports Polars: only
scan_cmd does, and only when that engine was chosen (``fast_unavailable``, ``_run``).

What the vectorized engine does not do itself goes to the python engine whole, with the same
output: ``--events`` (every event carries context from a correlation that follows each line in
order), ``--unknown`` (shapes of lines nobody explains, Python per line anyway), and stdin,
pipes and devices (read once, as they come).
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, TextIO

import polars  # noqa: F401 - missing: fast_unavailable says "pip install 'mailtui[fast]'"

from mailtui.cli.scan_cmd import ScanOptions, ScanOutcome, _scan_python

if TYPE_CHECKING:
    from mailtui.recognizers.engine import Engine
    from mailtui.recognizers.explain import Explainer


def unavailable() -> str:
    """Why the engine cannot run here ("" when it can): Polars imported, so it can."""
    return ""


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
) -> ScanOutcome:
    if python_only(files, opts):
        return _scan_python(files, opts, engine, explainer, out, progress)
    from mailtui.analysis.fast.scan import scan_files

    damaged: list[str] = []
    result = scan_files(files, engine, opts.since, opts.until, damaged)
    return ScanOutcome(
        result.summary,
        None,
        outside=result.outside,
        outside_first=result.outside_first,
        outside_last=result.outside_last,
        damaged=damaged,
    )
