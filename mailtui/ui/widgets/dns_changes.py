"""What changed since the previous run of the DNS check, for the DNS pane's rows, detail and status.

When a check finishes, the pane's worker compares it with the domain's last finished check
(dns/diff.py: ``$XDG_STATE_HOME/mailtui/dns/<domain>.json``), then saves this one for the next run.
A finding that is new or changed status/wording gets a mark before its summary; the detail says
what it was. The first run of a domain marks nothing (there is nothing to compare with).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.content import Content

from mailtui.dns.diff import Change, DiffError, diff, load_previous, marks, save_state, state_file
from mailtui.dns.model import Finding
from mailtui.system.units import plural


class DnsChanges:
    def __init__(self) -> None:
        self.by_finding: dict[int, Change] = {}  # id(finding) -> its change
        self.gone = 0
        self.since: float | None = None  # when the previous run was saved
        self.compared = False
        self.note = ""  # why nothing could be compared, one line

    def compute(
        self, domain: str, findings: list[Finding], previous: dict[str, Any] | None = None, save: bool = True
    ) -> None:
        """In a worker thread. ``previous``: a report to compare with (the demo's capture) instead of
        the saved one; ``save``: keep this run for the next (not in the demo)."""
        checks = [f.to_dict() for f in findings]
        current: dict[str, Any] = {"domain": domain, "checks": checks}
        path = state_file(domain)
        if previous is None:
            try:
                previous = load_previous(str(path))
            except DiffError as exc:
                previous, self.note = {}, f"previous run unreadable: {exc}"
        if previous:
            self.compared = True
            saved = previous.get("saved")
            self.since = float(saved) if isinstance(saved, (int, float)) and not isinstance(saved, bool) else None
            for f, change in zip(findings, marks(previous, checks)):
                if change is not None:
                    self.by_finding[id(f)] = change
            self.gone = sum(c.kind == "gone" for c in diff(previous, current).changes)
        if save:
            try:
                save_state(path, current)
            except OSError as exc:
                self.note = f"cannot keep this run for the next ({path}: {exc.strerror})"

    def of(self, finding: Finding) -> Change | None:
        return self.by_finding.get(id(finding))

    def summary_cell(self, finding: Finding) -> Text:
        change = self.of(finding)
        if change is None:
            return Text(finding.summary)
        if change.kind == "new":
            mark = "new: "
        elif change.status != change.before_status:
            mark = f"was {change.before_status}: "
        else:
            mark = "changed: "
        return Text.assemble((mark, "bold yellow"), finding.summary)

    def detail(self, finding: Finding) -> Content:
        change = self.of(finding)
        if change is None:
            return Content("")
        when = f" ({self._when()})" if self.since else ""
        if change.kind == "new":
            return Content.styled(f"\nNew since the previous run{when}.", "bold $warning")
        return Content.assemble(
            (f"\nChanged since the previous run{when}: was ", "bold $warning"),
            (change.before_status.upper(), "bold"),
            " — ",
            change.before_summary,
        )

    def _when(self) -> str:
        assert self.since is not None
        return datetime.fromtimestamp(self.since).strftime("%b %d %H:%M")

    def status(self) -> str:
        if self.note:
            return self.note
        if not self.compared:
            return ""
        since = f" since {self._when()}" if self.since else " since the previous run"
        changed = len(self.by_finding)
        gone = f" ({self.gone} gone)" if self.gone else ""
        return f"{changed} changed{since}{gone}" if changed or self.gone else f"no change{since}"

    def count(self) -> str:
        return plural(len(self.by_finding), "change")
