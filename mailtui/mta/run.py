"""Run a configuration tool (postconf, doveconf, ...) with a timeout, never through a shell."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

TOOL_DIRS = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin"


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    stdout: str
    error: str = ""
    stderr: str = ""


def find_tool(name: str) -> str | None:
    """Locate an admin tool even when the user's PATH lacks /usr/sbin (common for non-root)."""
    return shutil.which(name) or shutil.which(name, path=TOOL_DIRS)


def run_tool(argv: list[str], timeout: float = 5.0) -> ToolResult:
    exe = find_tool(argv[0])
    if exe is None:
        return ToolResult(False, "", f"{argv[0]} is not installed")
    try:
        proc = subprocess.run(
            [exe, *argv[1:]], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
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
