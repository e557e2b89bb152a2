"""The dashboard's keys in a real terminal (tmux, tests/terminal.py), as a person presses them.

At 80x24, 120x35 and 200x55, with ``mailtui --demo`` and with ``--log`` files: Tab reaches every
pane, no key is typed into an input nobody opened, ``m`` maximizes the focused pane and ``m`` or
Esc restores it (never a screen of hatching), ``?`` lists the focused pane's keys, dialogs close
with q, and ``q`` quits. Which pane has focus is read from the help (its first line names the
pane), since a border colour is not in the captured text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terminal import Terminal, TerminalError, box

Factory = Callable[..., Terminal]
SIZES = [(80, 24), (120, 35), (200, 55)]
PANES = ["Bans", "Services", "Problems", "Logs", "DNS"]
HATCH = "╱╱╱"


def demo(terminal: Factory, size: tuple[int, int]) -> Terminal:
    term = terminal(["--demo"], size=size)
    term.wait_for(lambda s: "Bans ·" in s and "q Quit" in s, what="the dashboard")
    return term


def focused_pane(term: Terminal) -> str:
    """Open the help, read which pane it is for, close it again."""
    term.press("?")
    screen = term.wait_for(lambda s: any(f"│ {p} pane" in s for p in PANES), what="the help")
    term.press("Escape")
    gone(term, "Keys · Esc, q or ? closes")
    return next(p for p in PANES if f"│ {p} pane" in screen)


def gone(term: Terminal, text: str) -> str:
    """Wait until a dialog showing ``text`` has closed, and for the screen switch to finish
    (Textual draws the screen below a moment before it takes keys again)."""
    screen = term.wait_gone(text)
    time.sleep(0.2)
    return screen


def log_config(tmp_path: Path) -> Path:
    """A run on plain log files; nothing of this machine is read and no query leaves 127.0.0.1
    (the DNS pane has no domain to check by default: Postfix's directory does not exist)."""
    mail = tmp_path / "mail.log"
    data = Path(__file__).parent / "data"
    mail.write_text(
        (data / "helo_non_fqdn" / "syslog.log").read_text() + (data / "relay_denied" / "syslog.log").read_text()
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[logs]\nfiles = ["{mail}"]\nfail2ban = "{tmp_path}/none/fail2ban.log"\n'
        f'[fail2ban]\nsocket = "{tmp_path}/none/fail2ban.sock"\n'
        f'[postfix]\nconfig_dir = "{tmp_path}/none/postfix"\n'
        f'[dovecot]\nconfig = "{tmp_path}/none/dovecot.conf"\n'
        f'[dns]\nnameserver = "127.0.0.1:9"\n'
    )
    return config


@pytest.mark.parametrize("size", SIZES)
def test_tab_and_shift_tab_reach_every_pane_and_q_quits(terminal: Factory, size: tuple[int, int]) -> None:
    term = demo(terminal, size)
    assert focused_pane(term) == "Bans"  # the first pane has focus from the start
    seen = []
    for _ in PANES:
        term.press("Tab")
        seen.append(focused_pane(term))
    assert seen == [*PANES[1:], PANES[0]]
    term.press("BTab")
    assert focused_pane(term) == "DNS"
    for number, name in enumerate(PANES, 1):
        term.press(str(number))
        assert focused_pane(term) == name
    term.press("q")
    assert term.wait_exit() == 0


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_no_key_is_typed_into_an_input_nobody_opened(terminal: Factory, size: tuple[int, int]) -> None:
    term = demo(terminal, size)
    # the keys that used to land in the hidden Bans search box (its value became q, then 1235)
    term.press("Tab", "BTab", "1", "3", "b", "5", "m", "m", "2", "1", "Tab", "BTab")
    term.settle(0.3, 3)
    # b in Problems was an action: Bans now looks for that problem's address. Its status row says
    # so ("banned in" is also in the why panel of a highlighted ban, and "banned" in the header)
    screen = term.wait_for(
        lambda s: any(re.match(r"\S+: (not )?banned in ", r.strip()) for r in box(s, "Bans ·")[:1]),
        what="the IP search in the Bans status row",
    )
    ip = box(screen, "Bans ·")[0].split(":")[0].strip()
    term.press("1", "/")  # open the search box: it holds that address and nothing typed
    screen = term.wait_for(lambda s: any(r.strip(" ▊▎") == ip for r in box(s, "Bans ·")), what="the search box")
    assert "1235" not in screen and "q" not in "".join(r for r in box(screen, "Bans ·") if ip in r)
    term.type("q1")  # typed into the input the admin opened (over the selected old value), not keys
    term.wait_for(lambda s: any(r.strip(" ▊▎") == "q1" for r in box(s, "Bans ·")), what="the typed text")
    assert term.exit_status() is None
    term.press("Escape")  # leaves the box; the search is still the address, not "q1"
    screen = term.wait_for(lambda s: not any(r.strip(" ▊▎") == "q1" for r in box(s, "Bans ·")), what="closed")
    assert f"{ip}: " in screen
    term.press("q")
    assert term.wait_exit() == 0


@pytest.mark.parametrize("size", SIZES)
def test_m_maximizes_the_focused_pane_and_m_or_escape_restores(terminal: Factory, size: tuple[int, int]) -> None:
    width, height = size
    term = demo(terminal, size)
    term.press("m")  # right after start: the first pane, not the hidden tab strip
    screen = term.wait_for(lambda s: s.lstrip().startswith("╭─ Bans"), what="Bans maximized")
    assert HATCH not in screen
    assert "╭─ Logs" not in screen and "╭─ Services" not in screen
    assert len(box(screen, "Bans")) >= height - 4  # the whole height, less border and footer
    term.press("m")
    screen = term.wait_for(lambda s: not s.lstrip().startswith("╭─ Bans"), what="restored")
    if width >= 100 and height >= 30:
        assert "╭─ Logs" in screen and "╭─ Services" in screen
    for number, name in enumerate(PANES, 1):
        term.press(str(number), "m")
        screen = term.wait_for(lambda s, n=name: s.lstrip().startswith(f"╭─ {n}"), what=f"{name} maximized")
        assert HATCH not in screen
        others = [p for p in PANES if p != name]
        assert not any(f"╭─ {p}" in screen for p in others), screen
        term.press("Escape")
        term.wait_for(lambda s, n=name: not s.lstrip().startswith(f"╭─ {n}"), what=f"{name} restored")
    term.press("q")
    assert term.wait_exit() == 0


@pytest.mark.parametrize("size", SIZES)
def test_help_lists_the_focused_panes_keys_and_the_global_ones(terminal: Factory, size: tuple[int, int]) -> None:
    term = demo(terminal, size)
    expected = {
        "Bans": ["Find IP", "Sort", "Unban — off (read-only)", "Ban IP — off (read-only)"],
        "Services": ["Flush queue — off (read-only)", "mail queue"],
        "Problems": ["IP in Bans", "Look up", "Explain the problem"],
        "Logs": ["Filter", "Search", "Next match", "Previous match", "Conversation", "Pause", "Wrap"],
        "DNS": ["Domain", "Re-run check"],
    }
    for number, name in enumerate(PANES, 1):
        term.press(str(number), "?")
        screen = term.wait_for(f"│ {name} pane", what=f"the {name} help")
        for words in expected[name]:
            assert words in screen, (name, words, screen)
        assert "Everywhere" in screen and "Quit" in screen and "j k" in screen
        if size[1] >= 24:  # the whole help fits, without scrolling, even at 80x24
            assert "find any action" in screen, screen
        term.press("q")  # q closes the help, it does not quit
        gone(term, f"│ {name} pane")
        assert term.exit_status() is None
    term.press("q")
    assert term.wait_exit() == 0


def test_demo_says_read_only_and_refuses_unban_with_a_reason(terminal: Factory) -> None:
    term = demo(terminal, (80, 24))
    # the footer lists the Bans pane's keys once that pane has focus, which can be a frame after
    # the app's own keys ("q Quit") are drawn
    screen = term.wait_for(
        lambda s: "DEMO, read-only" in s.splitlines()[0] and "Find IP" in s.splitlines()[-1],
        what="the demo's header and the Bans pane's keys in the footer",
    )
    assert "DEMO, read-only" in screen.splitlines()[0]  # visible even at 80 columns
    footer = screen.splitlines()[-1]
    assert "Find IP" in footer and "Unban" not in footer and "Ban IP" not in footer
    term.press("2")
    footer = term.settle(0.3, 2).splitlines()[-1]
    assert "Flush" not in footer
    term.press("1", "Down", "Down", "u")
    term.wait_for("read-only mode: unban is disabled")
    assert "Confirm" not in term.screen()


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_dialogs_close_with_q_and_show_their_own_keys(terminal: Factory, size: tuple[int, int]) -> None:
    term = demo(terminal, size)
    term.press("4", "Enter")  # explain the newest line
    screen = term.wait_for(
        lambda s: "Close" in s.splitlines()[-1] and "Copy" in s.splitlines()[-1], what="the explanation's footer"
    )
    footer = screen.splitlines()[-1]
    assert "Copy" in footer and "Conversation" not in footer and "Filter" not in footer, footer
    term.press("?")
    term.wait_for("│ Explanation")
    term.press("q")
    gone(term, "│ Explanation")
    term.press("q")  # closes the explanation
    screen = term.wait_for(lambda s: "Filter" in s.splitlines()[-1], what="the Logs footer again")
    assert term.exit_status() is None
    term.press("2")
    # the queue dialog (Enter on the queue row) obeys q too
    screen = term.wait_for(
        lambda s: (
            any(r.split()[:1] == ["what"] for r in box(s, "Services"))
            and any(r.split()[:1] == ["queue"] for r in box(s, "Services"))
        ),
        what="the Services header and queue row",
    )
    rows = box(screen, "Services")
    header = next(i for i, r in enumerate(rows) if r.split()[:1] == ["what"])
    queue = next(i for i, r in enumerate(rows) if r.split()[:1] == ["queue"]) - header - 1
    term.press("g", *["Down"] * queue, "Enter")
    term.wait_for("Mail queue", what="the queue dialog")
    # the dialog's footer is drawn a frame after its box: read it once it is there
    screen = term.wait_for(lambda s: "Close" in s.splitlines()[-1], what="the queue dialog's footer")
    footer = screen.splitlines()[-1]  # the dialog's own footer: hold/release/delete are off in the demo
    assert "Close" in footer and "Hold" not in footer and "Find IP" not in footer, footer
    term.press("?")
    term.wait_for("Hold — off (read-only)", what="the queue dialog's help")
    term.press("Escape")
    gone(term, "Hold — off (read-only)")
    term.press("q")
    gone(term, "Mail queue ·")
    assert term.exit_status() is None
    term.press("q")
    assert term.wait_exit() == 0


def test_log_files_run_focus_dns_validation_and_quit(terminal: Factory, tmp_path: Path) -> None:
    term = terminal(["--config", str(log_config(tmp_path))], size=(120, 35))
    term.wait_for("NOQUEUE: reject", what="the log lines")
    assert focused_pane(term) == "Bans"
    for name in [*PANES[1:], PANES[0]]:
        term.press("Tab")
        assert focused_pane(term) == name
    term.press("5", "m", "r")  # commands on the findings, never text in the domain box
    term.press("Escape")
    term.wait_for(lambda s: not s.lstrip().startswith("╭─ DNS"), what="the DNS pane restored")
    term.press("d")
    term.wait_for("domain to check, then Enter", what="the empty domain input")
    term.type("bad domain!")
    term.press("Enter")
    term.wait_for("is not a domain name", what="the reason (a one-line notification)")
    assert "checking bad" not in term.screen()
    term.press("Escape")
    gone(term, "domain to check, then Enter")
    term.press("3", "?")
    term.wait_for("│ Problems pane")
    term.press("Escape")
    gone(term, "│ Problems pane")
    term.press("q")
    assert term.wait_exit() == 0


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_keys_typed_in_one_burst_act_on_the_pane_just_chosen(terminal: Factory, size: tuple[int, int]) -> None:
    """Textual moves focus a moment after it is asked to: "3m" typed at once used to maximize the
    pane before (hidden at 80x24: a screen of hatching), and Tab Tab Shift-Tab went astray."""
    term = demo(terminal, size)
    for number, name in enumerate(PANES, 1):
        term.send_burst(str(number), "m")
        screen = term.wait_for(lambda s, n=name: s.lstrip().startswith(f"╭─ {n}"), what=f"{name} maximized")
        assert HATCH not in screen
        term.send_burst("Escape")
        term.wait_for(lambda s, n=name: not s.lstrip().startswith(f"╭─ {n}"), what=f"{name} restored")
    term.send_burst("1", "Tab", "Tab", "Tab", "BTab")
    time.sleep(0.5)
    assert focused_pane(term) == "Problems"
    term.send_burst("4", "/")
    term.wait_for("re:REGEX", what="the Logs filter box (its placeholder)")
    term.press("Escape")
    term.wait_gone("re:REGEX")  # the box closed
    term.press("q")
    assert term.wait_exit() == 0


def test_a_key_right_after_escape_is_refused_by_the_harness(tmp_path: Path) -> None:
    """ESC and the next key read at once are Alt+key (Textual, like every terminal app): a test
    that sends one right after Escape, without waiting for what Escape does, flakes on a busy
    machine. The harness refuses it before anything is sent (no tmux is started here)."""
    term = Terminal(["--demo"], config_home=tmp_path)
    with pytest.raises(TerminalError, match="right after Escape"):
        term.press("Escape", "q")
    with pytest.raises(TerminalError, match="right after Escape"):
        term.send_burst("Escape", "d")
    term._after_escape = True  # as press("Escape") leaves it
    for send in (lambda: term.press("d"), lambda: term.type("x"), lambda: term.send_burst("q")):
        with pytest.raises(TerminalError, match="right after Escape"):
            send()
