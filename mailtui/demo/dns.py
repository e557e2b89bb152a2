"""The demo's DNS pane: a real check of the DNS lab's ``broken.test``, captured and replayed.

``tests.rig.capture --demo-dns`` runs ``check_domain`` against tests/rig/dnslab.py (real NSD,
HTTPS, Postfix and Dovecot on loopback) and saves the report as ``data/dns.json``; the demo
hands its findings to the pane one by one, as a check would, and touches no network.
``data/dns-previous.json`` (``--demo-dns-previous``) is a real check of the same lab with
broken.test's zone as it was before three mistakes: the pane marks what changed against it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from mailtui.demo import demo_data_text
from mailtui.dns.model import Finding
from mailtui.dns.run import CheckReport

STEP_SECONDS = 0.03  # between replayed findings: the pane fills as during a real check


class DemoDns:
    def __init__(self, step: float = STEP_SECONDS) -> None:
        self.data = json.loads(demo_data_text("dns.json"))
        self.domain: str = self.data["domain"]
        self.step = step
        self.note = "demo: a captured check of the test rig's DNS lab"

    def previous(self) -> dict[str, Any]:
        """The previous run the pane compares with (no time: it was not a run of this machine)."""
        data: dict[str, Any] = json.loads(demo_data_text("dns-previous.json"))
        data.pop("saved", None)
        return data

    def findings(self) -> list[Finding]:
        return [
            Finding(c["id"], c["group"], c["status"], c["summary"], c.get("detail", ""), c.get("data", {}))
            for c in self.data["checks"]
        ]

    def check(self, domain: str, on_finding: Callable[[Finding], None] | None = None) -> CheckReport:
        if domain.rstrip(".").lower() != self.domain:
            raise ValueError(
                f"the demo checks no real domain (no network): only {self.domain}'s captured "
                "check is replayed (d, then Enter)"
            )
        report = CheckReport(self.domain, self.data.get("unicode_domain", self.domain), self.data["nameserver"])
        for finding in self.findings():
            time.sleep(self.step)
            report.findings.append(finding)
            if on_finding is not None:
                on_finding(finding)
        report.elapsed = float(self.data.get("elapsed", 0.0))
        report.queries = int(self.data.get("queries", 0))
        return report
