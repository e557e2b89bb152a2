"""journald streamed by the agent: real journals written by systemd-journal-remote, read by the real
journalctl, through the real sshd of the fleet lab to the dashboard's end.

* A journal record travels as an RFC 3339 line that the dashboard's envelope parser reads back
  into the same host, program, pid, message and time (entries as journald keeps them: a
  multi-line message, control characters, bidi overrides, no host).
* On a slow link the agent stops reading the journal (journalctl waits on its full pipe), its
  unsent output stays bounded, and once the link drains every problem line arrives once, in
  order, and every routine line is counted.
* A host without rsyslog, whose mail log is its system journal (a real systemd-journald in a mount
  namespace of its own, tests/rig/journald.py), and a host whose mail log is a journal directory
  (``[logs] journal_dir``, written by systemd-journal-remote as uploads arrive) stream over ssh;
  the sshd session is killed in the middle of the stream, the link reconnects with the last
  cursor, and every entry arrives exactly once, in order — at the link and on the dashboard's
  screen.

Run under the rig lock: ``flock /tmp/mailtui-rig.lock .venv/bin/python -m pytest ...``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailtui import config
from mailtui.fleet import agent as agent_mod
from mailtui.fleet.link import HostSpec, RemoteHost
from mailtui.fleet.protocol import encode
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.journal import JournalFollower, syslog_line
from mailtui.recognizers.engine import default_engine
from tests.fleetlab import LabHost, dashboard_config
from tests.rig.base import wait_for
from tests.rig.central import JournalEntry, JournalRemote, start_journal_remote, write_journal
from tests.rig.journald import PrivateJournald, start_private_journald
from tests.sshlab import SshLab, start_sshd

pytestmark = pytest.mark.daemons

HOST_IP = "127.0.0.65"  # the journal host's uploader (journal-remote splits its files by peer)
MARK = re.compile(r"SASL LOGIN authentication failed: j(\d+)$")


def failed(n: int) -> str:
    return f"warning: unknown[198.51.100.{n % 250 + 1}]: SASL LOGIN authentication failed: j{n}"


def numbers(lines: list[str]) -> list[int]:
    out = []
    for line in lines:
        m = MARK.search(line)
        assert m is not None, line
        out.append(int(m.group(1)))
    return out


# -- the line a record travels as ---------------------------------------------------------------


def test_a_journal_record_travels_as_a_line_that_parses_back_the_same(tmp_path: Path) -> None:
    journal = tmp_path / "varied.journal"
    entries = [
        JournalEntry("mx1", "postfix/smtpd", 101, failed(1)),
        JournalEntry("mx1", "postfix/submission/smtpd", 102, "connect from unknown[192.0.2.7]"),
        JournalEntry("mx1", "dovecot", 0, "imap-login: Login: user=<bob@example.org>, rip=192.0.2.8, lip=127.0.0.1"),
        JournalEntry("mx1", "postfix/cleanup", 103, "first line\nsecond line\x1b[31m red \u202e turned"),
        JournalEntry("", "postfix/qmgr", 104, "4AB12C3D4E: removed"),
        JournalEntry("mx1", "fail2ban.actions", 105, "[postfix-sasl] Ban 198.51.100.9 — ünïcode"),
    ]
    write_journal(journal, entries)
    records = list(JournalFollower(files=[str(journal)], follow=False).read_all())
    assert len(records) == len(entries)
    parser = EnvelopeParser(source="mx1:journald")
    engine = default_engine()
    for rec in records:
        line = syslog_line(rec)
        assert "\n" not in line and "\x1b" not in line
        back = parser.parse(line)
        # a record without _HOSTNAME names "-" (the fleet's entries carry the configured host anyway)
        assert (back.host, back.program, back.pid, back.message) == (rec.host or "-", rec.program, rec.pid, rec.message)
        assert back.timestamp is not None and rec.timestamp is not None
        assert round(back.timestamp * 1e6) == round(rec.timestamp * 1e6)  # to the microsecond
        a, b = engine.recognize(back), engine.recognize(rec)
        assert (a and a.recognizer.id, a and a.fields) == (b and b.recognizer.id, b and b.fields)
    assert engine.recognize(parser.parse(syslog_line(records[0]))) is not None  # a line worth explaining
    assert records[4].host == "" and syslog_line(records[4]).split()[1] == "-"


@pytest.mark.parametrize("gap", [1, 10, 11, 500])
def test_a_follower_resumed_after_a_cursor_gives_every_later_entry(tmp_path: Path, gap: int) -> None:
    """The journal a reconnected agent (or a restarted dashboard) resumes: every entry after the
    cursor, however many came meanwhile, without waiting for a new one (journalctl -f printed 10
    of them and held the rest back until the journal was written again)."""
    journal = tmp_path / "gap.journal"
    write_journal(journal, [JournalEntry("jx1", "postfix/smtpd", 1000 + n, failed(n)) for n in range(gap + 5)])
    first = list(JournalFollower(files=[str(journal)], follow=False).read_all())
    follower = JournalFollower(files=[str(journal)], cursor=first[4].cursor)  # follow=True, as the agent
    got: list[str] = []
    try:
        wait_for(lambda: (got.extend(r.message for r in follower.poll()), len(got) >= gap)[1], 20, what=f"{gap}")
        time.sleep(0.5)
        got += [r.message for r in follower.poll()]
    finally:
        follower.close()
    assert numbers(got) == list(range(5, gap + 5))


REAL_CURSOR = "s=5a5a3d2278f24b93b58b275d7436a77b;i=1e;b=2c88fbe37a9b420eb0f17feb26ddb49b;m=406;t=661937a153a83;x=cb875afd09e0b645"


@pytest.mark.parametrize(
    "value",
    [
        "--output=/tmp/x",
        "s=1;i=2 -f",
        "s=1;i=2\n",
        "s=1;;i=2",
        "S=1",
        "s=" + "a" * 600,
        "",
        ["s=1"],
        7,
        None,
        True,
    ],
)
def test_a_resume_point_that_is_no_cursor_is_refused(value: Any, tmp_path: Path) -> None:
    """What the dashboard sends as a journal's position reaches journalctl as one argument only
    when it is a cursor as journald writes them; anything else starts from the back-fill."""
    from mailtui.fleet.protocol import cursor, resume_point

    assert cursor(REAL_CURSOR) == REAL_CURSOR and resume_point(REAL_CURSOR) == REAL_CURSOR
    assert resume_point([1, 2, 3, 4]) == (1, 2, 3, 4)
    assert cursor(value) is None and resume_point(value) is None
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    cfg = config.load(None, {"logs.journal_dir": str(journal_dir), "logs.backfill": 50})
    agent = agent_mod.Agent(cfg, default_engine(), read_only=True, stdin=0, stdout=1)
    agent._subscribe({f"journal:{journal_dir}": value})
    try:
        (journal,) = agent.journals.values()
        assert journal.follower.cursor == "" and journal.follower.argv()[-3:] == ["-n", "50", "-f"]
        agent._subscribe({f"journal:{journal_dir}": REAL_CURSOR})
        (journal,) = agent.journals.values()
        assert journal.follower.argv()[-5:] == ["--after-cursor", REAL_CURSOR, "-n", "all", "-f"]
    finally:
        agent._close_logs()


# -- a slow link --------------------------------------------------------------------------------


def test_on_a_slow_link_the_agent_stops_reading_the_journal_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 12_000
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    # every third entry a problem line (sent even in summary mode), the others routine ones
    entries = [
        JournalEntry("jx1", "postfix/smtpd", 1000 + n, failed(n) if n % 3 == 0 else f"connect from c{n}[192.0.2.1]")
        for n in range(total)
    ]
    write_journal(journal_dir / "remote-jx1.journal", entries)
    # small marks, so the test needs a journal of megabytes rather than of hundreds
    monkeypatch.setattr(agent_mod, "LOW", 32 << 10)
    monkeypatch.setattr(agent_mod, "HIGH", 128 << 10)
    monkeypatch.setattr(agent_mod, "LIMIT", 256 << 10)
    cfg = config.load(
        None,
        {
            "logs.journal_dir": str(journal_dir),
            "logs.backfill": total,
            "fail2ban.socket": str(tmp_path / "none.sock"),
            "ui.refresh_seconds": 3600,
        },
    )
    req_r, req_w = os.pipe()
    out_r, out_w = os.pipe()
    agent = agent_mod.Agent(cfg, default_engine(), read_only=True, stdin=req_r, stdout=out_w)
    agent._next_collect = float("inf")  # no bans/services reports: the log stream only
    os.write(req_w, encode({"type": "subscribe", "logs": {}}))
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        # nobody reads: the agent fills the pipe, then its outbox up to LIMIT, then stops reading
        wait_for(lambda: agent.out.size >= agent_mod.LIMIT, 60, what="the outbox at its limit")
        (journal,) = agent.journals.values()
        stalled = journal.follower.cursor
        time.sleep(1.5)
        assert journal.follower.cursor == stalled  # not one more record taken
        assert agent.out.size < agent_mod.LIMIT + (2 << 20)  # bounded: the limit and one poll at most
        assert journal.follower._proc is not None and journal.follower._proc.poll() is None  # waiting on its pipe
        # the link drains: everything follows
        problems: list[str] = []
        routine = 0
        notices: list[str] = []
        buf = b""
        deadline = time.monotonic() + 120
        while len(problems) + routine < total and time.monotonic() < deadline:
            buf += os.read(out_r, 1 << 16)
            *done, buf = buf.split(b"\n")
            for raw in done:
                msg = json.loads(raw)
                if msg["type"] in ("logs", "summary"):
                    assert msg["src"] == f"journal:{journal_dir}"
                    for e in msg["entries"]:
                        if "failed" in e["line"]:
                            problems.append(e["line"])
                        else:
                            routine += 1  # sent in full while the link kept up
                    routine += msg.get("routine", 0)  # counted while it did not
                elif msg["type"] == "notice":
                    notices.append(msg["text"])
    finally:
        os.close(req_w)  # stdin closed: the agent ends
        thread.join(10)
        os.close(out_r)
        for fd in (req_r, out_w):
            os.close(fd)
    assert not thread.is_alive()
    assert numbers(problems) == list(range(0, total, 3))  # each problem line once, in order
    assert len(problems) + routine == total  # the routine ones counted, none lost
    assert any("the link is slow" in n for n in notices)


# -- over ssh, with a killed connection ----------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    ssh = start_sshd(tmp_path_factory.mktemp("sshlab"))
    yield ssh
    ssh.stop()


@pytest.fixture
def box(tmp_path: Path) -> Iterator[JournalRemote]:
    remote = start_journal_remote(tmp_path / "journal")
    yield remote
    remote.stop()


class Uploads:
    """The journal host's mail stack logging: entries uploaded to journal-remote as they happen."""

    def __init__(self, box: JournalRemote, host: str) -> None:
        self.box, self.host, self.n = box, host, 0

    def send(self, count: int, pause: float = 0.0) -> None:
        for _ in range(count):
            self.box.upload([JournalEntry(self.host, "postfix/smtpd", 1000 + self.n, failed(self.n))], HOST_IP)
            self.n += 1
            if pause:
                time.sleep(pause)

    def in_journal(self) -> int:
        return len(list(JournalFollower(directory=str(self.box.dir), follow=False).read_all()))


