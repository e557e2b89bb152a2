"""SVG snapshots of the dashboard at 120x35 and 80x24 (pytest-textual-snapshot).

Update after an intended visual change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from tests.ui_apps import make_app


async def _settle(pilot) -> None:
    from tests.test_app_shell import settle

    await settle(pilot)


def test_dashboard_wide(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), run_before=_settle)


def test_dashboard_narrow(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(80, 24), run_before=_settle)


def test_help_screen(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), press=["question_mark"],
                        run_before=_settle)
