"""The Bans pane: every fail2ban jail at once, banned IPs with time left, unban with confirmation."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable

from mailtui.fail2ban.source import BansResult
from mailtui.fail2ban.status import format_left
from mailtui.ui.panes.base import Pane, SourceResult


class BansPane(Pane):
    TITLE = "Bans"
    PANE_ID = "bans"
    POLL_SECONDS = 5.0
    BINDINGS = [Binding("u", "unban", "Unban")]

    def __init__(self) -> None:
        super().__init__()
        self.table = DataTable(cursor_type="row", id="bans-table")
        self.result: BansResult | None = None

    def compose_body(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.add_columns("jail", "failed now/total", "banned now/total", "IP", "left")
        self.POLL_SECONDS = float(self.app.cfg["ui.refresh_seconds"])  # type: ignore[attr-defined]
        super().on_mount()

    def collect(self) -> SourceResult:
        from mailtui.fail2ban.source import read_bans

        cfg = self.app.cfg  # type: ignore[attr-defined]
        return SourceResult(data=read_bans(cfg["fail2ban.socket"], cfg["logs.fail2ban"]))

    def show(self, result: SourceResult) -> None:
        if result.error:
            self.set_status(f"fail2ban: not connected — {result.error}", problem=True)
            return
        bans: BansResult = result.data
        self.result = bans
        if bans.snapshot is None:
            self.set_status(f"fail2ban: not connected — {bans.reason}", problem=True)
            self.table.clear()
            return
        snap = bans.snapshot
        if bans.mode == "log":
            self.set_status(f"log mode: {bans.reason}", problem=True)
        else:
            self.set_status(f"fail2ban {snap.version} · socket")
        now = time.time()
        cursor = self.table.cursor_row
        self.table.clear()
        for jail in snap.jails:
            self.table.add_row(Text(jail.name, "bold"), Text(f"{jail.currently_failed} / {jail.total_failed}"),
                               Text(f"{jail.currently_banned} / {jail.total_banned}"), Text(""), Text(""),
                               key=f"jail:{jail.name}")
            for ban in jail.banned[:500]:
                self.table.add_row(Text(f"  ▸ {jail.name}", "dim"), Text(""), Text(""), Text(ban.ip),
                                   Text(format_left(ban.time_left(now)) + " left"), key=f"ip:{jail.name}:{ban.ip}")
        if cursor < self.table.row_count:
            self.table.move_cursor(row=cursor)
        banned = sum(j.currently_banned for j in snap.jails)
        self.border_title = Content(f"Bans · {len(snap.jails)} jails · {banned} banned")

    def selected_ban(self) -> tuple[str, str] | None:
        if self.table.row_count == 0:
            return None
        key = self.table.coordinate_to_cell_key((self.table.cursor_row, 0)).row_key.value or ""
        if not key.startswith("ip:"):
            return None
        _, jail, ip = key.split(":", 2)
        return jail, ip

    def action_unban(self) -> None:
        from mailtui.ui.screens.confirm import ConfirmScreen

        if self.app.read_only:  # type: ignore[attr-defined]
            self.notify("read-only mode: unban is disabled", severity="warning", markup=False)
            return
        chosen = self.selected_ban()
        if chosen is None:
            self.notify("select a banned IP first", markup=False)
            return
        jail, ip = chosen
        question = Content.assemble("Unban ", (ip, "bold"), " in jail ", (jail, "bold"),
                                    "?\nfail2ban also deletes this IP's ban history.")

        def done(yes: bool | None) -> None:
            if yes:
                self.run_worker(lambda: self._unban(jail, ip), thread=True, exit_on_error=False)

        self.app.push_screen(ConfirmScreen(question, "Unban"), done)

    def _unban(self, jail: str, ip: str) -> None:
        from mailtui.fail2ban.actions import ActionRefused, unban

        try:
            count = unban(self.app.cfg["fail2ban.socket"], ip, jail)  # type: ignore[attr-defined]
            message, severity = f"unbanned {ip} in {jail} ({count})", "information"
        except ActionRefused as exc:
            message, severity = str(exc), "error"
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)
        self.app.call_from_thread(self.start_poll)