def journal_lines(messages: list[dict[str, Any]]) -> list[str]:
    return [
        e["line"]
        for m in messages
        if m["type"] in ("logs", "summary") and m["src"].startswith("journal:")
        for e in m["entries"]
    ]


def test_a_journal_host_streams_over_ssh_and_resumes_after_a_killed_connection(
    lab: SshLab, box: JournalRemote, tmp_path: Path
) -> None:
    uploads = Uploads(box, "jx1")
    uploads.send(5)  # before the dashboard: the back-fill
    wait_for(lambda: uploads.in_journal() == 5, 20, what="5 entries in the journal")
    host = LabHost(lab, tmp_path, "jx1", fail2ban=False, journal_dir=str(box.dir), backfill=1000)
    link = RemoteHost(HostSpec("jx1", "jx1", host.command, ["-F", str(lab.config)]))
    got: list[dict[str, Any]] = []
    link.start()
    try:
        wait_for(lambda: (got.extend(link.poll()), len(journal_lines(got)) >= 5)[1], 30, what="the back-fill")
        assert link.hello["problems"] == []
        cursor = link.positions[f"journal:{box.dir}"]
        assert isinstance(cursor, str) and cursor.startswith("s=")
        # the host logs on (40 entries/s) while its sshd session is killed in the middle
        writer = threading.Thread(target=uploads.send, args=(200, 0.025), daemon=True)
        writer.start()
        wait_for(lambda: (got.extend(link.poll()), len(journal_lines(got)) >= 60)[1], 30, what="the stream")
        os.kill(host.session(), signal.SIGKILL)
        wait_for(lambda: link.state == "reconnecting", 20, what="jx1 reconnecting")
        wait_for(lambda: link.state == "ok" and link.connects >= 2, 40, what="jx1 back")
        writer.join(60)
        uploads.send(5)  # after the reconnect
        wait_for(lambda: (got.extend(link.poll()), len(journal_lines(got)) >= 210)[1], 40, what="all 210 entries")
        time.sleep(1.0)
        got.extend(link.poll())
    finally:
        link.close()
    lines = journal_lines(got)
    assert numbers(lines) == list(range(210))  # each once, in order, across the reconnect
    assert all(line.split()[1] == "jx1" and "postfix/smtpd[" in line for line in lines)
    assert link.connects >= 2


