"""The demo's Bans pane: a snapshot the test rig's real fail2ban gave through its socket.

``tests.rig.capture --demo-bans`` collects it (``data/bans.json``): clients of the rig guessed
passwords over SMTP AUTH, IMAP and POP3 and sent bad HELOs until its jails banned them. Ban
starts and ends keep their distance from the moment of the capture, so the pane reads as it
did then (like the demo's Services).

``insight()`` gives the pane's history, jail settings and pending failures from
``data/bans-insight.json`` (``tests.rig.capture --demo-insight``: a real fail2ban-server with the
rig's jails, restarted over four weeks with its clock set back), shifted to now the same way.
``uncaught_tracker()``: the failures no jail counted, judged on the captured logs with their own
times (the replay restamps lines one by one, which would part a Found line from its mail line).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.demo import demo_data_text
from mailtui.fail2ban.history import BanHistory, Offender
from mailtui.fail2ban.insight import JailInsight
from mailtui.fail2ban.pending import Pending
from mailtui.fail2ban.settings import JailSettings, ignored_elsewhere
from mailtui.fail2ban.source import BansResult
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus
from mailtui.fail2ban.uncaught import UncaughtReport, UncaughtTracker, uncaught

NOTE = "demo: the test rig's fail2ban, captured"


class DemoBans:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.data = json.loads(demo_data_text("bans.json"))
        self.clock = clock

    def collect(self) -> BansResult:
        now = self.clock()
        shift = now - float(self.data["taken"])
        jails = []
        for j in self.data["jails"]:
            banned = [
                BannedIP(b["ip"], _plus(b.get("ban_start"), shift), b.get("ban_time"), _plus(b.get("ends"), shift))
                for b in j["banned"]
            ]
            jails.append(
                JailStatus(
                    j["name"],
                    j["currently_failed"],
                    j["total_failed"],
                    len(banned),
                    j["total_banned"],
                    list(j.get("files", [])),
                    banned,
                )
            )
        snapshot = Fail2banSnapshot(jails, "socket", self.data.get("version", ""), taken=now)
        return BansResult(snapshot, "socket", NOTE)

    def insight(self, now: float) -> JailInsight:
        """The captured history, thresholds and pending failures, as of ``now``."""
        data = json.loads(demo_data_text("bans-insight.json"))
        shift = now - float(data["taken"])
        h = data["history"]

        def offender(o: dict[str, Any]) -> Offender:
            return Offender(**{**o, "first": o["first"] + shift, "last": o["last"] + shift})

        history = BanHistory(
            h["days"],
            h["until"] + shift,
            h["per_day"],
            h["totals"],
            [offender(o) for o in h["offenders"]],
            [offender(o) for o in h["recidive"]],
            _plus(h.get("oldest"), shift),
            h.get("note", ""),
        )
        settings = {name: JailSettings(**v) for name, v in data["settings"].items()}
        waiting = [
            Pending(
                p["jail"],
                p["ip"],
                p["failures"],
                p["maxretry"],
                p["oldest"] + shift,
                p["newest"] + shift,
                _plus(p["window_ends"], shift),
            )
            for p in data["pending"]
        ]
        banned = {j["name"]: [b["ip"] for b in j["banned"]] for j in self.data["jails"]}
        return JailInsight(settings, history, waiting, ignored_elsewhere(banned, settings), "captured", [], now)

    def uncaught_tracker(self) -> CapturedUncaught:
        return uncaught_tracker()


class CapturedUncaught(UncaughtTracker):
    """The judgement of the captured logs, as the Problems pane's tracker: the replayed lines add nothing."""

    def __init__(self, report: UncaughtReport) -> None:
        super().__init__()
        self.report = report

    def add(self, record: LogRecord, match: Any) -> None:
        return None

    def ready(self, now: float) -> bool:
        return False

    def set_settings(self, settings: dict[str, JailSettings]) -> bool:
        return False  # judged once, on the captured logs (the rig's jails ignore no address)

    def judge(self, now: float) -> UncaughtReport:
        return self.report


def uncaught_tracker() -> CapturedUncaught:
    from mailtui.demo import DEMO_LOGS
    from mailtui.recognizers.engine import default_engine

    mail = [line for name in DEMO_LOGS if name != "fail2ban.log" for line in demo_data_text(name).splitlines()]
    report = uncaught(mail, demo_data_text("fail2ban.log").splitlines(), default_engine())
    return CapturedUncaught(report)


def _plus(value: float | None, shift: float) -> float | None:
    return None if value is None else float(value) + shift
