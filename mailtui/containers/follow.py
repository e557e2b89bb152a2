"""Follow a container's log like ``tail -F`` follows a file: across restarts and re-creation.

One daemon thread per container holds the engine's ``logs?follow=1`` stream and queues its
lines; ``poll()`` hands them over. When the stream ends (the container stopped, was
restarted, or re-created under the same compose service) or the engine goes away, the
thread finds the container again by its key and asks for the log again from REPLAY_SECONDS
before the last line it saw. The engine's ``since`` has whole seconds (podman's timestamps
have no fraction at all), and podman's live stream can skip a few lines around a restart
(seen with podman 4.3: lines 26-28 missing, 29 delivered, then the stream ended), so those
seconds are read again: the lines already seen are recognised by their second and text and
dropped, the ones the stream skipped come now — no line lost, none repeated (a skipped line
comes after the ones the stream gave first). The queue is bounded: while the panes are behind,
the thread waits and the backlog stays in the engine.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from mailtui.containers.appliances import Detection, detect
from mailtui.containers.engine import Container, EngineClient, EngineError, EngineTimeout
from mailtui.containers.frames import FrameDecoder
from mailtui.core.numbers import is_ascii_digits
from mailtui.logs.sanitize import decode

QUEUE_LINES = 20_000
POLL_MAX = 5_000
QUIET = 30.0  # seconds without a byte before a followed stream is re-opened (harmless)
RETRY_MAX = 30.0
REPLAY_SECONDS = 5  # how far before the last line seen a re-opened stream starts again


@dataclass(slots=True)
class ContainerLine:
    timestamp: float | None  # the engine's receive time of the line
    text: str  # sanitised, without the engine's timestamp


def parse_stamp(raw: bytes) -> tuple[tuple[int, int] | None, bytes]:
    """Split the engine's ``2026-12-01T08:15:49.123456789Z `` prefix: ((seconds, nanoseconds), rest)."""
    sp = raw.find(b" ")
    if sp < 20 or sp > 40:
        return None, raw
    stamp = raw[:sp].decode("ascii", "replace")
    rest = raw[sp + 1 :]
    frac = 0
    main = stamp
    if "." in stamp:
        main, _, tail = stamp.partition(".")
        digits = "".join(ch for ch in tail if is_ascii_digits(ch))
        tz = tail[len(digits) :]
        frac = int((digits + "000000000")[:9]) if digits else 0
        main += tz
    try:
        when = datetime.fromisoformat(main.replace("Z", "+00:00"))
    except ValueError:
        return None, raw
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (int(when.timestamp()), frac), rest


class ContainerLogFollower:
    """The lines of one container (found again through ``resolve`` after every stream end)."""

    def __init__(
        self,
        client: EngineClient,
        name: str,
        resolve: Callable[[], Container | None],
        *,
        backfill: int = 500,
        tty: bool = False,
        since: int = 0,
    ) -> None:
        self.client = client
        self.name = name  # what the Logs pane shows as the source
        self.resolve = resolve
        self.backfill = backfill
        self.tty = tty
        self.problem = ""
        self.reconnects = 0
        self._since = since  # resume point (whole seconds); 0 = start with the last `backfill` lines
        self._last = since  # the newest second seen
        self._asked = since  # where the current stream starts (the engine sends nothing before)
        # per second of the last REPLAY_SECONDS + 1: the lines seen (hashes of their text, counted)
        self._seen: dict[int, Counter[int]] = {}
        self._replay: dict[int, Counter[int]] = {}  # of those, still to be skipped on this stream
        self._followed = ""  # the id of the container those lines came from
        self._queue: queue.Queue[ContainerLine] = queue.Queue(QUEUE_LINES)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    @property
    def resume_second(self) -> int:
        """Where a new follower would resume without loss (the dashboard keeps it per container)."""
        return self._last

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"container-logs:{self.name}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()

    @property
    def more(self) -> bool:
        return not self._queue.empty()

    def poll(self) -> list[ContainerLine]:
        out: list[ContainerLine] = []
        while len(out) < POLL_MAX:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            container = None
            try:
                container = self.resolve()
            except EngineError as exc:
                self.problem = str(exc)
            if container is None:
                if not self.problem:
                    self.problem = f"container {self.name} not found"
                self._wait_retry()
                continue
            try:
                self._follow(container)
            except EngineTimeout:
                pass  # a quiet container: open the stream again, after the last line seen
            except EngineError as exc:
                self.problem = str(exc)
                self._wait_retry()
                continue
            if self._stop.is_set():
                return
            self.reconnects += 1
            # the stream ended: stopped, restarting or re-created — look again shortly
            if not container_running(self.client, container):
                self._stop.wait(0.5)

    def _wait_retry(self) -> None:
        self._failures += 1
        self._stop.wait(min(RETRY_MAX, 0.5 * 2 ** min(self._failures - 1, 8)))

    def _follow(self, container: Container) -> None:
        if self._seen and container.id == self._followed:
            # the same container again: its last seconds once more, the lines already seen skipped
            since = max(1, self._last - REPLAY_SECONDS)
            self._replay = {second: Counter(seen) for second, seen in self._seen.items() if second >= since}
        else:  # the first stream, or a re-created container: none of its lines was seen yet
            since, self._replay = self._last, {}
            self._seen = {}
        self._followed = container.id
        self._asked = since
        tail = None if since else self.backfill
        decoder = FrameDecoder(raw=self.tty)
        with self.client.logs(container.id, follow=True, since=since, tail=tail, read_timeout=QUIET) as chunks:
            self.problem = ""
            self._failures = 0
            for chunk in chunks:
                for _stream, raw in decoder.feed(chunk):
                    self._line(raw)
                if self._stop.is_set():
                    return
        for _stream, raw in decoder.flush():
            self._line(raw)

    def _line(self, raw: bytes) -> None:
        key, rest = parse_stamp(raw)
        if key is not None:
            second = key[0]
            if second < self._asked:
                return  # before this stream's start (an engine that ignores `since`)
            mark = hash(rest)
            again = self._replay.get(second)
            if again is not None and again[mark] > 0:
                again[mark] -= 1  # seen on an earlier stream
                return
            self._seen.setdefault(second, Counter())[mark] += 1
            if second > self._last:
                self._last = second
                for old in [s for s in self._seen if s < second - REPLAY_SECONDS]:
                    del self._seen[old]
        item = ContainerLine(key[0] + key[1] / 1e9 if key else None, decode(rest))
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def container_running(client: EngineClient, container: Container) -> bool:
    try:
        return client.inspect(container.id).running
    except EngineError:
        return False


def resolver_for(client: EngineClient, key: str, detection: Detection) -> Callable[[], Container | None]:
    """Find "the same" container again (by compose project/service, else name): after a
    re-creation it has a new id, and of several the running, newest one is meant."""
    names = {m.container.name: m.roles for m in detection.containers if m.appliance == "configured"} or None

    def resolve() -> Container | None:
        for m in detect(client.containers(), names).containers:
            if m.key == key:
                return m.container
        return None

    return resolve
