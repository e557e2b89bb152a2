"""The journald source against real journal files written by systemd-journal-remote."""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

import pytest

from mailtui.logs.journal import JournalFollower
from tests.rig.base import need

REMOTE = "/lib/systemd/systemd-journal-remote"


def _field(key: str, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    if b"\n" in raw or any(c < 32 and c != 9 for c in raw):  # binary form of the export format
        return key.encode() + b"\n" + struct.pack("<Q", len(raw)) + raw + b"\n"
    return key.encode() + b"=" + raw + b"\n"


def write_journal(journal: Path, entries: list[tuple[str, str | bytes]], start: int) -> None:
    """Append entries (identifier, message) to a journal file through systemd-journal-remote."""
    if not Path(REMOTE).exists():
        need("systemd-journal-remote")  # skips or fails with the install hint
    blobs = []
    for i, (ident, message) in enumerate(entries):
        n = start + i
        t = 1_780_000_000_000_000 + n * 1_000_000
        blobs.append(
            b"".join(
                [
                    _field("__CURSOR", f"s=0;i={n};b=0;m={n};t={t};x=0"),
                    _field("__REALTIME_TIMESTAMP", str(t)),
                    _field("__MONOTONIC_TIMESTAMP", str(n + 1)),
                    _field("_BOOT_ID", "0123456789abcdef0123456789abcdef"),
                    _field("_HOSTNAME", "mx"),
                    _field("SYSLOG_IDENTIFIER", ident),
                    _field("_PID", str(100 + n)),
                    _field("SYSLOG_FACILITY", "2"),
                    _field("MESSAGE", message),
                ]
            )
        )
    export = journal.with_suffix(f".{start}.export")
    export.write_bytes(b"\n".join(blobs) + b"\n")
    subprocess.run([REMOTE, f"--output={journal}", str(export)], check=True, capture_output=True, timeout=30)


def poll_until(follower: JournalFollower, count: int, timeout: float = 10.0) -> list:
    got: list = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += follower.poll()
        time.sleep(0.05)
    return got


ENTRIES = [
    ("postfix/smtpd", "connect from unknown[192.0.2.1]"),
    (
        "dovecot",
        "pop3-login: Disconnected (tried to use disallowed plaintext auth): user=<a>, rip=192.0.2.2, lip=192.0.2.3",
    ),
    ("postfix/smtpd", b"HELO bad \xff byte \x1b[2J"),
]


def test_records_from_a_real_journal(tmp_path: Path) -> None:
    need("journalctl")
    journal = tmp_path / "mail.journal"
    write_journal(journal, ENTRIES, 1)
    follower = JournalFollower(files=[str(journal)], follow=False)
    records = poll_until(follower, 3)
    follower.close()
    assert [(r.program, r.pid, r.family, r.daemon) for r in records] == [
        ("postfix/smtpd", 101, "postfix", "smtpd"),
        ("dovecot", 102, "dovecot", "pop3-login"),
        ("postfix/smtpd", 103, "postfix", "smtpd"),
    ]
    assert records[1].message.startswith("pop3-login: Disconnected (tried to use disallowed")
    assert records[2].message == "HELO bad \ufffd byte ␛[2J"  # MESSAGE arrived as a byte array
    assert records[0].timestamp == pytest.approx(1_780_000_001.0)
    assert records[0].host == "mx" and records[0].cursor


def test_follow_and_resume_after_journalctl_dies(tmp_path: Path) -> None:
    need("journalctl")
    journal = tmp_path / "mail.journal"
    write_journal(journal, ENTRIES[:2], 1)
    follower = JournalFollower(files=[str(journal)], follow=True)
    assert len(poll_until(follower, 2)) == 2
    write_journal(journal, [ENTRIES[0]], 10)
    assert [r.pid for r in poll_until(follower, 1)] == [110]
    follower._proc.kill()  # journalctl gone: the next poll restarts it after the last cursor
    follower._proc.wait()
    follower.poll()
    write_journal(journal, [ENTRIES[1]], 20)
    resumed = poll_until(follower, 1)
    follower.close()
    assert [r.pid for r in resumed] == [120], "a record was repeated or lost across the restart"
    assert follower.restarts == 1


def test_unreadable_journal_is_explained(tmp_path: Path) -> None:
    need("journalctl")
    follower = JournalFollower(files=[str(tmp_path / "missing.journal")], follow=False)
    follower.poll()
    time.sleep(0.5)
    follower.poll()
    follower.close()
    assert follower.problem


def test_a_backlog_of_thousands_arrives_once_and_in_order(tmp_path: Path) -> None:
    """A start after a long gap: journalctl dumps thousands of records and, without -f, exits
    while the last of them still wait in the pipe; they are read before it is written off."""
    need("journalctl")
    journal = tmp_path / "mail.journal"
    n = 4000
    write_journal(
        journal,
        [("postfix/smtpd", f"connect from unknown[192.0.2.{i % 250}] #{i:05d} " + "x" * 200) for i in range(n)],
        1,
    )
    follower = JournalFollower(files=[str(journal)], follow=False, backfill=n)
    got: list = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        got += follower.poll()
        time.sleep(0.2)  # slower than journalctl: it fills the pipe and exits before we are done
    follower.close()
    assert [r.pid for r in got] == [101 + i for i in range(n)], "a record was lost or repeated"
    assert follower.problem == "" and follower._proc is None


def test_a_journal_that_cannot_be_read_is_retried_ever_more_slowly(tmp_path: Path) -> None:
    need("journalctl")
    follower = JournalFollower(files=[str(tmp_path / "missing.journal")], follow=True)
    problems = []
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        follower.poll()
        problems.append(follower.problem)
        time.sleep(0.05)
    follower.close()
    first = next(i for i, p in enumerate(problems) if p)
    assert all(problems[first:]), "the problem flickered off between attempts"
    # attempts at 0, 1, 1+2 s: without the back-off it would be one every other poll (~35)
    assert 2 <= follower.restarts <= 4


def test_an_endless_record_is_dropped_and_the_records_around_it_kept(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A journalctl that writes one record of 5 MiB without a newline between two normal ones (the
    real one prints fields over 4 KiB as null, so a stand-in on PATH writes it): the follower's
    buffer stays near MAX_LINE, the record is dropped up to its newline, the neighbours arrive."""
    import json

    from mailtui.logs import journal

    def record(n: int) -> str:
        return json.dumps(
            {
                "__CURSOR": f"c{n}",
                "__REALTIME_TIMESTAMP": "1780000000000000",
                "SYSLOG_IDENTIFIER": "postfix/smtpd",
                "MESSAGE": f"connect from unknown[192.0.2.{n}]",
                "_HOSTNAME": "mx",
            }
        )

    fake = tmp_path / "journalctl"
    fake.write_text(
        "#!/bin/sh\n"
        f"echo '{record(1)}'\n"
        "printf '{\"MESSAGE\": \"'; head -c 5242880 /dev/zero | tr '\\0' 'A'; echo '\"}'\n"
        f"echo '{record(2)}'\n"
        "head -c 300000 /dev/zero | tr '\\0' 'E' >&2; echo ' the last words' >&2; exit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    follower = JournalFollower(follow=True)
    biggest = 0
    got: list = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not follower.problem:
        got += follower.poll()
        biggest = max(biggest, len(follower._buf))
        time.sleep(0.02)
    follower.close()
    assert [r.message for r in got] == ["connect from unknown[192.0.2.1]", "connect from unknown[192.0.2.2]"]
    assert biggest <= journal.MAX_LINE + (1 << 16)
    # 300 kB on stderr neither stopped it nor grew the follower; the problem is one short line
    assert follower.problem.startswith("journalctl: EEEE") and follower.problem.endswith("…")
    assert len(follower.problem) < 300 and len(follower._err) == 0
