"""The dashboard's end of the fleet: one ``ssh HOST mailtui agent --stdio`` per host.

The system ``ssh`` is used as it is, so the user's ``~/.ssh/config``, agent, keys and
``known_hosts`` apply; host-key checking is never turned off (``BatchMode=yes`` only stops
ssh from asking a question nobody can answer). A reader thread per host checks every line
(protocol.py), keeps where each log stopped, and queues the messages; when the connection
drops, the host says "reconnecting (N s)" and is tried again after 1, 2, 4 … 30 s, and the new
agent is told where each log stopped (a file's offset, journald's cursor), so the stream goes
on without loss or repetition.
"""

from __future__ import annotations

import queue
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mailtui.config import DEFAULT_AGENT_COMMAND, HostEntry
from mailtui.fleet.protocol import MAX_LINE, ProtocolError, decode, encode, resume_point, text
from mailtui.logs.sanitize import clean

DEFAULT_COMMAND = DEFAULT_AGENT_COMMAND
QUEUE = 10_000  # messages waiting for the dashboard; the reader waits (and ssh with it) beyond
RETRY_MAX = 30.0
STABLE = 30.0  # a connection that lasted this long resets the backoff


@dataclass
class HostSpec:
    name: str
    ssh: str  # "admin@mx1.example.org", or a Host alias of ~/.ssh/config
    command: str = DEFAULT_COMMAND
    ssh_options: list[str] = field(default_factory=list)  # e.g. ["-F", "/path/config"]
    read_only: bool = False  # the config's word: nothing that changes the server goes there

    def argv(self) -> list[str]:
        return [
            "ssh",
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            "ServerAliveInterval=10",
            "-o",
            "ServerAliveCountMax=3",
            *self.ssh_options,
            "--",
            self.ssh,
            *shlex.split(self.command),
        ]


class RemoteError(Exception):
    """A host's agent refused a request (read-only, a bad IP, fail2ban said no): one line."""


