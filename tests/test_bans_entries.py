"""Ban lists with entries that are not IP addresses (fail2ban with ``usedns = raw`` bans host
names; a hostile or broken server can send anything): each is shown sanitized and marked, in
its own row, and every other row stays. A fake fail2ban server on a real Unix socket."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailtui import config
from mailtui.fail2ban.status import NOT_AN_IP, BannedIP
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.bans import BansPane
from tests.test_fail2ban_hostile import _server
from tests.ui_apps import FIXED_SUMMARY, FixedServices

REPO = Path(__file__).resolve().parent.parent
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
GOOD = ["192.0.2.1", "2001:db8::1"]
BAD = [
    "--help",
    "1.2.3.4;",
    "\x1b]0;PWN\x07\x1b[2J",
    "[bold]x[/bold]",
    "mail.example.com",
    "[@click=app.quit]",
    "a\tb",
    "\u202eevil",
    "999.1.1.1",
]


def _stamped(entry: str) -> str:
    return f"{entry} \t2026-11-29 01:08:54 + 600 = 2026-11-29 01:18:54"


def _reply(entries: list[str]) -> Callable[[list[str]], bytes]:
    def answer(command: list[str]) -> bytes:
        if command == ["version"]:
            value: object = "1.0.2"
        elif command == ["status"]:
            value = [("Number of jail", 2), ("Jail list", "raw, clean")]
        elif command[0] == "status":
            banned = entries if command[1] == "raw" else GOOD
            value = [
                ("Filter", [("Currently failed", 0), ("Total failed", 1), ("File list", ["/l"])]),
                (
                    "Actions",
                    [("Currently banned", len(banned)), ("Total banned", len(banned)), ("Banned IP list", banned)],
                ),
            ]
        else:
            value = [_stamped(e) for e in (entries if command[1] == "raw" else GOOD)]
        return pickle.dumps((0, value), protocol=4)

    return answer


@pytest.fixture()
def fake(tmp_path: Path) -> Iterator[Path]:
    tmp_path.chmod(0o700)
    path = tmp_path / "f2b.sock"
    stop = threading.Event()
    _server(path, _reply(GOOD + BAD), stop=stop)
    yield path
    stop.set()


@pytest.mark.parametrize("entry", BAD)
def test_shown_form_is_safe_and_marked(entry: str) -> None:
    shown = BannedIP(entry).shown()
    assert shown.endswith(NOT_AN_IP) and not CONTROL.search(shown) and "\u202e" not in shown


@pytest.mark.parametrize("entry", GOOD)
def test_addresses_are_shown_as_they_are(entry: str) -> None:
    assert BannedIP(entry).shown() == entry


def test_cli_lists_every_entry_sanitized(fake: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "NO_COLOR": "1"}
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--socket", str(fake)],
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert text.returncode == 0, text.stderr
    out = text.stdout.decode()
    assert not CONTROL.search(out.replace("\n", "")), repr(out)
    rows = [r for r in out.splitlines() if r.startswith("raw ")]
    assert len(rows) == 1 + len(GOOD) + len(BAD)  # the counts row, then one row per entry
    assert sum(NOT_AN_IP in r for r in rows) == len(BAD)
    assert sum(r.startswith("clean ") for r in out.splitlines()) == len(GOOD) + 1  # counts row + IPs
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "mailtui", "bans", "--json", "--socket", str(fake)],
            capture_output=True,
            cwd=REPO,
            env=env,
            timeout=60,
            check=True,
        ).stdout
    )
    raw = next(j for j in data["jails"] if j["name"] == "raw")
    assert [b["ip"] for b in raw["banned"]] == GOOD + BAD  # JSON keeps the value (escaped by JSON)


async def test_pane_keeps_every_row_and_marks_the_odd_ones(fake: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    log = tmp_path / "mail.log"
    log.write_text("")
    cfg = config.load(
        None,
        {
            "logs.files": [str(log)],
            "fail2ban.socket": str(fake),
            "logs.fail2ban": str(tmp_path / "none.log"),
            "dns.nameserver": "127.0.0.1:9",
            "ui.refresh_seconds": 0.5,
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(BansPane)
        await pilot.press("1", "m")
        # only the highlighted jail lists its banned entries (issue 15's layout): visit each jail
        seen: list[str] = []
        for jail in ("clean", "raw"):
            for _ in range(100):
                names = [str(pane.table.get_row_at(i)[0]).strip() for i in range(pane.table.row_count)]
                if jail in names:
                    break
                await pilot.pause(0.1)
            pane.table.focus()
            pane.table.move_cursor(row=names.index(jail))
            await pilot.pause(0.5)
            cells = [[str(c) for c in pane.table.get_row_at(i)] for i in range(pane.table.row_count)]
            seen += [r[0] for r in cells if r[0].lstrip().startswith("▸ ")]
        status = str(pane.status.render())
        assert "not connected" not in status and "SyntaxError" not in status, status
        # an entry row is "  ▸ <entry, padded> <time left>": the entry is what stands before the time
        ips = [re.sub(r"\s+(?:ended|end unknown|permanent|\S+ left)$", "", r.lstrip()[2:]) for r in seen]
        assert len(ips) == 2 * len(GOOD) + len(BAD), seen
        assert sum(NOT_AN_IP in ip for ip in ips) == len(BAD)
        assert "[bold]x[/bold] " + NOT_AN_IP in ips  # literal text, not markup
        assert not any(CONTROL.search(ip) for ip in ips)
        # selecting an odd entry shows its (sanitized) why, and unban refuses it by name
        cells = [[str(c) for c in pane.table.get_row_at(i)] for i in range(pane.table.row_count)]
        index = next(i for i, r in enumerate(cells) if "␛]0;PWN" in r[0])
        pane.table.focus()
        pane.table.move_cursor(row=index)
        await pilot.pause(0.5)
        assert not CONTROL.search(str(pane.why.render()))


async def test_pane_says_so_when_the_server_trickles(tmp_path: Path, monkeypatch) -> None:
    # the server: one byte every 3 s; the pane stayed blank, now the call's deadline speaks
    from tests.test_fail2ban_hostile import _f2b_10

    tmp_path.chmod(0o700)
    sock = tmp_path / "f2b.sock"
    stop = threading.Event()
    _server(sock, _f2b_10, pace=3.0, stop=stop)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    log = tmp_path / "mail.log"
    log.write_text("")
    cfg = config.load(
        None,
        {
            "logs.files": [str(log)],
            "fail2ban.socket": str(sock),
            "logs.fail2ban": str(tmp_path / "none.log"),
            "dns.nameserver": "127.0.0.1:9",
            "ui.refresh_seconds": 0.5,
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = app.query_one(BansPane)
            status = ""
            for _ in range(150):
                status = str(pane.status.render())
                if "within" in status:
                    break
                await pilot.pause(0.1)
            assert "not connected" in status and "did not answer 'version' within 5s" in status, status
    finally:
        stop.set()
