"""The dashboard in a real terminal (tmux, tests/terminal.py): what a person sees at 80x24,
120x35 and 200x55 with ``mailtui --demo`` (and with a fail2ban that is not running)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.terminal import Terminal, box

JAILS = ("dovecot", "postfix", "postfix-sasl", "recidive")  # the demo's captured rig jails
#: a whole loopback address, not one cut short (127.0.0 or 127.0.0.1 of 127.0.0.103)
BANNED_IP = re.compile(r"▸ (127\.0\.0\.\d{3})\b")
BAD_PLURAL = re.compile(r"\b1 (problems|alerts|msgs|jails|findings|ports|bans)\b")

Factory = Callable[..., Terminal]


def jail_rows(rows: list[str]) -> list[str]:
    return [r for r in rows if r.split()[:1] and r.split()[0] in JAILS]


def demo(terminal: Factory, size: tuple[int, int]) -> Terminal:
    term = terminal(["--demo"], size=size)
    # the captured snapshot and the captured DNS check are on screen
    term.wait_for(lambda s: "4 jails" in s, what="the Bans pane's jails")
    return term


def test_the_harness_starts_resizes_and_quits(terminal: Factory) -> None:
    term = terminal(["--demo"], size=(120, 35))
    screen = term.wait_for("Bans")
    assert len(screen.splitlines()) <= 35
    term.resize(80, 24)
    # narrow: one pane and the tab strip
    screen = term.wait_for(lambda s: "Services  Problems  Logs  DNS" in s, what="the tab strip")
    assert all(len(line) <= 80 for line in screen.splitlines())
    term.press("q")
    assert term.wait_exit() == 0


def test_120x35_every_pane_shows_its_core_rows(terminal: Factory) -> None:
    """Issue 15 items 3 and 4: Bans lists four jails and the highlighted jail's banned IPs,
    DNS its worst findings, Services its daemons; every status is one line."""
    term = demo(terminal, (120, 35))

    def every_pane_filled(s: str) -> bool:
        # each pane draws its own poll's result: the DNS title comes a frame before its rows,
        # the Services report may come after the DNS replay
        services = box(s, "Services")
        return (
            "DNS · broken.test · 19 problems" in s
            and len([r for r in box(s, "DNS")[1:] if r.strip().startswith("✗")]) >= 3
            and all(any(r.split()[:1] == [name] for r in services) for name in ("Postfix", "Dovecot", "fail2ban"))
            and bool(BANNED_IP.search("\n".join(box(s, "Bans ·"))))
        )

    screen = term.wait_for(every_pane_filled, what="the DNS check replayed, its findings, Services' daemons, a ban")
    bans = box(screen, "Bans ·")
    assert len(jail_rows(bans)) >= 4, "\n".join(bans)
    assert BANNED_IP.search("\n".join(bans)), "\n".join(bans)
    assert "left" in "\n".join(bans)  # the banned IP's time left beside it
    # the status is the first row, whole on one line (no continuation before the header)
    assert bans[0].strip().startswith("fail2ban 1.0.2") and bans[1].split()[:1] == ["jail"], "\n".join(bans)
    services = box(screen, "Services")
    assert all(any(r.split()[:1] == [name] for r in services) for name in ("Postfix", "Dovecot", "fail2ban"))
    assert services[1].split()[:1] == ["what"], "the status wrapped:\n" + "\n".join(services)
    dns = box(screen, "DNS")
    # worst first: the rows under the status are failures, not the "ok" and "info" ones
    findings = [r for r in dns[1:] if r.strip()]
    assert len(findings) >= 3 and all(r.strip().startswith("✗") for r in findings), "\n".join(dns)
    assert "broken.test" in dns[0]
    assert len(box(screen, "Problems")) >= 4 and len(box(screen, "Logs")) >= 4


def test_the_demo_checks_a_captured_domain_not_localdomain(terminal: Factory) -> None:
    """Item 15: the demo's DNS pane replays the DNS lab's broken.test check."""
    term = demo(terminal, (120, 35))
    screen = term.wait_for("DNS · broken.test · 19 problems")
    assert "localdomain" not in screen
    assert "demo: a captured check" in "".join(box(screen, "DNS"))


def test_80x24_each_tab_shows_its_key_content(terminal: Factory) -> None:
    term = demo(terminal, (80, 24))
    screen = term.screen()
    bans = box(screen, "Bans ·")
    assert len(jail_rows(bans)) == 4 and BANNED_IP.search("\n".join(bans)), screen
    # item 9: the first column holds the IP, whole, at 80 columns
    ips = BANNED_IP.findall("\n".join(bans))
    assert ips and all(ip.count(".") == 3 for ip in ips)
    for key, title, wanted in (
        ("2", "Services", "Postfix"),
        ("3", "Problems", "Cleartext login refused"),
        ("4", "Logs", "postfix/"),
        ("5", "DNS", "✗"),
    ):
        term.press(key)
        screen = term.wait_for(lambda s, t=title, w=wanted: w in "\n".join(box(s, t)), what=f"{title}: {wanted}")
        assert all(len(line) <= 80 for line in screen.splitlines())
        assert not BAD_PLURAL.search(screen), BAD_PLURAL.search(screen)


def test_logs_wrap_toggle_and_sideways_scroll_at_80(terminal: Factory) -> None:
    """Item 9: at 80 columns a long message is cut; W wraps it, W again unwraps, right scrolls."""
    term = demo(terminal, (80, 24))
    term.press("4")
    # the replay adds lines all the time: wait for a long one to be on screen
    screen = term.wait_for(
        lambda s: "Logs ·" in s and "postfix/" in s and any(r.endswith("…") for r in box(s, "Logs ·")),
        what="a log line cut at 80 columns",
    )
    cut = box(screen, "Logs ·")
    assert any(r.endswith("…") for r in cut), "\n".join(cut)
    term.press("W")
    screen = term.wait_for("wrapped (W)")
    rows = box(screen, "Logs ·")
    # continuation rows: indented under the message column, no time stamp
    assert any(r.startswith(" " * 30) and r.strip() for r in rows), "\n".join(rows)
    assert not any(r.endswith("…") for r in rows), "\n".join(rows)
    term.press("W")
    term.wait_gone("wrapped (W)")
    before = box(term.screen(), "Logs ·")
    term.press("Up", "Right", "Right")  # hold the view (not following), then scroll sideways
    time.sleep(0.5)
    after = box(term.screen(), "Logs ·")
    assert after != before
    # the time and program column stay where they were
    assert all(re.match(r"^ *[•⚠✖]? *\d\d:\d\d:\d\d ", r) for r in after if r.strip()), "\n".join(after)


def test_200x55_uses_the_space(terminal: Factory) -> None:
    term = demo(terminal, (200, 55))
    term.wait_for("DNS · broken.test · 19 problems", what="the DNS check replayed")
    # the DNS rows are drawn a frame after its title: wait for them with the log lines
    screen = term.wait_for(
        lambda s: (
            len([r for r in box(s, "Logs ·") if r.strip()]) >= 12 and len([r for r in box(s, "DNS") if "✗" in r]) >= 6
        ),
        what="12 log lines and 6 failed DNS findings",
    )
    bans = box(screen, "Bans ·")
    assert len(jail_rows(bans)) == 4 and len(BANNED_IP.findall("\n".join(bans))) >= 4
    assert len([r for r in box(screen, "DNS") if "✗" in r]) >= 6
    assert "ban time" in "\n".join(bans) and "since" in "\n".join(bans)  # the wide pane has every column


def test_resizing_keeps_it_usable(terminal: Factory) -> None:
    term = demo(terminal, (120, 35))
    for width, height in ((80, 24), (200, 55), (100, 30), (120, 35)):
        term.resize(width, height)
        # the redraw at the new size has every jail (a loaded machine may take a moment)
        screen = term.wait_for(
            lambda s, w=width: len(s.splitlines()[0]) <= w and len(jail_rows(box(s, "Bans ·"))) == 4,
            what=f"a redraw at {width}x{height}",
        )
        assert len(screen.splitlines()) <= height
    term.press("q")
    assert term.wait_exit() == 0


def _f2b_log(path: Path) -> None:
    from mailtui.demo import demo_data_text

    path.write_text(demo_data_text("fail2ban.log"))


def test_fail2ban_not_running_says_where_the_bans_come_from(terminal: Factory, tmp_path: Path) -> None:
    """Item 10: no fail2ban socket: the pane says fail2ban is not running and which file, as of
    when, the bans below come from; a ban without a known end says so instead of '? left'."""
    log = tmp_path / "a-rather-long-directory-name-for-the-logs" / "fail2ban.log"
    log.parent.mkdir()
    _f2b_log(log)
    stamp = 1_796_000_000
    import os

    os.utime(log, (stamp, stamp))
    mail = tmp_path / "mail.log"
    mail.write_text("")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[fail2ban]\nsocket = "{tmp_path}/none/fail2ban.sock"\n[logs]\nfail2ban = "{log}"\nfiles = ["{mail}"]\n'
    )
    term = terminal(["--config", str(config)], size=(120, 35))
    screen = term.wait_for(
        lambda s: "fail2ban is not running" in s and any(BANNED_IP.search(r) for r in box(s, "Bans ·")),
        what="the bans read from fail2ban.log, with their addresses",
    )
    bans = box(screen, "Bans ·")
    head = bans[0]
    # half of 120 columns: the first clause moves to the border title, the rest stays one line
    assert "Bans · 4 jails · 2 banned · fail2ban is not running" in screen
    assert head.strip().startswith("Bans below are from") and "fail2ban.log" in head and "as of" in head, head
    assert "…" in head  # the long path shortened in its middle, the line kept whole
    assert bans[1].split()[:1] == ["jail"], "\n".join(bans)
    text = "\n".join(bans)
    assert "? left" not in text
    ip_rows = [r for r in bans if BANNED_IP.search(r)]
    # without the ban database the end is unknown (with fail2ban's ban time, it may have ended)
    assert ip_rows and all("end unknown" in r or "ended" in r for r in ip_rows), text
    term.resize(200, 55)  # wider: more of the path, still one line
    # (the whole redrawn pane in one wait: a capture while the frame is being drawn can hold some
    # new rows and some old ones)
    screen = term.wait_for(
        lambda s: (
            "/tmp/" in "".join(box(s, "Bans ·")[:1])
            and "fail2ban.log" in s
            and box(s, "Bans ·")[1:2] != []
            and box(s, "Bans ·")[1].split()[:1] == ["jail"]
        ),
        what="the path's start at 200 columns",
    )
    bans = box(screen, "Bans ·")
    assert "fail2ban is not running" in screen and "ans below are from" in bans[0] and "as of" in bans[0]
    assert bans[1].split()[:1] == ["jail"], "\n".join(bans)


@pytest.mark.parametrize("size", [(80, 24), (120, 35), (200, 55)])
def test_no_singular_count_with_a_plural_noun(terminal: Factory, size: tuple[int, int]) -> None:
    """Item 13: '1 msg', not '1 msgs', anywhere on the demo's screens."""
    term = demo(terminal, size)
    keys = ["2", "3", "4", "5"] if size[0] < 100 else []
    screens = [term.wait_for("msg", what="the queue row") if size[0] >= 100 else term.screen()]
    for key in keys:
        term.press(key)
        screens.append(term.settle(0.3, 2))
    for screen in screens:
        assert not BAD_PLURAL.search(screen), BAD_PLURAL.search(screen)
