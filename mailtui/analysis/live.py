"""Every configured log source followed together: new lines parsed, recognized, merged in time order.

``LiveLogs.poll()`` is synchronous and cheap when nothing changed; ``watch()`` wakes it up
through watchfiles (50 ms debounce, far below watchfiles' default 1.6 s) and at least once
a second for sources without file events (journald, missed events).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from mailtui.core.record import LogRecord
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.journal import JournalFollower
from mailtui.logs.locate import LogLocation
from mailtui.logs.tail import FileFollower
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.model import Match, MatchedFields, Recognizer, match_fields
from mailtui.recognizers.recognition import Recognition, RecognizedLine

if TYPE_CHECKING:
    from mailtui.containers.follow import ContainerLogFollower
    from mailtui.containers.setup import ContainerSetup

DEBOUNCE_MS = 50
STEP_MS = 10
FALLBACK_MS = 1000


@dataclass(slots=True, eq=False)
class LiveEntry(LogRecord, MatchedFields):
    """A line as the live view keeps it: the record itself, and what recognized it.

    One object per line, where a record, a match and a pair holding both were three: the view
    holds tens of thousands of lines, and every full garbage collection walks each object
    they consist of (bench/ui_ingest.py). ``entry.record`` and ``entry.match`` are the entry
    itself; as a match it offers what :class:`Match` offers (recognizer, fields, summary, to_dict):
    it is a :class:`RecognizedLine`, and a :class:`Recognition` once recognized.
    """

    recognizer: Recognizer | None = None
    groups: dict[str, str | None] = field(default_factory=dict)
    _fields: dict[str, str] | None = None

    @property
    def record(self) -> LogRecord:
        return self

    @property
    def match(self) -> Recognition | None:
        # recognizer is not None here, which is all a Recognition needs beyond the fields below
        return cast(Recognition, self) if self.recognizer is not None else None

    def recognized(self, match: Match | None) -> LiveEntry:
        if match is not None:
            self.recognizer, self.groups = match.recognizer, match.groups
        return self

    @property
    def fields(self) -> dict[str, str]:
        if self._fields is None:
            self._fields = match_fields(self.family, self.message, self.groups)
        return self._fields


if TYPE_CHECKING:  # mypy proves the entry offers both faces
    _line: type[RecognizedLine] = LiveEntry


class LiveLogs:
    def __init__(
        self,
        locations: list[LogLocation],
        engine: Engine,
        backfill: int = 500,
        containers: ContainerSetup | None = None,
    ) -> None:
        self.engine = engine
        self.files: list[tuple[FileFollower, EnvelopeParser]] = []
        self.journal: JournalFollower | None = None
        self.containers: list[tuple[ContainerLogFollower, EnvelopeParser]] = []
        if containers is not None and containers.active:
            self._follow_containers(containers, backfill)
        for loc in locations:
            if loc.kind == "journald":
                self.journal = JournalFollower(backfill=backfill)
                self.journal.use_record_type(LiveEntry)
            elif loc.path:
                self.files.append(
                    (FileFollower(loc.path, backfill=backfill), EnvelopeParser(source=loc.path, record_type=LiveEntry))
                )
        self._lineno: dict[str, int] = {}

    def _follow_containers(self, setup: ContainerSetup, backfill: int) -> None:
        """The appliance's mail containers, each followed through the engine (a thread each);
        a container that logs to a file inside instead (docker-mailserver) is followed as a file."""
        from mailtui.containers.follow import ContainerLogFollower, resolver_for
        from mailtui.containers.logs import container_log_sources

        assert setup.client is not None
        for source in container_log_sources(setup.client, setup.detection):
            if source.path:
                self.files.append(
                    (
                        FileFollower(source.path, backfill=backfill),
                        EnvelopeParser(source=source.name, record_type=LiveEntry),
                    )
                )
                continue
            follower = ContainerLogFollower(
                setup.client, source.name, resolver_for(setup.client, source.key, setup.detection), backfill=backfill
            )
            follower.start()
            self.containers.append((follower, EnvelopeParser(source=source.name, record_type=LiveEntry)))

    @property
    def names(self) -> list[str]:
        # a file's parser is named after its path, or after its container (docker-mailserver)
        names = [os.path.basename(p.source) for _, p in self.files]
        names += [f.name for f, _ in self.containers]
        return names + (["journald"] if self.journal else [])

    def problems(self) -> list[str]:
        out = [f"{f.path}: {f.status.problem}" for f, _ in self.files if f.status.problem]
        out += [f"{f.name}: {f.problem}" for f, _ in self.containers if f.problem]
        if self.journal and self.journal.problem:
            out.append(f"journald: {self.journal.problem}")
        return out

    @property
    def more(self) -> bool:
        """A follower stopped at its per-poll limit: poll again at once."""
        return any(f.more for f, _ in self.files) or any(f.more for f, _ in self.containers)

    def watch_dirs(self) -> list[str]:
        dirs = {os.path.dirname(os.path.abspath(f.path)) for f, _ in self.files}
        return sorted(d for d in dirs if os.path.isdir(d))

    def poll(self) -> list[LiveEntry]:
        entries: list[LiveEntry] = []
        recognize = self.engine.recognize
        for follower, parser in self.files:
            lines = follower.poll()
            if not lines:
                continue
            n = self._lineno.get(follower.path, 0)
            for line in lines:
                n += 1
                entry = cast(LiveEntry, parser.parse(line, n, sanitized=True))  # its record_type is LiveEntry
                entries.append(entry.recognized(recognize(entry)))
            self._lineno[follower.path] = n
        if self.journal is not None:
            for record in self.journal.poll():
                entry = cast(LiveEntry, record)  # use_record_type(LiveEntry) above
                entries.append(entry.recognized(recognize(entry)))
        for cfollower, parser in self.containers:
            items = cfollower.poll()
            if not items:
                continue
            n = self._lineno.get(cfollower.name, 0)
            for item in items:
                n += 1
                entry = cast(LiveEntry, parser.parse(item.text, n, sanitized=True))
                if entry.timestamp is None:
                    entry.timestamp = item.timestamp  # a line without a stamp of its own: the engine's
                entries.append(entry.recognized(recognize(entry)))
            self._lineno[cfollower.name] = n
        if len(self.files) + len(self.containers) + (self.journal is not None) > 1:
            now = time.time()
            entries.sort(key=lambda e: e.timestamp if e.timestamp is not None else now)
        return entries

    async def watch(self, stop: asyncio.Event) -> AsyncIterator[list[LiveEntry]]:
        """Yield each non-empty batch of new entries until ``stop`` is set (back-fill first)."""
        from watchfiles import awatch

        first = await asyncio.to_thread(self.poll)
        yield first
        async for batch in self._drain(stop):
            yield batch
        dirs = self.watch_dirs()
        if not dirs:
            while not stop.is_set():
                batch = await asyncio.to_thread(self.poll)
                if batch:
                    yield batch
                async for more in self._drain(stop):
                    yield more
                try:
                    await asyncio.wait_for(stop.wait(), FALLBACK_MS / 1000)
                except asyncio.TimeoutError:
                    pass
            return
        async for _changes in awatch(
            *dirs,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=stop,
            rust_timeout=FALLBACK_MS,
            yield_on_timeout=True,
            recursive=False,
        ):
            batch = await asyncio.to_thread(self.poll)
            if batch:
                yield batch
            async for more in self._drain(stop):
                yield more

    async def _drain(self, stop: asyncio.Event) -> AsyncIterator[list[LiveEntry]]:
        """The rest of a burst, one bounded poll at a time, without waiting for a file event."""
        while self.more and not stop.is_set():
            batch = await asyncio.to_thread(self.poll)
            if batch:
                yield batch

    def close(self) -> None:
        for follower, _ in self.files:
            follower.close()
        for cfollower, _ in self.containers:
            cfollower.close()
        if self.journal is not None:
            self.journal.close()
