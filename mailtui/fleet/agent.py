"""``mailtui agent --stdio``: a mail host's collectors as a stream of JSON lines on stdout.

Started by the dashboard through ``ssh host mailtui agent --stdio``; it runs with the SSH
user's privileges on that host and says in its hello what they do not reach (the mail log,
the fail2ban socket). One thread, one loop: requests are read from stdin, the logs are polled,
fail2ban and the services are collected every ``refresh`` seconds, and everything is written
to stdout without blocking. When the link is slow the unsent output grows; past a high mark
the agent sends only problem lines and a count of the routine ones (and says so), and past a
hard limit it stops reading the logs, so the backlog waits in the files and in journald (whose
journalctl blocks on its full pipe): memory stays bounded and no line is lost, only summarised.
journald (the system journal, or ``[logs] journal_dir``) is followed as the local dashboard
follows it (``journalctl -o json -f``); its records travel as RFC 3339 lines and each batch's
``pos`` is the journald cursor of its last record, so a reconnected agent resumes after it.
Requests that change the server are refused under ``--read-only``. The agent exits when stdin
closes (the SSH session ended).
"""

from __future__ import annotations

import os
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailtui import __version__
from mailtui.config import Config
from mailtui.core.record import LogRecord
from mailtui.fleet.protocol import (
    MAX_ENTRIES,
    MAX_LINE,
    REVISION,
    VERSION,
    ProtocolError,
    cursor,
    decode,
    encode,
    position,
    text,
)
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.journal import JournalFollower, syslog_line
from mailtui.logs.tail import FileFollower
from mailtui.recognizers.engine import Engine
from mailtui.settings import settings_from

HIGH = 4 << 20  # unsent bytes: from here on, problem lines and counts only
LOW = 512 << 10  # back to every line below this
LIMIT = 16 << 20  # stop reading logs: the backlog waits in the files
TICK = 0.2
SUBSCRIBE_WAIT = 10.0


@dataclass
class Outbox:
    """stdout, written without blocking; what the pipe does not take waits here (bounded by the
    callers, who check ``size`` before producing more)."""

    fd: int
    buf: bytearray = field(default_factory=bytearray)
    closed: bool = False

    @property
    def size(self) -> int:
        return len(self.buf)

    def send(self, message: dict[str, Any]) -> None:
        self.send_encoded(encode(message), message)

    def send_encoded(self, data: bytes, message: dict[str, Any]) -> None:
        if len(data) > MAX_LINE and message.get("type") == "reply":
            # the asker waits for this id: an answer it can read, not silence
            data = encode(
                {"type": "reply", "id": message.get("id"), "ok": False, "error": "the answer is larger than 1 MiB"}
            )
        elif len(data) > MAX_LINE:
            data = encode({"type": "notice", "text": f"a {message.get('type')} message was too large to send"})
        self.buf += data
        self.flush()

    def flush(self) -> None:
        while self.buf and not self.closed:
            try:
                n = os.write(self.fd, self.buf[: 1 << 16])
            except BlockingIOError:
                return
            except (BrokenPipeError, OSError):
                self.closed = True
                return
            del self.buf[:n]


@dataclass
class Source:
    name: str
    follower: FileFollower
    parser: EnvelopeParser
    lineno: int = 0


@dataclass
class JournalSource:
    """journald followed for the dashboard: ``name`` is "journald" (this host's journal) or
    "journal:DIR" (``[logs] journal_dir``), the key of its cursor on the dashboard's side."""

    name: str
    follower: JournalFollower
    said: str = ""  # the follower's problem as last said in a notice


def journal_source_name(directory: str) -> str:
    return f"journal:{directory}" if directory else "journald"


