"""Issue 21 in a real terminal (tmux, tests/terminal.py) with ``mailtui --demo``: the Bans pane's
30-day strip and pending rows, the jail detail, the Problems entry for failures no jail counts,
and the DNS marks, at 80x24 and 120x35."""

from __future__ import annotations

from collections.abc import Callable

from tests.terminal import Terminal, box

Factory = Callable[..., Terminal]
JAILS = ("dovecot", "postfix", "postfix-sasl", "recidive")


def bottom_border(screen: str, title: str) -> str:
    """The bottom border line of the box whose top starts with ``title``."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if f"╭─ {title}" in line)
    start = lines[top].find(f"╭─ {title}")
    return next(line for line in lines[top + 1 :] if line[start : start + 1] == "╰")


def test_80x24_history_strip_pending_rows_and_jail_detail(terminal: Factory) -> None:
    term = terminal(["--demo"], size=(80, 24))
    screen = term.wait_for(lambda s: "dovecot 30d" in s, what="the 30-day strip of the highlighted jail")
    assert bottom_border(screen, "Bans ·").rstrip().endswith(" 30 ─╯")  # dovecot's 30 bans in 30 days
    # down to postfix-sasl's first banned IP: the jail's two failing addresses are listed under its bans
    term.press(*["Down"] * 8)
    screen = term.wait_for(lambda s: "◦ 127.0.0.140" in s, what="the pending rows of postfix-sasl")
    rows = box(screen, "Bans ·")
    pending = next(r for r in rows if "◦ 127.0.0.140" in r)
    assert "1 more ≤" in pending and "2/3" in pending, pending
    assert sum(1 for r in rows if r.split()[:1] and r.split()[0] in JAILS) == 4  # every jail still listed
    assert "postfix-sasl 30d" in bottom_border(screen, "Bans ·")
    term.press("Enter")
    # the detail's chart is laid out after the dialog's box: wait for what is read in it
    screen = term.wait_for(
        lambda s: "Jail postfix-sasl" in s and "Bans per day, the last 30 days: 8" in s and "today" in s,
        what="the jail detail with its 30-day chart",
    )
    assert "banned after 3 failures (maxretry) within 10m" in screen  # wrapped at 80 columns
    assert all(len(line) <= 80 for line in screen.splitlines())
    term.press("Escape")
    term.wait_for(lambda s: "Jail postfix-sasl" not in s, what="the detail closed")
    term.press("3")
    # the demo's entry is judged once on the captured logs: 9 kinds from its first frame on
    term.wait_for(
        lambda s: (
            "no jail counted" in s and "Failures no fail2ban jail counts (9 kinds)" in "\n".join(box(s, "Problems"))
        ),
        what="the Problems entry of the failures no jail counted (9 kinds)",
    )
    term.press("q")
    assert term.wait_exit() == 0


def test_120x35_every_jail_shows_and_dns_marks_changes(terminal: Factory) -> None:
    term = terminal(["--demo"], size=(120, 35))
    # the status and the marked rows are drawn in separate frames, and the Problems pane draws
    # its first rows on its redraw timer, after the other panes may have theirs: wait for all
    screen = term.wait_for(
        lambda s: (
            "7 changed" in s and "new: MX target" in s and "dovecot 30d" in s and "⚑" in "\n".join(box(s, "Problems"))
        ),
        what="DNS marks, the strip and the Problems entry of the failures no jail counted",
    )
    bans = box(screen, "Bans ·")
    assert sum(1 for r in bans if r.split()[:1] and r.split()[0] in JAILS) == 4, "\n".join(bans)
    dns = "\n".join(box(screen, "DNS"))
    assert "new: MX target mx.broken.test is an alias" in dns, dns
    assert "⚑" in "\n".join(box(screen, "Problems"))
    term.press("q")
    assert term.wait_exit() == 0
