"""The host column in a real terminal (tmux) at 80x24, 120x35 and 200x55 (issue 19): the real
``mailtui`` on the logs of two hosts and this machine's own Dovecot log; ``host:mx2`` leaves one
host and the column goes, clearing the filter brings it back."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from mailtui.ui.widgets.log_lines import MESSAGE_COLUMN
from tests.terminal import Terminal

Factory = Callable[..., Terminal]
SIZES = [(80, 24), (120, 35), (200, 55)]
MX1 = (
    "Nov 29 10:00:00 mx1.example.org postfix/smtpd[4100]: 4B80DE08044: client=mail.sender.test[127.0.0.77]\n"
    "Nov 29 10:00:02 mx1.example.org postfix/smtp[4102]: 4B80DE08044: to=<bob@example.org>, "
    "relay=mx2.example.org[127.0.0.2]:25, delay=2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 73635C808F)\n"
)
MX2 = (
    "Nov 29 10:00:01 mx2.example.org postfix/smtpd[4100]: 73635C808F: client=mx1.example.org[127.0.0.1]\n"
    "Nov 29 10:00:03 mx2.example.org postfix/local[5102]: 73635C808F: to=<bob@example.org>, relay=local, "
    "delay=1.1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
)
DOVECOT = "Nov 29 10:00:04 imap-login: Info: Disconnected (no auth attempts in 0 secs): user=<>, rip=127.0.0.9\n"


def config(tmp_path: Path) -> Path:
    logs = []
    for name, text in (("mx1", MX1), ("mx2", MX2), ("dovecot", DOVECOT)):
        (tmp_path / f"{name}.log").write_text(text)
        logs.append(f'"{tmp_path / name}.log"')
    path = tmp_path / "config.toml"
    path.write_text(
        f'[logs]\nfiles = [{", ".join(logs)}]\nfail2ban = "{tmp_path}/none/fail2ban.log"\n'
        f'[fail2ban]\nsocket = "{tmp_path}/none/fail2ban.sock"\n'
        f'[postfix]\nconfig_dir = "{tmp_path}/none/postfix"\n'
        f'[dovecot]\nconfig = "{tmp_path}/none/dovecot.conf"\n'
        f'[dns]\nnameserver = "127.0.0.1:9"\n'
    )
    return path


ROW = re.compile(r"[│┃] . 10:00:0(?P<s>\d) (?P<rest>.*)")


def rows(screen: str) -> dict[str, str]:
    """Each log row by its second (the lines are one per second), from the mark on."""
    out = {}
    for line in screen.splitlines():
        m = ROW.search(line)
        if m is not None:
            out[m.group("s")] = m.group("rest")
    return out


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_host_column_and_filter_in_a_real_terminal(terminal: Factory, tmp_path: Path, size) -> None:
    term = terminal(["--config", str(config(tmp_path))], size=size)
    term.wait_for("Logs", what="the dashboard")
    term.press("4", "m")  # the Logs pane, maximized
    screen = term.wait_for(lambda s: len(rows(s)) == 5, what="the five lines with their hosts")
    shown = rows(screen)
    assert shown["0"].startswith("mx1 ") and shown["1"].startswith("mx2 ") and shown["4"].startswith("-   ")
    # the message is on screen at every size: the relay line's queue ID and more of its text
    assert "4B80DE08044: to=<bob@" in shown["2"], shown["2"]
    assert "73635C808F: to=<bob@" in shown["3"], shown["3"]
    if size[0] == 80:  # narrow: the message starts where it does without hosts
        line = next(line for line in screen.splitlines() if "4B80DE08044: to=" in line)
        start = line.index("4B80DE08044: to=")
        assert start - line.index("10:00:02") == MESSAGE_COLUMN - 2  # the mark and its space are before the time
    term.press("/")
    term.wait_for("words: text", what="the filter line")
    term.type("host:mx2")
    term.press("Enter")
    screen = term.wait_for(lambda s: len(rows(s)) == 2, what="mx2's lines only")
    assert all(r.startswith("postfix/") for r in rows(screen).values())  # one host: no host column
    term.press("/")
    term.wait_for(lambda s: s.count("host:mx2") >= 2, what="the filter line open on it (and the title)")
    term.press("BSpace", "Enter")  # the old filter is selected when the line opens
    screen = term.wait_for(lambda s: len(rows(s)) == 5, what="every line again")
    assert rows(screen)["1"].startswith("mx2 ")
