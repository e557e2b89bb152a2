"""Loading Polars for the vectorized scan, with our allocator options, in the process that scans.

Polars' allocator (its own jemalloc, options in ``_RJEM_MALLOC_CONF``) reads its options once,
when the library first allocates: during ``import polars``, which writes its defaults
("dirty_decay_ms:500,muzzy_decay_ms:1000") followed by the variable's value into the
environment first. Those keep a finished block's pages 0.5 s dirty then 1 s "muzzy"
(MADV_FREE: still in RSS until the kernel wants them); ours, when the user set nothing, have a
background thread hand them back after 0.3 s with no muzzy stage. A worker process ends a block
every ~0.17 s, and what the summed PSS of a scan peaks at depends on how many blocks' freed
pages are still held: 2 files x 5M lines 289 MiB with 1 s, 262 with 0.3 s (the 10 x 5M bench was
at 299 with 1 s, the 300 MiB target); CPU the same within noise in interleaved runs. 0.1 s cost
a third more system time (pages zeroed again); purging at once +40-50 % CPU. After the import
the variable is put back as it was (removed, or the user's own), so no process started from
here inherits Polars' or our options.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

JEMALLOC_VAR = "_RJEM_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:true,dirty_decay_ms:300,muzzy_decay_ms:0"


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
