"""SVG snapshots of the dashboard at 120x35 and 80x24 (pytest-textual-snapshot).

Update after an intended visual change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_apps import make_app


async def _settle(pilot) -> None:
    from tests.helpers import settle_drawn

    await settle_drawn(pilot)


def test_dashboard_wide(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), run_before=_settle)


def test_dashboard_narrow(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(80, 24), run_before=_settle)


def test_help_screen(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), press=["question_mark"], run_before=_settle)


def _demo_app(isolated_config):
    """The Logs and Problems panes fed the shipped demo logs as files, with the clock fixed five
    minutes after their last line (ages and trends do not drift between runs)."""
    from mailtui.demo import DEMO_LOGS
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.ui.app import MailTuiApp
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    data = Path(__file__).resolve().parent.parent / "mailtui" / "demo" / "data"
    files = [str(data / name) for name in DEMO_LOGS]
    last = max(EnvelopeParser(source=f).parse(Path(f).read_text().splitlines()[-1]).timestamp for f in files)
    isolated_config.set("logs.files", files, "test")
    return MailTuiApp(
        isolated_config,
        watch_tty=False,
        stack_summary=lambda: FIXED_SUMMARY,
        services=FixedServices(),
        clock=lambda: last + 300,
    )


async def _demo_settle(pilot) -> None:
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.helpers import settle_drawn, until

    lines = pilot.app.query_one(LogLines)
    await until(pilot, lambda: len(lines.view) >= 74, what="the 74 demo lines in the log view")
    # the Problems pane draws the last batch on its redraw timer, up to 0.5 s later
    await settle_drawn(pilot, what="the demo lines' problems drawn")
    await pilot.pause(0.1)


def test_logs_and_problems_with_demo_data(snap_compare, isolated_config) -> None:
    assert snap_compare(_demo_app(isolated_config), terminal_size=(120, 40), run_before=_demo_settle)


def test_logs_pane_maximized_with_demo_data(snap_compare, isolated_config) -> None:
    assert snap_compare(
        _demo_app(isolated_config), terminal_size=(120, 40), press=["4", "m", "up", "up"], run_before=_demo_settle
    )


# -- issue 15: the populated panes at every size --------------------------------------------------
SIZES = [(80, 24), (120, 35), (200, 55)]


def _populated_app(isolated_config):
    """The demo's captured fail2ban snapshot and DNS check, the fixed services report (with
    alerts), the clock fixed: the same screen every run."""
    from mailtui.demo.bans import DemoBans
    from mailtui.demo.dns import DemoDns
    from mailtui.ui.app import MailTuiApp
    from tests.ui_apps import FIXED_NOW, FIXED_SUMMARY, FixedServices

    return MailTuiApp(
        isolated_config,
        watch_tty=False,
        stack_summary=lambda: FIXED_SUMMARY,
        services=FixedServices(),
        bans=DemoBans(clock=lambda: FIXED_NOW),
        dns=DemoDns(step=0),
        clock=lambda: FIXED_NOW,
    )


async def _populated_settle(pilot) -> None:
    from mailtui.ui.panes.dns import DnsPane
    from tests.helpers import until

    app = pilot.app
    app.panes["bans"].rdns = None  # no reverse lookups: names would depend on the resolver
    # with the captured failures no jail counted, drawn on the Problems pane's first redraw tick
    await _settle(pilot)
    dns = app.query_one(DnsPane)
    # the marks against the demo's previous run are drawn
    await until(pilot, lambda: dns.done and dns.changes.compared, what="the DNS check compared")
    app.panes["bans"]._fill()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_populated_dashboard(snap_compare, isolated_config, size) -> None:
    """Bans with four jails and the first jail's banned IPs, DNS findings worst first, the
    services report and its alert bar; at 80x24 the Bans tab."""
    assert snap_compare(_populated_app(isolated_config), terminal_size=size, run_before=_populated_settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dns_results(snap_compare, isolated_config, size) -> None:
    """The DNS pane on its own (tab 5 at 80x24, maximized when wide): findings and the detail."""
    keys = ["5"] if size[0] < 100 else ["5", "m"]
    assert snap_compare(_populated_app(isolated_config), terminal_size=size, press=keys, run_before=_populated_settle)


async def _demo_at_end(pilot) -> None:
    """All demo lines in, and the view pinned to the newest (then "up" selects the same line)."""
    from mailtui.ui.widgets.log_lines import LogLines

    await _demo_settle(pilot)
    pilot.app.query_one(LogLines).action_follow()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_explanation_panel(snap_compare, isolated_config, size) -> None:
    assert snap_compare(
        _demo_app(isolated_config), terminal_size=size, press=["4", "up", "enter"], run_before=_demo_at_end
    )
