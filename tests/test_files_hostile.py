"""Hostile files: named pipes, devices, sockets, directories, and lines without a newline.

Every read path (scan's reader, .gz, stdin, the live tail, the back-fill, the copytruncate copy,
fail2ban.log) caps a line at MAX_LINE_BYTES and drops, not keeps, the rest; nothing that only
checks a path opens a pipe; Ctrl-C ends a scan at once with exit 130 and one line.
"""

from __future__ import annotations

import gzip
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.logs.locate import access_problem
from mailtui.logs.reader import MAX_LINE_BYTES, LineSplitter, iter_lines
from mailtui.logs.tail import FileFollower

REPO = Path(__file__).resolve().parent.parent
LINE = "Feb 19 10:41:49 mx postfix/smtpd[8343]: connect from unknown[192.0.2.9]"


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp), "NO_COLOR": "1"}


def _mailtui(*args: str, tmp: Path, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        env=_env(tmp),
        timeout=timeout,
        check=False,
    )


# -- the splitter every path uses -------------------------------------------------------------------
def _reference(data: bytes, cap: int) -> list[tuple[bytes, int]]:
    parts = data.split(b"\n")
    last = parts.pop()
    out = [(p[:cap], len(p)) for p in parts]
    if last:
        out.append((last[:cap], len(last)))
    return out


@pytest.mark.parametrize("seed", range(30))
def test_splitter_gives_the_same_lines_whatever_the_chunks(seed: int) -> None:
    rnd = random.Random(seed)
    cap = rnd.choice([1, 5, 64])
    pieces = [rnd.choice([b"", b"a" * rnd.randint(0, 3 * cap), b"\n", b"\n\n", b"xy\nz"]) for _ in range(60)]
    data = b"".join(pieces)
    splitter = LineSplitter(cap)
    got: list[tuple[bytes, int]] = []
    pos = 0
    while pos < len(data):
        n = rnd.randint(1, 3 * cap + 2)
        lines, cuts = splitter.feed(data[pos : pos + n])
        pos += n
        got += [(raw, cuts.get(i, len(raw))) for i, raw in enumerate(lines)]
        assert len(splitter.head) <= cap  # never more than the cap is held of an unfinished line
    rest = splitter.flush()
    if rest is not None:
        got.append(rest)
    assert got == _reference(data, cap)


# -- scan's reader: plain, .gz, stdin --------------------------------------------------------------
def _hostile_bytes(run: int) -> bytes:
    return f"{LINE} one\n".encode() + b"Z" * run + f"\n{LINE} two\n".encode() + b"tail without newline " * 3


@pytest.mark.parametrize("kind", ["plain", "gz", "stdin"])
@pytest.mark.parametrize("run", [MAX_LINE_BYTES - 1, MAX_LINE_BYTES + 1, 3 << 20, 40 << 20])
def test_overlong_lines_are_cut_and_marked_on_every_read_path(tmp_path: Path, kind: str, run: int) -> None:
    data = _hostile_bytes(run)
    if kind == "plain":
        path = tmp_path / "mail.log"
        path.write_bytes(data)
        lines = [t for _, t in iter_lines(str(path))]
    elif kind == "gz":
        path = tmp_path / "mail.log.gz"
        path.write_bytes(gzip.compress(data, 1))
        lines = [t for _, t in iter_lines(str(path))]
    else:
        code = (
            "import sys; from mailtui.logs.reader import iter_lines\n"
            "for n, t in iter_lines('-'): print(n, len(t), t[:60], t[-60:])"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], input=data, capture_output=True, cwd=REPO, timeout=120, check=True
        )
        rows = proc.stdout.decode().splitlines()
        assert [r.split()[0] for r in rows] == ["1", "2", "3", "4"]
        assert (f"[line cut: {run:,} bytes]" in rows[1]) == (run > MAX_LINE_BYTES)
        assert all(int(r.split()[1]) < 9000 for r in rows)
        return
    assert len(lines) == 4
    assert lines[0].endswith(" one") and lines[2].endswith(" two") and lines[3].startswith("tail without")
    assert all(len(t) < 9000 for t in lines)
    assert (f"[line cut: {run:,} bytes]" in lines[1]) == (run > MAX_LINE_BYTES)