class Agent:
    def __init__(
        self,
        cfg: Config,
        engine: Engine,
        *,
        read_only: bool,
        stdin: int,
        stdout: int,
        refresh: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        handlers: dict[str, Callable[[dict[str, Any]], Any]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.read_only = read_only
        self.stdin = stdin
        self.out = Outbox(stdout)
        self.refresh = refresh if refresh is not None else float(cfg["ui.refresh_seconds"])
        self.clock = clock
        self.sources: dict[str, Source] = {}
        self.journals: dict[str, JournalSource] = {}
        self.summary_mode = False
        self._inbuf = b""
        self._next_collect = 0.0
        self._subscribed = False
        # requests served by layers above this one (``who`` lives in analysis): cli passes them in
        self.handlers = dict(handlers or {})
        self.streaming = True
        self.with_fields = True

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> int:
        os.set_blocking(self.out.fd, False)
        self.out.send(
            {
                "type": "hello",
                "v": VERSION,
                "rev": REVISION,
                "host": socket.gethostname()[:255],
                "mailtui": __version__,
                "read_only": self.read_only,
                "problems": self._problems(),
            }
        )
        started = self.clock()
        while not self.out.closed:
            wlist = [self.out.fd] if self.out.buf else []
            try:
                readable, writable, _ = select.select([self.stdin], wlist, [], TICK)
            except InterruptedError:
                continue
            if writable:
                self.out.flush()
            if readable and not self._read_requests():
                break  # stdin closed: the session is over
            if not self._subscribed and self.clock() - started > SUBSCRIBE_WAIT:
                self._subscribe({})  # an old dashboard: every log from its end
            if self._subscribed and self.streaming:
                self._poll_logs()
                if self.clock() >= self._next_collect:
                    self._collect()
                    self._next_collect = self.clock() + self.refresh
        self._close_logs()
        return 0

    def _problems(self) -> list[str]:
        from mailtui.fail2ban.client import socket_path
        from mailtui.logs.locate import locate_logs

        out = [f"{loc.path or loc.kind}: {loc.problem}" for loc in locate_logs(self.cfg) if loc.problem]
        sock = socket_path(self.cfg["fail2ban.socket"])
        # a socket is not a log file: what matters is whether this user may talk to it
        if os.path.exists(sock) and not os.access(sock, os.R_OK | os.W_OK):
            out.append(f"{sock}: the fail2ban socket is root-only for this user (bans from the log only)")
        return out

    # -- requests -----------------------------------------------------------------------------

    def _read_requests(self) -> bool:
        try:
            chunk = os.read(self.stdin, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self._inbuf += chunk
        if len(self._inbuf) > MAX_LINE and b"\n" not in self._inbuf:
            self._inbuf = b""
            self.out.send({"type": "notice", "text": "a request longer than 1 MiB was dropped"})
        *lines, self._inbuf = self._inbuf.split(b"\n")
        for raw in lines:
            if raw.strip():
                self._handle(raw)
        return True

    def _handle(self, raw: bytes) -> None:
        try:
            msg = decode(raw)
        except ProtocolError as exc:
            self.out.send({"type": "notice", "text": f"ignored {exc}"})
            return
        if msg["type"] == "subscribe" and msg.get("stream") is False:
            self._subscribed, self.streaming = True, False  # a CLI asking questions: no logs, no polls
        elif msg["type"] == "subscribe":
            # "fields": false — the dashboard recognizes lines itself: full batches carry the lines
            # only, and the agent parses and recognizes only what a slow link's summary needs
            self.with_fields = msg.get("fields") is not False
            logs = msg.get("logs")
            self._subscribe(logs if isinstance(logs, dict) else {})
        elif msg["type"] == "request":
            ident = msg.get("id")
            try:
                result = self._request(msg)
            except Exception as exc:  # noqa: BLE001 - every refusal becomes a reply, never an agent that dies
                self.out.send({"type": "reply", "id": ident, "ok": False, "error": str(exc)[:500]})
            else:
                self.out.send({"type": "reply", "id": ident, "ok": True, "result": result})

    def _request(self, msg: dict[str, Any]) -> Any:
        op = text(msg.get("op"), 32)
        if op in ("unban", "ban"):
            if self.read_only:
                raise PermissionError(f"{op} refused: the agent on {socket.gethostname()} runs --read-only")
            from mailtui.fail2ban import actions

            ip, jail = text(msg.get("ip"), 64), text(msg.get("jail"), 128)
            if op == "ban":
                if not jail:
                    raise ValueError("ban needs a jail")
                return actions.ban(self.cfg["fail2ban.socket"], ip, jail)
            if "jail" in msg and not jail:
                raise ValueError("an empty jail name: name the jail, or leave it out to unban everywhere")
            return actions.unban(self.cfg["fail2ban.socket"], ip, jail or None)
        if op == "where":
            key = text(msg.get("key"), 128)
            daemon = text(msg.get("daemon"), 16)
            from mailtui.mta.doveconf import DovecotConfig
            from mailtui.mta.postconf import PostfixConfig

            found = PostfixConfig(self.cfg["postfix.config_dir"]).where(key) if daemon != "dovecot" else []
            found += DovecotConfig(self.cfg["dovecot.config"]).where(key) if daemon != "postfix" else []
            return [loc.to_dict() for loc in found]
        if op == "services_of":
            return self._services_of(text(msg.get("program"), 256))
        if op == "values":
            names = [text(n, 128) for n in msg.get("names", []) if isinstance(n, str)][:200]
            if text(msg.get("daemon"), 16) == "dovecot":
                from mailtui.mta.doveconf import DovecotConfig

                dovecot = DovecotConfig(self.cfg["dovecot.config"])
                if not dovecot.available:
                    raise ValueError(dovecot.problem)
                values = dovecot.values(names, text(msg.get("protocol"), 32))
                if dovecot.error:
                    raise ValueError(dovecot.error)
                return values
            from mailtui.mta.postconf import PostfixConfig

            postfix = PostfixConfig(self.cfg["postfix.config_dir"])
            if not postfix.available:
                raise ValueError(postfix.problem)
            return postfix.values(names)
        if op == "bans":
            return self._bans()
        if op == "dovecot_version":
            from mailtui.mta.doveconf import DovecotConfig

            return list(DovecotConfig(self.cfg["dovecot.config"]).version())
        if op == "queue_list":  # reading the queue changes nothing: allowed under --read-only too
            from mailtui.system.queue import LIST_MESSAGES, listing, read_queue

            limit = msg.get("limit")
            wanted = limit if isinstance(limit, int) and not isinstance(limit, bool) else LIST_MESSAGES
            return listing(read_queue(self.cfg["postfix.config_dir"]), text(msg.get("reason"), 4096), wanted)
        if op in ("flush", "queue"):
            if self.read_only:
                raise PermissionError(f"{op} refused: the agent on {socket.gethostname()} runs --read-only")
            from mailtui.system import queue_actions

            config_dir = self.cfg["postfix.config_dir"]
            if op == "flush":
                return queue_actions.flush(config_dir)
            return queue_actions.change(text(msg.get("action"), 16), text(msg.get("queue_id"), 32), config_dir)
        handler = self.handlers.get(op)
        if handler is not None:
            return handler(msg)
        raise ValueError(f"unknown request {op!r}")

    def _services_of(self, program: str) -> list[dict[str, Any]]:
        """The master.cf entries whose processes log as ``program`` (postfix/submission/smtpd),
        each with its ``-o`` overrides: what makes a setting's value per service (explain.py)."""
        from mailtui.mta.postconf import PostfixConfig

        postfix = PostfixConfig(self.cfg["postfix.config_dir"])
        if not postfix.available:
            raise ValueError(postfix.problem)
        return [
            {"name": s.name, "command": s.command, "program": s.program, "overrides": s.overrides}
            for s in postfix.services_of(program)
        ]

    # -- logs ---------------------------------------------------------------------------------

    def _subscribe(self, wanted: dict[str, Any]) -> None:
        from mailtui.logs.locate import locate_logs

        self._subscribed = True
        self._close_logs()
        for loc in locate_logs(self.cfg):
            if loc.kind == "journald":
                self._follow_journal(loc.directory, wanted)
                continue
            if not loc.path:
                continue  # a [logs] files pattern itself: its files are locations of their own
            follower = FileFollower(loc.path, backfill=int(self.cfg["logs.backfill"]))
            src = Source(loc.path, follower, EnvelopeParser(source=loc.path))
            self.sources[loc.path] = src
            pos = position(wanted.get(loc.path))
            if pos is not None:
                lines = follower.resume(pos)
                if follower.resume_gap:
                    self.out.send(
                        {
                            "type": "notice",
                            "text": f"{loc.path} was rotated more than once while "
                            "disconnected: some lines of the old file are missing",
                        }
                    )
                if lines:
                    self._send_lines(src, lines, full=True)

    def _close_logs(self) -> None:
        for src in self.sources.values():
            src.follower.close()
        for journal in self.journals.values():
            journal.follower.close()
        self.sources, self.journals = {}, {}

    def _follow_journal(self, directory: str, wanted: dict[str, Any]) -> None:
        """journald as the local dashboard follows it; after the dashboard's cursor when it has one
        (nothing twice, nothing skipped), else the last ``backfill`` records."""
        name = journal_source_name(directory)
        after = cursor(wanted.get(name))
        follower = JournalFollower(directory=directory, backfill=int(self.cfg["logs.backfill"]), cursor=after or "")
        self.journals[name] = JournalSource(name, follower)

    def _poll_logs(self) -> None:
        if self.out.size >= LIMIT:
            return  # the link cannot take more: the backlog waits in the files
        if self.summary_mode and self.out.size < LOW:
            self.summary_mode = False
            self.out.send({"type": "notice", "text": "the link caught up: every line again"})
        elif not self.summary_mode and self.out.size >= HIGH:
            self.summary_mode = True
            self.out.send(
                {
                    "type": "notice",
                    "text": "the link is slow: sending problem lines and counts "
                    "of the routine ones until it catches up",
                }
            )
        for src in self.sources.values():
            lines = src.follower.poll()
            if lines:
                self._send_lines(src, lines, full=not self.summary_mode)
        for journal in self.journals.values():
            if self.out.size >= LIMIT:
                return  # journalctl blocks on its full pipe: the backlog waits in the journal
            records = journal.follower.poll()
            if records:
                self._send_records(journal.name, records, full=not self.summary_mode)
            problem = journal.follower.problem
            if problem != journal.said:
                journal.said = problem
                if problem:
                    self.out.send({"type": "notice", "text": f"{journal.name}: {problem}"[:500]})

    def _send_lines(self, src: Source, lines: list[str], full: bool) -> None:
        pos = src.follower.position
        for start in range(0, len(lines), MAX_ENTRIES):
            chunk = lines[start : start + MAX_ENTRIES]
            entries: list[dict[str, Any]] = []
            routine = 0
            if full and not self.with_fields:
                src.lineno += len(chunk)
                entries = [{"line": line} for line in chunk]
                chunk = []
            for line in chunk:
                src.lineno += 1
                rec = src.parser.parse(line, src.lineno, sanitized=True)
                match = self.engine.recognize(rec)
                if not full and (match is None or match.recognizer.rank < 1):
                    routine += 1
                    continue
                entry: dict[str, Any] = {"line": line}
                if match is not None:
                    entry.update(rec=match.recognizer.id, sev=match.recognizer.severity, fields=match.fields)
                entries.append(entry)
            last = start + MAX_ENTRIES >= len(lines)
            self._send_entries(src.name, entries, list(pos) if last and pos else None, full, routine)

    def _send_records(self, name: str, records: list[LogRecord], full: bool) -> None:
        """journald records as lines; each message's ``pos`` is the cursor of its last record."""
        for start in range(0, len(records), MAX_ENTRIES):
            chunk = records[start : start + MAX_ENTRIES]
            entries: list[dict[str, Any]] = []
            routine = 0
            for rec in chunk:
                entry: dict[str, Any] = {"line": syslog_line(rec)}
                if full and not self.with_fields:
                    entries.append(entry)
                    continue
                match = self.engine.recognize(rec)
                if not full and (match is None or match.recognizer.rank < 1):
                    routine += 1
                    continue
                if match is not None:
                    entry.update(rec=match.recognizer.id, sev=match.recognizer.severity, fields=match.fields)
                entries.append(entry)
            last = next((r.cursor for r in reversed(chunk) if r.cursor), None)
            self._send_entries(name, entries, last, full, routine)

    def _send_entries(
        self, name: str, entries: list[dict[str, Any]], pos: list[int] | str | None, full: bool, routine: int
    ) -> None:
        """One logs/summary message, or two halves when it would be larger than a message may be
        (long lines with many fields, a backlog read at once): a batch is split, never dropped."""
        message: dict[str, Any] = {"type": "logs" if full else "summary", "src": name, "entries": entries, "pos": pos}
        if not full:
            message["routine"] = routine
        data = encode(message)
        if len(data) > MAX_LINE and len(entries) > 1:
            half = len(entries) // 2
            self._send_entries(name, entries[:half], None, full, routine)
            self._send_entries(name, entries[half:], pos, full, 0)
            return
        self.out.send_encoded(data, message)

    # -- fail2ban and services ----------------------------------------------------------------

    def _bans(self) -> dict[str, Any]:
        from mailtui.fail2ban.source import read_bans

        result = read_bans(self.cfg["fail2ban.socket"], self.cfg["logs.fail2ban"])
        return {
            "mode": result.mode,
            "reason": result.reason,
            "headline": result.headline(),
            "actions_disabled": result.actions_disabled,
            "snapshot": result.snapshot.to_dict() if result.snapshot is not None else None,
        }

    def _collect(self) -> None:
        if self.out.size >= HIGH:
            return  # snapshots can wait for a slow link; they are replaced by the next one anyway
        self.out.send({"type": "bans", "result": self._bans()})
        from mailtui.system.report import ServicesCollector

        try:
            report = ServicesCollector.from_settings(settings_from(self.cfg)).collect()
        except Exception as exc:  # noqa: BLE001 - a failing collector is a notice, not a dead agent
            self.out.send({"type": "notice", "text": f"services: {exc}"[:500]})
        else:
            data = report.to_dict()
            queue = data.get("queue")
            if isinstance(queue, dict):
                # the messages themselves are asked for (queue_list): a full queue would make the
                # report larger than a message may be, and the host's services would vanish
                queue.pop("messages", None)
                queue["reasons"] = [{k: v for k, v in g.items() if k != "queue_ids"} for g in queue["reasons"][:50]]
            self.out.send({"type": "services", "report": data})


def serve(cfg: Config, read_only: bool, handlers: dict[str, Callable[[dict[str, Any]], Any]] | None = None) -> int:
    from mailtui.recognizers.engine import default_engine

    agent = Agent(cfg, default_engine(), read_only=read_only, stdin=0, stdout=1, handlers=handlers)
    return agent.run()
