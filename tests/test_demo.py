"""The demo replays the captured daemon logs through the real tailing pipeline."""

from __future__ import annotations

import time
from pathlib import Path

from mailtui.demo import DEMO_LOGS, demo_data_text
from mailtui.demo.replay import DemoReplay, restamp
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine


def test_demo_data_ships_real_recognizable_lines() -> None:
    engine = default_engine()
    for name in DEMO_LOGS:
        lines = demo_data_text(name).splitlines()
        assert lines, name
        parser = EnvelopeParser()
        assert all(engine.recognize(parser.parse(line)) for line in lines), name


def test_restamp_keeps_each_format() -> None:
    now = time.mktime((2026, 3, 7, 9, 5, 1, 0, 0, -1)) + 0.25
    assert restamp("Nov 29 02:05:18 vm postfix/smtpd[1]: x", now) == "Mar  7 09:05:01 vm postfix/smtpd[1]: x"
    assert (
        restamp("2026-11-29 02:05:21,832 fail2ban.filter [1]: x", now)
        == "2026-03-07 09:05:01,250 fail2ban.filter [1]: x"
    )


def test_replay_appends_at_a_pace(tmp_path: Path) -> None:
    # the back-fill is written by start() itself and the first replayed line follows at once; with
    # 30 s gaps after it, a test thread descheduled for a while still sees the back-fill and at
    # most that one line
    slow = DemoReplay(tmp_path / "slow", min_gap=30, max_gap=30, backfill=5)
    slow.start()
    first = sum(len(p.read_text().splitlines()) for p in slow.paths.values())
    slow.stop()
    assert first in (5, 6)
    replay = DemoReplay(tmp_path / "fast", min_gap=0.01, max_gap=0.02, backfill=5)
    replay.start()
    time.sleep(0.6)
    replay.stop()
    later = sum(len(p.read_text().splitlines()) for p in replay.paths.values())
    assert later > 5 + 5  # then lines keep coming, one every 10-20 ms
    line = replay.paths["mail.log"].read_text().splitlines()[-1]
    assert abs(EnvelopeParser().parse(line).timestamp - time.time()) < 60


def test_demo_services_are_the_rigs_shifted_to_now() -> None:
    import json
    import time

    from mailtui.demo import demo_data_text
    from mailtui.demo.services import DemoServices

    captured = json.loads(demo_data_text("services.json"))
    demo = DemoServices()
    report = demo.collect()
    assert {d.key for d in report.daemons if d.running} == {"postfix", "dovecot", "fail2ban"}
    assert abs(report.taken - time.time()) < 5
    for d, raw in zip(report.daemons, captured["daemons"]):
        assert abs(d.uptime(report.taken) - raw["uptime"]) < 1  # the captured uptime, as of now
    assert report.queue.counts()["deferred"] == captured["queue"]["counts"]["deferred"] >= 1
    assert report.queue.reasons()[0].recognizer == "delivery.connect_failed"
    assert report.notes[0].startswith("demo:")
    assert len(demo.collect().queue_history) == 2  # the sparkline grows as the demo runs


def test_demo_bans_are_the_rigs_fail2ban_shifted_to_now() -> None:
    import json

    from mailtui.demo.bans import DemoBans

    captured = json.loads(demo_data_text("bans.json"))
    now = 1_800_000_000.0
    result = DemoBans(clock=lambda: now).collect()
    snap = result.snapshot
    assert result.mode == "socket" and result.reason.startswith("demo:") and snap.version
    assert [j.name for j in snap.jails] == ["dovecot", "postfix", "postfix-sasl", "recidive"]
    assert sum(j.currently_banned for j in snap.jails) >= 4
    first = captured["jails"][0]["banned"][0]
    ban = snap.jails[0].banned[0]
    # the time left as it was at the capture, whenever the demo runs
    assert ban.time_left(now) == first["ends"] - captured["taken"] > 0


def test_demo_dns_is_a_captured_lab_check_replayed() -> None:
    import pytest

    from mailtui.demo.dns import DemoDns

    replay = DemoDns(step=0)
    seen = []
    report = replay.check("broken.test", on_finding=seen.append)
    assert replay.domain == "broken.test" and len(seen) == len(report.findings) >= 40
    statuses = {f.status for f in report.findings}
    assert {"fail", "warn", "ok"} <= statuses
    with pytest.raises(ValueError, match="no network"):
        replay.check("example.org")
