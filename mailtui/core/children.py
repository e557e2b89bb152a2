"""Worker processes that end with the process that started them.

A scan's workers (``--engine parallel`` and ``fast``) wait for their next task on a pipe whose
writing end they inherited themselves, so they never see it close: when the scan's own process
was ended by SIGTERM (``timeout``, ``kill``, systemd) or SIGKILL (the OOM killer) they waited
for ever, each holding its memory (~130 MiB a fast worker). On Linux the kernel ends them
instead: ``PR_SET_PDEATHSIG`` asks for SIGKILL when the parent goes. It is tied to the thread
that forked the worker, so the pools that use it are started from the main thread (the scan
command's). Elsewhere (no prctl) nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> bool:
    """In a worker: SIGKILL when its parent process ends; the worker ends now if ``parent``
    has already gone (it was re-parented before the request took). Whether the kernel took it."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # (not Linux: no prctl)
        return False
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    taken: bool = prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent:
        os._exit(1)  # (no cleanup: the parent that would take the results is gone)
    return taken
