"""Loading Polars for the vectorized scan, with our allocator options, in the process that scans.

Polars' allocator (its own jemalloc, options in ``_RJEM_MALLOC_CONF``) reads its options once,
when the library first allocates: during ``import polars``, which writes its defaults
("dirty_decay_ms:500,muzzy_decay_ms:1000") followed by the variable's value into the
environment first. Those keep a finished block's pages 0.5 s dirty then 1 s "muzzy"
(MADV_FREE: still in RSS until the kernel wants them); ours, when the user set nothing, have a
background thread hand them back after 1 s with no muzzy stage (10 M lines in threads: 304 ->
287 MiB peak, CPU the same; purging at once cost +40 % CPU). In worker processes, 0.1 s took
the 1M-line log from 257 to 219 MiB summed PSS but cost a third more system time (pages zeroed
again: 0.62-0.71 -> 0.85-1.08 s) and was slower in each of three interleaved pairs: 1 s stays.
After the import the variable is put back as it was (removed, or the user's own), so no process
started from here inherits Polars' or our options.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

JEMALLOC_VAR = "_RJEM_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"


def installed() -> bool:
    """Whether Polars can be found, without loading it (a process that forks must not)."""
    return "polars" in sys.modules or importlib.util.find_spec("polars") is not None


def polars_module() -> ModuleType:
    """``import polars`` with our allocator options unless the user set theirs (ImportError if
    it is missing or broken)."""
    if "polars" in sys.modules:
        return sys.modules["polars"]
    before = os.environ.get(JEMALLOC_VAR)
    if before is None:
        os.environ[JEMALLOC_VAR] = JEMALLOC_CONF
    try:
        import polars
    finally:
        if before is None:
            os.environ.pop(JEMALLOC_VAR, None)
        else:
            os.environ[JEMALLOC_VAR] = before
    return polars
