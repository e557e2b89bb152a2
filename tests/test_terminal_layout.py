"""The dashboard in a real terminal (tmux, tests/terminal.py): what a person sees at 80x24,
120x35 and 200x55 with ``mailtui --demo``."""

from __future__ import annotations

from collections.abc import Callable

from tests.terminal import Terminal


def test_the_harness_starts_resizes_and_quits(terminal: Callable[..., Terminal]) -> None:
    term = terminal(["--demo"], size=(120, 35))
    screen = term.wait_for("Bans")
    assert len(screen.splitlines()) <= 35
    term.resize(80, 24)
    # narrow: one pane and the tab strip
    screen = term.wait_for(lambda s: "Services  Problems  Logs  DNS" in s, what="the tab strip")
    assert all(len(line) <= 80 for line in screen.splitlines())
    term.press("q")
    assert term.wait_exit() == 0