def _rss_of(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1])
    return 0


@pytest.mark.parametrize("size", [1 << 30, (2 << 30) + 12345])
def test_scan_of_a_sparse_file_without_newlines_stays_small(tmp_path: Path, size: int) -> None:
    sparse = tmp_path / "sparse.log"
    with sparse.open("wb") as fh:
        fh.truncate(size)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "scan", "--json", str(sparse)],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, _rss_of(proc.pid))
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert b'"lines": 1' in out
    assert peak < 200 * 1024, f"peak RSS {peak // 1024} MiB"  # was 4.2 GB for 2 GB


@pytest.mark.parametrize("signum", [signal.SIGINT])
@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "fifo"])
def test_ctrl_c_ends_a_scan_of_an_endless_source_at_once(tmp_path: Path, source: str, signum: int) -> None:
    writer = None
    if source == "fifo":  # a writer that never stops and never writes a newline
        path = tmp_path / "fifo1"
        os.mkfifo(path)
        source = str(path)

        def write() -> None:
            try:
                with open(path, "wb") as fh:
                    while True:
                        fh.write(b"y" * 65536)
            except OSError:
                pass

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "scan", source],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(2.5)
        assert proc.poll() is None
        rss = _rss_of(proc.pid)
        assert rss < 200 * 1024, f"{rss // 1024} MiB after 2.5 s"  # it grew ~350 MB/s
        sent = time.monotonic()
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert took < 2, took
    assert proc.returncode == 130
    assert b"Traceback" not in err
    assert err.decode().strip().splitlines()[-1] == "mailtui: scan interrupted: no report"


# -- named pipes, devices, sockets, directories -----------------------------------------------------
@pytest.fixture()
def specials(tmp_path: Path) -> Iterator[dict[str, Path]]:
    fifo = tmp_path / "fifo1"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(sock_path))
    directory = tmp_path / "dir.log"
    directory.mkdir()
    yield {"fifo": fifo, "socket": sock_path, "directory": directory, "chardev": Path("/dev/zero")}
    srv.close()


def test_checking_a_path_never_blocks_on_a_pipe(specials) -> None:
    results: dict[str, str] = {}

    def check() -> None:
        for name, path in specials.items():
            results[name] = access_problem(str(path))
            results[name + "+follow"] = access_problem(str(path), follow=True)

    t = threading.Thread(target=check, daemon=True)
    t.start()
    t.join(3)
    assert not t.is_alive(), "access_problem blocked"
    assert results["fifo"] == "" and "named pipe" in results["fifo+follow"]
    assert results["chardev"] == "" and "character device" in results["chardev+follow"]
    assert "mailtui scan" in results["fifo+follow"]
    for name in ("socket", "directory"):
        assert results[name] == results[name + "+follow"] == f"is a {name}, not a log file"


@pytest.mark.parametrize("writer_first", [False, True])
@pytest.mark.parametrize("pieces", [1, 7])
def test_scan_reads_a_named_pipe_like_stdin(tmp_path: Path, writer_first: bool, pieces: int) -> None:
    fifo = tmp_path / "fifo1"
    os.mkfifo(fifo)
    lines = [f"{LINE} n={i}\n".encode() for i in range(50)]

    def write() -> None:
        with open(fifo, "wb") as fh:
            step = len(lines) // pieces + 1
            for i in range(0, len(lines), step):
                fh.write(b"".join(lines[i : i + step]))
                fh.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=write, daemon=True)
    if writer_first:
        writer.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "scan", "--json", str(fifo)],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if not writer_first:
        time.sleep(1.0)
        writer.start()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b'"lines": 50' in out
    assert b"is a named pipe (FIFO): reading it until it ends" in err


