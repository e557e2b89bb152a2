"""Read journald through ``journalctl -o json``: follow it live and resume after a restart.

journalctl is run without a shell; its JSON lines are parsed by the envelope parser, so a
journal record becomes the same LogRecord a syslog line would. When journalctl exits (it
is killed, the journal is rotated away), the follower restarts it after the last cursor
it saw, so nothing is read twice and nothing is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from mailtui.core.record import LogRecord
from mailtui.logs.envelope import EnvelopeParser
from mailtui.mta.run import find_tool

#: the mail stack's units on Debian/Ubuntu (postfix@-) and RHEL/Fedora/Arch (postfix)
MAIL_UNITS = ("postfix.service", "postfix@-.service", "dovecot.service", "fail2ban.service")
MAX_LINE = 1 << 20
ERR_KEPT = 1 << 16  # bytes of journalctl's stderr kept
ERR_SHOWN = 240  # characters of its last line in the one-line problem
RETRY_MAX = 60.0  # seconds between attempts once journalctl keeps failing (1, 2, 4, ... 60)
SETTLED = 2.0  # a journalctl still running this long after its start has overcome the last problem
POLL_BYTES = 1 << 20  # read per poll at most; the rest waits in the pipe, and journalctl waits with it


def syslog_line(rec: LogRecord) -> str:
    """A journal record as an RFC 3339 syslog line (``2026-12-01T14:31:29.123456+00:00 mx1
    postfix/smtpd[101]: ...``), which the envelope parser reads back into the same host, program,
    pid, message and time to the microsecond: how the agent sends journald over the fleet's
    line-only stream. The record's text is already sanitised (newlines are visible symbols)."""
    micros = round(rec.timestamp * 1e6) if rec.timestamp is not None else time.time_ns() // 1000
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    rest = rec.line if rec.line and not rec.line.startswith(" ") else f"-{rec.line}"  # no host: "-"
    return f"{stamp}.{fraction:06d}+00:00 {rest}"