async def test_the_dashboard_shows_a_journal_hosts_lines_once_across_a_dropped_link(
    lab: SshLab, box: JournalRemote, tmp_path: Path
) -> None:
    import asyncio

    from textual.widgets import Static

    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.panes.logs import LogsPane
    from tests.helpers import until
    from tests.ui_apps import FIXED_SUMMARY

    uploads = Uploads(box, "jx1")
    await asyncio.to_thread(uploads.send, 3)
    await asyncio.to_thread(wait_for, lambda: uploads.in_journal() == 3, 20)
    jx1 = LabHost(lab, tmp_path, "jx1", fail2ban=False, journal_dir=str(box.dir), backfill=1000)
    mx1 = LabHost(lab, tmp_path, "mx1", fail2ban=False)
    app = MailTuiApp(
        config.load(dashboard_config(tmp_path, [jx1, mx1])), watch_tty=False, stack_summary=lambda: FIXED_SUMMARY
    )

    def shown(host: str) -> list[str]:
        logs = app.query_one(LogsPane)
        return [e.line for e in logs.lines.entries if e.host == host and ":journal:" in e.source]

    async with app.run_test(size=(160, 50)) as pilot:
        bar = app.query_one("#fleetbar", Static)
        await until(pilot, lambda: str(bar.render()) == "jx1 ok · mx1 ok", tries=300, what="two hosts up")
        await until(pilot, lambda: len(shown("jx1")) == 3, tries=300, what="jx1's back-fill")
        writer = threading.Thread(target=uploads.send, args=(60, 0.03), daemon=True)
        writer.start()
        await until(pilot, lambda: len(shown("jx1")) >= 20, tries=300, what="jx1 streaming")
        os.kill(jx1.session(), signal.SIGKILL)
        await until(pilot, lambda: "jx1 reconnecting (" in str(bar.render()), tries=300, what="jx1 reconnecting")
        await asyncio.to_thread(writer.join, 60)
        await until(pilot, lambda: str(bar.render()) == "jx1 ok · mx1 ok", tries=600, what="jx1 back")
        await until(pilot, lambda: len(shown("jx1")) >= 63, tries=300, what="all 63 lines")
        await pilot.pause(1.0)
        lines = shown("jx1")
        assert numbers(lines) == list(range(63))
        entries = [e for e in app.query_one(LogsPane).lines.entries if e.host == "jx1"]
        assert all(e.match is not None and e.match.recognizer.id == "postfix.sasl.auth_failed" for e in entries)
        assert "jx1:journal journal" in str(app.query_one(LogsPane).border_title)


