"""The Services pane: daemons, listening ports, queue (with reasons), disks and certificates.

It also feeds the app's alert bar: every poll posts the current alerts upward (with [[hosts]],
every host's, each prefixed by its host). Enter on a queue or deferred row opens the queue
dialog: this machine's, or the row host's, listed by its agent in a worker.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable

from mailtui.containers.services import ContainersReport
from mailtui.fleet.fleet import Fleet, HostQueue, ServiceRow
from mailtui.settings import Settings
from mailtui.system.alerts import Alert
from mailtui.system.report import ServicesReport
from mailtui.system.units import human_age, human_bytes, plural, sparkline
from mailtui.ui.messages import NodeMessage
from mailtui.ui.panes.base import PaneTable, PolledPane, SourceResult, read_only_bindings, refill_table

_STATE_STYLE = {"ok": "green", "missing": "bold red", "unexpected": "yellow", "not configured": "dim"}


class ServicesPane(PolledPane):
    TITLE = "Services"
    PANE_ID = "services"
    DEFAULT_POLL_SECONDS = 5.0
    WRITE_ACTIONS = frozenset({"flush"})
    BINDINGS = read_only_bindings([Binding("f", "flush", "Flush queue")], WRITE_ACTIONS)
    ENTER_HELP = "Open the mail queue (on the queue row or a deferred reason)"

    class AlertsChanged(NodeMessage):
        """The current alerts, for the app's alert bar (only the latest matters)."""

        LATEST_ONLY = True

        def __init__(self, pane: ServicesPane, alerts: list[Alert]) -> None:
            super().__init__(pane)
            self.alerts = alerts

    class DaemonsSeen(NodeMessage):
        """Which daemons run ({"postfix": True, ...}): the top bar tells installed from running."""

        LATEST_ONLY = True

        def __init__(self, pane: ServicesPane, running: dict[str, bool]) -> None:
            super().__init__(pane)
            self.running = running

    def __init__(self, settings: Settings, *, fleet: Fleet | None = None, demo: bool = False) -> None:
        super().__init__()
        self.settings = settings  # containers, Postfix's config dir (flush, queue), read-only, the poll interval
        self.fleet = fleet  # [[hosts]]: a row per host and daemon, a host column
        self.demo = demo  # the demo's captured services: no container engine is asked
        self.table = PaneTable(cursor_type="row", id="services-table")
        self._running_seen: dict[str, bool] | None = None
        self.containers: ContainersReport | None = None  # the appliance's containers, each poll
        self.report: ServicesReport | None = None
        self._alert_ids: tuple[str, ...] | None = None
        self._fleet_alerts: tuple[tuple[str, str], ...] | None = None
        self._fleet_rows: dict[str, ServiceRow] = {}  # by key: the row Enter was pressed on
        self._rows_shown: list | None = None

    def compose_body(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.add_columns(*(("host",) if self.fleet is not None else ()), "what", "state", "detail")
        self.poll_seconds = self.settings.ui.refresh_seconds
        self.set_status("looking at the daemons…")

    def collect(self) -> SourceResult:
        if self.fleet is not None:  # what each host's agent reported last
            return SourceResult(data=self.fleet.service_rows())
        report = self.app.services_collector.collect()  # type: ignore[attr-defined]
        # a mail appliance in containers: its containers are the services worth a row each
        self.containers = self._containers()
        return SourceResult(data=report)

    def _containers(self) -> ContainersReport | None:
        containers = self.settings.containers
        if containers.mode == "no" or self.demo:
            return None
        from mailtui.containers.engine import EngineClient, access_problem, socket_from_env
        from mailtui.containers.services import collect
        from mailtui.containers.setup import names_from

        socket = socket_from_env(containers.socket)
        if access_problem(socket) and containers.mode != "yes":
            return None  # not a container host: nothing to say
        client = EngineClient(socket)
        try:
            return collect(client, names_from(containers))
        finally:
            client.close()

    def show(self, result: SourceResult) -> None:
        if result.error:
            self.set_status(f"services: {result.error}", problem=True)
            return
        if self.fleet is not None:
            self._fill_fleet(result.data)
            return
        report: ServicesReport = result.data
        self.report = report
        self._fill(report)
        running = {d.key: d.running for d in report.daemons}
        if running != self._running_seen:
            self._running_seen = running
            self.post_message(self.DaemonsSeen(self, running))
        ids = tuple(a.id for a in report.alerts)
        if ids != self._alert_ids:  # coalesce: the bar only changes when the alerts do
            self._alert_ids = ids
            self.post_message(self.AlertsChanged(self, report.alerts))

    def _fill(self, report: ServicesReport) -> None:
        now = report.taken
        rows: list[tuple[tuple[Text, ...], str]] = []

        def add(*cells: Text, key: str | None = None) -> None:
            # rows without a key of their own are known by their label (the selection follows it)
            rows.append((cells, key or f"row:{cells[0].plain}"))

        appliance = self.containers
        if appliance is not None and appliance.problem:
            add(Text("containers", "bold"), Text("?", "yellow"), Text(appliance.problem), key="containers")
        for c in appliance.services if appliance is not None else []:
            state = c.state + (f" ({c.health})" if c.health else "")
            up = c.uptime(now)
            detail = " · ".join(
                x
                for x in (
                    ",".join(c.roles),
                    f"up {human_age(up)}" if up is not None else "",
                    f"restarted {c.restarts}×" if c.restarts else "",
                    f"exit {c.exit_code}" if c.state != "running" and c.exit_code else "",
                    " ".join(c.ports),
                )
                if x
            )
            add(
                Text(c.name, "bold"),
                Text(state, "green" if c.ok else "bold red"),
                Text(detail),
                key=f"container:{c.name}",
            )
        for d in report.daemons:
            if d.running:
                detail = (
                    f"pid {d.pid} · {sum(d.children.values())} children · "
                    f"{'-' if d.cpu_percent is None else f'{d.cpu_percent:.1f}%'} cpu · {human_bytes(d.rss)}"
                    + (f" · restarted {d.restarts}×" if d.restarts else "")
                )
                add(
                    Text(d.label, "bold"),
                    Text(f"up {human_age(d.uptime(now))}", "green"),
                    Text(detail),
                    key=f"daemon:{d.key}",
                )
            else:
                add(
                    Text(d.label, "bold"),
                    Text("DOWN", "bold red"),
                    Text(d.note or "not running"),
                    key=f"daemon:{d.key}",
                )
        # the ports that listen as expected share one row; each one that does not gets its own,
        # right under the daemons, where a short pane still shows it
        fine = [p for p in report.ports if p.state in ("ok", "not configured")]
        for p in report.ports:
            if p in fine:
                continue
            where = f"{p.address}:{p.port}"
            detail = " · ".join(
                x for x in (f"{p.daemon} {p.service}".strip(), p.tls, f"held by {p.owner}" if p.owner else "") if x
            )
            add(
                Text(f":{p.port}"),
                Text(p.state, _STATE_STYLE.get(p.state, "")),
                Text(f"{where}  {detail}"),
                key=f"port:{where}",
            )
        if fine:
            listed = Text()
            for p in fine:
                mark, style = ("✔", "green") if p.state == "ok" else ("·", "dim")
                listed.append(f"{mark} ", style)
                name = (p.service or p.daemon).rsplit("/", 1)[-1]
                listed.append(f"{p.port}{f' {name}' if name != str(p.port) else ''}  ")
            ok = sum(p.state == "ok" for p in fine)
            add(Text("ports"), Text(f"{ok} listening", "green"), listed, key="ports")
        queue = report.queue
        if queue is not None:
            if queue.error:
                add(Text("queue", "bold"), Text("unreadable", "yellow"), Text(queue.error), key="queue")
            else:
                counts = " · ".join(f"{q} {n}" for q, n in queue.counts().items() if n)
                trend = sparkline([n for _, n in report.queue_history], 24)
                add(
                    Text("queue", "bold"),
                    Text(plural(queue.total, "msg"), "yellow" if queue.total else "green"),
                    Text(f"{counts or 'empty'}  oldest {human_age(queue.oldest_age())}  {trend}"),
                    key="queue",
                )
                domains = queue.top_domains(5)
                if domains:
                    add(Text("  to"), Text(""), Text(" · ".join(f"{d} {n}" for d, n in domains)), key="domains")
                for i, group in enumerate(queue.reasons()[:20]):
                    label = f"{group.title}: " if group.title else ""
                    add(
                        Text(f"  {group.count}×", "yellow"),
                        Text("deferred"),
                        Text(label + group.reason),
                        key=f"reason:{i}",
                    )
        for disk in report.disks:
            if disk.error:
                add(Text(f"disk {disk.label}"), Text("?", "yellow"), Text(f"{disk.path}: {disk.error}"))
            else:
                add(
                    Text(f"disk {disk.label}"),
                    Text(f"{disk.percent:.0f}%"),
                    Text(f"{disk.path} · {human_bytes(disk.free)} free · inodes {disk.inodes_percent}%"),
                )
        if report.load is not None:
            ld = report.load
            add(
                Text("system"),
                Text(f"load {ld.load[0]:.2f}"),
                Text(f"{ld.cpus} CPUs · memory {ld.memory_percent:.0f}% · swap {ld.swap_percent:.0f}%"),
            )
        for cert in report.certificates:
            days = cert.days_left(now)
            if days is None:
                add(Text("certificate"), Text("?", "yellow"), Text(f"{cert.path}: {cert.error}"))
            else:
                style = "bold red" if days < 0 else "yellow" if days < 14 else "green"
                add(
                    Text("certificate"),
                    Text(f"{days:.0f} days", style),
                    Text(f"{cert.subject} · {cert.path} ({cert.used_by})"),
                )
        plain = [([c.plain for c in cells], key) for cells, key in rows]
        if plain != self._rows_shown:  # unchanged rows: no rebuild (a rebuild re-lays out the screen)
            self._rows_shown = plain
            refill_table(self.table, rows)  # the highlighted daemon/port/row stays highlighted
        up = sum(d.running for d in report.daemons)
        missing = sum(p.state == "missing" for p in report.ports)
        ports = f"{plural(missing, 'port')} missing" if missing else "every port listens"
        status = (
            f"{up}/{len(report.daemons)} daemons up · {ports}"
            if report.daemons
            else "no mail daemon installed or running here"
        )
        notes = f" · {report.notes[0]}" if report.notes else ""
        self.set_status(status + notes, problem=bool(report.alerts))
        self.border_title = Content(
            f"Services · {plural(len(report.alerts), 'alert')}" if report.alerts else "Services"
        )

    def _selected_key(self) -> str:
        return self.table.selected_key()

    def _fill_fleet(self, found: list[ServiceRow]) -> None:
        """Every host's daemons, queue and missing ports, each row under its host (text, not markup)."""
        style = {"ok": "green", "bad": "bold red", "warn": "yellow"}
        rows = [
            ((Text(r.host, "cyan"), Text(r.what, "bold"), Text(r.state, style.get(r.style, "")), Text(r.detail)), r.key)
            for r in found
        ]
        plain = [([c.plain for c in cells], key) for cells, key in rows]
        if plain != self._rows_shown:
            self._rows_shown = plain
            refill_table(self.table, rows)
        assert self.fleet is not None
        self._fleet_rows = {r.key: r for r in found}
        shown = self.fleet.host_alerts()
        seen = tuple((a.id, a.message) for a in shown)
        if seen != self._fleet_alerts:  # the bar changes only when some host's alerts do
            self._fleet_alerts = seen
            self.post_message(self.AlertsChanged(self, shown))
        down = sum(r.style == "bad" for r in found)
        alerts = self.fleet.alerts()
        up = sum(state == "ok" for _, _, state in self.fleet.states())
        self.set_status(
            f"{up}/{len(self.fleet.hosts)} hosts connected · "
            + (f"{plural(down, 'daemon')} down" if down else "every daemon up")
            + (f" · {alerts[0][0]}: {alerts[0][2]}" if alerts else ""),
            problem=bool(down or alerts),
        )
        self.border_title = Content(f"Services · {plural(len(alerts), 'alert')}" if alerts else "Services")

    def action_open_queue(self, everything: bool = False) -> None:
        from mailtui.ui.screens.queue import QueueScreen

        if self.fleet is not None:
            self._open_host_queue(everything)
            return
        report = self.report
        if report is None or report.queue is None or report.queue.error:
            self.notify("no queue to show", markup=False)
            return
        key = "queue" if everything else self._selected_key()
        messages = report.queue.messages
        title = "Mail queue"
        if key.startswith("reason:"):
            group = report.queue.reasons()[int(key.split(":", 1)[1])]
            wanted = set(group.queue_ids)
            messages = [m for m in messages if m.queue_id in wanted]
            title = f"Deferred: {group.title or group.reason}"
        elif key != "queue":
            return

        def closed(_: None) -> None:
            self.start_poll()  # what was held, released or deleted shows at once

        screen = QueueScreen(
            title,
            messages,
            report.taken,
            postfix_dir=self.settings.postfix.config_dir,
            read_only=self.settings.ui.read_only,
        )
        self.app.push_screen(screen, closed)

    def _open_host_queue(self, everything: bool) -> None:
        """Enter on a host's queue row (all its messages) or deferred row (that reason's): its
        agent lists them in a worker, the dialog opens with the answer."""
        key = self._selected_key()
        host, _, what = key.partition(":")
        row = self._fleet_rows.get(key)
        if row is None or not host:
            if everything:  # the palette's command: whose queue is not said by any row yet
                self.notify("highlight a row of the host whose queue to open", severity="warning", markup=False)
            return
        if everything or what == "queue":
            self._fetch_host_queue(host, "", f"Mail queue on {host}")
        elif what.startswith("reason:") and row.reason:
            self._fetch_host_queue(host, row.reason, f"Deferred on {host}: {row.detail}")

    @work(thread=True, group="fleet-queue", exclusive=True, exit_on_error=False)
    def _fetch_host_queue(self, host: str, reason: str, title: str) -> None:
        from mailtui.fleet.link import RemoteError

        assert self.fleet is not None
        try:
            listed = self.fleet.queue(host, reason)
        except (RemoteError, ConnectionError, TimeoutError, KeyError) as exc:
            self.app.call_from_thread(self.notify, str(exc).strip("'\""), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show_host_queue, listed, reason, title)

    def _show_host_queue(self, listed: HostQueue, reason: str, title: str) -> None:
        from mailtui.ui.screens.queue import QueueScreen

        if listed.skipped:
            self.notify(
                f"{listed.host}: {listed.skipped} listed members were not messages (no queue ID) and are left out",
                severity="warning",
                markup=False,
            )
        screen = QueueScreen(
            title,
            listed.messages,
            listed.taken,
            postfix_dir="",
            read_only=self.settings.ui.read_only,
            fleet=self.fleet,
            host=listed.host,
            reason=reason,
            total=listed.total,
        )

        def closed(_: None) -> None:
            self.start_poll()  # the queue row shows what was held, released or deleted

        self.app.push_screen(screen, closed)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_queue()

    def action_flush(self) -> None:
        from mailtui.ui.screens.confirm import ConfirmScreen

        if self.settings.ui.read_only:
            self.notify("read-only mode: flush is disabled", severity="warning", markup=False)
            return
        if self.fleet is not None:
            self._fleet_flush()
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._flush()

        self.app.push_screen(
            ConfirmScreen(Content("Flush the mail queue?\nPostfix retries every deferred message now."), "Flush"), done
        )

    def _fleet_flush(self) -> None:
        """Flush the queue of the highlighted row's host, asked first naming it."""
        from mailtui.ui.screens.confirm import ConfirmScreen

        assert self.fleet is not None
        host = self._selected_key().split(":", 1)[0]
        refused = self.fleet.refusal(host, "flush") if host else "select a row of the host to flush first"
        if refused:
            self.notify(refused, severity="warning", markup=False)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self._remote_flush(host)

        question = Content.assemble(
            "Flush the mail queue on host ", (host, "bold"), "?\nPostfix there retries every deferred message now."
        )
        self.app.push_screen(ConfirmScreen(question, "Flush"), done)

    @work(thread=True, group="fleet-flush", exit_on_error=False)
    def _remote_flush(self, host: str) -> None:
        from mailtui.fleet.link import RemoteError

        assert self.fleet is not None
        try:
            message, severity = str(self.fleet.host(host).call("flush")), "information"
        except (RemoteError, ConnectionError, TimeoutError, KeyError) as exc:
            message, severity = str(exc).strip("'\""), "error"
        self.app.call_from_thread(self.notify, f"{host}: {message}", severity=severity, markup=False)

    @work(thread=True, group="queue-flush", exit_on_error=False)
    def _flush(self) -> None:
        from mailtui.system.queue_actions import QueueActionError, flush

        try:
            message, severity = flush(self.settings.postfix.config_dir), "information"
        except QueueActionError as exc:
            message, severity = str(exc), "error"
        self.app.call_from_thread(self.notify, message, severity=severity, markup=False)
        self.app.call_from_thread(self.start_poll)
