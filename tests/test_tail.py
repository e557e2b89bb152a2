"""tail -F semantics: back-fill, appends, rename and copytruncate rotation, re-creation, permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mailtui.logs.tail import FileFollower


def write(path: Path, text: str, mode: str = "a") -> None:
    with path.open(mode) as fh:
        fh.write(text)


def lines(n: int, start: int = 0, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(start, start + n))


def test_backfill_then_appends(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, lines(1000))
    f = FileFollower(str(log), backfill=3)
    assert f.poll() == ["line 997", "line 998", "line 999"]
    assert f.poll() == []
    write(log, "line 1000\nline 10")
    assert f.poll() == ["line 1000"]
    write(log, "01\n")
    assert f.poll() == ["line 1001"]


def test_backfill_larger_than_file_and_partial_last_line(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, "a\nb\nunfinished")
    f = FileFollower(str(log), backfill=10)
    assert f.poll() == ["a", "b"]
    write(log, " now\n")
    assert f.poll() == ["unfinished now"]


def test_rename_rotation_loses_and_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, lines(5))
    f = FileFollower(str(log), backfill=0)
    assert f.poll() == []
    write(log, lines(3, 5))
    os.rename(log, tmp_path / "mail.log.1")
    write(tmp_path / "mail.log.1", lines(2, 8))  # a daemon still writing to the old file
    write(log, lines(4, 10), mode="w")
    got = f.poll()
    assert got == [f"line {i}" for i in range(5, 14)]
    assert f.status.rotations == 1
    write(log, lines(1, 14))
    assert f.poll() == ["line 14"]


def test_copytruncate_loses_and_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, lines(50))
    f = FileFollower(str(log), backfill=0)
    f.poll()
    write(log, lines(2, 50))
    assert f.poll() == ["line 50", "line 51"]
    shutil.copy(log, tmp_path / "mail.log.1")
    with log.open("r+") as fh:
        fh.truncate(0)
    write(log, lines(3, 52, prefix="new"))
    assert f.poll() == ["new 52", "new 53", "new 54"]
    assert f.status.truncations == 1


def test_truncate_and_refill_past_old_offset_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, lines(3))
    f = FileFollower(str(log), backfill=0)
    f.poll()
    with log.open("r+") as fh:
        fh.truncate(0)
    write(log, lines(10, 100, prefix="refill"))  # longer than before: size alone cannot tell
    assert f.poll() == [f"refill {i}" for i in range(100, 110)]


def test_delete_and_recreate(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, "old\n")
    f = FileFollower(str(log), backfill=5)
    assert f.poll() == ["old"]
    log.unlink()
    assert f.poll() == []
    write(log, "fresh\n")
    assert f.poll() == ["fresh"]


def test_missing_file_appears_later(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    f = FileFollower(str(log), backfill=5)
    assert f.poll() == [] and "does not exist" in f.status.problem
    write(log, "first\n")
    assert f.poll() == ["first"] and f.status.problem == ""


def test_permission_problem_is_explained(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, "secret\n")
    log.chmod(0o000)  # unreadable to whoever runs it unless root: run as root, the reader drops to nobody
    tmp_path.chmod(0o755)
    code = (
        f"from mailtui.logs.tail import FileFollower\nf = FileFollower({str(log)!r}); print(f.poll(), f.status.problem)"
    )
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[] permission denied: run as root or join group adm", out.stderr


def test_hostile_bytes_are_sanitised(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"")
    f = FileFollower(str(log))
    f.poll()
    with log.open("ab") as fh:
        fh.write(b"HELO \x1b[2J\xff [bold]x\n")
    assert f.poll() == ["HELO ␛[2J\ufffd [bold]x"]


def test_copytruncate_recovers_lines_written_after_the_last_poll(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    write(log, lines(10))
    f = FileFollower(str(log), backfill=0)
    f.poll()
    write(log, lines(5, 10))  # not polled before rotation: these survive only in the copy
    shutil.copy(log, tmp_path / "mail.log.1")
    with log.open("r+") as fh:
        fh.truncate(0)
    write(log, lines(2, 15))
    assert f.poll() == [f"line {i}" for i in range(10, 17)]


def test_rotation_soak_counts_every_line_once(tmp_path: Path) -> None:
    """Writer and rotations interleaved with polls: every numbered line is seen exactly once."""
    log = tmp_path / "mail.log"
    log.write_text("")
    f = FileFollower(str(log), backfill=0)
    f.poll()
    seen: list[str] = []
    n = 0
    for round_ in range(60):
        write(log, lines(50, n))
        n += 50
        if round_ % 3 == 0:
            seen += f.poll()
        if round_ % 10 == 4:  # rename rotation, writer keeps going on the new file
            os.rename(log, tmp_path / f"mail.log.r{round_}")
            log.write_text("")
        elif round_ % 10 == 9:  # copytruncate
            shutil.copy(log, tmp_path / "mail.log.1")
            os.utime(tmp_path / "mail.log.1")
            with log.open("r+") as fh:
                fh.truncate(0)
        elif round_ % 10 == 6:  # delete and re-create
            seen += f.poll()
            log.unlink()
            log.write_text("")
    seen += f.poll()
    assert seen == [f"line {i}" for i in range(n)]
    assert f.status.rotations >= 6 and f.status.truncations >= 6


def test_a_burst_is_read_in_bounded_polls_even_across_a_rotation(tmp_path: Path) -> None:
    from mailtui.logs import tail

    log = tmp_path / "mail.log"
    log.write_text("")
    follower = FileFollower(str(log), backfill=0)
    assert follower.poll() == []
    line = "x" * 99 + "\n"  # 100 bytes
    count = tail.POLL_BYTES // 100 * 2 + 7  # a bit more than two polls' worth
    with log.open("a") as fh:
        fh.write("".join(f"{i:08d}{line[8:]}" for i in range(count)))
    log.rename(tmp_path / "mail.log.1")  # rotated while most of it is still unread
    (tmp_path / "mail.log").write_text("after 1\nafter 2\n")
    got, polls = [], 0
    while True:
        batch = follower.poll()
        polls += 1
        assert len(batch) <= tail.POLL_BYTES // 100 + 2
        got += batch
        if not follower.more:
            break
    assert polls >= 3
    assert [int(x[:8]) for x in got[:count]] == list(range(count))  # every line once, in order
    assert got[count:] == ["after 1", "after 2"]


def test_live_entries_are_one_collectable_object_per_line(tmp_path: Path) -> None:
    """The view holds tens of thousands of lines: each must cost the garbage collector one object."""
    import gc

    from mailtui.analysis.live import LiveLogs
    from mailtui.logs.locate import LogLocation
    from mailtui.recognizers.engine import default_engine

    log = tmp_path / "mail.log"
    log.write_text(
        "Feb 19 10:35:59 mx dovecot: pop3-login: Disconnected (tried to use disallowed plaintext auth): "
        "user=<ann@example.net>, rip=192.0.2.9, lip=192.0.2.1, session=<brxUt4ZlTfPbavEx>\n"
        "Feb 19 10:36:00 mx postfix/smtpd[11]: something no recognizer knows\n"
    )
    live = LiveLogs([LogLocation("mail", str(log), "test")], default_engine(), backfill=10)
    known, unknown = live.poll()
    live.close()
    assert known.record is known and known.match is known
    assert known.match.recognizer.id == "dovecot.login.plaintext_refused"
    assert known.match.fields["user"] == "ann@example.net" and known.fields["client_ip"] == "192.0.2.9"
    assert "ann@example.net" in known.match.summary and known.match.to_dict()["severity"] == "warn"
    assert unknown.match is None and unknown.message == "something no recognizer knows"
    gc.collect()  # lets the collector untrack the atomic dicts and tuples
    for entry in (known, unknown):
        tracked = [o for o in gc.get_referents(entry) if gc.is_tracked(o) and o is not type(entry)]
        assert tracked in ([], [known.recognizer]), tracked  # the recognizer is shared by every line
