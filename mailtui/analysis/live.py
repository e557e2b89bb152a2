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
from mailtui.logs.sources import HOST, Pattern
from mailtui.logs.tail import FileFollower
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.model import Match, MatchedFields, Recognizer, match_fields
from mailtui.recognizers.recognition import Recognition, RecognizedLine
from mailtui.system.units import plural

if TYPE_CHECKING:
    from mailtui.containers.follow import ContainerLogFollower
    from mailtui.containers.setup import ContainerSetup

DEBOUNCE_MS = 50
EXPAND_EVERY = 1.0  # seconds between re-expansions of the [logs] files patterns (new hosts)
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
        self.backfill = backfill
        #: [logs] files patterns, expanded again while running (a new host's file joins in), and
        #: each one's note (matches nothing yet, too many)
        self.patterns: dict[str, str] = {}
        self._followed: dict[str, str] = {}  # path -> the pattern it came from ("" for none)
        self._expanded_at = time.monotonic()
        for loc in locations:
            if loc.kind == "journald":
                self.journal = JournalFollower(directory=loc.directory, backfill=backfill)
                self.journal.use_record_type(LiveEntry)
            elif loc.kind == "pattern":
                self.patterns[loc.pattern] = loc.note
            elif loc.path:
                self._follow(loc.path, loc.host, backfill, pattern=loc.pattern)
        self._lineno: dict[str, int] = {}

    def _follow(self, path: str, host: str, backfill: int, from_start: bool = False, pattern: str = "") -> None:
        if path in self._followed:
            return
        self._followed[path] = pattern
        follower = FileFollower(path, backfill=backfill, from_start=from_start)
        self.files.append((follower, EnvelopeParser(source=path, record_type=LiveEntry, host=host)))

    def expand_patterns(self) -> int:
        """Follow the files the patterns match now and did not before (a host that began to send):
        each from its start, as it is new. Returns how many files were added."""
        self._expanded_at = time.monotonic()
        added = 0
        for text in self.patterns:
            pattern = Pattern(text)
            matches, total = pattern.expand()
            self.patterns[text] = pattern.note(total)
            for path, host in matches:
                if path not in self._followed:
                    self._follow(path, host, self.backfill, from_start=True, pattern=text)
                    added += 1
        return added

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
        # a file's parser is named after its path, or after its container (docker-mailserver);
        # the files of a pattern are one name with their count: a central box has dozens
        by_pattern = dict.fromkeys(self.patterns, 0)
        names = []
        for follower, parser in self.files:
            pattern = self._followed.get(follower.path, "")
            if pattern in by_pattern:
                by_pattern[pattern] += 1
            else:
                names.append(os.path.basename(parser.source))
        names += [f"{_short(p)} ({plural(n, 'file')})" for p, n in by_pattern.items() if n]
        names += [f.name for f, _ in self.containers]
        if self.journal is not None:
            names.append(f"journal {self.journal.directory}" if self.journal.directory else "journald")
        return names

    def problems(self) -> list[str]:
        out = [f"{p}: {note}" for p, note in self.patterns.items() if note]
        out += [f"{f.path}: {f.status.problem}" for f, _ in self.files if f.status.problem]
        out += [f"{f.name}: {f.problem}" for f, _ in self.containers if f.problem]
        if self.journal and self.journal.problem:
            where = f"journal {self.journal.directory}" if self.journal.directory else "journald"
            out.append(f"{where}: {self.journal.problem}")
        return out

    @property
    def more(self) -> bool:
        """A follower stopped at its per-poll limit: poll again at once."""
        journal = self.journal is not None and self.journal.more
        return journal or any(f.more for f, _ in self.files) or any(f.more for f, _ in self.containers)

    def watch_dirs(self) -> list[str]:
        dirs = {os.path.dirname(os.path.abspath(f.path)) for f, _ in self.files}
        # where a pattern's new files appear: the directory above its first wildcard
        dirs.update(_fixed_dir(p) for p in self.patterns)
        return sorted(d for d in dirs if os.path.isdir(d))

    def poll(self) -> list[LiveEntry]:
        entries: list[LiveEntry] = []
        if self.patterns and time.monotonic() - self._expanded_at >= EXPAND_EVERY:
            self.expand_patterns()
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
        while not stop.is_set():
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
                if self.patterns and self.watch_dirs() != dirs:
                    break  # a new host's directory: watch it too (a new watcher, same loop)
            dirs = self.watch_dirs()

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


def _short(pattern: str) -> str:
    """A pattern's last three path parts: remote/*/mail.log, hosts/%HOST%/mail.log."""
    return "/".join(pattern.split("/")[-3:])


def _fixed_dir(pattern: str) -> str:
    """The deepest directory of a pattern without a wildcard: where its new files appear."""
    parts = pattern.split("/")
    fixed: list[str] = []
    for part in parts[:-1]:
        if HOST in part or any(c in part for c in "*?["):
            break
        fixed.append(part)
    return os.path.abspath("/".join(fixed) or ".")
