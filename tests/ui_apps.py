"""Deterministic app instances for Pilot and snapshot tests (no machine-specific text).

The Services pane polls the machine (pids, load, disk): snapshot tests give it a fixed
report instead, built from the same objects the collector builds. The collector itself is
tested against the rig's real daemons in test_services.py.
"""

from __future__ import annotations

import json

from mailtui.config import Config
from mailtui.system.alerts import Thresholds, evaluate
from mailtui.system.listeners import PortStatus
from mailtui.system.processes import DaemonStatus
from mailtui.system.queue import parse_postqueue_json
from mailtui.system.report import ServicesReport
from mailtui.system.resources import DiskUse, SystemLoad
from mailtui.ui.app import MailTuiApp

FIXED_SUMMARY = "mail.example.test · Postfix 3.7.11 · Dovecot 2.3.19.1 · fail2ban 1.0.2"
FIXED_NOW = 1_790_000_000.0


def fixed_services_report() -> ServicesReport:
    report = ServicesReport(taken=FIXED_NOW)
    report.daemons = [
        DaemonStatus(
            "postfix",
            "Postfix",
            True,
            True,
            812,
            FIXED_NOW - 9000,
            {"qmgr": 1, "pickup": 1, "smtpd": 3},
            0.4,
            38_000_000,
        ),
        DaemonStatus("dovecot", "Dovecot", False, True, note="not running"),
        DaemonStatus("fail2ban", "fail2ban", True, True, 640, FIXED_NOW - 86400 * 3, {}, 0.1, 52_000_000, restarts=1),
    ]
    report.ports = [
        PortStatus(25, "*", "smtp", "postfix", "starttls", True, True, "postfix"),
        PortStatus(587, "*", "submission", "postfix", "starttls", True, True, "postfix"),
        PortStatus(993, "*", "imap-login/imaps", "dovecot", "implicit", True, False, ""),
    ]
    lines = [
        json.dumps(
            {
                "queue_name": "deferred",
                "queue_id": f"4B7C51A0F{i}",
                "arrival_time": FIXED_NOW - 7200 * i,
                "message_size": 2048,
                "sender": "alice@example.test",
                "recipients": [
                    {
                        "address": f"user{i}@example.org",
                        "delay_reason": f"connect to mx.example.org[192.0.2.{i}]:25: Connection timed out",
                    }
                ],
            }
        )
        for i in range(1, 4)
    ]
    report.queue = parse_postqueue_json("\n".join(lines))
    report.queue.taken = FIXED_NOW
    report.queue_history = [(FIXED_NOW - 5 * i, n) for i, n in enumerate([0, 1, 1, 2, 3, 3])]
    report.disks = [DiskUse("queue", "/var/spool/postfix", 41.0, 20 << 30, 3.2)]
    report.load = SystemLoad((0.21, 0.18, 0.12), 2, 37.0, 0.0)
    report.alerts = evaluate(
        Thresholds(),
        daemons=report.daemons,
        ports=report.ports,
        queue=report.queue,
        certificates=report.certificates,
        disks=report.disks,
        now=report.taken,
    )
    return report


class FixedServices:
    def collect(self) -> ServicesReport:
        return fixed_services_report()


def make_app(cfg: Config) -> MailTuiApp:
    return MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
