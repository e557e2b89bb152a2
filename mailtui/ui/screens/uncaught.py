"""The failures no jail catches: the Problems pane's entry for them and its explanation (Enter).

fail2ban/uncaught.py's UncaughtTracker judges the live tail: a problem line (failed login,
reject, probe) with a client address whose (address, second) no jail logged as Found. The entry
counts them; the explanation lists each kind with its count, addresses and an example line, and
what to do. Every line and address is plain Content, never markup.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from mailtui.fail2ban.uncaught import UncaughtReport
from mailtui.logs.sanitize import clean
from mailtui.system.units import plural
from mailtui.ui.screens.dialog import Dialog

ROW_KEY = "uncaught"  # the entry's row key in the Problems table (recognizer ids have a dot)
LABEL = 15

WHY = (
    "These lines are failures the recognizers know (failed logins, rejects, probes), from an address, "
    "that no fail2ban jail counted: no jail logged a Found line for that address at that second. "
    "Usually a jail's filter misses this wording (Dovecot 2.4 changed its login messages; a "
    "submission-port SASL failure is written by postfix/submission/smtpd), the jail watches another "
    "log file, or the jail is off. Such clients can keep guessing passwords without being banned."
)
FIX = (
    "Check the filter against the example line: fail2ban-regex '<the line>' /etc/fail2ban/filter.d/<jail>.conf. "
    "Add a failregex for the wording (in filter.d/<jail>.local), point the jail's logpath at the log "
    "that has these lines, or enable a jail for it. `mailtui bans --uncaught` judges the whole logs."
)


def total(report: UncaughtReport) -> int:
    return sum(k.count for k in report.kinds)


def row_cells(report: UncaughtReport, ago: str) -> list[Text]:
    """The entry's cells, in the Problems table's columns: mark, count, trend, problem, who, last."""
    # short: the problem column is as wide as its longest title, and "who" must stay in view at 120
    if len(report.kinds) > 1:
        title = f"Failures no fail2ban jail counts ({plural(len(report.kinds), 'kind')})"
    else:
        title = f"No jail counts: {report.kinds[0].title}"
    title = title if len(title) <= 64 else title[:63] + "…"
    ips: Counter[str] = Counter()
    for k in report.kinds:
        ips.update(k.addresses)
    who = ", ".join(f"{ip} ×{n}" for ip, n in ips.most_common(2))
    return [
        Text("⚑", "bold yellow"),
        Text(str(total(report))),
        Text(""),
        Text(title, "bold"),
        Text(who),
        Text(ago),
    ]


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%b %d %H:%M:%S") if ts else "?"


def _row(label: str, *body: str | tuple[str, str] | Content) -> Content:
    return Content.assemble((label.ljust(LABEL), "bold"), *body)


def report_content(report: UncaughtReport) -> Content:
    parts = [
        _row("Seen", f"{plural(total(report), 'line')} no jail counted, {report.caught} others were counted"),
        _row("Judged", f"{_when(report.judged_from)} .. {_when(report.judged_until)} (the span of fail2ban's log)"),
        _row("Why", WHY),
        _row("Fix", FIX),
    ]
    for k in report.kinds:
        parts.append(Content(""))
        parts.append(_row("Kind", (k.title, "bold"), f" ({k.recognizer}, {k.severity})"))
        addresses = ", ".join(f"{clean(ip)} ×{n}" for ip, n in k.addresses.most_common(6))
        parts.append(
            _row("Count", f"{plural(k.count, 'line')} from {plural(len(k.addresses), 'address')}: {addresses}")
        )
        parts.append(_row("Example", (k.example, "dim")))
    return Content("\n").join(parts)


class UncaughtScreen(Dialog[None]):
    DEFAULT_CSS = """
    UncaughtScreen { align: center middle; }
    UncaughtScreen > VerticalScroll {
        width: 110; max-width: 98%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    HELP_TITLE = "Failures no jail counts"

    def __init__(self, report: UncaughtReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Content(f"Failures no fail2ban jail counts · {total(self.report)}")
            yield Static(report_content(self.report), markup=False, id="uncaught-body")
