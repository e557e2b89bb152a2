"""SVG snapshots of the ban history: the 30-day strip in the Bans pane's border and the jail detail's
bar chart, from the demo's captured history (a real fail2ban-server over four weeks) with the clock
fixed, so the same screen comes out every run.

Update after an intended change with ``pytest tests/test_snapshots_bans_history.py --snapshot-update``.
"""

from __future__ import annotations

import pytest

from tests.ui_apps import FIXED_NOW, FIXED_SUMMARY, FixedServices

SIZES = [(80, 24), (120, 35), (200, 55)]


def _app(isolated_config):
    from mailtui.demo.bans import DemoBans
    from mailtui.ui.app import MailTuiApp

    return MailTuiApp(
        isolated_config,
        watch_tty=False,
        stack_summary=lambda: FIXED_SUMMARY,
        services=FixedServices(),
        bans=DemoBans(clock=lambda: FIXED_NOW),
        clock=lambda: FIXED_NOW,
    )


async def _on_postfix_sasl(pilot) -> None:
    """The postfix-sasl jail highlighted: its bans, its two failing addresses, its strip."""
    from tests.helpers import settle, until

    app = pilot.app
    pane = app.panes["bans"]
    pane.rdns = None  # no reverse lookups: names would depend on the resolver
    await settle(pilot)
    await until(pilot, lambda: pane.insight is not None and pane.table.row_count > 0, what="the demo's history")
    pane.table.focus()
    row = next(i for i in range(pane.table.row_count) if str(pane.table.get_row_at(i)[0]) == "postfix-sasl")
    pane.table.move_cursor(row=row)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_bans_pane_history_strip(snap_compare, isolated_config, size) -> None:
    """The strip in the bottom border at every size; the pending rows where there is room (not 120x35)."""
    keys = ["1"] if size[0] < 100 else []
    assert snap_compare(_app(isolated_config), terminal_size=size, press=keys, run_before=_on_postfix_sasl)


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_jail_detail_chart(snap_compare, isolated_config, size) -> None:
    """Enter on postfix-sasl: thresholds, the 30-day bar chart, pending, repeat offenders."""
    assert snap_compare(_app(isolated_config), terminal_size=size, press=["enter"], run_before=_on_postfix_sasl)
