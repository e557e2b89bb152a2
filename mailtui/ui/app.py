"""The mailtui Textual application: top bar, the five panes, footer, help and maximize.

Wide terminals (>= 100x30) show every pane at once; smaller ones show one pane and a
tab strip. The app exits by itself when its terminal goes away (SSH drop / SIGHUP)
instead of spinning on a dead tty.
"""

from __future__ import annotations

import gc
import re
import signal
import sys
import termios
import time
from pathlib import Path
from typing import Any, Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.events import Resize
from textual.widgets import Footer, Static, Tab, Tabs

from textual.message import Message

from mailtui.config import Config
from mailtui.logs.live import LiveEntry
from mailtui.ui.panes import PANE_ORDER, BansPane, LogsPane, Pane, ProblemsPane, ServicesPane
from mailtui.ui.screens.help import HelpScreen
from mailtui.ui.widgets.log_lines import LogLines

NARROW_WIDTH = 100
NARROW_HEIGHT = 30
TALL_HEIGHT = 45  # from here the wide layout gives every pane more rows (app.tcss)
TTY_CHECK_SECONDS = 2.0
HANGUP_GRACE_SECONDS = 3.0
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


class LogSources(Message):
    def __init__(self, names: list[str], problems: list[str]) -> None:
        super().__init__()
        self.names = names
        self.problems = problems


