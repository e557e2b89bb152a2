"""Panes whose data source is not built yet: each says so plainly instead of showing fake data.

Each class is replaced by a real pane module as its capability lands.
"""

from __future__ import annotations

from mailtui.ui.panes.base import Pane, SourceResult


class _NotConnected(Pane):
    REASON = ""

    def collect(self) -> SourceResult:
        return SourceResult(error=f"{self.TITLE} pane: not connected — {self.REASON}")


class DnsPane(_NotConnected):
    TITLE = "DNS"
    PANE_ID = "dns"
    REASON = "the DNS and autoconfig checks are not built yet"
