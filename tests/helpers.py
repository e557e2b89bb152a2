"""Helpers every test module may import (test modules never import each other).

* ``scan_engines()``: the scan engines installed here;
* the corpus: ``corpus_dir()`` is ``../shared/corpus`` or a skip with a one-line reason (a
  failure when ``MAILTUI_REQUIRE_CORPUS=1``, as in CI); tests take the ``corpus`` fixture
  (tests/conftest.py), the rig's NSD asks ``corpus_available()``;
* waiting in Pilot tests: ``settle``, ``settle_drawn`` (snapshots), ``until``, ``wait_lines``, ``wait_done``;
* processes: ``proc_stat(pid)``, the fields of /proc/PID/stat after the command name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from textual.pilot import Pilot
    from textual.screen import Screen

    from mailtui.ui.panes.dns import DnsPane
    from mailtui.ui.widgets.log_lines import LogLines

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
REQUIRE_CORPUS_ENV = "MAILTUI_REQUIRE_CORPUS"
T = TypeVar("T")


def corpus_required() -> bool:
    return os.environ.get(REQUIRE_CORPUS_ENV, "") not in ("", "0")


def corpus_available() -> bool:
    return CORPUS.is_dir()


def corpus_dir() -> Path:
    """``../shared/corpus``; skips the calling test (fails it in CI) when it is not there."""
    if corpus_available():
        return CORPUS
    message = f"the shared corpus is not at {CORPUS} (it sits beside the repository: ../shared/corpus)"
    if corpus_required():
        pytest.fail(message + f" ({REQUIRE_CORPUS_ENV} is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


def proc_stat(pid: int | str) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command name: state, ppid, pgrp, session, ...
    (OSError: no such process). The name is cut at its last ")", since it may hold spaces and
    parentheses itself."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def scan_engines() -> list[str]:
    """The scan engines this install has: python and parallel always, fast with Polars."""
    try:
        import polars  # noqa: F401
    except ImportError:
        return ["python", "parallel"]
    return ["python", "parallel", "fast"]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the app's one-shot workers (the log tail worker runs forever), then a pause."""
    for worker in list(pilot.app.workers):
        if worker.group != "log-tail":
            await worker.wait()
    await pilot.pause(0.2)


def _everything_drawn(app: Any) -> bool:
    """What the app was given is on screen: the versions and the Services pane's daemons in the
    top bar (two messages, handled after their workers ended), the Bans and Services polls
    shown, and no redraw of the Problems pane pending (it redraws at most every 0.5 s)."""
    panes = app.panes
    services, problems = panes["services"], panes["problems"]
    return (
        app._stack_text is not None
        and services.report is not None
        and app._daemons_running == services._running_seen
        and panes["bans"].result is not None
        and not problems._dirty
        and not problems.uncaught.ready(app.clock())
    )


async def settle_drawn(pilot: Pilot[Any], what: str = "every pane drawn") -> None:
    """``settle``, then until everything the workers collected is drawn (for snapshots, which
    compare the whole screen: a message handled a moment later is another picture)."""
    await settle(pilot)
    await until(pilot, lambda: _everything_drawn(pilot.app), what=what)
    await pilot.pause(0.1)


async def until(pilot: Pilot[Any], predicate: Callable[[], T], tries: int = 100, what: str = "condition") -> T:
    """The first truthy value of ``predicate``, polled every 0.1 s of the app's time."""
    for _ in range(tries):
        value = predicate()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


S = TypeVar("S", bound="Screen[Any]")


async def until_screen(pilot: Pilot[Any], kind: type[S], tries: int = 100, what: str = "the screen") -> S:
    """The app's screen once it is a ``kind`` and mounted.

    ``app.screen`` is the new screen from ``push_screen`` on, but what its ``on_mount`` fills
    (rows, titles) is there only once it is mounted: a read before that finds an empty table."""
    app = pilot.app
    for _ in range(tries):
        screen = app.screen
        if isinstance(screen, kind) and screen.is_mounted:
            return screen
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_lines(pilot: Pilot[Any], widget: LogLines, count: int, tries: int = 100) -> None:
    """Until the log view holds ``count`` lines."""
    for _ in range(tries):
        if len(widget.view) >= count:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"only {len(widget.view)} of {count} lines arrived")


async def wait_done(pilot: Pilot[Any], pane: DnsPane, timeout: float = 30.0) -> str:
    """Until the DNS pane's check finished (or refused the domain); its status line."""
    for _ in range(int(timeout / 0.1)):
        status = str(pane.status.render())
        if "findings" in status or "is not a valid" in status:
            return status
        await pilot.pause(0.1)
    raise AssertionError(f"the check did not finish: {pane.status.render()}")
