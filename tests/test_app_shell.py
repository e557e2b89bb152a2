"""Pilot tests of the dashboard shell: panes, keys, maximize, help, narrow layout, quit."""

from __future__ import annotations

from textual.widgets import Static, Tabs

from mailtui.ui.panes import Pane
from mailtui.ui.screens.help import HelpScreen
from tests.helpers import settle, until
from tests.ui_apps import FIXED_SUMMARY, make_app


async def test_wide_layout_shows_every_pane(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        panes = list(app.query(Pane))
        assert [p.id for p in panes] == ["bans", "services", "problems", "logs", "dns"]
        assert all(p.display and p.region.height >= 3 for p in panes)
        assert not app.query_one(Tabs).display
        # the fixed services report has Dovecot installed but stopped: the top bar says so, once
        # the app has handled the Services poll's DaemonsSeen (a message after that worker ended)
        bar = await until(
            pilot,
            lambda: "(installed, not running)" in (text := str(app.query_one("#topbar", Static).render())) and text,
            what="the top bar with the Services pane's finding",
        )
        assert FIXED_SUMMARY.replace("Dovecot 2.3.19.1", "Dovecot 2.3.19.1 (installed, not running)") in bar


async def test_panes_without_a_source_say_so(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        dns = app.query_one("#dns", Pane)
        assert str(dns.status.render()).startswith("press d to type a domain to check")
        bans = str(app.query_one("#bans", Pane).status.render())
        assert bans.startswith("fail2ban: not connected — /nonexistent/fail2ban.sock does not exist")
        assert "/nonexistent/fail2ban.log: does not exist" in bans


async def test_narrow_layout_switches_panes_with_tabs_and_keys(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.query_one(Tabs).display
        visible = [p.id for p in app.query(Pane) if p.region.height > 0]
        assert visible == ["bans"]
        await pilot.press("4")
        await pilot.pause()
        assert [p.id for p in app.query(Pane) if p.region.height > 0] == ["logs"]
        assert app.query_one(Tabs).active == "tab-logs"


async def test_maximize_and_restore(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        app.query_one("#logs", Pane).focus()
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.maximized is app.query_one("#logs")
        assert app.query_one("#logs").region.height > 30
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_help_opens_and_closes(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one(Static).render())
        assert "Maximize" in text and "Quit" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_key(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_read_only_is_shown(isolated_config) -> None:
    isolated_config.set("ui.read_only", True, "command line")
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert "read-only" in str(app.query_one("#topbar", Static).render())


async def test_long_lived_objects_leave_the_collector_while_running(isolated_config) -> None:
    """Full collections would otherwise rescan Textual's DOM and the catalog on every pause."""
    import gc

    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 10_000
        assert all(o is not app for o in gc.get_objects(generation=2))  # frozen: not scanned
        assert gc.get_threshold()[2] >= 40
    assert gc.get_freeze_count() == 0  # after exit, what the app leaves is collectable again
    assert gc.get_threshold() == before
