"""Run a configuration tool (postconf, doveconf, ...) with a timeout, never through a shell.

A tool can be *routed* elsewhere: on a mail appliance in containers, ``postconf`` runs inside
the Postfix container (the engine's exec API) and its configuration files are read there.
The readers above (postconf.py, doveconf.py, the Services collector, queue actions) ask
this module and never know the difference; ``mailtui.containers.config`` installs the routes.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mailtui.core.files import read_text_capped

MAX_CONFIG_FILE = 4 << 20  # bytes of main.cf, master.cf or dovecot.conf read
TOOL_DIRS = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin"


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    stdout: str
    error: str = ""
    stderr: str = ""


class Route(Protocol):
    """Where a tool runs instead of this machine, and how its configuration files are read there."""

    @property
    def where(self) -> str: ...  # for messages: "container postfix-mailcow"

    def run(self, argv: list[str], timeout: float) -> ToolResult: ...

    def read_text(self, path: str) -> str | None: ...

    def exists(self, path: str) -> bool: ...

    def label(self, path: str) -> str: ...


_ROUTES: dict[str, Route] = {}
#: which tool's route reads which daemon's files
POSTFIX_TOOLS = ("postconf", "postqueue", "postsuper", "postfix", "postmulti")
DOVECOT_TOOLS = ("doveconf", "dovecot", "doveadm")


def route_tools(tools: Iterable[str], route: Route | None) -> None:
    """Run these tools through ``route`` from now on (None: on this machine again)."""
    for tool in tools:
        if route is None:
            _ROUTES.pop(tool, None)
        else:
            _ROUTES[tool] = route


def clear_routes() -> None:
    """Every tool on this machine again (a test's appliance must not outlive the test)."""
    _ROUTES.clear()


def routed(tool: str) -> Route | None:
    return _ROUTES.get(tool)


def find_tool(name: str) -> str | None:
    """Locate an admin tool even when the user's PATH lacks /usr/sbin (common for non-root)."""
    route = _ROUTES.get(name)
    if route is not None:
        return f"{route.where}: {name}"
    return shutil.which(name) or shutil.which(name, path=TOOL_DIRS)


def read_config(path: Path | str, tool: str) -> str | None:
    """A configuration file of the daemon ``tool`` belongs to (None when it cannot be read)."""
    route = _ROUTES.get(tool)
    if route is not None:
        return route.read_text(str(path))
    try:
        return read_text_capped(path, MAX_CONFIG_FILE)
    except OSError:
        return None


def config_exists(path: Path | str, tool: str) -> bool:
    route = _ROUTES.get(tool)
    return route.exists(str(path)) if route is not None else Path(path).exists()


def config_label(path: Path | str, tool: str) -> str:
    """How a file is named to the admin: inside a container, with the host's path when mounted."""
    route = _ROUTES.get(tool)
    return route.label(str(path)) if route is not None else str(path)


def run_tool(argv: list[str], timeout: float = 5.0) -> ToolResult:
    route = _ROUTES.get(argv[0])
    if route is not None:
        return route.run(argv, timeout)
    exe = find_tool(argv[0])
    if exe is None:
        return ToolResult(False, "", f"{argv[0]} is not installed")
    try:
        proc = subprocess.run([exe, *argv[1:]], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return ToolResult(False, "", f"{argv[0]} did not answer within {timeout:g}s")
    except OSError as exc:
        return ToolResult(False, "", f"{argv[0]}: {exc.strerror}")
    out = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        err = stderr.strip().splitlines()
        return ToolResult(False, out, err[-1] if err else f"{argv[0]} exited {proc.returncode}", stderr)
    return ToolResult(True, out, "", stderr)
