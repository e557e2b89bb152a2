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
import sys
from typing import TYPE_CHECKING, TextIO

from mailtui.cli.scan_cmd import ScanOptions, ScanOutcome, _scan_python

#: Polars' allocator (its own jemalloc, options in ``_RJEM_MALLOC_CONF``) reads its options once,
#: when the library first allocates: during ``import polars`` below, which writes its defaults
#: ("dirty_decay_ms:500,muzzy_decay_ms:1000") followed by the variable's value into the
#: environment first. Those keep a finished block's pages 0.5 s dirty then 1 s "muzzy"
#: (MADV_FREE: still in RSS until the kernel wants them); ours, when the user set nothing, have a
#: background thread hand them back after 1 s with no muzzy stage (bench/fast_scan.py: 10 M
#: lines 304 -> 287 MiB peak, CPU the same; purging at once cost +40 % CPU). After the import
#: the variable is put back as it was (removed, or the user's own), so no process started from
#: here inherits Polars' or our options.
JEMALLOC_VAR = "_RJEM_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"
_before = os.environ.get(JEMALLOC_VAR)
if _before is None and "polars" not in sys.modules:
    os.environ[JEMALLOC_VAR] = JEMALLOC_CONF
try:
    import polars  # noqa: F401 - missing: fast_unavailable says "pip install 'mailtui[fast]'"
finally:
    if _before is None:
        os.environ.pop(JEMALLOC_VAR, None)
    else:
        os.environ[JEMALLOC_VAR] = _before

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
