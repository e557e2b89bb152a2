"""[logs] files patterns of a central log box: expansion, the host a file gives, new hosts while running.

Real files in tmp dirs, renamed and re-created the way logrotate and rsyslog do it; the daemon
versions of these (rsyslog forwarding, systemd-journal-remote) are in tests/test_central_logs.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mailtui import config
from mailtui.analysis.live import LiveLogs
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.locate import locate_logs
from mailtui.logs.sources import Pattern
from mailtui.recognizers.engine import default_engine


def line(host: str, n: int, qid: str = "4AB12C3D4E") -> str:
    return f"Dec  1 10:00:{n % 60:02d} {host} postfix/smtpd[{100 + n}]: {qid}: client=c{n}.example.org[192.0.2.{n % 250}]\n"


def hostless(n: int) -> str:
    return f"Dec  1 10:01:{n % 60:02d} postfix/qmgr[7]: 4AB12C3D4E: removed n={n}\n"


def live_for(patterns: list[str], backfill: int = 100) -> LiveLogs:
    cfg = config.load(None, {"logs.files": patterns})
    return LiveLogs(locate_logs(cfg), default_engine(), backfill=backfill)


@pytest.mark.parametrize(
    ("pattern", "path", "host"),
    [
        ("/v/remote/*/mail.log", "/v/remote/mx1.example.org/mail.log", "mx1.example.org"),
        ("/v/hosts/%HOST%/mail.log", "/v/hosts/imap1/mail.log", "imap1"),
        ("/v/hosts/%HOST%/*.log", "/v/hosts/imap1/dovecot.log", "imap1"),
        ("/v/%HOST%.d/mail.log", "/v/mx2.d/mail.log", "mx2"),
        ("/v/logs/mail-%HOST%.log", "/v/logs/mail-mx3.log", "mx3"),
        ("/v/*/*/mail.log", "/v/2026/mx1/mail.log", ""),  # two directories could be the host: none
        ("/v/remote/mx*/mail.log", "/v/remote/mx1/mail.log", ""),  # not a bare *: say %HOST%
        ("/v/logs/*.log", "/v/logs/mail.log", ""),  # the file name is no host
    ],
)
def test_the_host_of_a_matched_file(pattern: str, path: str, host: str) -> None:
    assert Pattern(pattern).host_of(path) == host


def test_expansion_skips_rotations_directories_and_sorts(tmp_path: Path) -> None:
    for host in ("mx2", "mx1"):
        d = tmp_path / "remote" / host
        d.mkdir(parents=True)
        for name in ("mail.log", "mail.log.1", "mail.log.2.gz", "mail.log-20260101", "mail.log-20260101.gz"):
            (d / name).write_text(line(host, 1))
    (tmp_path / "remote" / "mx3").mkdir()
    (tmp_path / "remote" / "mx3" / "mail.log").mkdir()  # a directory by that name: not a log
    matches, total = Pattern(str(tmp_path / "remote" / "*" / "mail.log*")).expand()
    assert matches == [(str(tmp_path / "remote" / h / "mail.log"), h) for h in ("mx1", "mx2")]
    assert total == 2


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("/v/%HOST%/%HOST%/mail.log", "%HOST% may stand only once"),
        ("/v/mx*%HOST%/mail.log", "must hold no other wildcard"),
        ("/v/hosts/%HOST%", "must end in a file name"),
        ("/v/remote/*/", "must end in a file name"),
        ("/v/**/mail.log", "** (any depth) is not supported"),
    ],
)
def test_a_bad_pattern_is_one_line_naming_it(tmp_path: Path, entry: str, reason: str) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(f"[logs]\nfiles = [{json.dumps(entry)}]\n")
    with pytest.raises(config.ConfigError) as err:
        config.load(conf)
    message = str(err.value)
    assert reason in message and entry in message and str(conf) in message and "\n" not in message


def test_a_pattern_matching_nothing_is_a_warning_in_the_logs_status(tmp_path: Path) -> None:
    pattern = str(tmp_path / "remote" / "*" / "mail.log")
    cfg = config.load(None, {"logs.files": [pattern]})  # no error
    (loc,) = locate_logs(cfg)
    assert loc.kind == "pattern" and loc.usable and loc.note == "matches no file yet (followed as files appear)"
    live = LiveLogs([loc], default_engine())
    try:
        assert live.problems() == [f"{pattern}: matches no file yet (followed as files appear)"]
        assert live.poll() == []
        # the first host appears: the warning goes, its lines come
        (tmp_path / "remote" / "mx1").mkdir(parents=True)
        (tmp_path / "remote" / "mx1" / "mail.log").write_text(line("mx1", 1))
        live.expand_patterns()
        assert [e.host for e in live.poll()] == ["mx1"]
        assert live.problems() == []
        assert live.names == ["remote/*/mail.log (1 file)"]
    finally:
        live.close()


def test_a_new_hosts_file_is_read_from_its_start_once(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    (remote / "mx1").mkdir(parents=True)
    (remote / "mx1" / "mail.log").write_text("".join(line("mx1", i) for i in range(5)))
    live = live_for([str(remote / "*" / "mail.log")], backfill=3)
    try:
        first = live.poll()
        assert [e.pid for e in first] == [102, 103, 104]  # the back-fill of a file there at start
        (remote / "mx2").mkdir()
        with (remote / "mx2" / "mail.log").open("w") as fh:
            fh.write("".join(line("mx2", i) for i in range(4)))  # written before it was seen
        assert live.expand_patterns() == 1
        assert live.expand_patterns() == 0  # already followed
        got = live.poll()
        assert [(e.host, e.pid) for e in got] == [("mx2", 100 + i) for i in range(4)]
        with (remote / "mx2" / "mail.log").open("a") as fh:
            fh.write(line("mx2", 9))
        with (remote / "mx1" / "mail.log").open("a") as fh:
            fh.write(line("mx1", 8))
        assert sorted((e.host, e.pid) for e in live.poll()) == [("mx1", 108), ("mx2", 109)]
        assert live.poll() == []
    finally:
        live.close()


def test_rotation_of_a_pattern_file_loses_and_repeats_nothing(tmp_path: Path) -> None:
    """logrotate renames mx1's file and rsyslog (HUP) re-creates it; lines keep coming in between."""
    d = tmp_path / "hosts" / "mx1"
    d.mkdir(parents=True)
    log = d / "mail.log"
    log.write_text("")
    live = live_for([str(tmp_path / "hosts" / "%HOST%" / "mail.log")])
    seen: list[str] = []
    try:
        n = 0
        for _round in range(3):
            with log.open("a") as fh:
                for _ in range(5):
                    fh.write(hostless(n))
                    n += 1
            seen += [e.message for e in live.poll()]
            with log.open("a") as fh:  # written after the poll, before the rename: in the old file
                fh.write(hostless(n))
                n += 1
            os.rename(log, d / "mail.log.1")
            with log.open("a") as fh:
                fh.write(hostless(n))
                n += 1
            live.expand_patterns()  # the rotated copy is no new host's file
            entries = live.poll()
            seen += [e.message for e in entries]
            assert all(e.host == "mx1" and e.program == "postfix/qmgr" for e in entries)
            os.unlink(d / "mail.log.1")
        assert seen == [f"4AB12C3D4E: removed n={i}" for i in range(n)]
        assert len(live.files) == 1
    finally:
        live.close()


