"""The container log follower's resume rule, against streams that misbehave the way podman's did.

Podman 4.3's live ``logs?follow=1`` stream once skipped lines 26-28 of a container being
restarted, delivered 29, and ended (tests/test_containers.py caught it about one run in three).
That cannot be made to happen on demand with a real engine, so these tests hand the follower the
streams an engine sent: a stand-in client that answers ``logs(since=...)`` from a list of
stamped lines, with the live stream's own gaps. The real engine is exercised in test_containers.py.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

from mailtui.containers.engine import Container
from mailtui.containers.follow import REPLAY_SECONDS, ContainerLogFollower

T0 = 1_764_576_000  # 2025-12-01T08:00:00Z


def _frame(payload: bytes) -> bytes:
    return bytes([1, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def _stamped(second: int, text: str) -> bytes:
    from datetime import datetime, timezone

    stamp = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp} {text}\n".encode()


class Engine:
    """What the engine stored per container id, and what each live stream skips (by index)."""

    def __init__(self) -> None:
        self.stored: dict[str, list[tuple[int, str]]] = {}
        self.skips: list[set[int]] = []  # per stream opened, in order: indexes of stored lines left out
        self.asked: list[int] = []  # the `since` of every stream

    @contextmanager
    def logs(self, ident: str, *, follow: bool, since: int = 0, tail: int | None = None, read_timeout: float = 30.0):  # type: ignore[no-untyped-def]
        self.asked.append(since)
        skip = self.skips.pop(0) if self.skips else set()
        lines = [(i, s, t) for i, (s, t) in enumerate(self.stored.get(ident, [])) if s >= since]
        if tail is not None:
            lines = lines[-tail:]
        yield iter([_frame(_stamped(s, t)) for i, s, t in lines if i not in skip])


def _follower(engine: Engine, containers: list[Container]) -> ContainerLogFollower:
    current = iter(containers)
    follower = ContainerLogFollower(engine, "pf", lambda: next(current, None))  # type: ignore[arg-type]
    return follower


def _run_streams(follower: ContainerLogFollower, containers: list[Container]) -> list[str]:
    for c in containers:
        follower._follow(c)
    return [line.text for line in follower.poll()]


def test_lines_a_live_stream_skipped_before_it_ended_come_on_the_next() -> None:
    engine = Engine()
    # 40 lines over 4 seconds; the first stream skips 26-28 (indexes 25-27) the way podman did
    engine.stored["a"] = [(T0 + n // 10, f"seq={n + 1}") for n in range(40)]
    engine.skips = [{25, 26, 27}]
    ctr = Container(id="a", name="pf")
    got = _run_streams(_follower(engine, [ctr]), [ctr, ctr])
    want = [t for _s, t in engine.stored["a"]]
    assert Counter(got) == Counter(want)  # nothing lost, nothing twice
    assert got[:37] == want[:25] + want[28:] and got[37:] == want[25:28]  # the skipped ones come late
    assert engine.asked == [0, T0 + 3 - REPLAY_SECONDS]


def test_lines_repeated_in_one_second_are_kept_as_often_as_the_engine_has_them() -> None:
    engine = Engine()
    engine.stored["a"] = [(T0, "warning: same")] * 3 + [(T0 + 1, "warning: same")] * 2
    engine.skips = [{4}]
    ctr = Container(id="a", name="pf")
    got = _run_streams(_follower(engine, [ctr]), [ctr, ctr, ctr])
    assert got == ["warning: same"] * 5


def test_a_re_created_container_is_read_whole_even_where_its_lines_match_the_old_ones() -> None:
    engine = Engine()
    engine.stored["old"] = [(T0, "postfix/master: daemon started"), (T0 + 1, "seq=1")]
    engine.stored["new"] = [(T0 + 1, "seq=1"), (T0 + 2, "postfix/master: daemon started")]
    old, new = Container(id="old", name="pf"), Container(id="new", name="pf")
    got = _run_streams(_follower(engine, [old, new]), [old, new])
    assert got == ["postfix/master: daemon started", "seq=1", "seq=1", "postfix/master: daemon started"]
    assert engine.asked == [0, T0 + 1]  # the new container from the old one's last second, nothing skipped


def test_what_the_follower_remembers_stays_within_the_replay_window() -> None:
    engine = Engine()
    engine.stored["a"] = [(T0 + n, f"seq={n}") for n in range(600)]
    ctr = Container(id="a", name="pf")
    follower = _follower(engine, [ctr])
    _run_streams(follower, [ctr])
    assert sorted(follower._seen) == list(range(T0 + 599 - REPLAY_SECONDS, T0 + 600))
    assert follower.resume_second == T0 + 599
