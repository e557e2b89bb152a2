"""SVG snapshots of the help (``?``) for each pane and for a dialog, at 80x24, 120x35 and 200x55.

The help lists the focused pane's keys first, then the global ones; it must fit an 80x24
terminal without scrolling. Update after an intended change with
``pytest tests/test_snapshots_help.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from tests.ui_apps import make_app

SIZES = [(80, 24), (120, 35), (200, 55)]
PANES = ["1", "2", "3", "4", "5"]  # Bans, Services, Problems, Logs, DNS


async def _settle(pilot) -> None:
    from tests.helpers import settle_drawn

    await settle_drawn(pilot)  # the dashboard behind the help is in the picture too


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("pane", PANES, ids=["bans", "services", "problems", "logs", "dns"])
def test_pane_help(snap_compare, isolated_config, pane: str, size: tuple[int, int]) -> None:
    assert snap_compare(
        make_app(isolated_config), terminal_size=size, press=[pane, "question_mark"], run_before=_settle
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_read_only_bans_help(snap_compare, isolated_config, size: tuple[int, int]) -> None:
    isolated_config.set("ui.read_only", True, "test")
    assert snap_compare(make_app(isolated_config), terminal_size=size, press=["1", "question_mark"], run_before=_settle)


def test_queue_dialog_help(snap_compare, isolated_config) -> None:
    async def open_queue(pilot) -> None:
        await _settle(pilot)
        await pilot.press("2")
        pilot.app._open_queue()
        await pilot.pause(0.3)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(make_app(isolated_config), terminal_size=(80, 24), run_before=open_queue)
