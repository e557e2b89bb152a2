"""Loading Polars for the vectorized scan, with our allocator options, in the process that scans.

A block's work allocates ~100 MB and frees it again; when the freed pages go back to the kernel,
the next block faults them in again, zeroed (in this VM ~3-6 us a page fault, and the 1M-line
bench log made 157,000 of them: ~0.6 of its ~4.2 CPU-seconds were the kernel's). So the
process that scans keeps what it freed for the next block, in both allocators:

- Polars' jemalloc reads its options (``_RJEM_MALLOC_CONF``) once, during ``import polars``,
  which puts its defaults ("dirty_decay_ms:500,muzzy_decay_ms:1000") in front of the
  variable's value first. Ours, when the user set nothing, never decay: freed pages stay
  for reuse. Memory stays bounded all the same, by the largest block: the 10 x 5M bench's
  summed PSS 254 MiB against 238 with the earlier 0.3 s decay (target 300), and its scan
  25 % faster (85 s against 113 s). No background thread: with nothing to purge it only woke
  up, ~3x the context switches of a worker (1M-line log: ~26,000 against ~8,600) and ~10 %
  more CPU.
- glibc's malloc (Python's bytes, lists, the read buffer): mallopt() with no trimming of the
  heap and blocks up to 32 MiB from the heap rather than from mmap (its default gives each
  free of a large block back to the kernel). Page faults of the 1M-line log: 157,000 ->
  ~56,000 with both.

After the import the variable is put back as it was (removed, or the user's own), so no
process started from here inherits Polars' or our options.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from types import ModuleType

JEMALLOC_VAR = "_RJEM_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:false,dirty_decay_ms:-1,muzzy_decay_ms:-1"
# mallopt(3) parameters: M_TRIM_THRESHOLD (-1), M_MMAP_THRESHOLD (-3; glibc caps it at 32 MiB)
MALLOPT = ((-1, 1 << 30), (-3, 32 << 20))


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

        _keep_freed_pages()
    finally:
        if before is None:
            os.environ.pop(JEMALLOC_VAR, None)
        else:
            os.environ[JEMALLOC_VAR] = before
    return polars


def _keep_freed_pages() -> bool:
    """glibc's malloc keeps freed memory for reuse (MALLOPT), unless the user tuned it (their
    settings win, as for jemalloc) or it is not glibc. Whether glibc took ours."""
    if any(name in os.environ for name in ("GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # (musl, macOS: no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    answers = [mallopt(param, value) for param, value in MALLOPT]  # (every one set, even after a refusal)
    return answers == [1] * len(MALLOPT)
