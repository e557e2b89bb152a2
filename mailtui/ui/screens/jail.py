"""A jail's detail (Enter or o on a jail in Bans): its thresholds, 30 days of bans, who is close to a ban,
banned addresses another jail trusts, and the repeat offenders.

Everything fail2ban said (addresses, ignoreip entries, jail names) goes in as plain Content,
never as markup; a banned entry that is no address is shown marked (BannedIP.shown()).
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from mailtui.fail2ban.history import Offender
from mailtui.fail2ban.insight import JailInsight
from mailtui.fail2ban.settings import JailSettings
from mailtui.fail2ban.status import BannedIP, JailStatus
from mailtui.system.units import fail2ban_span, plural
from mailtui.ui.screens.dialog import Dialog
from mailtui.ui.widgets.ban_history import BanChart

LABEL = 17
OFFENDERS_SHOWN = 8


def _row(label: str, *body: str | tuple[str, str] | Content) -> Content:
    return Content.assemble((label.ljust(LABEL), "bold"), *body)


def settings_content(s: JailSettings | None, note: str) -> Content:
    if s is None:
        return _row("Thresholds", (note or "not known without the fail2ban socket", "italic"))
    increment: dict[bool | None, str] = {
        True: f"grows with each ban (bantime.increment), up to {fail2ban_span(s.maxtime)}",
        False: "fixed",
    }
    lines = [
        _row(
            "Thresholds",
            f"banned after {'?' if s.maxretry is None else s.maxretry} failures (maxretry) within "
            f"{fail2ban_span(s.findtime)} (findtime), for {fail2ban_span(s.bantime)} (bantime)",
        ),
        _row("Ban time", increment.get(s.increment, "increment unknown (fail2ban before 0.11?)")),
        _row("Never banned", " ".join(s.ignoreip) if s.ignoreip else ("nobody (ignoreip is empty)", "dim")),
    ]
    return Content("\n").join(lines)


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%b %d")


def offender_line(o: Offender) -> Content:
    again = f", {o.again_after_expiry} again after expiry" if o.again_after_expiry else ""
    return Content.assemble(
        (BannedIP(o.ip).shown().ljust(16), "bold"),
        f" {plural(o.bans, 'ban')} in {', '.join(o.jails)}{again}, {_day(o.first)} .. {_day(o.last)}",
        (" · recidive" if o.recidive else "", "$error"),
    )


class JailScreen(Dialog[None]):
    DEFAULT_CSS = """
    JailScreen { align: center middle; }
    JailScreen > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    JailScreen .jail-head { margin-top: 1; text-style: bold; }
    """
    HELP_TITLE = "Jail"
    HELP_INTRO = "One jail: its thresholds, 30 days of bans, who is close to a ban, repeat offenders."

    def __init__(self, jail: JailStatus, insight: JailInsight | None, now: float) -> None:
        super().__init__()
        self.jail = jail
        self.insight = insight or JailInsight(notes=["still reading fail2ban's settings and database"])
        self.now = now

    def compose(self) -> ComposeResult:
        jail, ins = self.jail, self.insight
        with VerticalScroll() as scroll:
            scroll.border_title = Content(
                f"Jail {jail.name} · {jail.currently_banned} banned · {jail.currently_failed} failing now"
            )
            scroll.border_subtitle = Content("esc/q close")
            about_settings = [n for n in ins.notes if n.startswith("jail settings")]
            yield Static(settings_content(ins.settings.get(jail.name), "".join(about_settings[:1])), markup=False)
            counts = ins.per_day(jail.name)
            if counts is not None and ins.history is not None:
                yield Static(
                    Content(f"Bans per day, the last {len(counts)} days: {sum(counts)}"),
                    classes="jail-head",
                    markup=False,
                )
                yield BanChart(counts, ins.history.until, id="jail-chart")
                if ins.history.note:
                    yield Static(Content.styled(ins.history.note, "italic $text-muted"), markup=False)
            yield Static(self._pending(), classes="jail-head", markup=False, id="jail-pending")
            trusted = [(ip, other) for ip, by, other in ins.trusted if by == jail.name]
            if trusted:
                yield Static(
                    Content("\n").join(
                        [Content.styled("Banned here, trusted elsewhere", "bold $error")]
                        + [
                            Content.assemble(
                                (BannedIP(ip).shown(), "bold"),
                                f" is banned by {jail.name}, but {other}'s ignoreip holds it: one of the two is wrong",
                            )
                            for ip, other in trusted
                        ]
                    ),
                    classes="jail-head",
                    markup=False,
                    id="jail-trusted",
                )
            yield Static(self._offenders(), classes="jail-head", markup=False, id="jail-offenders")
            for note in (n for n in ins.notes if n not in about_settings):
                yield Static(Content.styled(note, "italic $text-muted"), markup=False)

    def _pending(self) -> Content:
        waiting = self.insight.pending_of(self.jail.name)
        head = Content.styled("Failing, not banned yet", "bold")
        if not waiting:
            return Content("\n").join([head, Content.styled("nobody is counted in the current findtime", "dim")])
        rows = [
            Content.assemble((BannedIP(p.ip).shown().ljust(16), "bold"), " ", p.describe(self.now))
            for p in waiting[:20]
        ]
        if len(waiting) > 20:
            rows.append(Content.styled(f"… {len(waiting) - 20} more (mailtui bans --pending)", "dim"))
        return Content("\n").join([head, *rows])

    def _offenders(self) -> Content:
        ins = self.insight
        if ins.history is None:
            return Content.styled("Repeat offenders need fail2ban's database", "dim")
        here = ins.offenders_of(self.jail.name)
        parts = [Content.styled(f"Repeat offenders in {self.jail.name}", "bold")]
        parts += [offender_line(o) for o in here[:OFFENDERS_SHOWN]] or [Content.styled("none", "dim")]
        others = [o for o in ins.history.offenders if o not in here]
        if others:
            parts.append(Content.styled("Elsewhere", "bold"))
            parts += [offender_line(o) for o in others[:OFFENDERS_SHOWN]]
        if ins.history.recidive:
            ips = ", ".join(BannedIP(o.ip).shown() for o in ins.history.recidive[:10])
            parts.append(Content.assemble(("recidive banned ", "bold"), ips))
        return Content("\n").join(parts)
