"""The demo's Bans pane: a snapshot the test rig's real fail2ban gave through its socket.

``tests.rig.capture --demo-bans`` collects it (``data/bans.json``): clients of the rig guessed
passwords over SMTP AUTH, IMAP and POP3 and sent bad HELOs until its jails banned them. Ban
starts and ends keep their distance from the moment of the capture, so the pane reads as it
did then (like the demo's Services).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from mailtui.demo import demo_data_text
from mailtui.fail2ban.source import BansResult
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus

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


def _plus(value: float | None, shift: float) -> float | None:
    return None if value is None else float(value) + shift
