"""SVG snapshots of the dashboard at 120x35 and 80x24 (pytest-textual-snapshot).

Update after an intended visual change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

from tests.ui_apps import make_app


async def _settle(pilot) -> None:
    from tests.helpers import settle

    await settle(pilot)


def test_dashboard_wide(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), run_before=_settle)


def test_dashboard_narrow(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(80, 24), run_before=_settle)


def test_help_screen(snap_compare, isolated_config) -> None:
    assert snap_compare(make_app(isolated_config), terminal_size=(120, 35), press=["question_mark"],
                        run_before=_settle)


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
    return MailTuiApp(isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY,
                      services=FixedServices(), clock=lambda: last + 300)


async def _demo_settle(pilot) -> None:
    from mailtui.ui.widgets.log_lines import LogLines

    await _settle(pilot)
    for _ in range(100):
        if len(pilot.app.query_one(LogLines).view) >= 74:
            break
        await pilot.pause(0.05)
    await pilot.pause(0.2)


def test_logs_and_problems_with_demo_data(snap_compare, isolated_config) -> None:
    assert snap_compare(_demo_app(isolated_config), terminal_size=(120, 40), run_before=_demo_settle)


def test_logs_pane_maximized_with_demo_data(snap_compare, isolated_config) -> None:
    assert snap_compare(_demo_app(isolated_config), terminal_size=(120, 40), press=["4", "m", "up", "up"],
                        run_before=_demo_settle)
