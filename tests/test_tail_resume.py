"""FileFollower.resume: a later follower (a reconnected agent) goes on exactly where one stopped."""

from __future__ import annotations

import os
from pathlib import Path

from mailtui.logs.tail import FileFollower


def test_resume_in_the_same_file_reads_nothing_twice(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("a\nb\npartial")
    first = FileFollower(str(log), backfill=10)
    assert first.poll() == ["a", "b"]
    pos = first.position
    first.close()
    assert pos is not None and pos[2] == 4  # after "b\n", not after the unfinished line
    with log.open("a") as fh:
        fh.write(" line\nc\n")
    later = FileFollower(str(log), backfill=10)
    assert later.resume(pos) == [] and later.poll() == ["partial line", "c"]


def test_resume_after_rotation_reads_the_rest_of_the_old_file_first(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("a\n")
    first = FileFollower(str(log))
    first.poll()
    pos = first.position
    first.close()
    with log.open("a") as fh:
        fh.write("b\nc\n")  # written while nobody followed, then rotated away
    os.rename(log, tmp_path / "mail.log.1")
    log.write_text("d\n")
    later = FileFollower(str(log))
    assert pos is not None
    assert later.resume(pos) == ["b", "c"] and later.poll() == ["d"] and not later.resume_gap


def test_resume_when_the_old_file_is_gone_says_so(tmp_path: Path) -> None:
    # ext4 hands a freed inode to the next new file: the head checksum tells them apart
    log = tmp_path / "mail.log"
    log.write_text("a\n")
    first = FileFollower(str(log))
    first.poll()
    pos = first.position
    first.close()
    log.unlink()
    log.write_text("x\n")
    later = FileFollower(str(log))
    assert pos is not None
    assert later.resume(pos) == [] and later.resume_gap and later.poll() == ["x"]