class MailTuiApp(App[int]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "mailtui"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("m", "toggle_maximize", "Maximize"),
        Binding("w", "who", "Who?"),
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
        self.cfg = cfg
        self._stack_summary = stack_summary or _detect_stack_summary
        self.read_only: bool = cfg["ui.read_only"]
        self._watch_tty = watch_tty
        self.panes: dict[str, Pane] = {}
        self._stop_tail = None  # asyncio.Event, created on the app's loop
        self._explainer = None
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

    def compose(self) -> ComposeResult:
        yield Static(Content("mailtui · detecting the mail stack…"), id="topbar", markup=False)
        yield Tabs(*(Tab(cls.TITLE, id=f"tab-{cls.PANE_ID}") for cls in PANE_ORDER), id="pane-tabs")
        with Container(id="panes"):
            for cls in PANE_ORDER:
                pane = cls(self.cfg["logs.max_lines"]) if cls is LogsPane else cls()
                self.panes[cls.PANE_ID] = pane
                yield pane
        yield Static("", id="alertbar", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.panes[PANE_ORDER[0].PANE_ID].add_class("-active")
        self.run_worker(self._detect_versions, thread=True, exit_on_error=False, group="versions")
        self.run_worker(self._tail_logs(), exclusive=True, exit_on_error=False, group="log-tail")
        if self._watch_tty:
            self._install_hangup_handling()
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
    def _detect_versions(self) -> None:
        self.call_from_thread(self._set_topbar, self._stack_summary())

    def on_services_pane_daemons_seen(self, message: ServicesPane.DaemonsSeen) -> None:
        self._daemons_running = message.running
        if self._stack_text is not None:
            self._set_topbar(self._stack_text)

    def _set_topbar(self, summary: str) -> None:
        self._stack_text = summary
        # a version says the program is installed; whether it runs is the Services pane's finding
        stopped = [name for name in ("Postfix", "Dovecot", "fail2ban")
                   if self._daemons_running.get(name.lower()) is False and f"{name} " in summary
                   and f"no {name}" not in summary]
        for name in stopped:
            summary = re.sub(rf"\b{name} (\S+)", rf"{name} \1 (installed, not running)", summary, count=1)
        parts: list[Content | str] = [Content.styled("mailtui", "bold"), Content(" · "), summary]
        if self.demo:
            parts.append(Content.styled("  DEMO · replaying captured daemon logs", "bold $warning"))
        elif self.read_only:
            parts.append(Content.styled("  read-only", "$warning"))
        self.query_one("#topbar", Static).update(Content.assemble(*parts))

    # -- services and alerts ---------------------------------------------------------------------
    @property
    def services_collector(self):  # noqa: ANN201 - created lazily, polled from the Services pane's worker
        if self._services is None:
            from mailtui.system.report import ServicesCollector

            self._services = ServicesCollector.from_config(self.cfg)
        return self._services

    def on_services_pane_alerts_changed(self, message: ServicesPane.AlertsChanged) -> None:
        bar = self.query_one("#alertbar", Static)
        alerts = message.alerts
        bar.set_class(bool(alerts), "-on")
        if alerts:
            worst = "crit" if any(a.severity == "crit" for a in alerts) else alerts[0].severity
            bar.set_class(worst in ("crit", "error"), "-bad")
            head = Content.styled(f" ⚠ {len(alerts)} alert{'s' if len(alerts) != 1 else ''}: ", "bold")
            bar.update(Content.assemble(head, Content(" · ").join(Content(a.message) for a in alerts[:6])))

    # -- logs --------------------------------------------------------------------------------------
    @property
    def explainer(self):  # noqa: ANN201 - created lazily: it is only needed when explaining
        if self._explainer is None:
            from mailtui.mta.doveconf import DovecotConfig
            from mailtui.mta.postconf import PostfixConfig
            from mailtui.recognizers.explain import Explainer

            self._explainer = Explainer(PostfixConfig(self.cfg["postfix.config_dir"]),
                                        DovecotConfig(self.cfg["dovecot.config"]))
        return self._explainer

    async def _tail_logs(self) -> None:
        import asyncio

        from mailtui.logs.live import LiveLogs
        from mailtui.logs.locate import locate_logs
        from mailtui.recognizers.engine import default_engine

        self._stop_tail = asyncio.Event()
        self._batch_done = asyncio.Event()
        locations = await asyncio.to_thread(locate_logs, self.cfg)
        engine = await asyncio.to_thread(default_engine)
        live = LiveLogs(locations, engine, backfill=self.cfg["logs.backfill"])
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
                    self.post_message(LogBatch(batch[start:start + BATCH_SLICE]))
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
        finally:
            self._batches_in_flight -= 1
            self._batch_done.set()

    def action_who(self, query: str = "") -> None:
        from mailtui.ui.screens.who import WhoScreen

        logs = self.panes["logs"]
        assert isinstance(logs, LogsPane)
        selected = logs.lines.selected
        if not query and selected is not None and selected.match is not None:
            query = selected.match.fields.get("user") or selected.match.fields.get("client_ip") or ""
        self.push_screen(WhoScreen(list(logs.lines.entries), query))

    def get_system_commands(self, screen):  # noqa: ANN001, ANN201 - Textual's signature
        from textual.app import SystemCommand

        yield from super().get_system_commands(screen)
        yield SystemCommand("Who is complaining?", "Timeline of a user, address, IP or host",
                            self.action_who)
        yield SystemCommand("Filter logs", "Filter the Logs pane (text, !text, re:, sev:, prog:)",
                            lambda: self._filter_logs())
        yield SystemCommand("Mail queue", "Queued messages with hold / release / delete", self._open_queue)
        yield SystemCommand("Flush mail queue", "Retry every deferred message now (asks first)",
                            lambda: self._services_pane().action_flush())
        yield SystemCommand("Maximize or restore pane", "Toggle the focused pane", self.action_toggle_maximize)

    def _services_pane(self) -> ServicesPane:
        pane = self.panes["services"]
        assert isinstance(pane, ServicesPane)
        return pane

    def _open_queue(self) -> None:
        pane = self._services_pane()
        self.action_show_pane("services")
        pane.action_open_queue(everything=True)

    def _filter_logs(self) -> None:
        logs = self.panes["logs"]
        assert isinstance(logs, LogsPane)
        self.action_show_pane("logs")
        logs.action_filter()

    def on_log_lines_selected(self, message: LogLines.Selected) -> None:
        from mailtui.ui.screens.explain import ExplainScreen

        self.push_screen(ExplainScreen(message.entry))

    async def action_quit(self) -> None:
        if self._stop_tail is not None:
            self._stop_tail.set()
        self.exit(return_code=0)

    # -- layout ----------------------------------------------------------------------------------
    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH or event.size.height < NARROW_HEIGHT
        self.screen.set_class(narrow, "-narrow")
        self.screen.set_class(event.size.height >= TALL_HEIGHT, "-tall")

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self._activate(event.tab.id.removeprefix("tab-"))

    def _activate(self, pane_id: str) -> None:
        for pid, pane in self.panes.items():
            pane.set_class(pid == pane_id, "-active")

    def action_show_pane(self, pane_id: str) -> None:
        self.query_one(Tabs).active = f"tab-{pane_id}"
        self._activate(pane_id)
        self.panes[pane_id].focus()

    def action_toggle_maximize(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = screen.focused
        target = focused if focused is not None else self.panes[PANE_ORDER[0].PANE_ID]
        screen.maximize(target)

    def action_help(self) -> None:
        bindings = [(b.key_display or b.key, b.description) for b in self.BINDINGS if b.description]
        self.push_screen(HelpScreen(bindings))

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
        if self._stop_tail is not None:
            self._stop_tail.set()
        # Restoring a terminal that no longer exists can block; never outlive it by much.
        import os
        import threading

        timer = threading.Timer(HANGUP_GRACE_SECONDS, os._exit, args=(129,))
        timer.daemon = True
        timer.start()
        self.exit(return_code=129)
