"""Pilot tests of the focus model, maximize, stable selection, help, footer, dialogs and palette.

Each test names the item of issue 15 it proves; each failed on the code before the fix (the
focus landed in the hidden Bans search box, m maximized the hidden tab strip, the Problems
cursor stayed on a row position while the groups re-sorted, ...). The same behaviour is checked
in a real terminal in tests/test_terminal.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import Input, Static, Tabs
from textual.widgets._footer import FooterKey

from mailtui import config
from mailtui.ui.panes import PANE_ORDER, BansPane, DnsPane, LogsPane, Pane, ProblemsPane
from mailtui.ui.screens.explain import ExplainScreen
from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.screens.queue import QueueScreen
from tests.helpers import settle, until
from tests.ui_apps import make_app

SIZES = [(80, 24), (120, 35), (200, 55)]
PANE_IDS = [cls.PANE_ID for cls in PANE_ORDER]


def shown(widget: Widget) -> bool:
    """On screen: displayed itself and every ancestor displayed, inside a pane with a region.

    (How many rows a pane gives its table is the layout's business, tested with the layout.)"""
    node: Widget | None = widget
    while node is not None and not isinstance(node, Pane):
        node = node.parent if isinstance(node.parent, Widget) else None
    return (
        all(n.display for n in widget.ancestors_with_self if isinstance(n, Widget)) and (node or widget).region.area > 0
    )


def pane_of(widget: Widget | None) -> str:
    node = widget
    while node is not None and not isinstance(node, Pane):
        node = node.parent  # type: ignore[assignment]
    return node.id if node is not None else ""


def help_text(app) -> str:
    assert isinstance(app.screen, HelpScreen)
    return str(app.screen.query_one(Static).render())


def footer_keys(app) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


# -- item 1: focus never in a hidden widget; Tab / Shift-Tab / 1-5 reach every pane ---------------
@pytest.mark.parametrize("size", SIZES)
async def test_focus_starts_in_the_first_pane_and_tab_visits_every_pane(isolated_config, size) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert pane_of(app.focused) == PANE_IDS[0] and shown(app.focused)
        seen = []
        for _ in range(len(PANE_IDS)):
            await pilot.press("tab")
            assert app.focused is not None and not isinstance(app.focused, (Input, Tabs))
            assert shown(app.focused), f"focus went to a hidden widget: {app.focused!r}"
            seen.append(pane_of(app.focused))
        assert seen == [*PANE_IDS[1:], PANE_IDS[0]]
        back = []
        for _ in range(len(PANE_IDS)):
            await pilot.press("shift+tab")
            assert shown(app.focused)
            back.append(pane_of(app.focused))
        assert back == list(reversed(PANE_IDS))
        for number, pane_id in enumerate(PANE_IDS, 1):
            await pilot.press(str(number))
            assert pane_of(app.focused) == pane_id and shown(app.focused)
            assert not isinstance(app.focused, Input)


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_global_keys_are_never_typed_into_an_input_nobody_opened(isolated_config, size) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("tab", "shift+tab", "1", "3", "b", "5", "m", "m", "2", "1", "tab")
        inputs = list(app.query(Input))
        assert inputs and all(i.value == "" for i in inputs), [(i.id, i.value) for i in inputs]
        assert not any(i.has_focus for i in inputs)
        await pilot.press("q")
        await pilot.pause()
    assert not app.is_running and app.return_code == 0


async def test_an_input_opens_with_its_key_and_escape_puts_the_value_back(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        bans = app.query_one(BansPane)
        await pilot.press("1", "slash")
        assert bans.search_input.has_focus and shown(bans.search_input)
        await pilot.press(*"q1m")  # typed: this input was opened by its key
        assert bans.search_input.value == "q1m" and app.is_running
        await pilot.press("escape")
        assert bans.search_input.value == "" and not shown(bans.search_input)
        assert pane_of(app.focused) == "bans" and not isinstance(app.focused, Input)
        logs = app.query_one(LogsPane)
        await pilot.press("4", "slash", *"smtpd", "enter")
        assert logs.filter_text == "smtpd" and logs.lines.has_focus
        await pilot.press("slash", "backspace", "backspace", "escape")
        assert logs.filter_input.value == "smtpd" and logs.filter_text == "smtpd"


# -- item 2: m maximizes the focused pane (never the hidden tab strip); m or Esc restores --------
@pytest.mark.parametrize("size", SIZES)
async def test_m_right_after_start_maximizes_the_first_pane(isolated_config, size) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("m")
        first = app.query_one(f"#{PANE_IDS[0]}")
        assert app.screen.maximized is first
        assert first.region.height >= size[1] - 3 and first.region.width == size[0]
        await pilot.press("m")
        assert app.screen.maximized is None
        for number, pane_id in enumerate(PANE_IDS, 1):
            await pilot.press(str(number), "m")
            assert app.screen.maximized is app.query_one(f"#{pane_id}")
            await pilot.press("escape")
            assert app.screen.maximized is None


async def test_escape_closes_the_input_before_restoring_the_pane(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("4", "m", "slash", "x", "escape")
        assert app.screen.maximized is app.query_one(LogsPane)  # the first escape left the input
        await pilot.press("escape")
        assert app.screen.maximized is None


# -- item 5: the selection follows its row across re-sorts; b acts on what is highlighted --------
def _helo(stamp: str, ip: str, unknown: bool) -> str:
    reason = (
        "450 4.7.1 <x.invalid>: Helo command rejected: Host not found"
        if unknown
        else "504 5.5.2 <pc1>: Helo command rejected: need fully-qualified hostname"
    )
    return (
        f"Feb 19 10:00:{stamp} mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[{ip}]: {reason}; "
        f"from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<pc1>\n"
    )


async def test_problems_selection_follows_its_group_when_rows_re_sort(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    log = tmp_path / "mail.log"
    log.write_text(_helo("01", "192.0.2.9", unknown=False) + _helo("02", "192.0.2.77", unknown=True))
    cfg = config.load(
        None,
        {"logs.files": [str(log)], "fail2ban.socket": "/nonexistent/f2b.sock", "logs.fail2ban": "/nonexistent/f2b.log"},
    )
    app = make_app(cfg)
    async with app.run_test(size=(120, 35)) as pilot:
        problems = app.query_one(ProblemsPane)
        for _ in range(100):
            if problems.table.row_count == 2:
                break
            await pilot.pause(0.05)
        assert [g.recognizer.id for g in problems.ordered()] == ["postfix.helo.unknown", "postfix.helo.non_fqdn"]
        await pilot.press("3", "down", "up")  # the admin picks the top group
        chosen = problems.selected_group()
        assert chosen is not None and chosen.recognizer.id == "postfix.helo.unknown"
        with log.open("a") as fh:  # the other group gets a newer line: it sorts above the chosen one
            fh.write(_helo("03", "192.0.2.9", unknown=False))
        for _ in range(100):
            if problems.ordered()[0].recognizer.id == "postfix.helo.non_fqdn" and problems.table.cursor_row == 1:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.6)  # a redraw or two later
        assert problems.table.cursor_row == 1
        assert problems.selected_group() is chosen
        await pilot.press("b")
        assert app.query_one(BansPane).ip_filter == "192.0.2.77"


# -- item 6: 5 focuses the findings; d opens the input; Esc restores; bad names are refused -------
async def test_dns_keys_and_domain_validation(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        dns = app.query_one(DnsPane)
        await pilot.press("5")
        assert dns.table.has_focus and not dns.domain_input.has_focus
        await pilot.press("m", "m", "r")  # commands, not text
        assert dns.domain_input.value == "" and dns.domain == ""
        await pilot.press("d")
        assert dns.domain_input.has_focus and shown(dns.domain_input)
        await pilot.press(*"bad domain!", "enter")
        await pilot.pause(0.1)
        messages = [str(n.message) for n in app._notifications]
        assert any("'bad domain!' is not a domain name: a space is not allowed" in m for m in messages), messages
        assert dns.domain == "" and not [w for w in app.workers if w.group == "dns-check"]
        assert dns.domain_input.has_focus  # still open, to fix it
        await pilot.press("escape")
        assert dns.domain_input.value == "" and dns.table.has_focus and not shown(dns.domain_input)


def test_domain_problem_says_why_in_one_line() -> None:
    from mailtui.dns.names import domain_problem

    assert domain_problem("example.org") == ""
    assert domain_problem("Mail.Example.ORG.") == ""
    assert domain_problem("bücher.example") == ""
    assert domain_problem("xn--bcher-kva.test") == ""
    for bad, why in (
        ("bad domain!", "a space"),
        ("a..b", "empty label"),
        ("-a.org", "hyphen"),
        ("a_b.org", "'_'"),
        ("x" * 64 + ".org", "longer than 63"),
        ("192.0.2.1", "an address"),
        ("", "no domain"),
    ):
        problem = domain_problem(bad)
        assert why in problem and "\n" not in problem, (bad, problem)


# -- item 7: ? lists the focused pane's keys and the global ones; the footer fits -----------------
PANE_KEYS = {
    "bans": ["u  ", "Unban", "U  ", "Unban everywhere", "b  ", "Ban IP", "/  ", "Find IP", "s  ", "Sort", "Copy IP"],
    "services": ["f  ", "Flush queue", "Enter", "mail queue"],
    "problems": ["b  ", "IP in Bans", "l  ", "Look up", "Enter", "Explain the problem", "Copy line"],
    "logs": [
        "/  ",
        "Filter",
        "s  ",
        "Search",
        "n  ",
        "Next match",
        "N  ",
        "Previous match",
        "c  ",
        "Conversation",
        "y  ",
        "Copy",
        "p  ",
        "Pause",
        "W  ",
        "Wrap",
        "End G",
        "Follow",
        "Enter",
        "Explain",
    ],
    "dns": ["d  ", "Domain", "r  ", "Re-run check"],
}

#: a key only that pane has
MARKER = {
    "bans": "Unban everywhere",
    "services": "Flush queue",
    "problems": "IP in Bans",
    "logs": "Conversation",
    "dns": "Re-run check",
}


@pytest.mark.parametrize("size", SIZES)
async def test_help_lists_the_focused_panes_keys_then_the_global_ones(isolated_config, size) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for number, pane_id in enumerate(PANE_IDS, 1):
            await pilot.press(str(number), "question_mark")
            text = help_text(app)
            title = app.query_one(f"#{pane_id}", Pane).TITLE
            assert text.startswith(f"{title} pane"), text
            for word in PANE_KEYS[pane_id]:
                assert word in text, (pane_id, word, text)
            for other, marker in MARKER.items():  # another pane's keys are not listed
                assert (marker in text) == (other == pane_id), (pane_id, marker)
            assert "Everywhere" in text and "Quit" in text and "Maximize" in text and "j k" in text
            await pilot.press("question_mark")  # ? closes it again
            assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("size", SIZES)
async def test_footer_shows_the_panes_actions_and_fits(isolated_config, size) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for number, pane_id in enumerate(PANE_IDS, 1):
            await pilot.press(str(number))
            await pilot.pause(0.1)
            keys = footer_keys(app)
            descriptions = [k.description for k in keys]
            assert "Help" in descriptions and "Quit" in descriptions, (pane_id, descriptions)
            first = next(k for k in PANE_KEYS[pane_id] if not k.endswith("  ") and k != "Enter")
            assert first in descriptions or pane_id == "logs", (pane_id, descriptions)
            assert all(k.region.right <= size[0] for k in keys), [(k.description, k.region) for k in keys]


# -- item 11: --read-only (and the demo) hide the server-changing actions and say why ------------
async def test_read_only_footer_does_not_offer_unban_ban_or_flush(isolated_config) -> None:
    isolated_config.set("ui.read_only", True, "test")
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        offered = []
        for number in "12":
            await pilot.press(number)
            await pilot.pause(0.1)
            offered += [k.description for k in footer_keys(app)]
        assert "Find IP" in offered
        assert not {"Unban", "Ban IP", "Flush queue"} & set(offered), offered
        await pilot.press("1", "u")
        await pilot.pause(0.1)
        assert any("read-only mode: unban is disabled" in str(n.message) for n in app._notifications)
        await pilot.press("question_mark")
        assert "Unban — off (read-only)" in help_text(app)
        assert "read-only" in str(app.query_one("#topbar", Static).render())


async def test_demo_says_it_is_read_only(isolated_config) -> None:
    from mailtui.ui.app import MailTuiApp
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    isolated_config.set("ui.read_only", True, "--demo")
    app = MailTuiApp(
        isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices(), demo=True
    )
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert "DEMO" in str(app.query_one("#topbar", Static).render())
        assert "read-only" in str(app.query_one("#topbar", Static).render())


# -- item 12: the same dialog keys everywhere; a dialog's own footer ----------------------------
async def _explain_something(pilot, app) -> ExplainScreen:
    from mailtui.analysis.live import LiveEntry
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine

    rec = EnvelopeParser(record_type=LiveEntry).parse(_helo("01", "192.0.2.9", unknown=False).rstrip("\n"))
    entry = rec.recognized(default_engine().recognize(rec))
    assert entry.match is not None
    app.push_screen(ExplainScreen(entry))
    await pilot.pause(0.2)
    assert isinstance(app.screen, ExplainScreen)
    return app.screen


@pytest.mark.parametrize("key", ["escape", "q"])
async def test_queue_dialog_closes_with_escape_and_q_and_has_its_own_footer(isolated_config, key) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        app._open_queue()
        await until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue dialog")
        # the dialog's footer is composed after the dialog: wait for its keys
        await until(
            pilot,
            lambda: {"Hold", "Close"} <= {k.description for k in footer_keys(app)},
            what="the queue dialog's footer keys",
        )
        descriptions = [k.description for k in footer_keys(app)]
        assert "Hold" in descriptions and "Close" in descriptions
        assert "Flush queue" not in descriptions and "Maximize" not in descriptions
        footer = list(footer_keys(app))
        assert all(k.screen is app.screen for k in footer)
        await pilot.press("question_mark")
        text = help_text(app)
        assert text.startswith("Mail queue") and "Hold" in text and "Esc q" in text
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)
        await pilot.press(key)
        await pilot.pause(0.1)
        assert not isinstance(app.screen, QueueScreen) and app.is_running


async def test_explanation_copies_with_y_and_closes_with_q(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await _explain_something(pilot, app)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await pilot.press("c")
        assert not copied  # c is "conversation" in the panes, never copy
        await pilot.press("y")
        assert copied and "postfix.helo.non_fqdn" in copied[0]  # the diagnosis, as text
        descriptions = [k.description for k in footer_keys(app)]
        assert "Copy" in descriptions and "Close" in descriptions and "Conversation" not in descriptions
        await pilot.press("q")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ExplainScreen) and app.is_running


# -- the command palette finds every action by the words a person types ---------------------------
WORDS = {
    "ban": "Ban an IP in a jail",
    "unban": "Unban the selected IP",
    "dns": "DNS check of a domain",
    "queue": "Mail queue",
    "help": "Help: keys of the focused pane",
    "maximize": "Maximize or restore",
    "flush": "Flush the mail queue",
    "filter": "Filter the log lines",
    "search": "Search the logs",
    "copy": "Copy the selected log line",
    "who": "Who is complaining?",
    "conversation": "Conversation of",
    "explain": "Explain the selected log line",
    "pause": "Pause or follow",
    "logs": "Go to the Logs pane",
    "sort": "Sort the jails",
    "find ip": "Find an IP in every jail",
    "quit": "Quit",
}


async def test_command_palette_finds_actions_by_their_words(isolated_config) -> None:
    from textual.command import CommandPalette

    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        for word, wanted in WORDS.items():
            app.action_command_palette()
            await pilot.pause(0.2)
            palette = app.screen
            assert isinstance(palette, CommandPalette)
            await pilot.press(*word)
            prompts: list[str] = []
            for _ in range(40):
                await pilot.pause(0.05)
                options = palette.query_one("CommandList").options  # type: ignore[attr-defined]
                prompts = [str(o.prompt) for o in options]
                if any(wanted in p for p in prompts[:5]):
                    break
            assert any(wanted in p for p in prompts[:5]), (word, prompts[:8])
            await pilot.press("escape")
            await pilot.pause(0.05)
            if isinstance(app.screen, CommandPalette):
                await pilot.press("escape")


async def test_palette_command_runs_on_its_pane(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        commands["Find an IP in every jail, banned? (Bans, /)"].callback()
        await pilot.pause(0.1)
        assert app.query_one(BansPane).search_input.has_focus


# -- inside a pane: the same movement keys in every list -----------------------------------------
async def test_lists_move_with_arrows_jk_gG_home_end(isolated_config) -> None:
    from mailtui.ui.panes import ServicesPane

    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        table = app.query_one(ServicesPane).table
        # the report's rows come with the poll's Collected message, handled after settle's pause
        await until(pilot, lambda: table.row_count >= 5, what="the Services report's rows")
        last = table.row_count - 1
        await pilot.press("2")
        for keys, row in (
            (["j", "j"], 2),
            (["k"], 1),
            (["down"], 2),
            (["up"], 1),
            (["G"], last),
            (["g"], 0),
            (["end"], last),
            (["home"], 0),
            (["pagedown"], None),
        ):
            await pilot.press(*keys)
            if row is None:
                assert table.cursor_row > 0
            else:
                assert table.cursor_row == row, (keys, table.cursor_row)


# -- issue 18: a worker that dies says so on screen -------------------------------------------------
async def test_a_failed_worker_becomes_a_notification(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)

        def boom() -> None:
            raise ValueError("the source broke")

        for node in (app.query_one(DnsPane), app):
            worker = node.run_worker(boom, thread=True, exit_on_error=False, group="probe")
            for _ in range(50):
                if worker.is_finished:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.1)

        def messages() -> list[str]:
            return [str(n.message) for n in app._notifications]

        # the notification comes from the worker's state-change message, handled after it ended
        await until(
            pilot,
            lambda: messages().count("probe failed: ValueError: the source broke") >= 2,
            what="both workers' notifications",
        )
        assert messages().count("probe failed: ValueError: the source broke") == 2, messages()
        assert app.is_running


async def test_an_open_input_survives_the_terminal_losing_focus(isolated_config) -> None:
    from textual import events

    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        logs = app.query_one(LogsPane)
        await pilot.press("4", "slash", *"smtpd")
        app.post_message(events.AppBlur())
        await pilot.pause(0.1)
        app.post_message(events.AppFocus())
        await pilot.pause(0.1)
        assert logs.filter_input.has_focus and logs.filter_input.value == "smtpd"
        await pilot.press("enter")
        assert logs.filter_text == "smtpd"
