"""A file or socket inside a container, as this machine can reach it.

A bind mount makes it an ordinary host path (docker-mailserver's ``mail-logs`` volume, a
mounted ``/var/run/fail2ban``). Without one, root reaches the container's file system through
``/proc/<pid>/root`` (the kernel resolves the path in the container's mount namespace), which
is how docker-mailserver's fail2ban socket and mail log are read when nothing is mounted. The
pid changes when the container restarts, so callers ask again after a failure.
"""

from __future__ import annotations

import os
import posixpath

from mailtui.containers.engine import ContainerState


def host_path(state: ContainerState, path: str) -> str:
    """The host's path for ``path`` in the container: through the longest covering bind mount,
    else through /proc/<pid>/root while it runs; "" when neither reaches it."""
    path = posixpath.normpath(path)
    best = ("", "")
    for source, dest in state.mounts:
        dest = posixpath.normpath(dest)
        if (path == dest or path.startswith(dest.rstrip("/") + "/")) and len(dest) > len(best[1]):
            best = (source, dest)
    if best[1]:
        rest = path[len(best[1]) :].lstrip("/")
        return posixpath.join(best[0], rest) if rest else best[0]
    if state.pid:
        return f"/proc/{state.pid}/root{path}"
    return ""


def reach_problem(state: ContainerState, path: str, name: str) -> str:
    """Why ``path`` in container ``name`` cannot be reached from here ("" when it can)."""
    where = host_path(state, path)
    if not where:
        return f"{path} in container {name}: the container is not running and the path is not mounted"
    if where.startswith("/proc/") and not os.access(f"/proc/{state.pid}/root", os.X_OK):
        return f"{path} in container {name} is only reachable as root (through /proc/{state.pid}/root)"
    return ""
