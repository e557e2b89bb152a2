"""Hostile log lines through every path that shows or exports text: the CLI (scan, explain, who,
text and JSON), the explanation panel, the who timeline, the Problems pane and the Logs pane.

Nothing may crash, no control sequence may reach the output, markup must stay literal text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but TAB and LF

MARKUP = "[bold]x[/bold] [/] [/usr/sbin/postfix] [link=http://evil]y[/link] [@click=app.quit]z[/] [$accent]w"
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\x1b[1;1H\x9b31m\x90q\x9c\x00"

HOSTILE_LINES: list[bytes] = [
    # recognized: the fields (HELO, sender) carry the attack into summaries and explanations
    (
        "Feb 19 10:41:49 mx postfix/smtpd[8343]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 504 5.5.2 "
        f"<pc{MARKUP}>: Helo command rejected: need fully-qualified hostname; from=<{MARKUP}@x.test> "
        f"to=<bob@example.com> proto=ESMTP helo=<pc{ESCAPES}>"
    ).encode(),
    (
        f"Feb 19 10:41:50 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): "
        f"user=<{MARKUP}{ESCAPES}>, method=PLAIN, rip=192.0.2.9, lip=192.0.2.1, TLS, session=<abc>"
    ).encode(),
    f"Feb 19 10:41:51 mx postfix/smtpd[8343]: {MARKUP} {ESCAPES}".encode(),
    b"Feb 19 10:41:52 mx postfix/smtpd[8343]: invalid \xff\xfe\xc3\x28 utf-8 \xed\xa0\x80 surrogate",
    b"Feb 19 10:41:53 mx postfix/smtpd[8343]: nul \x00 bytes \x00\x00 inside",
    b"                                        ",
    b"",
    b"\x1b[31mnot even a syslog line\x1b[0m [bold]",
    b"Feb 19 10:41:54 mx postfix/smtpd[8343]: " + b"L" * 1_000_000,
]


@pytest.fixture()
def hostile_log(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.log"
    path.write_bytes(b"\n".join(HOSTILE_LINES) + b"\n")
    return path


def mailtui(*args: str, stdin: bytes | None = None, tmp: Path) -> subprocess.CompletedProcess:
    env = {"XDG_CONFIG_HOME": str(tmp / "xdg"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args], input=stdin, capture_output=True, env=env, cwd=REPO, timeout=120
    )


def assert_clean(output: bytes) -> str:
    text = output.decode("utf-8")  # valid UTF-8, whatever came in
    assert not CONTROL.search(text), repr(CONTROL.search(text).group())
    assert "Traceback" not in text
    return text


def test_scan_text_and_json(hostile_log: Path, tmp_path: Path) -> None:
    text = mailtui("scan", str(hostile_log), tmp=tmp_path)
    assert text.returncode == 0
    assert_clean(text.stdout + text.stderr)
    js = mailtui("scan", str(hostile_log), "--json", "--events", tmp=tmp_path)
    assert js.returncode == 0
    events = [json.loads(line) for line in assert_clean(js.stdout).splitlines()]  # JSON lines
    assert len(events) == 2  # the two recognized hostile lines
    dumped = json.dumps(events, ensure_ascii=False)
    assert "[bold]x[/bold]" in dumped  # markup kept as text, not dropped
    assert "␛]0;PWNED␇" in dumped  # escapes made visible, not removed silently


def test_explain_text_and_json(tmp_path: Path) -> None:
    line = HOSTILE_LINES[0]
    text = mailtui("explain", stdin=line + b"\n", tmp=tmp_path)
    out = assert_clean(text.stdout + text.stderr)
    assert text.returncode == 0 and "HELO rejected" in out and "[link=http://evil]" in out
    js = mailtui("explain", "--json", stdin=line + b"\n", tmp=tmp_path)
    assert js.returncode == 0
    json.loads(assert_clean(js.stdout))


def test_who_text_and_json(hostile_log: Path, tmp_path: Path) -> None:
    text = mailtui("who", "192.0.2.9", str(hostile_log), tmp=tmp_path)
    out = assert_clean(text.stdout + text.stderr)
    assert text.returncode == 0 and "192.0.2.9" in out
    js = mailtui("who", "192.0.2.9", str(hostile_log), "--json", tmp=tmp_path)
    data = json.loads(assert_clean(js.stdout))
    assert data["lines"] and data["problems"] >= 1


def test_a_100_megabyte_line_is_capped_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as fh:
        fh.write(b"Feb 19 10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n")
        fh.write(b"Feb 19 10:00:01 mx postfix/smtpd[1]: ")
        chunk = b"A" * (1 << 20)
        for _ in range(100):
            fh.write(chunk)
        fh.write(b"\nFeb 19 10:00:02 mx postfix/smtpd[1]: disconnect from a[192.0.2.1]\n")
    js = mailtui("scan", str(path), "--json", tmp=tmp_path)
    assert js.returncode == 0, js.stderr[-500:]
    data = json.loads(js.stdout)
    assert data["lines"] == 3  # the huge line counts once; the one after it is not lost
    assert len(js.stdout) < 5_000_000  # and it is not copied whole into the report


async def test_panels_show_hostile_text_literally(hostile_log: Path, tmp_path: Path, monkeypatch) -> None:
    from textual.widgets import DataTable

    from mailtui import config
    from mailtui.ui.panes import ProblemsPane
    from mailtui.ui.screens.explain import ExplainScreen
    from mailtui.ui.screens.who import WhoScreen
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.helpers import until, until_screen
    from tests.ui_apps import make_app

    cfg = config.load(
        None,
        {
            "logs.files": [str(hostile_log)],
            "fail2ban.socket": "/nonexistent/s",
            "logs.fail2ban": "/nonexistent/l",
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    app = make_app(cfg)
    async with app.run_test(size=(160, 45)) as pilot:
        lines = app.query_one(LogLines)
        await until(pilot, lambda: len(lines.view) >= 8, what="the 8 hostile lines")
        # the Problems table is redrawn at most twice a second: until no redraw is pending
        pane = app.query_one(ProblemsPane)
        await until(pilot, lambda: not pane._dirty, what="the Problems table drawn")
        problems = pane.query_one(DataTable)
        cells = " ".join(str(c) for i in range(problems.row_count) for c in problems.get_row_at(i))
        assert MARKUP in cells or "[bold]x[/bold]" in cells
        assert not CONTROL.search(cells)
        # the explanation of the hostile HELO line
        target = next(i for i, e in enumerate(lines.view) if e.match and "helo" in e.match.recognizer.id)
        lines.focus()
        lines.cursor = target
        await pilot.press("enter")
        screen = await until_screen(pilot, ExplainScreen, what="the explanation")
        # the explanation is read in a worker: wait for the line in its body, not a fixed 0.5 s
        shown = await until(
            pilot,
            lambda: "[link=http://evil]y[/link]" in (text := str(screen.body.render())) and text,
            what="the hostile line in the explanation",
        )
        assert "[link=http://evil]y[/link]" in shown and not CONTROL.search(shown)
        await pilot.press("escape")
        await pilot.pause(0.1)
        await pilot.press("w")
        await pilot.pause(0.1)
        assert isinstance(app.screen, WhoScreen)
        app.screen.search("192.0.2.9")
        for _ in range(50):
            if not str(app.screen.body.render()).startswith("searching"):
                break
            await pilot.pause(0.05)
        timeline = str(app.screen.body.render())
        assert "[bold]x[/bold]" in timeline and not CONTROL.search(timeline)
        assert app.is_running