class RemoteHost:
    def __init__(self, spec: HostSpec, stream: bool = True, fields: bool = False) -> None:
        self.spec = spec
        self.stream = stream  # False: requests only (the CLI), the agent streams no logs
        self.fields = fields  # True: entries carry the agent's recognizer and fields too
        self.state = "connecting"  # connecting | ok | reconnecting | stopped
        self.problem = ""
        self.hello: dict[str, Any] = {}
        # where each log resumes: a file's (dev, ino, offset, head crc), journald's cursor
        self.positions: dict[str, tuple[int, int, int, int] | str] = {}
        self.connects = 0
        self.retry_at = 0.0
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(QUEUE)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._next_id = 0
        self._failures = 0
        # the newest bans / services message: only the latest matters, so they are not queued
        self.latest: dict[str, dict[str, Any]] = {}
        self._replies: dict[int, dict[str, Any]] = {}
        self._replied = threading.Condition(self._lock)

    @property
    def name(self) -> str:
        return self.spec.name

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"fleet:{self.name}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def status(self, now: float | None = None) -> str:
        """ "mx1 ok", "mx2 reconnecting (12 s)", "imap1 connecting" for the header line."""
        if self.state == "reconnecting":
            left = max(0, round(self.retry_at - (time.monotonic() if now is None else now)))
            return f"{self.name} reconnecting ({left} s)" + (f": {self.problem}" if self.problem else "")
        return f"{self.name} {self.state}"

    def poll(self, limit: int = 5_000) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < limit:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def request(self, op: str, **params: Any) -> int:
        """Send a request to the host's agent; its reply arrives as a ``reply`` message with this id."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            proc = self._proc
        if proc is None or proc.stdin is None or self.state != "ok":
            raise ConnectionError(f"{self.name} is not connected ({self.state})")
        try:
            proc.stdin.write(encode({"type": "request", "id": ident, "op": op, **params}))
            proc.stdin.flush()
        except OSError:
            raise ConnectionError(f"{self.name}: the connection dropped") from None
        return ident

    def wait_reply(self, ident: int, timeout: float) -> dict[str, Any]:
        """The agent's reply to request ``ident``; TimeoutError when none came in ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._replied:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    raise TimeoutError(f"{self.name}: no answer in {timeout:g} s")
                self._replied.wait(min(left, 0.5))
            return self._replies.pop(ident)

    def call(self, op: str, timeout: float = 20.0, **params: Any) -> Any:
        """A request and its answer: the result, or an error (ConnectionError, TimeoutError,
        RemoteError with the agent's one line)."""
        reply = self.wait_reply(self.request(op, **params), timeout)
        if reply.get("ok") is not True:
            raise RemoteError(f"{self.name}: {clean(text(reply.get('error'), 500)) or 'refused'}")
        return reply.get("result")

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._session()
            if self._stop.is_set():
                break
            if time.monotonic() - started > STABLE:
                self._failures = 0
            self._failures += 1
            delay = min(RETRY_MAX, 2.0 ** (self._failures - 1))
            self.state = "reconnecting"
            self.retry_at = time.monotonic() + delay
            self._stop.wait(delay)
        self.state = "stopped"

    def _session(self) -> None:
        try:
            proc = subprocess.Popen(
                self.spec.argv(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            self.problem = f"cannot run ssh: {exc.strerror}"
            return
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.connects += 1
        try:
            # the dashboard recognizes every line itself: lines only (the agent does less work)
            hello: dict[str, Any] = {
                "type": "subscribe",
                "logs": {k: v if isinstance(v, str) else list(v) for k, v in self.positions.items()},
                "fields": self.fields,
            }
            if not self.stream:
                hello["stream"] = False
            proc.stdin.write(encode(hello))
            proc.stdin.flush()
        except OSError:
            pass  # it died at once; stderr below says why
        while not self._stop.is_set():
            raw = proc.stdout.readline(MAX_LINE + 1)
            if not raw:
                break
            if not raw.endswith(b"\n"):
                # longer than a message may be: skip to the end of that line, say so
                while raw and not raw.endswith(b"\n"):
                    raw = proc.stdout.readline(MAX_LINE + 1)
                self._put({"type": "notice", "text": "dropped a message larger than 1 MiB"})
                continue
            try:
                msg = decode(raw)
            except ProtocolError as exc:
                self._put({"type": "notice", "text": f"ignored {exc}"})
                continue
            self._take(msg)
        self._finish(proc)

    def _take(self, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        if kind == "hello":
            self.hello = {
                "host": clean(text(msg.get("host"), 255)),
                "mailtui": clean(text(msg.get("mailtui"), 32)),
                "read_only": msg.get("read_only") is True,
                # which requests it knows (protocol.py: revisions); an agent before revisions is 1
                "rev": msg["rev"] if isinstance(msg.get("rev"), int) and not isinstance(msg["rev"], bool) else 1,
                "problems": [clean(text(p, 500)) for p in msg.get("problems", []) if isinstance(p, str)][:50],
            }
            self.state, self.problem = "ok", ""
        elif kind in ("logs", "summary"):
            src = text(msg.get("src"), 4096)
            pos = resume_point(msg.get("pos"))
            if src and pos is not None:
                self.positions[src] = pos
        msg["host"] = self.name
        if kind == "reply":
            ident = msg.get("id")
            if isinstance(ident, int):
                with self._replied:
                    self._replies[ident] = msg
                    while len(self._replies) > 100:  # answers nobody waits for any more
                        del self._replies[next(iter(self._replies))]
                    self._replied.notify_all()
            return
        if kind in ("bans", "services"):
            self.latest[kind] = msg
            return
        self._put(msg)

    def _put(self, msg: dict[str, Any]) -> None:
        msg.setdefault("host", self.name)
        while not self._stop.is_set():
            try:
                self._queue.put(msg, timeout=0.5)
                return
            except queue.Full:
                continue

    def _finish(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err = proc.stderr.read(64 << 10).decode("utf-8", "replace") if proc.stderr else ""
        lines = [ln.strip() for ln in err.splitlines() if ln.strip() and not ln.startswith("Warning: Permanently")]
        if lines:
            self.problem = clean(lines[-1][:300])
        elif proc.returncode not in (0, None, -15):
            self.problem = f"ssh exited {proc.returncode}"
        self._proc = None


def spec_of(entry: HostEntry) -> HostSpec:
    """The link for a ``[[hosts]]`` entry of the config (checked there: name, target, command)."""
    return HostSpec(
        entry.name,
        entry.ssh,
        entry.command,
        ["-F", entry.ssh_config] if entry.ssh_config else [],
        read_only=entry.read_only,
    )
