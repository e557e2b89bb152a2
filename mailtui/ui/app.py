"""The mailtui Textual application: top bar, the five panes, footer, help and maximize.

Wide terminals (>= 100x30) show every pane at once; smaller ones show one pane and a
tab strip. The app exits by itself when its terminal goes away (SSH drop / SIGHUP)
instead of spinning on a dead tty.

Leaving: ``q``, SIGTERM and SIGINT all take the same way out (exit codes 0, 143, 130): the
tail is told to stop, Textual restores the terminal, cleanups run (the demo's directory). A
worker blocked in something that cannot be interrupted (a name server or fail2ban socket that
never answers, a named pipe) would hold the process in the interpreter's join of its threads,
so a daemon timer ends the process EXIT_GRACE_SECONDS after the request, restoring the
terminal and running the cleanups itself first. (One thing no timer can beat: a regex match
runs in C holding the GIL, so nothing else in the process runs until it returns; that is why
patterns that backtrack catastrophically are refused when the catalog is loaded.)

Focus moves between panes, never into a hidden widget: the first pane has it at start,
Tab/Shift-Tab and 1-5 go from pane to pane (on a small terminal switching the tab too),
the tab strip itself never takes focus, and ``m`` maximizes the pane that has focus.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static, Tab, Tabs

from mailtui.analysis.live import LiveEntry
from mailtui.config import Config
from mailtui.settings import Settings, settings_from
from mailtui.ui.panes import PANE_ORDER, BansPane, DnsPane, LogsPane, Pane, ProblemsPane, ServicesPane
from mailtui.ui.panes.base import ReportsFailedWorkers
from mailtui.ui.screens.help import HelpScreen, pane_sections
from mailtui.ui.widgets.log_lines import LogLines

PaneT = TypeVar("PaneT", bound=Pane)

if TYPE_CHECKING:
    import asyncio

    from textual.app import SystemCommand

    from mailtui.analysis.fleetlogs import FleetLogs
    from mailtui.fleet.fleet import Fleet
    from mailtui.recognizers.explain import Explainer
    from mailtui.system.report import ServicesCollector

NARROW_WIDTH = 100
NARROW_HEIGHT = 30
TALL_HEIGHT = 45  # from here the wide layout gives every pane more rows (app.tcss)
TTY_CHECK_SECONDS = 2.0
HANGUP_GRACE_SECONDS = 3.0
EXIT_GRACE_SECONDS = 1.0  # q / SIGTERM / SIGINT: what a stuck worker gets before the process ends
#: what Textual's driver undoes on a normal exit: mouse tracking, bracketed paste, the kitty
#: keyboard protocol, focus events, the alternate screen, the hidden cursor
_RESET_TERMINAL = (
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?2004l\x1b[<u\x1b[?1004l\x1b[?7h\x1b[?1049l\x1b[?25h"
)
_FLEET_STYLE = {"ok": "$success", "reconnecting": "bold $warning", "connecting": "$text-muted"}
BATCH_SLICE = 1000  # log entries per LogBatch message
MAX_BATCHES_IN_FLIGHT = 2  # posted LogBatch messages the panes have not handled yet


def _detect_stack_summary() -> str:
    from mailtui.system.versions import detect_versions

    return detect_versions().summary()


class LogBatch(Message):
    """New log entries from the tail worker (one message per batch, not per line)."""

    def __init__(self, entries: list[LiveEntry]) -> None:
        super().__init__()
        self.entries = entries


class StackDetected(Message):
    """The mail stack's versions, for the top bar (from the version probe's worker)."""

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary


class LogSources(Message):
    """The log sources found (names) and the ones that could not be read (problems)."""

    def __init__(self, names: list[str], problems: list[str]) -> None:
        super().__init__()
        self.names = names
        self.problems = problems

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogSources)  # only the latest list is shown


class MailTuiApp(ReportsFailedWorkers, App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "mailtui"
    # escape first closes an open input or clears a search, and only then restores (action_restore)
    ESCAPE_TO_MINIMIZE = False
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        # on a small terminal one pane already fills the screen: m still works but the footer's
        # room goes to the pane's own keys (check_action picks which of the two is live)
        Binding("m", "toggle_maximize", "Maximize"),
        Binding("m", "maximize_narrow", "Maximize", show=False),
        Binding("w", "who", "Who is complaining?", show=False),
        Binding("escape", "restore", "Restore", show=False),
        Binding("tab", "focus_next", "Next pane", show=False),
        Binding("shift+tab", "focus_previous", "Previous pane", show=False),
        Binding("1", "show_pane('bans')", "Bans", show=False),
        Binding("2", "show_pane('services')", "Services", show=False),
        Binding("3", "show_pane('problems')", "Problems", show=False),
        Binding("4", "show_pane('logs')", "Logs", show=False),
        Binding("5", "show_pane('dns')", "DNS", show=False),
    ]

    def __init__(
        self,
        cfg: Config,
        *,
        watch_tty: bool = True,
        stack_summary: Callable[[], str] | None = None,
        services: Any = None,
        bans: Any = None,
        dns: Any = None,
        clock: Callable[[], float] | None = None,
        demo: bool = False,
    ) -> None:
        super().__init__()
        self.demo = demo
        # the Config keeps where each value came from; the panes get the typed, frozen view
        self.cfg = cfg
        self.settings: Settings = settings_from(cfg)
        self._stack_summary = stack_summary or _detect_stack_summary
        self.read_only: bool = self.settings.ui.read_only
        self._watch_tty = watch_tty
        self.panes: dict[str, Pane] = {}
        self._stop_tail: asyncio.Event | None = None  # created on the app's loop
        self._explainer: Explainer | None = None
        self._services = services  # a ServicesCollector (tests pass a fixed one), made lazily
        self.bans_source = bans  # None: the Bans pane reads fail2ban itself (the demo passes its capture)
        self.dns_source = dns  # None: the DNS pane checks for real (the demo replays a captured check)
        # "now" for ages and trends; snapshot tests fix it so "3m ago" does not drift
        self.clock: Callable[[], float] = clock or time.time
        self._gc_saved: tuple[int, ...] | None = None  # thresholds to restore on exit
        self._stack_text: str | None = None  # the stack's versions, once detected
        self._daemons_running: dict[str, bool] = {}  # daemon key -> runs, from the Services pane
        self._batches_in_flight = 0  # LogBatch messages posted and not yet handled
        self._batch_done: Any = None  # asyncio.Event, created on the app's loop
        self._cleanups: list[Callable[[], None]] = []
        self._cleanup_lock = threading.Lock()
        self._exit_timer: threading.Timer | None = None
        self._early_exit: int | None = None  # a SIGTERM/SIGINT that came before the app was mounted
        if watch_tty and threading.current_thread() is threading.main_thread():
            # from here to on_mount (where the loop takes these over) a signal is remembered, so
            # one arriving while the terminal is being set up still ends the app the clean way
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._remember_signal)
        self._narrow = False  # the tab layout (one pane at a time) is on
        # the pane last chosen, for when nothing has focus. Panes are focused at once
        # (Pane.focus_main), not a moment later as Widget.focus() does: keys typed fast ("3m",
        # Tab Tab) read the pane from the focus, and it must already be the new one
        self._current_id = PANE_ORDER[0].PANE_ID
        # [[hosts]] in the config: the panes show those hosts, read by an agent over ssh on each
        self.fleet: Fleet | None = None
        self._fleet_logs: FleetLogs | None = None
        self._host_explainers: dict[str, Explainer] = {}
        if cfg.hosts and not demo:
            from mailtui.fleet.fleet import Fleet

            self.fleet = Fleet.from_entries(cfg.hosts, read_only=self.read_only)

    def compose(self) -> ComposeResult:
        # the mode shows at once; the stack's versions follow when detected (postconf can be slow)
        yield Static(self._topbar_content("detecting the mail stack…"), id="topbar", markup=False)
        if self.fleet is not None:
            yield Static(Content(self.fleet.status_line()), id="fleetbar", markup=False)  # names from the config
        tabs = Tabs(*(Tab(cls.TITLE, id=f"tab-{cls.PANE_ID}") for cls in PANE_ORDER), id="pane-tabs")
        # the strip is hidden on wide screens and only mirrors the pane keys on narrow ones: it
        # never takes focus (focused while hidden, m maximized it: a screen of hatching)
        tabs.can_focus = False
        yield tabs
        with Container(id="panes"):
            for cls in PANE_ORDER:
                pane = self._new_pane(cls)
                self.panes[cls.PANE_ID] = pane
                yield pane
        yield Static("", id="alertbar", markup=False)
        # compact: at 80 columns the Logs pane's keys and ? Help / q Quit fit on one line
        yield Footer(compact=True)

    def _new_pane(self, cls: type[Pane]) -> Pane:
        """Each pane gets what it reads through its constructor (attributes down): its settings, the
        demo's captured sources, the fleet."""
        if cls is LogsPane:
            return LogsPane(self.settings.logs.max_lines)
        if cls is BansPane:  # why an IP is banned is read from the lines the Logs pane holds
            return BansPane(
                self.settings,
                log_entries=lambda: self._pane(LogsPane).lines.entries,
                source=self.bans_source,
                fleet=self.fleet,
            )
        if cls is ServicesPane:
            return ServicesPane(self.settings, fleet=self.fleet, demo=bool(self.demo))
        if cls is DnsPane:
            return DnsPane(self.settings, replay=self.dns_source)
        if cls is ProblemsPane:
            return ProblemsPane(bans_source=self.bans_source)
        return cls()

    def on_mount(self) -> None:
        first = self.panes[PANE_ORDER[0].PANE_ID]
        first.add_class("-active")
        self._focus_pane(first)
        self._detect_versions()
        self._tail_logs()
        if self.fleet is not None:
            self.set_interval(1.0, self._show_fleet)
        if self._watch_tty:
            self._install_hangup_handling()
            self._install_exit_signals()
        self.call_after_refresh(self._freeze_long_lived)

    def _freeze_long_lived(self) -> None:
        # Full garbage collections walk every tracked object and hold the interpreter while they
        # do; under a stream of log lines they were the UI's only pauses over ~25 ms
        # (bench/ui_ingest.py). Textual's DOM, the recognizer catalog and the imported modules
        # live as long as the app, so they leave the collector's view; and full collections
        # come a quarter as often (measured at 50,000 lines/s: p99 lateness 24 -> 15 ms).
        gc.collect()
        gc.freeze()
        self._gc_saved = gc.get_threshold()
        young, middle, old = self._gc_saved
        gc.set_threshold(young, middle, max(old, 40))

    def on_unmount(self) -> None:
        if self._gc_saved is not None:  # whatever the app leaves behind is collectable again
            gc.unfreeze()
            gc.set_threshold(*self._gc_saved)
            self._gc_saved = None

    # -- top bar -------------------------------------------------------------------------------
    @work(thread=True, group="versions", exit_on_error=False)
    def _detect_versions(self) -> None:
        self.post_message(StackDetected(self._stack_summary()))

    def on_stack_detected(self, message: StackDetected) -> None:
        self._set_topbar(message.summary)

    def on_services_pane_daemons_seen(self, message: ServicesPane.DaemonsSeen) -> None:
        self._daemons_running = message.running
        if self._stack_text is not None:
            self._set_topbar(self._stack_text)

    def _set_topbar(self, summary: str) -> None:
        self._stack_text = summary
        bar = self._bar("topbar")
        if bar is not None:
            bar.update(self._topbar_content(summary))

    def _topbar_content(self, summary: str) -> Content:
        """The bar's text: the mode first (DEMO / read-only), then the mail stack's summary."""
        if self.demo:
            # the panes replay a capture of the test rig, where every daemon ran: this machine's
            # own daemons running or not is not what the demo shows
            summary = summary.replace(" (stopped)", "")
        # a version says the program is installed; whether it runs is the Services pane's finding
        stopped = [
            name
            for name in ("Postfix", "Dovecot", "fail2ban")
            if self._daemons_running.get(name.lower()) is False
            and f"{name} " in summary
            and f"no {name}" not in summary
            # system/versions.py may say it itself ("fail2ban 1.0.2 (stopped)")
            and not re.search(rf"\b{name} \S+ \(", summary)
        ]
        for name in stopped:
            summary = re.sub(rf"\b{name} (\S+)", rf"{name} \1 (installed, not running)", summary, count=1)
        # the mode goes first: at 80 columns the end of the bar is cut, and "read-only" explains
        # why the footer offers no unban
        parts: list[Content | str] = [Content.styled("mailtui", "bold"), Content(" · ")]
        if self.demo:
            parts += [Content.styled("DEMO, read-only", "bold $warning"), Content(" · ")]
        elif self.read_only:
            parts += [Content.styled("read-only", "bold $warning"), Content(" · ")]
        parts.append(summary)
        if self.demo:
            parts.append(Content.styled("  replaying captured daemon logs", "$warning"))
        elif self.read_only:
            parts.append(Content.styled("  ban, unban and queue changes are off", "$warning"))
        return Content.assemble(*parts)

    def _bar(self, name: str) -> Static | None:
        """The top or alert bar; None once the screen is gone (a worker's late answer while the app
        shuts down has nothing left to update)."""
        found = self.query(f"#{name}")
        return found.first(Static) if found else None

    # -- the fleet ---------------------------------------------------------------------------------
    def _show_fleet(self) -> None:
        """Each second: every host's link state in the header, and what the agents said (notices)."""
        bar = self._bar("fleetbar")
        if self.fleet is None or bar is None:
            return
        parts = [
            Content.assemble((name, "bold"), " ", (shown, _FLEET_STYLE.get(state, "")))
            for name, shown, state in self.fleet.states()
        ]
        bar.update(Content(" · ").join(parts))
        while self._fleet_logs is not None and self._fleet_logs.notices:
            host, text = self._fleet_logs.notices.popleft()
            self.notify(text, title=host, severity="warning", timeout=10, markup=False)

    # -- services and alerts ---------------------------------------------------------------------
    @property
    def services_collector(self) -> ServicesCollector:  # created lazily, polled from the Services pane's worker
        if self._services is None:
            from mailtui.system.report import ServicesCollector

            self._services = ServicesCollector.from_settings(self.settings)
        return self._services

    def on_services_pane_alerts_changed(self, message: ServicesPane.AlertsChanged) -> None:
        bar = self._bar("alertbar")
        if bar is None:
            return
        alerts = message.alerts
        bar.set_class(bool(alerts), "-on")
        if alerts:
            worst = "crit" if any(a.severity == "crit" for a in alerts) else alerts[0].severity
            bar.set_class(worst in ("crit", "error"), "-bad")
            head = Content.styled(f" ⚠ {len(alerts)} alert{'s' if len(alerts) != 1 else ''}: ", "bold")
            bar.update(Content.assemble(head, Content(" · ").join(Content(a.message) for a in alerts[:6])))

    # -- logs --------------------------------------------------------------------------------------
    @property
    def explainer(self) -> Explainer:  # created lazily: it is only needed when explaining
        if self._explainer is None:
            from mailtui.mta.doveconf import DovecotConfig
            from mailtui.mta.postconf import PostfixConfig
            from mailtui.recognizers.explain import Explainer

            self._explainer = Explainer(
                PostfixConfig(self.settings.postfix.config_dir), DovecotConfig(self.settings.dovecot.config)
            )
        return self._explainer

    def explainer_for(self, record: Any) -> Explainer:
        """The explainer for a line: a fleet host's line is explained with that host's settings
        (asked of its agent), never with this machine's."""
        host = getattr(record, "host", "")
        if self.fleet is None or host not in self.fleet.hosts:
            return self.explainer
        if host not in self._host_explainers:
            from typing import cast

            from mailtui.fleet.remoteconf import RemoteDovecot, RemotePostfix
            from mailtui.mta.doveconf import DovecotConfig
            from mailtui.mta.postconf import PostfixConfig
            from mailtui.recognizers.explain import Explainer

            remote = self.fleet.hosts[host]
            # duck-typed: they offer what the Explainer asks of the local readers
            self._host_explainers[host] = Explainer(
                cast(PostfixConfig, RemotePostfix(remote)), cast(DovecotConfig, RemoteDovecot(remote))
            )
        return self._host_explainers[host]

    @work(exclusive=True, group="log-tail", exit_on_error=False)
    async def _tail_logs(self) -> None:
        import asyncio

        from mailtui.analysis.live import LiveLogs
        from mailtui.logs.locate import locate_logs
        from mailtui.recognizers.engine import default_engine

        self._stop_tail = asyncio.Event()
        self._batch_done = asyncio.Event()
        from mailtui.containers.setup import discover

        engine = await asyncio.to_thread(default_engine)
        for problem in engine.problems:  # a bad user catalog: said once, the built-in one keeps working
            self.notify(problem, title="Recognizer file skipped", severity="warning", timeout=60, markup=False)
        live: LiveLogs | FleetLogs
        if self.fleet is not None:
            from mailtui.analysis.fleetlogs import FleetLogs

            # the hosts' agents, not this machine: their lines arrive over ssh (one link each)
            live = self._fleet_logs = FleetLogs(self.fleet, engine)
        else:
            locations = await asyncio.to_thread(locate_logs, self.cfg)
            # a mail appliance in containers: its logs come through the engine (and postconf runs inside)
            containers = await asyncio.to_thread(discover, self.settings.containers)
            live = LiveLogs(locations, engine, backfill=self.settings.logs.backfill, containers=containers)
        try:
            shown: tuple | None = None
            async for batch in live.watch(self._stop_tail):
                sources = (live.names, live.problems())
                if sources != shown:  # only when a source appears, fails or recovers
                    shown = sources
                    self.post_message(LogSources(*sources))
                # a burst (a log rotated in, 50,000 lines/s) is handed over in slices, so the
                # screen is redrawn between them instead of once after all of it
                for start in range(0, len(batch), BATCH_SLICE):
                    # backpressure: while the panes are behind, lines wait in the log file, not
                    # in queued messages (a bigger heap makes every full collection longer, and
                    # the panes slower still)
                    while self._batches_in_flight >= MAX_BATCHES_IN_FLIGHT:
                        self._batch_done.clear()
                        await self._batch_done.wait()
                    self._batches_in_flight += 1
                    self.post_message(LogBatch(batch[start : start + BATCH_SLICE]))
                    await asyncio.sleep(0)
        finally:
            live.close()

    def on_log_sources(self, message: LogSources) -> None:
        logs = self.panes["logs"]
        assert isinstance(logs, LogsPane)
        logs.set_sources(message.names, message.problems)

    def on_log_batch(self, message: LogBatch) -> None:
        try:
            logs, problems = self.panes["logs"], self.panes["problems"]
            assert isinstance(logs, LogsPane) and isinstance(problems, ProblemsPane)
            logs.add(message.entries)
            problems.add(message.entries)
            bans = self.panes["bans"]
            assert isinstance(bans, BansPane)
            bans.add_log_entries(message.entries)
            # the jails' ignoreip: addresses meant to pass are no "uncaught" failure
            if bans.insight is not None and problems.uncaught.set_settings(bans.insight.settings):
                problems.redraw_soon()
        finally:
            self._batches_in_flight -= 1
            self._batch_done.set()

    def on_bans_pane_insight_read(self, message: BansPane.InsightRead) -> None:
        # the jails' ignoreip: addresses meant to pass are no "uncaught" failure
        problems = self.panes["problems"]
        assert isinstance(problems, ProblemsPane)
        if problems.uncaught.set_settings(message.insight.settings):
            problems.redraw_soon()

    def action_who(self, query: str = "") -> None:
        from mailtui.ui.screens.who import WhoScreen

        logs = self.panes["logs"]
        assert isinstance(logs, LogsPane)
        selected = logs.lines.selected
        if not query and selected is not None and selected.match is not None:
            query = selected.match.fields.get("user") or selected.match.fields.get("client_ip") or ""
        self.push_screen(WhoScreen(list(logs.lines.entries), query))

    # -- command palette -------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the dashboard, titled with the words a person would type for it."""
        from textual.app import SystemCommand

        # Textual's own Maximize/Minimize act on the focused widget and its Keys panel lists
        # widget internals: ours act on the pane and list the pane's keys
        for command in super().get_system_commands(screen):
            if command.title not in ("Maximize", "Minimize", "Keys"):
                yield command
        if screen.is_modal:
            return
        bans, services = self._pane(BansPane), self._pane(ServicesPane)
        logs, problems, dns = self._pane(LogsPane), self._pane(ProblemsPane), self._pane(DnsPane)

        def on(pane: Pane, action: Callable[[], object]) -> Callable[[], None]:
            def run() -> None:
                self.action_show_pane(pane.PANE_ID)
                action()

            return run

        yield SystemCommand(
            "Help: keys of the focused pane (?)",
            "Every key of the pane that has focus, then the global ones",
            self.action_help,
        )
        yield SystemCommand(
            "Maximize or restore the focused pane (m)",
            "Fill the screen with the pane; m or Esc restores",
            self.action_toggle_maximize,
        )
        for number, cls in enumerate(PANE_ORDER, 1):
            pane = self.panes[cls.PANE_ID]
            yield SystemCommand(
                f"Go to the {cls.TITLE} pane ({number})", f"Focus the {cls.TITLE} pane", on(pane, lambda: None)
            )
        yield SystemCommand(
            "Ban an IP in a jail (Bans, b)", "Asks for the IP and the jail, then confirms", on(bans, bans.action_ban)
        )
        yield SystemCommand(
            "Unban the selected IP (Bans, u)",
            "In the jail of the highlighted row; confirms",
            on(bans, bans.action_unban),
        )
        yield SystemCommand(
            "Unban the selected IP in every jail (Bans, U)", "Confirms first", on(bans, lambda: bans.action_unban(True))
        )
        yield SystemCommand(
            "Find an IP in every jail, banned? (Bans, /)",
            "Shows where an address is banned",
            on(bans, bans.action_search),
        )
        yield SystemCommand(
            "Sort the jails (Bans, s)", "By name, banned, failed, total banned", on(bans, bans.action_sort)
        )
        yield SystemCommand("Mail queue: hold, release, delete (Services)", "Every queued message", self._open_queue)
        yield SystemCommand(
            "Flush the mail queue (Services, f)",
            "Retry every deferred message now (asks first)",
            on(services, services.action_flush),
        )
        yield SystemCommand(
            "Filter the log lines (Logs, /)",
            "text, !text, re:, sev:, prog:, host:, known",
            on(logs, logs.action_filter),
        )
        yield SystemCommand(
            "Search the logs, then next / previous match (Logs, s n N)",
            "The same words as the filter",
            on(logs, logs.action_search),
        )
        yield SystemCommand(
            "Conversation of the selected log line (Logs, c)",
            "Every line of its queue ID, smtpd connection or Dovecot session",
            on(logs, logs.action_conversation),
        )
        yield SystemCommand(
            "Copy the selected log line (Logs, y)",
            "To the terminal's clipboard (OSC 52)",
            on(logs, logs.action_copy_line),
        )
        yield SystemCommand(
            "Pause or follow the logs (Logs, p)", "Stop scrolling; End follows again", on(logs, logs.action_pause)
        )
        yield SystemCommand(
            "Explain the selected log line (Logs, Enter)",
            "What happened, why, settings, fix",
            on(logs, logs.lines.action_select),
        )
        yield SystemCommand(
            "Show the problem's IP in Bans (Problems, b)",
            "Is the address banned, where?",
            on(problems, problems.action_bans),
        )
        yield SystemCommand(
            "Look up who a problem is about (Problems, l)",
            "Timeline of its user or address",
            on(problems, problems.action_who),
        )
        yield SystemCommand(
            "Who is complaining? user, address, IP or host (w)",
            "Timeline of one user, address, IP or host",
            self.action_who,
        )
        yield SystemCommand(
            "DNS check of a domain (DNS, d)",
            "MX, SPF, DKIM, DMARC, MTA-STS, autoconfig, ports",
            on(dns, dns.action_edit_domain),
        )
        yield SystemCommand("Re-run the DNS check (DNS, r)", "Check the same domain again", on(dns, dns.action_rerun))

    def _pane(self, cls: type[PaneT]) -> PaneT:
        pane = self.panes[cls.PANE_ID]
        assert isinstance(pane, cls)
        return pane

    def _services_pane(self) -> ServicesPane:
        return self._pane(ServicesPane)

    def _open_queue(self) -> None:
        pane = self._services_pane()
        self.action_show_pane("services")
        pane.action_open_queue(everything=True)

    def on_log_lines_selected(self, message: LogLines.Selected) -> None:
        self.explain(message.entry)

    def on_problems_pane_explain_requested(self, message: ProblemsPane.ExplainRequested) -> None:
        self.explain(message.entry, message.overview)

    def explain(self, entry: LiveEntry, group: Content | None = None) -> None:
        """The explanation panel of ``entry``, read in the context of the lines the Logs pane holds."""
        from mailtui.ui.screens.explain import ExplainScreen

        # copied here, in the UI thread that appends to it: the panel reads it in a worker
        self.push_screen(ExplainScreen(entry, group, list(self._pane(LogsPane).lines.entries)))

    async def action_quit(self) -> None:
        self.leave(0)

    # -- leaving ---------------------------------------------------------------------------------
    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` once when the app ends, however it ends (run_cleanups or a forced exit)."""
        self._cleanups.append(cleanup)

    def run_cleanups(self) -> None:
        with self._cleanup_lock:
            cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - leaving: one failed cleanup must not stop the others
                pass

    def leave(self, code: int, grace: float = EXIT_GRACE_SECONDS) -> None:
        """The one way out (q, SIGTERM, SIGINT, hang-up): stop the tail, exit, and never outlive
        ``grace`` by much whatever a worker is blocked in."""
        if self._stop_tail is not None:
            self._stop_tail.set()
        if self._exit_timer is None and self._watch_tty:
            self._exit_timer = threading.Timer(grace, self._force_exit, args=(code,))
            self._exit_timer.daemon = True
            self._exit_timer.start()
        self.exit(return_code=code)

    def _force_exit(self, code: int) -> None:
        """On the timer's thread, when the process is still here after the grace: something holds
        it (a worker thread being joined, or the loop). Restore the terminal (again: repeating
        these sequences is harmless), clean up, end."""
        try:
            # the settings from before application mode, as Textual's Linux driver saved them
            attrs = getattr(self._driver, "attrs_before", None)
            if attrs is not None and sys.__stdin__ is not None:
                termios.tcsetattr(sys.__stdin__.fileno(), termios.TCSANOW, attrs)
            out = sys.__stderr__ if sys.__stderr__ is not None and sys.__stderr__.isatty() else sys.__stdout__
            if out is not None and out.isatty():
                os.write(out.fileno(), _RESET_TERMINAL.encode())
        except (OSError, termios.error, ValueError):
            pass
        # a cleanup can block too (joining the demo's replay thread): it gets half a second
        cleaning = threading.Thread(target=self.run_cleanups, daemon=True)
        cleaning.start()
        cleaning.join(0.4)
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)

    def _remember_signal(self, signum: int, _frame: object) -> None:
        self._early_exit = 128 + signum  # 143 for SIGTERM, 130 for SIGINT

    def _install_exit_signals(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        for signum, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
            try:
                loop.add_signal_handler(signum, self.leave, code)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        if self._early_exit is not None:
            self.leave(self._early_exit)

    # -- layout and focus ------------------------------------------------------------------------
    @property
    def dashboard(self) -> Screen[Any]:
        """The screen holding the panes (under any dialog)."""
        return self.screen_stack[0]

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH or event.size.height < NARROW_HEIGHT
        self.dashboard.set_class(narrow, "-narrow")
        self.dashboard.set_class(event.size.height >= TALL_HEIGHT, "-tall")
        if narrow != self._narrow:
            self._narrow = narrow
            for footer in self.dashboard.query(Footer):
                footer.show_command_palette = not narrow  # ^p is listed in the help
            self.refresh_bindings()
        if narrow and self.panes:
            # one pane shows: the one with focus (focus must never stay in a hidden pane)
            current = self.current_pane()
            if not current.has_class("-active"):
                self.action_show_pane(current.PANE_ID)

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        # a message from a switch the keys have already overtaken (Tab, Shift-Tab typed fast)
        # must not pull the focus back to the pane it named
        tab_id, active = event.tab.id, self.query_one(Tabs).active
        if tab_id and tab_id == active:
            pane_id = tab_id.removeprefix("tab-")
            self._activate(pane_id)
            if pane_id != self.current_pane().PANE_ID:  # a click on the strip
                self._focus_pane(self.panes[pane_id])

    def _activate(self, pane_id: str) -> None:
        for pid, pane in self.panes.items():
            pane.set_class(pid == pane_id, "-active")

    def current_pane(self) -> Pane:
        """The pane that has focus, else the one last chosen."""
        focused = self.dashboard.focused
        if focused is not None:
            for node in focused.ancestors_with_self:
                if isinstance(node, Pane):
                    return node
        return self.panes.get(self._current_id) or self.panes[PANE_ORDER[0].PANE_ID]

    def _focus_pane(self, pane: Pane) -> None:
        self._current_id = pane.PANE_ID
        pane.focus_main()

    def action_show_pane(self, pane_id: str) -> None:
        pane = self.panes[pane_id]
        self.query_one(Tabs).active = f"tab-{pane_id}"
        self._activate(pane_id)
        screen = self.dashboard
        if screen.maximized is not None and screen.maximized is not pane:
            screen.maximize(pane, container=False)  # maximized stays maximized, on the new pane
        self._focus_pane(pane)

    def _step_pane(self, step: int) -> None:
        order = [cls.PANE_ID for cls in PANE_ORDER]
        here = order.index(self.current_pane().PANE_ID)
        self.action_show_pane(order[(here + step) % len(order)])

    def action_focus_next(self) -> None:
        if self.screen.is_modal:  # inside a dialog Tab moves between its fields
            super().action_focus_next()
        else:
            self._step_pane(1)

    def action_focus_previous(self) -> None:
        if self.screen.is_modal:
            super().action_focus_previous()
        else:
            self._step_pane(-1)

    def action_toggle_maximize(self) -> None:
        screen = self.dashboard
        if screen.maximized is not None:
            screen.minimize()
            return
        pane = self.current_pane()
        screen.maximize(pane, container=False)
        if self.dashboard.focused is None:
            self._focus_pane(pane)

    def action_maximize_narrow(self) -> None:
        self.action_toggle_maximize()

    def action_restore(self) -> None:
        self.dashboard.minimize()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":  # escape does something else when nothing is maximized
            return self.dashboard.maximized is not None
        if action == "toggle_maximize":
            return not self._narrow
        if action == "maximize_narrow":
            return self._narrow
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen(pane_sections(self.dashboard, self.current_pane()), self.read_only))

    # -- terminal gone -------------------------------------------------------------------------
    def _install_hangup_handling(self) -> None:
        import asyncio

        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        self.set_interval(TTY_CHECK_SECONDS, self._check_tty)

    def _check_tty(self) -> None:
        # After an SSH drop the pty is hung up: termios calls fail with EIO.
        try:
            termios.tcgetattr(sys.stdin.fileno())
        except (termios.error, OSError):
            self._hangup()

    def _hangup(self) -> None:
        # Restoring a terminal that no longer exists can block; never outlive it by much.
        self.leave(129, grace=HANGUP_GRACE_SECONDS)