def test_a_line_without_host_takes_the_files_and_a_line_with_one_keeps_its_own() -> None:
    parser = EnvelopeParser(host="imap1")
    own = parser.parse("Dec  1 10:00:00 imap-login: Info: Login: user=<ann>, rip=192.0.2.1, lip=192.0.2.2")
    assert (own.host, own.family, own.daemon, own.level) == ("imap1", "dovecot", "imap-login", "Info")
    bare = parser.parse("Dec  1 10:00:00 postfix/smtpd[12]: connect from c.example.org[192.0.2.9]")
    assert (bare.host, bare.family, bare.daemon, bare.pid) == ("imap1", "postfix", "smtpd", 12)
    assert bare.message == "connect from c.example.org[192.0.2.9]"
    # Dovecot through syslog, written without the host: its tag first, then the process
    via_syslog = parser.parse("Dec  1 10:00:00 dovecot[66]: imap-login: Login: user=<ann>, rip=192.0.2.1")
    assert (via_syslog.host, via_syslog.family, via_syslog.daemon, via_syslog.pid) == (
        "imap1",
        "dovecot",
        "imap-login",
        66,
    )
    named = parser.parse("Dec  1 10:00:00 mx1 postfix/smtpd[12]: connect from c.example.org[192.0.2.9]")
    assert named.host == "mx1"
    f2b = parser.parse("2026-12-01 10:00:00,123 fail2ban.filter  [9]: INFO    [dovecot] Found 192.0.2.9")
    assert (f2b.host, f2b.family) == ("imap1", "fail2ban")
    assert EnvelopeParser().parse("Dec  1 10:00:00 postfix/smtpd[12]: x").host == ""


def test_scan_reads_a_quoted_pattern_with_each_files_host(tmp_path: Path, capsys) -> None:
    from mailtui.cli import main

    for host in ("mx1", "mx2"):
        (tmp_path / host).mkdir()
        (tmp_path / host / "mail.log").write_text(hostless(1) + line(host, 2))
    code = main(["scan", "--json", str(tmp_path / "%HOST%" / "mail.log")])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["files"] == [str(tmp_path / h / "mail.log") for h in ("mx1", "mx2")]
    assert report["lines"] == 4


async def test_dashboard_warns_of_an_empty_pattern_then_shows_the_first_hosts_lines(tmp_path: Path) -> None:
    from mailtui.ui.panes import LogsPane
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.helpers import wait_lines
    from tests.ui_apps import make_app

    pattern = str(tmp_path / "hosts" / "%HOST%" / "mail.log")
    app = make_app(config.load(None, {"logs.files": [pattern], "logs.max_lines": 200}))
    async with app.run_test(size=(120, 35)) as pilot:
        pane = app.query_one(LogsPane)
        for _ in range(100):
            if "matches no file yet" in str(pane.status.render()):
                break
            await pilot.pause(0.05)
        assert f"{pattern}: matches no file yet" in str(pane.status.render()) and pane.status.display
        (tmp_path / "hosts" / "imap1").mkdir(parents=True)
        (tmp_path / "hosts" / "imap1" / "mail.log").write_text(
            "Dec  1 10:00:00 imap-login: Info: Login: user=<ann@example.org>, method=PLAIN, rip=192.0.2.7, "
            "lip=192.0.2.1, mpid=7, session=<abcdefgh>\n" + hostless(1)
        )
        lines = app.query_one(LogLines)
        await wait_lines(pilot, lines, 2, tries=200)
        assert [(e.host, e.family) for e in lines.entries] == [("imap1", "dovecot"), ("imap1", "postfix")]
        for _ in range(100):
            if not pane.status.display:
                break
            await pilot.pause(0.05)
        assert not pane.status.display  # the warning went with the first file
        assert "hosts/%HOST%/mail.log (1 file)" in str(pane.border_title)
