"""The dashboard with the logs of several hosts (issue 19), in Pilot at 120x35 and 80x24: the Logs
pane's host column shows while the lines shown are of more than one host and goes when a filter
leaves one, ``host:NAME`` / ``!host:NAME`` filter by host, the Problems pane has a row per host and
problem, and the conversation of a message relayed from mx1 to mx2 shows both hosts in order.
One host (with its own Dovecot log, which names none) looks as it always did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Static

from mailtui import config
from mailtui.ui.panes import LogsPane, ProblemsPane
from mailtui.ui.screens.who import ConversationScreen
from mailtui.ui.widgets.log_lines import MESSAGE_COLUMN, LogLines
from tests.helpers import until, until_screen, wait_lines
from tests.ui_apps import make_app

MX1 = """\
Nov 29 10:00:00 mx1.example.org postfix/smtpd[4100]: connect from mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1.example.org postfix/smtpd[4100]: 4B80DE08044: client=mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1.example.org postfix/qmgr[900]: 4B80DE08044: from=<ann@sender.test>, size=1793, nrcpt=1 (queue active)
Nov 29 10:00:01 mx1.example.org postfix/smtpd[4100]: disconnect from mail.sender.test[127.0.0.77] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 29 10:00:02 mx1.example.org postfix/smtp[4102]: 4B80DE08044: to=<bob@example.org>, relay=mx2.example.org[127.0.0.2]:25, delay=2, delays=0.05/0/0.14/1.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 73635C808F)
Nov 29 10:00:02 mx1.example.org postfix/qmgr[900]: 4B80DE08044: removed
Nov 29 10:00:06 mx1.example.org postfix/smtpd[4100]: NOQUEUE: reject: RCPT from unknown[127.0.0.115]: 550 5.1.1 <nosuchuser@rig.test>: Recipient address rejected: User unknown in local recipient table; from=<osakana@osakana.net> to=<nosuchuser@rig.test> proto=ESMTP helo=<client.rig.test>
"""
MX2 = """\
Nov 29 10:00:01 mx2.example.org postfix/smtpd[4100]: 73635C808F: client=mx1.example.org[127.0.0.1]
Nov 29 10:00:02 mx2.example.org postfix/qmgr[901]: 73635C808F: from=<ann@sender.test>, size=2101, nrcpt=1 (queue active)
Nov 29 10:00:03 mx2.example.org postfix/local[5102]: 73635C808F: to=<bob@example.org>, relay=local, delay=1.1, delays=0.04/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 29 10:00:03 mx2.example.org postfix/qmgr[901]: 73635C808F: removed
Nov 29 10:00:05 mx2.example.org postfix/smtpd[4100]: NOQUEUE: reject: RCPT from unknown[127.0.0.116]: 550 5.1.1 <nosuchuser@rig.test>: Recipient address rejected: User unknown in local recipient table; from=<osakana@osakana.net> to=<nosuchuser@rig.test> proto=ESMTP helo=<client.rig.test>
"""
# the machine's own Dovecot log: no host in its lines
DOVECOT = (
    "Nov 29 10:00:04 imap-login: Info: Disconnected: Aborted login (auth failed, 1 attempts in 2 secs): "
    "user=<bob@example.org>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, TLS, session=<IySyoWBhEJt/AAAB>\n"
)
SIZES = [(120, 35), (80, 24)]
ROW = re.compile(r"^. \d\d:\d\d:\d\d (?P<rest>.*)$")


def app_for(tmp_path: Path, **logs: str):
    files = []
    for name, text in logs.items():
        log = tmp_path / f"{name}.log"
        log.write_text(text)
        files.append(str(log))
    return make_app(config.load(None, {"logs.files": files, "logs.max_lines": 200}))


def rendered(widget: LogLines) -> list[str]:
    return [row for y in range(widget.size.height) if (row := widget.render_line(y).text.rstrip())]


async def _logs(app, pilot, count: int) -> LogLines:
    await pilot.press("4", "m")  # the Logs pane, maximized: every line on screen, the pane full width
    lines = app.query_one(LogLines)
    await wait_lines(pilot, lines, count)
    await until(pilot, lambda: len(rendered(lines)) >= min(count, lines.size.height), what="rows drawn")
    return lines


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_host_column_shows_with_two_hosts_and_keeps_the_message_on_screen(tmp_path, size) -> None:
    app = app_for(tmp_path, mx1=MX1, mx2=MX2, dovecot=DOVECOT)
    async with app.run_test(size=size) as pilot:
        lines = await _logs(app, pilot, 13)
        assert lines.hosts_shown
        rows = rendered(lines)
        width = lines.size.width
        hosts = []
        for row in rows:
            m = ROW.match(row)
            assert m is not None, row
            hosts.append(m.group("rest").split()[0])
        # first labels tell the hosts apart; the Dovecot log of this machine names none: "-"
        assert set(hosts) == {"mx1", "mx2", "-"}
        if width < 110:
            # narrow: the program column gives the host column its room, the message starts where it did
            assert lines.message_column == MESSAGE_COLUMN
        else:
            assert lines.message_column == MESSAGE_COLUMN + len("mx1") + 1
        relay = next(r for r in rows if "4B80DE08044: to=" in r)
        assert relay.index("4B80DE08044: to=") == lines.message_column
        assert relay.index("mx1") == 11  # after the mark and the time
        assert all(len(r) <= width for r in rows)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_host_filter_and_the_column_going_and_coming_back(tmp_path, size) -> None:
    app = app_for(tmp_path, mx1=MX1, mx2=MX2, dovecot=DOVECOT)
    async with app.run_test(size=size) as pilot:
        lines = await _logs(app, pilot, 13)
        pane = app.query_one(LogsPane)

        async def apply(words: str) -> list[str]:
            await pilot.press("slash")
            pane.filter_input.value = words
            await pilot.press("enter")
            await pilot.pause(0.1)
            return rendered(lines)

        only_mx2 = await apply("host:mx2")
        assert len(lines.view) == 5 and {e.record.host for e in lines.view} == {"mx2.example.org"}
        assert not lines.hosts_shown and lines.message_column == MESSAGE_COLUMN  # one host: no column
        assert all(" mx2 " not in row[:20] for row in only_mx2)
        assert "filter: host:mx2" in str(pane.border_title)
        # the whole name, any case, a pattern; negation; the lines that name no host
        assert len(await apply("host:MX2.example.org")) == 5
        await apply("host:mx*")
        assert len(lines.view) == 12 and lines.hosts_shown
        await apply("!host:mx1")
        # one named host and lines that name none (this machine's own Dovecot log): one host, no column
        assert {e.record.host for e in lines.view} == {"mx2.example.org", ""} and not lines.hosts_shown
        await apply("host:- auth")
        assert len(lines.view) == 1 and not lines.hosts_shown
        await apply("!host:mx1 !host:mx2")
        assert [e.record.host for e in lines.view] == [""]
        # cleared: every host again, the column back
        await apply("")
        assert len(lines.view) == 13 and lines.hosts_shown
        # a host that sends a new line appears in the column
        with (tmp_path / "mx2.log").open("a") as fh:
            fh.write(MX2.splitlines()[0].replace("mx2.example.org", "mx3.example.org", 1) + "\n")
        await wait_lines(pilot, lines, 14)
        await pilot.pause(0.2)
        assert any(ROW.match(r) and ROW.match(r).group("rest").startswith("mx3 ") for r in rendered(lines))


async def test_host_without_a_name_is_a_clear_message(tmp_path) -> None:
    app = app_for(tmp_path, mx1=MX1)
    async with app.run_test(size=(120, 35)) as pilot:
        lines = await _logs(app, pilot, 7)
        pane = app.query_one(LogsPane)
        await pilot.press("slash")
        pane.filter_input.value = "host:"
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert len(lines.view) == 7 and pane.has_class("-filtering")  # the line stays open to fix it


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_one_host_and_its_own_dovecot_log_have_no_host_column(tmp_path, size) -> None:
    one = MX1.replace("mx1.example.org", "mail") + MX2.replace("mx2.example.org", "mail")
    app = app_for(tmp_path, mail=one, dovecot=DOVECOT)
    async with app.run_test(size=size) as pilot:
        lines = await _logs(app, pilot, 13)
        assert not lines.hosts_shown and lines.message_column == MESSAGE_COLUMN
        rows = rendered(lines)
        assert all(ROW.match(r).group("rest").startswith(("postfix/", "dovecot ")) for r in rows)
        await pilot.press("m", "3", "m")
        problems = app.query_one(ProblemsPane)
        await until(pilot, lambda: problems.table.row_count == 2, what="two problem rows")
        assert [str(c.label) for c in problems.table.columns.values()] == [
            "",
            "count",
            "last hour",
            "problem",
            "who",
            "last",
        ]
        assert "hosts" not in str(problems.border_title)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_problems_are_grouped_by_host(tmp_path, size) -> None:
    app = app_for(tmp_path, mx1=MX1, mx2=MX2, dovecot=DOVECOT)
    async with app.run_test(size=size) as pilot:
        await _logs(app, pilot, 13)
        await pilot.press("m", "3", "m")
        problems = app.query_one(ProblemsPane)
        await until(pilot, lambda: problems.table.row_count == 3, what="a row per host and problem")
        labels = [str(c.label) for c in problems.table.columns.values()]
        assert labels == ["", "count", "last hour", "host", "problem", "who", "last"]
        rows = {}
        for i in range(problems.table.row_count):
            cells = [str(c) for c in problems.table.get_row_at(i)]
            rows[cells[3], cells[4]] = cells
        unknown = next(t for h, t in rows if h == "mx1")
        login = next(t for h, t in rows if h == "-")
        assert set(rows) == {("mx1", unknown), ("mx2", unknown), ("-", login)} and login != unknown
        assert rows["mx1", unknown][1] == "1" and rows["mx2", unknown][1] == "1"
        assert "3 recognized · 3 hosts" in str(problems.border_title)
        # the per-host group explains itself with its host, and acts on its own lines
        problems.table.focus()
        row = next(i for i in range(problems.table.row_count) if str(problems.table.get_row_at(i)[3]) == "mx2")
        problems.table.move_cursor(row=row)
        group = problems.selected_group()
        assert group is not None and group.host == "mx2.example.org"
        assert group.ips.most_common(1)[0][0] == "127.0.0.116"
        await pilot.press("enter")
        # the explanation is read in a worker: wait for it rather than a fixed 0.3 s
        text = await until(
            pilot,
            lambda: "mx2.example.org" in (t := "\n".join(str(s.render()) for s in app.screen.query(Static))) and t,
            what="the explanation naming its host",
        )
        assert "mx2.example.org" in text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_conversation_of_a_relayed_message_shows_both_hosts_in_order(tmp_path, size) -> None:
    app = app_for(tmp_path, mx1=MX1, mx2=MX2)
    async with app.run_test(size=size) as pilot:
        lines = await _logs(app, pilot, 12)
        lines.focus()
        assert lines.find(lambda e: "delivered to mailbox" in e.record.message, forward=False)
        await pilot.press("c")
        screen = await until_screen(pilot, ConversationScreen, what="screen")
        await until(pilot, lambda: screen.result is not None, what="the conversation")
        assert screen.result.hosts == ["mx1.example.org", "mx2.example.org"]
        text = str(screen.body.render())
        shown = re.findall(r"(?m)^. \d\d:\d\d:\d\d (mx\d) ", text)
        assert shown == ["mx1", "mx1", "mx2", "mx1", "mx1", "mx2", "mx2", "mx2"], text
        assert "qid:4B80DE08044@mx1.example.org" in text and "qid:73635C808F@mx2.example.org" in text