@pytest.mark.parametrize(
    "name,message", [("socket", "is a socket, not a log file"), ("directory", "is a directory, not a log file")]
)
def test_scan_refuses_sockets_and_directories_in_one_line(specials, tmp_path: Path, name: str, message: str) -> None:
    proc = _mailtui("scan", str(specials[name]), tmp=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == f"mailtui: {specials[name]}: {message}"


def test_scan_of_dev_null_is_an_empty_report(tmp_path: Path) -> None:
    proc = _mailtui("scan", "--json", "/dev/null", tmp=tmp_path)
    assert proc.returncode == 0 and b'"lines": 0' in proc.stdout


@pytest.mark.parametrize("name", ["fifo", "chardev", "socket", "directory"])
def test_the_live_tail_refuses_what_it_cannot_follow_and_never_blocks(specials, name: str) -> None:
    follower = FileFollower(str(specials[name]), backfill=10)
    started = time.monotonic()
    assert follower.poll() == [] and follower.poll() == []
    assert time.monotonic() - started < 1
    kind = {"fifo": "a named pipe", "chardev": "a character device", "socket": "", "directory": ""}[name]
    assert kind in follower.status.problem and follower.status.problem, follower.status.problem
    follower.close()


def test_a_pipe_replaced_by_a_file_is_followed(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    os.mkfifo(path)
    follower = FileFollower(str(path), backfill=10)
    assert follower.poll() == [] and "named pipe" in follower.status.problem
    path.unlink()
    path.write_text(f"{LINE} a\n")
    assert follower.poll() == [f"{LINE} a"] and follower.status.problem == ""


@pytest.mark.parametrize("where", ["backfill", "appended", "appended-in-pieces"])
def test_the_live_tail_cuts_overlong_lines(tmp_path: Path, where: str) -> None:
    path = tmp_path / "mail.log"
    run = 5 << 20
    if where == "backfill":
        path.write_bytes(f"{LINE} a\n".encode() + b"Q" * run + f"\n{LINE} b\n".encode())
        follower = FileFollower(str(path), backfill=10)
        got = follower.poll()
    else:
        path.write_bytes(b"")
        follower = FileFollower(str(path), backfill=10)
        assert follower.poll() == []
        got = []
        with path.open("ab") as fh:
            fh.write(f"{LINE} a\n".encode())
            n = 20 if where == "appended-in-pieces" else 1
            for _ in range(n):
                fh.write(b"Q" * (run // n))
                fh.flush()
                got += follower.poll()
                assert len(follower._lines.head) <= MAX_LINE_BYTES  # what it holds
            fh.write(f"\n{LINE} b\n".encode())
        for _ in range(10):
            got += follower.poll()
    assert got[0] == f"{LINE} a" and got[-1] == f"{LINE} b" and len(got) == 3, [g[:40] for g in got]
    assert got[1].startswith("QQQ") and got[1].endswith(f"[line cut: {run:,} bytes]")
    assert len(got[1]) < 9000


def test_the_back_fill_of_a_huge_file_without_newlines_reads_a_bounded_amount(tmp_path: Path) -> None:
    path = tmp_path / "sparse.log"
    with path.open("wb") as fh:
        fh.truncate(2 << 30)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking (large) test process
    code = (
        "import sys; from mailtui.logs.tail import FileFollower\n"
        "f = FileFollower(sys.argv[1], backfill=500); n = len(f.poll()); f.poll()\n"
        "print(n, [r for r in open('/proc/self/status') if r.startswith('VmHWM:')][0].split()[1])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, cwd=REPO, timeout=120, check=True
    )
    lines, peak_kib = map(int, proc.stdout.split())
    assert lines == 0  # no complete line in the last 8 MiB
    assert peak_kib < 150 * 1024, f"{peak_kib // 1024} MiB"  # the dashboard took 2.1 GB here


def test_fail2ban_log_fallback_refuses_a_pipe(tmp_path: Path) -> None:
    from mailtui.fail2ban.source import read_bans

    fifo = tmp_path / "fail2ban.log"
    os.mkfifo(fifo)
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(read_bans(str(tmp_path / "none.sock"), str(fifo))), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "read_bans blocked on a named pipe"
    assert "named pipe" in result[0].reason  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["fifo", "chardev"])
def test_who_refuses_what_it_cannot_read_twice(specials, tmp_path: Path, name: str) -> None:
    # who makes two passes over its files: a pipe's second pass would wait for a new writer
    proc = _mailtui("who", "alice", str(specials[name]), tmp=tmp_path, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == (
        f"mailtui: {specials[name]}: is {'a named pipe (FIFO)' if name == 'fifo' else 'a character device'}: "
        f"it can be read once, not followed or read again: use mailtui scan {specials[name]}"
    )


# -- files that must be regular: a FIFO planted there is refused, never waited on -----------------


@pytest.mark.parametrize(
    "reader",
    ["config", "user_catalog", "fail2ban_setting", "jail_bantimes", "postfix_config", "certificate", "dns_report"],
)
def test_a_fifo_planted_where_a_regular_file_belongs_is_refused_at_once(tmp_path: Path, reader: str) -> None:
    """Each reader, handed a FIFO nobody writes to, answers in one line at once (open() of a FIFO
    would wait for a writer for ever: the test's own timeout is the hang)."""
    fifo = tmp_path / "planted"
    os.mkfifo(fifo)

    def hang(*_: object) -> None:
        raise TimeoutError(f"{reader} waited on the FIFO")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(5)
    try:
        if reader == "config":
            from mailtui import config

            with pytest.raises(config.ConfigError, match=r"is a named pipe \(FIFO\), not a config file"):
                config.read_toml(fifo)
        elif reader == "user_catalog":
            from mailtui.recognizers import loader

            with pytest.raises(loader.CatalogError, match=r"is a named pipe \(FIFO\)"):
                loader._read_user_file(fifo)
        elif reader == "fail2ban_setting":
            from mailtui.logs.locate import fail2ban_setting

            (tmp_path / "fail2ban.conf").write_text("[Definition]\nlogtarget = /var/log/f2b.log\n")
            os.mkfifo(tmp_path / "fail2ban.local")
            assert fail2ban_setting("logtarget", tmp_path) == "/var/log/f2b.log"
        elif reader == "jail_bantimes":
            from mailtui.fail2ban.offline import jail_bantimes

            (tmp_path / "jail.conf").write_text("[sshd]\nbantime = 1h\n")
            os.mkfifo(tmp_path / "jail.local")
            assert jail_bantimes(tmp_path) == {"sshd": 3600}
        elif reader == "postfix_config":
            from mailtui.mta.run import read_config

            assert read_config(fifo, "postconf") is None
        elif reader == "certificate":
            from mailtui.system.certs import read_certificate

            assert "is a named pipe (FIFO)" in read_certificate(str(fifo), "postfix").error
        else:
            from mailtui.dns.diff import DiffError, load_previous

            with pytest.raises(DiffError, match=r"is a named pipe \(FIFO\)"):
                load_previous(str(fifo))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_open_regular_names_each_kind_it_refuses(tmp_path: Path) -> None:
    from mailtui.core.files import NotRegularFile, open_regular, read_capped

    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    (tmp_path / "dir").mkdir()
    kinds = {}
    for name, path in [("fifo", tmp_path / "fifo"), ("dir", tmp_path / "dir"), ("dev", Path("/dev/null"))]:
        with pytest.raises(NotRegularFile) as got:
            open_regular(path)
        kinds[name] = got.value.kind
    with pytest.raises(OSError):  # a socket cannot even be opened: refused by the kernel, no wait
        open_regular(tmp_path / "sock")
    sock.close()
    assert kinds == {"fifo": "a named pipe (FIFO)", "dir": "a directory", "dev": "a character device"}
    (tmp_path / "big").write_bytes(b"x" * 10_000)
    assert len(read_capped(tmp_path / "big", 100)) == 100
