"""A central log box on real daemons: rsyslog forwarding over TCP, and systemd-journal-remote.

* Two rsyslogs playing mail hosts mx1 and mx2 forward their mail lines (omfwd, TCP) to a central
  rsyslog (imtcp on 127.0.0.61) that writes per-host files by template; mailtui follows them
  through ``[logs] files`` patterns, picks up a host that begins to send later, keeps each line's
  host (from the line, or from the directory when the template leaves it out), and reads on
  across logrotate + HUP without loss or repetition. The dashboard shows both hosts' lines.
* systemd-journal-remote (``--listen-http`` on 127.0.0.62, ``--split-mode=host``) receives
  journal entries uploaded by two hosts from their own loopback addresses and writes a journal
  file per host; ``[logs] journal_dir`` gives each entry's ``_HOSTNAME``, to ``scan`` and to the
  live follower, which resumes after its cursor without repeating an entry.

Helpers: tests/rig/central.py. Run under the rig lock: ``flock /tmp/mailtui-rig.lock ...``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui import config
from mailtui.analysis.live import LiveEntry, LiveLogs
from mailtui.logs.journal import JournalFollower
from mailtui.logs.locate import locate_logs
from mailtui.recognizers.engine import default_engine
from tests.rig.base import wait_for
from tests.rig.central import (
    CentralRsyslog,
    JournalEntry,
    JournalRemote,
    SenderRsyslog,
    start_central_rsyslog,
    start_journal_remote,
    start_sender_rsyslog,
)

pytestmark = pytest.mark.daemons

QID = "4AB12C3D4E"  # the same queue ID on two hosts: two messages, told apart by the host


def smtpd(n: int) -> str:
    return f"{QID}: client=c{n}.example.org[192.0.2.{n}]"


def login(user: str, n: int) -> str:
    return (
        f"imap-login: Login: user=<{user}>, method=PLAIN, rip=192.0.2.{n}, lip=127.0.0.1, mpid={1000 + n}, "
        f"TLS, session=<s{n:08d}>"
    )


def collect(live: LiveLogs, count: int, timeout: float = 20.0) -> list[LiveEntry]:
    """Poll until ``count`` entries came (and then a moment more, to catch any extra one)."""
    got: list[LiveEntry] = []

    def enough() -> bool:
        got.extend(live.poll())
        return len(got) >= count

    try:
        wait_for(enough, timeout, interval=0.1, what=f"{count} entries")
    except TimeoutError:
        j = live.journal
        raise AssertionError(
            f"{len(got)} of {count} entries; {live.problems()}; {j and (j.argv(), j.restarts, j.problem)}"
        ) from None
    time.sleep(1.2)  # one more re-expansion of the patterns: nothing must come twice
    got.extend(live.poll())
    return got


def lines_in(path: Path) -> int:
    try:
        return path.read_text().count("\n")
    except FileNotFoundError:
        return 0


@pytest.fixture
def box(tmp_path: Path) -> Iterator[CentralRsyslog]:
    central = start_central_rsyslog(tmp_path / "box")
    try:
        yield central
    finally:
        central.stop()


@pytest.fixture
def senders(tmp_path: Path, box: CentralRsyslog) -> Iterator[dict[str, SenderRsyslog]]:
    started: dict[str, SenderRsyslog] = {}
    try:
        for host in ("mx1", "mx2"):
            started[host] = start_sender_rsyslog(tmp_path / host, host, box)
        yield started
    finally:
        for sender in started.values():
            sender.stop()


def test_forwarded_hosts_arrive_in_per_host_files_and_keep_their_hosts(
    box: CentralRsyslog, senders: dict[str, SenderRsyslog]
) -> None:
    mx1, mx2 = senders["mx1"], senders["mx2"]
    mx1.log("postfix/smtpd", 101, smtpd(1))
    mx1.log("dovecot", 55, login("ann@example.org", 2))
    wait_for(lambda: lines_in(box.mail_log("mx1")) == 2 and lines_in(box.hostless_log("mx1")) == 2, 20)
    cfg = config.load(None, {"logs.files": [box.with_hosts, box.without_hosts]})
    live = LiveLogs(locate_logs(cfg), default_engine(), backfill=100)
    try:
        first = collect(live, 4)
        assert not box.mail_log("mx2").exists()  # mx2 has sent nothing yet
        # mx2 begins to send while mailtui runs: its files appear and are followed from their start
        mx2.log("postfix/smtpd", 202, smtpd(3))
        mx2.log("dovecot", 66, login("bob@example.org", 4))
        mx1.log("postfix/smtpd", 103, smtpd(5))
        later = collect(live, 6)
    finally:
        live.close()
    entries = first + later
    assert len(entries) == 10
    assert Counter((e.source, e.message) for e in entries).most_common(1)[0][1] == 1  # nothing twice
    for e in entries:
        named = e.source.startswith(str(box.dir / "remote"))
        host = Path(e.source).parent.name
        assert e.host == host, (e.source, e.line)
        # the remote/ files name the host in each line (rsyslog's %HOSTNAME%: the sender's
        # localHostname); the hosts/ files leave it out and the directory names it
        assert (f" {host} " in e.line) is named, e.line
    by_host = Counter((e.host, e.family) for e in entries)
    assert by_host == {("mx1", "postfix"): 4, ("mx1", "dovecot"): 2, ("mx2", "postfix"): 2, ("mx2", "dovecot"): 2}
    logins = [e for e in entries if e.family == "dovecot"]
    assert {(e.host, e.daemon, e.fields.get("user")) for e in logins} == {
        ("mx1", "imap-login", "ann@example.org"),
        ("mx2", "imap-login", "bob@example.org"),
    }
    same_qid = {(e.host, e.pid) for e in entries if e.message.startswith(QID) and "remote" in e.source}
    assert same_qid == {("mx1", 101), ("mx2", 202), ("mx1", 103)}
    assert sorted(p for p in live.names) == ["hosts/%HOST%/mail.log (2 files)", "remote/*/mail.log (2 files)"]


def test_logrotate_and_hup_on_the_box_lose_and_repeat_nothing(
    box: CentralRsyslog, senders: dict[str, SenderRsyslog]
) -> None:
    """logrotate renames the file, lines still go to the old one until its postrotate HUP makes
    rsyslog re-create it; every line comes once, in order, through each of three rotations."""
    mx1 = senders["mx1"]
    log = box.mail_log("mx1")
    sent = 0

    def send(count: int) -> None:
        nonlocal sent
        for _ in range(count):
            mx1.log("postfix/smtpd", 100 + sent, smtpd(sent))
            sent += 1
        last = smtpd(sent - 1)
        wait_for(lambda: log.exists() and last in log.read_text(), 20, what=f"{last!r} in {log}")

    send(1)
    cfg = config.load(None, {"logs.files": [box.with_hosts]})
    live = LiveLogs(locate_logs(cfg), default_engine(), backfill=100)
    seen: list[LiveEntry] = []
    try:
        seen += collect(live, 1)
        for _rotation in range(3):
            send(3)
            os.rename(log, log.with_name("mail.log.1"))
            late = smtpd(sent)
            mx1.log("postfix/smtpd", 100 + sent, late)  # rsyslog still writes to the old file
            sent += 1
            wait_for(lambda: late in log.with_name("mail.log.1").read_text(), 20)  # noqa: B023 - waited for here
            box.reopen()
            send(2)  # into the re-created file
            seen += collect(live, 6)
            os.unlink(log.with_name("mail.log.1"))
    finally:
        live.close()
    assert [e.pid for e in seen] == list(range(100, 100 + sent))
    assert {e.host for e in seen} == {"mx1"} and len(live.files) == 1


# -- systemd-journal-remote ------------------------------------------------------------------------


@pytest.fixture
def journal_box(tmp_path: Path) -> Iterator[JournalRemote]:
    remote = start_journal_remote(tmp_path / "journal" / "remote")
    try:
        yield remote
    finally:
        remote.stop()


MX1_IP, MX2_IP = "127.0.0.63", "127.0.0.64"


def upload_both(remote: JournalRemote, start: int, count: int) -> None:
    for n in range(start, start + count):
        remote.upload([JournalEntry("mx1", "postfix/smtpd", 100 + n, smtpd(n))], MX1_IP)
        remote.upload([JournalEntry("mx2", "postfix/smtpd", 200 + n, smtpd(n))], MX2_IP)
    remote.upload([JournalEntry("mx2", "sshd", 9, "Accepted publickey for root", unit="ssh.service")], MX2_IP)


def journal_count(directory: Path) -> int:
    from subprocess import run

    out = run(["journalctl", "-D", str(directory), "-o", "json", "--no-pager", "-q"], capture_output=True, timeout=30)
    return len(out.stdout.splitlines())


def test_journal_remote_directory_gives_each_entrys_host_to_scan(
    journal_box: JournalRemote, tmp_path: Path, capsys
) -> None:
    from mailtui.cli import main

    upload_both(journal_box, 1, 3)
    wait_for(lambda: journal_count(journal_box.dir) == 7, 20, what="7 entries in the journal directory")
    # one file per uploading host (split by peer), each entry keeping the _HOSTNAME it was sent with
    assert [p.name for p in journal_box.files()] == [f"remote-{MX1_IP}.journal", f"remote-{MX2_IP}.journal"]
    conf = tmp_path / "config.toml"
    conf.write_text(f"[logs]\njournal_dir = {json.dumps(str(journal_box.dir))}\n")
    cfg = config.load(conf)
    (loc,) = locate_logs(cfg)
    assert (loc.kind, loc.directory, loc.problem) == ("journald", str(journal_box.dir), "")
    code = main(["--config", str(conf), "scan", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["files"] == [f"journal:{journal_box.dir}"]
    assert report["lines"] == 6  # the mail units' entries; sshd's is not the mail stack's
    follower = JournalFollower(directory=str(journal_box.dir), follow=False)
    records = list(follower.read_all())
    assert Counter((r.host, r.program) for r in records) == {("mx1", "postfix/smtpd"): 3, ("mx2", "postfix/smtpd"): 3}
    assert {(r.host, r.pid) for r in records} == {
        ("mx1", 101),
        ("mx1", 102),
        ("mx1", 103),
        ("mx2", 201),
        ("mx2", 202),
        ("mx2", 203),
    }
    assert all(r.message.startswith(QID) and r.cursor for r in records)


def test_journal_directory_followed_live_resumes_after_its_cursor(journal_box: JournalRemote) -> None:
    upload_both(journal_box, 1, 2)
    wait_for(lambda: journal_count(journal_box.dir) == 5, 20)
    cfg = config.load(None, {"logs.journal_dir": str(journal_box.dir)})
    live = LiveLogs(locate_logs(cfg), default_engine(), backfill=100)
    try:
        first = collect(live, 4)
        assert live.names == [f"journal {journal_box.dir}"] and live.problems() == []
        upload_both(journal_box, 3, 1)  # while followed
        first += collect(live, 2)
        assert live.journal is not None
        cursor = live.journal.cursor
    finally:
        live.close()
    assert sorted((e.host, e.pid) for e in first) == [
        ("mx1", 101),
        ("mx1", 102),
        ("mx1", 103),
        ("mx2", 201),
        ("mx2", 202),
        ("mx2", 203),
    ]
    # a restarted dashboard: entries uploaded while it was away, then after its cursor only
    upload_both(journal_box, 4, 2)
    wait_for(lambda: journal_count(journal_box.dir) == 13, 20)
    follower = JournalFollower(directory=str(journal_box.dir), cursor=cursor)
    try:
        resumed: list = []
        wait_for(lambda: resumed.extend(follower.poll()) or len(resumed) >= 4, 20, interval=0.1)
        time.sleep(0.5)
        resumed += follower.poll()
    finally:
        follower.close()
    assert sorted((r.host, r.pid) for r in resumed) == [("mx1", 104), ("mx1", 105), ("mx2", 204), ("mx2", 205)]


async def test_dashboard_shows_both_hosts_and_a_host_that_begins_later(
    box: CentralRsyslog, senders: dict[str, SenderRsyslog]
) -> None:
    """The Logs pane of the real app over the box's patterns: mx1's lines at start, mx2's once it
    begins to send (its files appear while the dashboard runs), each line with its host."""
    import asyncio

    from mailtui.ui.panes import LogsPane
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.helpers import wait_lines
    from tests.ui_apps import make_app

    mx1, mx2 = senders["mx1"], senders["mx2"]
    mx1.log("postfix/smtpd", 101, smtpd(1))
    await asyncio.to_thread(wait_for, lambda: lines_in(box.hostless_log("mx1")) == 1, 20)
    cfg = config.load(None, {"logs.files": [box.with_hosts, box.without_hosts], "logs.max_lines": 200})
    app = make_app(cfg)
    async with app.run_test(size=(120, 35)) as pilot:
        lines = app.query_one(LogLines)
        await wait_lines(pilot, lines, 2)
        pane = app.query_one(LogsPane)
        assert "remote/*/mail.log (1 file)" in str(pane.border_title)
        mx2.log("postfix/smtpd", 202, smtpd(2))
        mx2.log("dovecot", 66, login("bob@example.org", 3))
        await wait_lines(pilot, lines, 6, tries=400)
        await pilot.pause(1.5)  # a re-expansion later: still each line once
        entries = list(lines.entries)
        assert Counter((e.host, e.source.split("/")[-3]) for e in entries) == {
            ("mx1", "remote"): 1,
            ("mx1", "hosts"): 1,
            ("mx2", "remote"): 2,
            ("mx2", "hosts"): 2,
        }
        title = str(pane.border_title)
        assert "remote/*/mail.log (2 files)" in title and "hosts/%HOST%/mail.log (2 files)" in title
        assert any(e.host == "mx2" and e.fields.get("user") == "bob@example.org" for e in entries)


def test_the_rigs_captured_postfix_lines_forwarded_by_two_hosts_mean_the_same_on_each(
    box: CentralRsyslog, senders: dict[str, SenderRsyslog]
) -> None:
    """The Postfix lines the rig's real daemons wrote (mailtui/demo/data/mail.log), sent again by
    mx1 and mx2 through their rsyslogs: on the box each host's lines are recognized as the
    originals were, and the two hosts' identical queue IDs and pids stay apart by host."""
    import re

    from mailtui.logs.envelope import EnvelopeParser

    captured = (Path(__file__).parent.parent / "mailtui" / "demo" / "data" / "mail.log").read_text().splitlines()
    engine = default_engine()
    originals = [EnvelopeParser().parse(text) for text in captured]
    expected = Counter(m.recognizer.id for m in map(engine.recognize, originals) if m is not None)
    assert sum(expected.values()) >= 10  # the capture is worth forwarding
    tag = re.compile(r"\S+ +\d+ [\d:]+ \S+ (?P<tag>[^\[]+)\[(?P<pid>\d+)\]: (?P<msg>.*)")
    for text in captured:
        m = tag.match(text)
        assert m is not None, text
        for sender in senders.values():
            sender.log(m["tag"], int(m["pid"]), m["msg"])
    for host in senders:
        wait_for(lambda h=host: lines_in(box.mail_log(h)) == len(captured), 30, what=f"{host}'s lines")
    cfg = config.load(None, {"logs.files": [box.with_hosts]})
    live = LiveLogs(locate_logs(cfg), default_engine(), backfill=1000)
    try:
        entries = collect(live, 2 * len(captured))
    finally:
        live.close()
    assert len(entries) == 2 * len(captured)
    for host in senders:
        mine = [e for e in entries if e.host == host]
        assert [e.message for e in mine] == [r.message for r in originals]
        assert [(e.program, e.pid) for e in mine] == [(r.program, r.pid) for r in originals]
        assert Counter(e.match.recognizer.id for e in mine if e.match is not None) == expected


async def test_dashboard_reads_the_journal_directory_by_host(journal_box: JournalRemote) -> None:
    import asyncio

    from mailtui.ui.panes import LogsPane
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.helpers import wait_lines
    from tests.ui_apps import make_app

    upload_both(journal_box, 1, 2)
    await asyncio.to_thread(wait_for, lambda: journal_count(journal_box.dir) == 5, 20)
    cfg = config.load(None, {"logs.journal_dir": str(journal_box.dir), "logs.max_lines": 200})
    app = make_app(cfg)
    async with app.run_test(size=(120, 35)) as pilot:
        lines = app.query_one(LogLines)
        await wait_lines(pilot, lines, 4, tries=400)
        await asyncio.to_thread(upload_both, journal_box, 3, 1)  # while the dashboard runs
        await wait_lines(pilot, lines, 6, tries=400)
        await pilot.pause(0.5)
        assert sorted((e.host, e.pid) for e in lines.entries) == [
            ("mx1", 101),
            ("mx1", 102),
            ("mx1", 103),
            ("mx2", 201),
            ("mx2", 202),
            ("mx2", 203),
        ]
        assert f"journal {journal_box.dir}" in str(app.query_one(LogsPane).border_title)
