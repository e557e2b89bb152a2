"""The demo's Services pane: a report the test rig's real daemons produced, shifted to now.

``tests.rig.capture --demo-services`` collects it (``data/services.json``). Uptimes, message
ages and certificate lifetimes keep their captured values relative to the moment of the
capture, so the pane reads as it did then; the queue-size sparkline grows as the demo runs.
"""

from __future__ import annotations

import json
import time

from mailtui.demo import demo_data_text
from mailtui.system.report import ServicesReport, report_from_dict


class DemoServices:
    def __init__(self) -> None:
        self.data = json.loads(demo_data_text("services.json"))
        self.history: list[tuple[float, int]] = []

    def collect(self) -> ServicesReport:
        now = time.time()
        report = report_from_dict(self.data)
        shift = now - report.taken
        report.taken = now
        for d in report.daemons:
            if d.started is not None:
                d.started += shift
        if report.queue is not None:
            report.queue.taken = now
            for m in report.queue.messages:
                m.arrival += shift
            self.history.append((now, report.queue.total))
            self.history = self.history[-720:]
        for c in report.certificates:
            if c.not_after is not None:
                c.not_after += shift
        report.queue_history = list(self.history)
        report.notes.insert(0, "demo: services of the test rig, captured")
        return report
