"""Replay the captured demo logs into a directory at a realistic pace, stamped with the current time.

Each line's leading timestamp is rewritten to "now" in the line's own format (traditional
syslog, Dovecot's log file, fail2ban.log), so recency, sparklines and "last seen" behave
as on a live server. Gaps between lines keep their order but are squeezed into
``min_gap``..``max_gap`` seconds. The replay loops until stopped.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from pathlib import Path

from mailtui.demo import DEMO_LOGS, demo_data_text
from mailtui.logs.envelope import EnvelopeParser

_TRAD = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d")
_F2B = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")


def restamp(line: str, now: float) -> str:
    dt = datetime.fromtimestamp(now)
    if _TRAD.match(line):
        return f"{dt:%b} {dt.day:2d} {dt:%H:%M:%S}" + line[15:]
    if _F2B.match(line):
        return dt.strftime("%Y-%m-%d %H:%M:%S") + f",{int(now % 1 * 1000):03d}" + line[23:]
    return line


class DemoReplay:
    def __init__(self, directory: Path, min_gap: float = 0.15, max_gap: float = 1.5, backfill: int = 40) -> None:
        self.directory = directory
        self.min_gap, self.max_gap, self.backfill = min_gap, max_gap, backfill
        self.paths = {name: directory / name for name in DEMO_LOGS}
        self._events = self._load()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _load(self) -> list[tuple[float, str, str]]:
        events = []
        for name in DEMO_LOGS:
            parser = EnvelopeParser()
            for line in demo_data_text(name).splitlines():
                rec = parser.parse(line)
                events.append((rec.timestamp or 0.0, name, line))
        events.sort(key=lambda e: e[0])
        return events

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = time.time()
        head = self._events[: self.backfill]
        for name, path in self.paths.items():
            with path.open("w", encoding="utf-8") as fh:
                for i, (_, n, line) in enumerate(head):
                    if n == name:
                        fh.write(restamp(line, now - (len(head) - i)) + "\n")
        self._thread = threading.Thread(target=self._run, name="mailtui-demo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        start = self.backfill
        while not self._stop.is_set():
            previous = None
            for ts, name, line in self._events[start:]:
                gap = 0.0 if previous is None else min(self.max_gap, max(self.min_gap, ts - previous))
                previous = ts
                if self._stop.wait(gap):
                    return
                with self.paths[name].open("a", encoding="utf-8") as fh:
                    fh.write(restamp(line, time.time()) + "\n")
            start = 0