@pytest.fixture
def system_journal(tmp_path: Path) -> Iterator[PrivateJournald]:
    journald = start_private_journald(tmp_path / "journald")
    yield journald
    journald.stop()


def test_a_host_without_rsyslog_streams_its_system_journal_across_a_killed_connection(
    lab: SshLab, system_journal: PrivateJournald, tmp_path: Path
) -> None:
    """The Debian 12 case: no syslog daemon, the mail stack's entries in the system journal only;
    the agent (in the journal's namespace, as it would simply be on that host) follows it."""
    written = 0

    def log(count: int, pause: float = 0.0) -> None:
        nonlocal written
        for _ in range(count):
            system_journal.log("postfix/smtpd", 1000 + written, failed(written))
            written += 1
            if pause:
                time.sleep(pause)

    system_journal.log("sshd", 7, "Accepted publickey for root", unit="ssh.service")  # not the mail stack's
    log(4)  # before the dashboard: the back-fill
    host = LabHost(
        lab, tmp_path, "deb12", fail2ban=False, system_journal=True, backfill=1000, prefix=system_journal.enter()
    )
    link = RemoteHost(HostSpec("deb12", "deb12", host.command, ["-F", str(lab.config)]))
    got: list[dict[str, Any]] = []

    def lines() -> list[str]:
        return [
            e["line"] for m in got if m["type"] in ("logs", "summary") and m["src"] == "journald" for e in m["entries"]
        ]

    link.start()
    try:
        wait_for(lambda: (got.extend(link.poll()), len(lines()) >= 4)[1], 30, what="the back-fill")
        assert link.hello["problems"] == []
        writer = threading.Thread(target=log, args=(300, 0.01), daemon=True)
        writer.start()
        wait_for(lambda: (got.extend(link.poll()), len(lines()) >= 50)[1], 30, what="the stream")
        os.kill(host.session(), signal.SIGKILL)
        wait_for(lambda: link.state == "reconnecting", 20, what="deb12 reconnecting")
        wait_for(lambda: link.state == "ok" and link.connects >= 2, 40, what="deb12 back")
        writer.join(60)
        log(5)
        wait_for(lambda: (got.extend(link.poll()), len(lines()) >= 309)[1], 40, what="all 309 entries")
        time.sleep(1.0)
        got.extend(link.poll())
    finally:
        link.close()
    assert numbers(lines()) == list(range(309))  # each once, in order; sshd's entry is not the mail stack's
    assert isinstance(link.positions["journald"], str)
    parsed = EnvelopeParser().parse(lines()[0])
    assert (parsed.program, parsed.pid) == ("postfix/smtpd", 1000) and parsed.host
