"""The fleet's log lines as live entries: what each host's agent sent, parsed and recognized here.

The line is all that is taken from a host: it is sanitised again, parsed with the local
envelope parser and recognized with the local catalog (the user's own recognizers apply, and a
host cannot claim a recognizer for a line). Each entry carries the configured host name in
``host`` (the Logs and Problems host column) and ``host:path`` as its source. ``FleetLogs`` has
LiveLogs' face (``watch``, ``names``, ``problems``, ``more``), so the app's tail is the same.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, cast

from mailtui.analysis.live import LiveEntry
from mailtui.fleet.fleet import Fleet
from mailtui.fleet.protocol import text
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.sanitize import clean
from mailtui.recognizers.engine import Engine

WAKE = 0.05  # seconds between looks at the hosts' queues when they were empty
PER_POLL = 5_000  # entries per poll at most; the rest waits in the links' queues (more = True)
MAX_LINE_CHARS = 32 * 1024


class FleetLogs:
    def __init__(self, fleet: Fleet, engine: Engine) -> None:
        self.fleet = fleet
        self.engine = engine
        self._parsers: dict[tuple[str, str], EnvelopeParser] = {}
        self._lineno: dict[tuple[str, str], int] = {}
        self.notices: deque[tuple[str, str]] = deque(maxlen=200)  # (host, text) for the app to show
        self.said: deque[tuple[str, str]] = deque(maxlen=200)
        self.routine_skipped: dict[str, int] = {}  # per host: routine lines a slow link left out
        self.more = False

    @property
    def names(self) -> list[str]:
        return [f"{h.name}:{_short(src)}" for h in self.fleet.hosts.values() for src in sorted(h.positions)]

    def problems(self) -> list[str]:
        out = []
        for h in self.fleet.hosts.values():
            if h.state == "reconnecting" and h.problem:
                out.append(f"{h.name}: {h.problem}")
            out += [f"{h.name}: {p}" for p in h.hello.get("problems", [])]
        return out

    def poll(self) -> list[LiveEntry]:
        entries: list[LiveEntry] = []
        self.more = False
        for host in self.fleet.hosts.values():
            for msg in host.poll(limit=max(1, PER_POLL - len(entries))):
                kind = msg.get("type")
                if kind in ("logs", "summary"):
                    self._take(host.name, msg, entries)
                elif kind == "notice":
                    said = (host.name, clean(text(msg.get("text"), 500)))
                    self.notices.append(said)  # taken by the app, shown as notifications
                    self.said.append(said)  # kept: what the agents said, for `mailtui` itself and the bench
            if len(entries) >= PER_POLL:
                self.more = True
                break
        if len(self.fleet.hosts) > 1 and entries:
            now = time.time()
            entries.sort(key=lambda e: e.timestamp if e.timestamp is not None else now)  # stable: per host in order
        return entries

    def _take(self, host: str, msg: dict[str, Any], out: list[LiveEntry]) -> None:
        src = clean(text(msg.get("src"), 4096))
        key = (host, src)
        parser = self._parsers.get(key)
        if parser is None:
            parser = self._parsers[key] = EnvelopeParser(source=f"{host}:{src}", record_type=LiveEntry)
        n = self._lineno.get(key, 0)
        recognize = self.engine.recognize
        items = msg.get("entries")
        for item in items if isinstance(items, list) else []:
            line = item.get("line") if isinstance(item, dict) else None
            if not isinstance(line, str):
                continue
            n += 1
            entry = cast(LiveEntry, parser.parse(clean(line[:MAX_LINE_CHARS]), n, sanitized=True))
            entry.host = host  # the configured name: the column and host: filter read it
            out.append(entry.recognized(recognize(entry)))
        self._lineno[key] = n
        routine = msg.get("routine")
        if msg.get("type") == "summary" and isinstance(routine, int) and routine > 0:
            self.routine_skipped[host] = self.routine_skipped.get(host, 0) + routine

    async def watch(self, stop: asyncio.Event) -> AsyncIterator[list[LiveEntry]]:
        """Each non-empty batch until ``stop`` is set; the links' threads fill the queues meanwhile."""
        self.fleet.start()
        while not stop.is_set():
            batch = await asyncio.to_thread(self.poll)
            if batch:
                yield batch
            if not self.more:
                try:
                    await asyncio.wait_for(stop.wait(), WAKE)
                except asyncio.TimeoutError:
                    pass

    def close(self) -> None:
        self.fleet.close()


def _short(src: str) -> str:
    """A host's source as the Logs title names it: the file's name, "journald", "journal DIR"."""
    if src.startswith("journal:"):
        return f"journal {src.removeprefix('journal:').rstrip('/').rsplit('/', 1)[-1]}"
    return src.rsplit("/", 1)[-1]