@dataclass
class JournalFollower:
    files: list[str] = field(default_factory=list)  # --file; empty = the system journal
    directory: str = ""  # -D
    units: tuple[str, ...] = MAIL_UNITS
    backfill: int = 500
    follow: bool = True
    cursor: str = ""
    problem: str = ""
    restarts: int = 0
    #: the last poll stopped at POLL_BYTES: more is already printed and waits for the next poll
    more: bool = False
    _proc: subprocess.Popen[bytes] | None = None
    _started: float = 0.0
    _failures: int = 0  # failed runs in a row
    _retry_at: float = 0.0
    _buf: bytes = b""
    _err: bytes = b""  # the end of what journalctl wrote on stderr (why it stopped)
    _skipping: bool = False  # inside a record longer than MAX_LINE: dropped up to its newline
    _parser: EnvelopeParser = field(default_factory=lambda: EnvelopeParser(source="journald"))

    def use_record_type(self, record_type: type) -> None:
        """Build records of this LogRecord subclass (the live view's entries)."""
        self._parser.record_type = record_type

    def argv(self) -> list[str]:
        exe = find_tool("journalctl") or "journalctl"
        argv = [exe, "-o", "json", "--no-pager", "-q"]
        for f in self.files:
            argv += ["--file", f]
        if self.directory:
            # --merge: with -f, journalctl (252) shows the newest boot only, and in a directory of
            # many hosts (journal-remote) each host has boots of its own: all but one would vanish
            argv += ["-D", self.directory, "--merge"]
        if not self.files:  # the system journal, or a directory of many hosts' (journal-remote)
            for unit in self.units:
                argv += ["-u", unit]
        if self.cursor:
            # -n all: with -f, journalctl (252) prints only 10 entries after the cursor and holds
            # the rest of a gap back until the journal is written again (a quiet night: for hours)
            argv += ["--after-cursor", self.cursor, "-n", "all"]
        elif self.backfill >= 0:
            argv += ["-n", str(self.backfill)]  # else: all of it (scan)
        if self.follow:
            argv.append("-f")
        return argv

    def start(self) -> None:
        # the problem of a previous run stays until this one proves better (see poll)
        if find_tool("journalctl") is None:
            self.problem = "journalctl is not installed"
            self._failed()
            return
        try:
            self._proc = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self.problem = f"cannot run journalctl: {exc.strerror}"
            self._failed()
            return
        assert self._proc.stdout is not None and self._proc.stderr is not None
        os.set_blocking(self._proc.stdout.fileno(), False)
        os.set_blocking(self._proc.stderr.fileno(), False)
        self._started = time.monotonic()
        self._buf, self._skipping, self._err = b"", False, b""  # what the last run left half written went with it

    def _failed(self) -> None:
        """Try again later, later each time: a journal we may not read is not retried every second."""
        self._failures += 1
        self._retry_at = time.monotonic() + min(RETRY_MAX, 2.0 ** (self._failures - 1))

    def poll(self) -> list[LogRecord]:
        """Records journalctl has printed since the last poll; restarts it if it died."""
        if self._proc is None:
            if time.monotonic() < self._retry_at:
                return []
            self.start()
            if self._proc is None:
                return []
        assert self._proc.stdout is not None
        out: list[LogRecord] = []
        ended = False
        self.more = False
        taken = 0
        # the pipe holds 64 KiB and journalctl waits while it is full, so a backlog (a restart
        # after a long gap) comes a pipeful per read, and at most POLL_BYTES per poll: a reader
        # that stops polling (the agent on a slow link) leaves the backlog in the journal
        while True:
            if taken >= POLL_BYTES:
                self.more = True
                break
            try:
                chunk = os.read(self._proc.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                ended = True
                break
            taken += len(chunk)
            if self._skipping:  # the rest of an absurd record, up to its end
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                chunk, self._skipping = chunk[end + 1 :], False
            self._buf += chunk
            start = self._buf.rfind(b"\n") + 1
            if len(self._buf) - start > MAX_LINE:
                # one absurd record (no newline in MAX_LINE bytes): drop it rather than grow
                # forever, and what comes of it until its newline
                self._buf, self._skipping = self._buf[:start], True
        *complete, self._buf = self._buf.split(b"\n")
        self._drain_stderr()
        for raw in complete:
            rec = self._record(raw)
            if rec is not None:
                out.append(rec)
        if out or (not ended and time.monotonic() - self._started >= SETTLED):
            self.problem = ""
            self._failures = 0
        # only at the end of its output: an exited journalctl may have left records in the pipe
        if ended:
            self._finished()
        return out

    def _drain_stderr(self) -> None:
        """Read what journalctl said on stderr so far, keeping the last ERR_KEPT bytes: unread, a
        full pipe would stop it (and its stdout) for good; kept whole, a chatty one grows without end."""
        pipe = self._proc.stderr if self._proc is not None else None
        while pipe is not None:
            try:
                chunk = os.read(pipe.fileno(), 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._err = (self._err + chunk)[-ERR_KEPT:]

    def _record(self, raw: bytes) -> LogRecord | None:
        if not raw.strip():
            return None
        try:
            entry = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(entry, dict):
            return None
        rec = self._parser.parse_journal(entry)
        if rec.cursor:
            self.cursor = rec.cursor
        return rec

    def _finished(self) -> None:
        assert self._proc is not None
        try:
            self._proc.wait(5)  # its output ended: it is exiting, if not gone already
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._drain_stderr()
        err = self._err.decode("utf-8", "replace").strip()
        self._err = b""
        code = self._proc.returncode
        self._proc = None
        if code not in (0, None) and err:
            low = err.lower()
            if "permission" in low or "no journal files were opened" in low:
                self.problem = "cannot read the journal: run as root or join group systemd-journal or adm"
            else:
                last = err.splitlines()[-1]
                self.problem = f"journalctl: {last[:ERR_SHOWN]}{'…' if len(last) > ERR_SHOWN else ''}"
            self._failed()
        if self.follow:
            self.restarts += 1  # the next poll starts it again after self.cursor

    def read_all(self, deadline: float = 3600.0) -> Iterator[LogRecord]:
        """Every record, start to end, for ``scan`` (no -f, no -n): journalctl's output is read as it
        comes, a line at a time, each capped at MAX_LINE; ``problem`` says why it ended early."""
        exe = find_tool("journalctl")
        if exe is None:
            self.problem = "journalctl is not installed"
            return
        follow, backfill = self.follow, self.backfill
        self.follow, self.backfill = False, -1
        try:
            argv = self.argv()
        finally:
            self.follow, self.backfill = follow, backfill
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        ends = time.monotonic() + deadline
        try:
            while True:
                raw = proc.stdout.readline(MAX_LINE)
                if not raw:
                    break
                if not raw.endswith(b"\n"):  # longer than MAX_LINE: skip the rest of it
                    while raw and not raw.endswith(b"\n"):
                        raw = proc.stdout.readline(MAX_LINE)
                    continue
                rec = self._record(raw)
                if rec is not None:
                    yield rec
                if time.monotonic() > ends:
                    self.problem = f"journalctl: stopped after {deadline:.0f} s"
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            err = proc.stderr.read(4096).decode("utf-8", "replace").strip()
            if proc.returncode not in (0, -9) and err:
                last = err.splitlines()[-1]
                self.problem = f"journalctl: {last[:ERR_SHOWN]}{'…' if len(last) > ERR_SHOWN else ''}"

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
