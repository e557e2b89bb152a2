"""A fleet host's mail queue: listed by its agent, held / released / deleted through it, from the
dashboard (Pilot and a real terminal) and the CLI. Three hosts behind a real sshd on loopback,
each with its own real Postfix (the rig's postfix.py) and a real deferred message in its queue."""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from mailtui import config
from mailtui.fleet.fleet import Fleet, HostQueue
from mailtui.fleet.link import RemoteError
from mailtui.system.queue import QueuedMessage, QueueSnapshot, Recipient, listing, read_queue
from mailtui.system.queue_actions import change
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.services import ServicesPane
from mailtui.ui.screens.confirm import ConfirmScreen
from mailtui.ui.screens.queue import QueueScreen
from tests.fleetlab import LabHost, dashboard_config
from tests.helpers import REPO, until, until_screen
from tests.rig.base import free_port, wait_for
from tests.rig.postfix import Postfix, start_postfix
from tests.sshlab import SshLab, start_sshd
from tests.ui_apps import FIXED_SUMMARY

pytestmark = pytest.mark.daemons
HOSTS = ("mx1", "mx2", "imap1")


class Lab:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ssh: SshLab = start_sshd(root / "ssh")
        self.postfix: dict[str, Postfix] = {}
        self.hosts: dict[str, LabHost] = {}

    def start(self) -> None:
        for name in HOSTS:
            pf = self.postfix[name] = start_postfix(self.root / f"pf-{name}", self.root / "no-sasl", log_to="file")
            # mx2 alerts on any deferred message: its alert reaches the dashboard's alert bar
            extra = "[alerts]\ndeferred_max = 0\n" if name == "mx2" else ""
            self.hosts[name] = LabHost(
                self.ssh,
                self.root,
                name,
                fail2ban=False,
                agent_read_only=name == "mx1",
                postfix_dir=str(pf.conf_dir),
                extra=extra,
            )

    def queue(self, name: str, rcpt: str = "someone@example.org") -> str:
        """A real message to a remote domain, deferred by the dead relay of that host's Postfix."""
        pf = self.postfix[name]
        with smtplib.SMTP("127.0.0.1", pf.ports["smtp"], timeout=10) as client:
            client.ehlo("client.rig.test")
            client.sendmail("alice@rig.test", [rcpt], b"Subject: stuck\r\n\r\nwaits for a dead relay\r\n")
        conf = str(pf.conf_dir)

        def deferred() -> list[QueuedMessage]:
            return [
                m
                for m in read_queue(conf).messages
                if m.queue == "deferred" and m.recipients[0].address == rcpt and m.recipients[0].reason
            ]

        return wait_for(deferred, 30, 0.2, f"a deferred message on {name}")[-1].queue_id

    def in_queue(self, name: str, qid: str) -> str | None:
        found = read_queue(str(self.postfix[name].conf_dir)).find(qid)
        return found.queue if found else None

    def stop(self) -> None:
        for h in self.hosts.values():
            h.stop()
        for pf in self.postfix.values():
            pf.stop()
        self.ssh.stop()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    # Postfix's own users read their queue directory: a world-readable base, as the rig's
    base = Path(tempfile.mkdtemp(prefix="mailtui-fleetq-"))
    base.chmod(0o755)
    made = Lab(base)
    try:
        made.start()
        yield made
    finally:
        made.stop()
        if not os.environ.get("MAILTUI_RIG_KEEP"):
            shutil.rmtree(base, ignore_errors=True)


def app_for(lab: Lab, root: Path, names: tuple[str, ...] = HOSTS, read_only: bool = False) -> MailTuiApp:
    path = dashboard_config(root, [lab.hosts[n] for n in names], read_only=frozenset({"imap1"}))
    if read_only:
        path.write_text(path.read_text().replace("[ui]\n", "[ui]\nread_only = true\n", 1))
    return MailTuiApp(config.load(path), watch_tty=False, stack_summary=lambda: FIXED_SUMMARY)


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def bar(app: MailTuiApp, name: str = "fleetbar") -> str:
    return str(app.query_one(f"#{name}", Static).render())


def notes(app: MailTuiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_queue(pilot, app: MailTuiApp, host: str, what: str = "queue") -> QueueScreen:
    """Enter on ``host``'s queue row (or its first deferred row) of the Services pane."""
    services = app.query_one(ServicesPane)

    def index() -> int | None:
        for i, r in enumerate(rows(services.table)):
            if r[0] == host and (r[1] == "queue" if what == "queue" else r[2] == "deferred"):
                return i
        return None

    row = await until(pilot, lambda: index() is not None and index(), tries=300, what=f"{host}'s {what} row")
    services.table.focus()
    services.table.move_cursor(row=row)
    await pilot.pause(0.1)
    await pilot.press("enter")
    screen = await until_screen(pilot, QueueScreen, tries=200, what="dialog")
    assert isinstance(screen, QueueScreen)
    return screen


def dialog_rows(screen: QueueScreen) -> dict[str, list[str]]:
    return {r[0]: r for r in rows(screen.table)}


# -- the agent's answer ------------------------------------------------------------------------------


def test_listing_is_capped_in_count_recipients_fields_and_bytes() -> None:
    many = QueueSnapshot(
        [
            QueuedMessage(
                f"A{i:09X}",
                "deferred",
                1_000_000 - i,  # the later, the older: the oldest come first
                100,
                "s" * 5000,
                [Recipient(f"r{j}@example.org", "x" * 3000 if j == 0 else "") for j in range(80)],
            )
            for i in range(3000)
        ]
    )
    out = listing(many)
    assert out["total"] == 3000 and out["truncated"] is True
    assert 0 < len(out["messages"]) <= 1000
    assert len(json.dumps(out)) < 1 << 20  # fits one message of the link
    first = out["messages"][0]
    assert first["queue_id"] == f"A{2999:09X}"  # the oldest
    assert len(first["sender"]) == 1000 and len(first["recipients"]) == 50 and first["more_recipients"] == 30
    assert len(first["recipients"][0]["delay_reason"]) == 1000
    assert [m["arrival_time"] for m in out["messages"]] == sorted(m["arrival_time"] for m in out["messages"])
    assert listing(many, limit=5)["messages"].__len__() == 5


def test_the_agent_lists_its_queue_and_its_report_carries_none(lab: Lab, tmp_path: Path) -> None:
    qid = lab.queue("mx2")
    other = lab.queue("mx1")
    path = dashboard_config(tmp_path, [lab.hosts["mx1"], lab.hosts["mx2"]])
    fleet = Fleet.from_entries(config.load(path).hosts)
    fleet.start()
    try:
        fleet.wait_connected(30)
        assert fleet.hosts["mx2"].hello["rev"] == 2
        listed = fleet.queue("mx2")
        ids = [m.queue_id for m in listed.messages]
        assert qid in ids and other not in ids  # mx2's own Postfix, not mx1's
        msg = next(m for m in listed.messages if m.queue_id == qid)
        assert msg.sender == "alice@rig.test" and msg.recipients[0].address == "someone@example.org"
        assert "Connection refused" in msg.recipients[0].reason and listed.total >= 1
        # one deferral reason's messages only
        assert [m.queue_id for m in fleet.queue("mx2", "no such reason at all").messages] == []
        by_reason = fleet.queue("mx2", msg.recipients[0].reason)
        assert qid in [m.queue_id for m in by_reason.messages]
        # the agent started --read-only still lists (reading changes nothing)
        assert other in [m.queue_id for m in fleet.queue("mx1").messages]
        # the periodic report: counts and reasons, no message list (a big queue would not fit)
        wait_for(lambda: "services" in fleet.hosts["mx2"].latest, 30, 0.2, "mx2's report")
        queue = fleet.hosts["mx2"].latest["services"]["report"]["queue"]
        assert "messages" not in queue and queue["total"] >= 1
        assert queue["reasons"] and all("queue_ids" not in g for g in queue["reasons"])
        # the row of that reason, for Enter in the Services pane
        reasons = [r for r in fleet.service_rows() if r.host == "mx2" and r.state == "deferred"]
        assert reasons and "Connection refused" in reasons[0].reason
    finally:
        fleet.close()
        change("delete", qid, str(lab.postfix["mx2"].conf_dir))
        change("delete", other, str(lab.postfix["mx1"].conf_dir))


def test_a_queue_too_large_for_one_message_keeps_the_hosts_report(lab: Lab, tmp_path: Path) -> None:
    """One real message to 4,500 long recipients: as a list it is over 1 MiB of JSON. The report
    once carried every message, was dropped as too large, and the host's Services rows waited for
    a report forever; now it carries counts and reasons, and the list comes capped when asked."""
    pf = lab.postfix["imap1"]
    # the rig's limits are for its scenarios: this one message needs more recipients and room for them
    limits = ["smtpd_recipient_limit = 5000", "message_size_limit = 10240000"]
    subprocess.run(["postconf", "-c", str(pf.conf_dir), "-e", *limits], check=True, capture_output=True)
    subprocess.run(["postfix", "-c", str(pf.conf_dir), "reload"], check=True, capture_output=True)
    rcpts = [f"u{i:05d}{'x' * 200}@example.org" for i in range(4500)]
    with smtplib.SMTP("127.0.0.1", pf.ports["smtp"], timeout=60) as client:
        client.ehlo("client.rig.test")
        client.sendmail("alice@rig.test", rcpts, b"Subject: many\r\n\r\nto many\r\n")
    conf = str(pf.conf_dir)

    def deferred() -> QueuedMessage | None:
        found = [m for m in read_queue(conf).messages if len(m.recipients) >= len(rcpts) and m.queue == "deferred"]
        return found[0] if found else None

    big = wait_for(deferred, 60, 0.5, "the message deferred")
    assert len(json.dumps(big.to_dict())) > 1 << 20  # what the report used to carry
    path = dashboard_config(tmp_path, [lab.hosts["imap1"]])
    fleet = Fleet.from_entries(config.load(path).hosts)
    fleet.start()
    try:
        fleet.wait_connected(30)
        host = fleet.hosts["imap1"]

        def reported() -> dict | None:
            queue = (host.latest.get("services") or {}).get("report", {}).get("queue")
            return queue if queue and queue.get("total", 0) >= 1 else None

        queue = wait_for(reported, 30, 0.2, "imap1's report with its queue")
        assert "messages" not in queue
        assert any(r.host == "imap1" and r.what == "queue" and r.state == "1 msg" for r in fleet.service_rows())
        notices = [m["text"] for m in host.poll() if m["type"] == "notice"]
        assert not [n for n in notices if "too large" in n], notices
        listed = fleet.queue("imap1")
        msg = next(m for m in listed.messages if m.queue_id == big.queue_id)
        assert len(msg.recipients) == 51 and msg.recipients[-1].address == f"… {len(big.recipients) - 50} more"
    finally:
        fleet.close()
        change("delete", big.queue_id, conf)


# -- the dashboard -----------------------------------------------------------------------------------


async def test_hold_release_and_a_vanished_message_on_a_host(lab: Lab, tmp_path: Path) -> None:
    qid = lab.queue("mx2")
    second = lab.queue("mx2", "another@example.net")
    conf = str(lab.postfix["mx2"].conf_dir)
    app = app_for(lab, tmp_path)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="three hosts up")
            # mx2's alert in the app's alert bar, named by its host
            await until(pilot, lambda: "mx2: " in bar(app, "alertbar"), tries=300, what="mx2's alert in the bar")
            assert "deferred" in bar(app, "alertbar")
            screen = await open_queue(pilot, app, "mx2")
            assert screen.box.border_title is not None and "Mail queue on mx2" in str(screen.box.border_title)
            assert {qid, second} <= set(dialog_rows(screen))
            screen.table.move_cursor(row=list(dialog_rows(screen)).index(qid))
            await pilot.pause(0.1)

            await pilot.press("h")
            confirm = app.screen
            assert isinstance(confirm, ConfirmScreen)
            assert confirm.question.plain == f"Hold message {qid} from alice@rig.test on host mx2?"
            await pilot.press("y")
            await until(pilot, lambda: lab.in_queue("mx2", qid) == "hold", tries=200, what="held on mx2's Postfix")
            # the list is asked for again: the row says hold as Postfix there says it
            await until(pilot, lambda: dialog_rows(screen)[qid][1] == "hold", tries=200, what="the list refreshed")
            assert any(f"mx2: {qid} put on hold" in n for n in notes(app))

            await pilot.press("r")
            assert isinstance(app.screen, ConfirmScreen) and "Release message" in app.screen.question.plain
            await pilot.press("y")
            await until(pilot, lambda: lab.in_queue("mx2", qid) not in (None, "hold"), tries=200, what="released")
            await until(pilot, lambda: dialog_rows(screen)[qid][1] != "hold", tries=200, what="the list refreshed")

            # deleted behind the dashboard's back: the delete is one line, and the row leaves
            change("delete", qid, conf)
            await pilot.press("d")
            assert isinstance(app.screen, ConfirmScreen) and f"Delete message {qid}" in app.screen.question.plain
            await pilot.press("y")
            gone = f"mx2: {qid} is not in the queue (already delivered or removed?)"
            await until(pilot, lambda: gone in notes(app), tries=200, what="the vanished message said")
            assert all("\n" not in n for n in notes(app))
            await until(pilot, lambda: qid not in dialog_rows(screen), tries=200, what="the row gone")
            assert second in dialog_rows(screen) and lab.in_queue("mx2", second) == "deferred"
            await pilot.press("escape")

            # Enter on the deferred reason's row: that reason's messages, titled with the host
            screen = await open_queue(pilot, app, "mx2", what="deferred")
            assert "Deferred on mx2" in str(screen.box.border_title)
            assert second in dialog_rows(screen)
            await pilot.press("escape")
    finally:
        for q in (qid, second):
            if lab.in_queue("mx2", q):
                change("delete", q, conf)


async def test_refused_before_any_question(lab: Lab, tmp_path: Path) -> None:
    ids = {name: lab.queue(name) for name in HOSTS}
    app = app_for(lab, tmp_path)
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="three hosts up")
            for host, said in (
                ("mx1", "the agent on mx1 runs --read-only: hold is refused there"),
                ("imap1", "imap1 is read-only in the config: hold is disabled there"),
            ):
                screen = await open_queue(pilot, app, host)
                assert ids[host] in dialog_rows(screen)
                await pilot.press("h")
                assert app.screen is screen  # no confirmation
                assert said in notes(app)
                await pilot.press("escape")
            assert lab.in_queue("mx1", ids["mx1"]) == "deferred" and lab.in_queue("imap1", ids["imap1"]) == "deferred"

            # a host that drops and cannot be reached again: its dialog refuses, nothing is asked
            screen = await open_queue(pilot, app, "mx2")
            ssh_config = lab.ssh.config
            saved = ssh_config.read_text()
            ssh_config.write_text(saved.replace(f"Port {lab.ssh.port}", f"Port {free_port()}"))
            try:
                os.kill(lab.hosts["mx2"].session(), 9)
                await until(pilot, lambda: "mx2 reconnecting (" in bar(app), tries=200, what="mx2 down")
                await pilot.press("d")
                assert app.screen is screen
                assert any(n.startswith("mx2 is not connected (reconnecting") for n in notes(app))
            finally:
                ssh_config.write_text(saved)
            assert lab.in_queue("mx2", ids["mx2"]) == "deferred"
            await pilot.press("escape")

        # the dashboard's --read-only: the keys are not offered, and pressed they say why
        app = app_for(lab, tmp_path, read_only=True)
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: bar(app).startswith("mx1 ok · mx2 ok"), tries=300, what="hosts up")
            screen = await open_queue(pilot, app, "mx2")
            await pilot.press("h")
            assert app.screen is screen
            assert any(n.startswith("read-only mode: hold is disabled") for n in notes(app))
            assert lab.in_queue("mx2", ids["mx2"]) == "deferred"
    finally:
        for name, q in ids.items():
            if lab.in_queue(name, q):
                change("delete", q, str(lab.postfix[name].conf_dir))


async def test_a_hostile_hosts_queue_and_alerts_are_sanitised(lab: Lab, tmp_path: Path) -> None:
    lab.ssh.add_host("evil")
    path = tmp_path / "dashboard.toml"
    command = f"{sys.executable} {REPO}/tests/hostile_agent.py"
    path.write_text(
        "[ui]\nrefresh_seconds = 0.5\n[containers]\nmode = 'no'\n"
        f'[[hosts]]\nname = "evil"\nssh = "evil"\ncommand = "{command}"\nssh_config = "{lab.ssh.config}"\n'
    )
    app = MailTuiApp(config.load(path), watch_tty=False, stack_summary=lambda: FIXED_SUMMARY)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: bar(app) == "evil ok", tries=300, what="the host up")
        await until(pilot, lambda: "evil: " in bar(app, "alertbar"), tries=200, what="its alert")
        assert "\x1b" not in bar(app, "alertbar") and "\x07" not in bar(app, "alertbar")
        screen = await open_queue(pilot, app, "evil")
        shown = rows(screen.table)
        # "ALL", "-d" and a list are no queue IDs: left out (and said), never sent back
        assert [r[0] for r in shown] == ["4F2A1B3C5D", "7E8F9A0B1C"]
        assert any("evil: 3 listed members were not messages" in n for n in notes(app))
        text = " ".join(" ".join(r) for r in shown) + str(screen.reason.render())
        assert "\x1b" not in text and "\x07" not in text
        assert "mallory" in text and "… 3 more" in text
        await pilot.press("h")
        assert isinstance(app.screen, ConfirmScreen) and "\x1b" not in app.screen.question.plain
        await pilot.press("y")
        await until(pilot, lambda: any(n.startswith("evil: 4F2A1B3C5D held") for n in notes(app)), what="answer")
        assert all("\x1b" not in n and "\x07" not in n for n in notes(app))
    lab.ssh.add_host("old")
    with path.open("a") as fh:
        fh.write(
            f'[[hosts]]\nname = "old"\nssh = "old"\ncommand = "{command} --rev1"\nssh_config = "{lab.ssh.config}"\n'
        )
    fleet = Fleet.from_entries(config.load(path).hosts)
    fleet.start()
    try:
        fleet.wait_connected(30)
        # an agent from before queue_list: said, not asked
        with pytest.raises(RemoteError, match=r"old: its agent cannot list the queue \(an older mailtui there"):
            fleet.queue("old")
        listed: HostQueue = fleet.queue("evil")
        assert listed.skipped == 3 and listed.total == 5
        bad = next(m for m in listed.messages if m.queue_id == "7E8F9A0B1C")
        assert bad.sender == "" and bad.size == 0 and bad.arrival == listed.taken  # wrong types: nothing claimed
        with pytest.raises(Exception, match="not a Postfix queue ID"):
            fleet.queue_action("evil", "delete", "ALL")
        with pytest.raises(RemoteError, match="unknown queue action"):
            fleet.queue_action("evil", "purge", "4F2A1B3C5D")
    finally:
        fleet.close()


# -- the CLI -----------------------------------------------------------------------------------------


def mailtui(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(root / "no-xdg")}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(root / "dashboard.toml"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )


def test_cli_queue_over_the_same_links(lab: Lab, tmp_path: Path) -> None:
    qid = lab.queue("mx2")
    other = lab.queue("mx1")
    down = tmp_path / "down_ssh_config"
    down.write_text(f"Host down\n  HostName 127.0.0.1\n  Port {free_port()}\n  StrictHostKeyChecking yes\n")
    dashboard_config(tmp_path, list(lab.hosts.values()), read_only=frozenset({"imap1"}))
    with (tmp_path / "dashboard.toml").open("a") as fh:
        fh.write(f'\n[[hosts]]\nname = "down"\nssh = "down"\nssh_config = "{down}"\n')
    try:
        res = mailtui(tmp_path, "queue", "--host", "mx2", "--json")
        assert res.returncode == 0, res.stderr
        data = json.loads(res.stdout)
        assert [h["host"] for h in data["hosts"]] == ["mx2"]
        listed = {m["queue_id"]: m for m in data["hosts"][0]["messages"]}
        assert qid in listed and other not in listed and listed[qid]["sender"] == "alice@rig.test"

        res = mailtui(tmp_path, "queue", "--host", "mx1", "--host", "mx2", "--host", "down")
        assert res.returncode == 2
        table = [line.split() for line in res.stdout.splitlines()]
        assert ["mx2", qid, "deferred"] in [r[:3] for r in table] and ["mx1", other, "deferred"] in [
            r[:3] for r in table
        ]
        assert any(line.startswith("down: ") for line in res.stdout.splitlines())

        res = mailtui(tmp_path, "queue", "hold", qid, "--host", "mx2", "--yes")
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip() == f"mx2: {qid} put on hold" and lab.in_queue("mx2", qid) == "hold"
        res = mailtui(tmp_path, "queue", "release", qid, "--host", "mx2", "--yes", "--json")
        assert res.returncode == 0 and json.loads(res.stdout)["result"] == f"{qid} released from hold"
        assert lab.in_queue("mx2", qid) != "hold"

        # refused, each in one line, before anything is asked or changed
        for args, said in (
            (("--read-only", "queue", "hold", qid, "--host", "mx2"), "read-only mode: queue hold is disabled"),
            (("queue", "hold", other, "--host", "mx1"), "the agent on mx1 runs --read-only: queue hold is refused"),
            (("queue", "hold", qid, "--host", "imap1"), "imap1 is read-only in the config: queue hold is disabled"),
            (("queue", "hold", qid, "--host", "down"), "down is not connected (reconnecting)"),
            (("queue", "hold", qid, "--host", "mx1", "--host", "mx2"), "queue hold goes to one host"),
            (("queue", "delete", "ALL", "--host", "mx2"), "'ALL' is not a Postfix queue ID"),
        ):
            res = mailtui(tmp_path, *args, "--yes")
            assert res.returncode == 2 and said in res.stderr, (args, res.stderr)
            assert res.stderr.count("\n") == 1, res.stderr
        assert lab.in_queue("mx1", other) == "deferred" and lab.in_queue("mx2", qid) == "deferred"

        # without --yes and no terminal: no guess
        argv = [sys.executable, "-m", "mailtui", "--config", str(tmp_path / "dashboard.toml"), "queue", "hold"]
        res = subprocess.run(
            [*argv, qid, "--host", "mx2"],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "no-xdg")},
            cwd=REPO,
            timeout=120,
        )
        assert res.returncode == 2 and "confirmation needed" in res.stderr and lab.in_queue("mx2", qid) == "deferred"

        # a queue ID gone meanwhile: one line
        change("delete", qid, str(lab.postfix["mx2"].conf_dir))
        res = mailtui(tmp_path, "queue", "delete", qid, "--host", "mx2", "--yes")
        assert res.returncode == 2
        assert res.stderr.strip().endswith(f"mx2: {qid} is not in the queue (already delivered or removed?)")
        assert res.stderr.count("\n") == 1
    finally:
        for name, q in (("mx2", qid), ("mx1", other)):
            if lab.in_queue(name, q):
                change("delete", q, str(lab.postfix[name].conf_dir))


# -- what a person sees ------------------------------------------------------------------------------


def test_a_hosts_queue_in_a_real_terminal(lab: Lab, tmp_path: Path) -> None:
    from tests.terminal import Terminal, box

    qid = lab.queue("mx2")
    path = dashboard_config(tmp_path, [lab.hosts["mx2"]])
    (tmp_path / "xdg").mkdir()
    try:
        with Terminal(["--config", str(path)], size=(120, 35), config_home=tmp_path / "xdg") as term:
            screen = term.wait_for(
                lambda s: any(" queue " in r for r in box(s, "Services")), timeout=60, what="mx2's queue row"
            )
            term.press("2")
            services = box(term.screen(), "Services")
            header = next(i for i, r in enumerate(services) if r.split()[:2] == ["host", "what"])
            index = next(i for i, r in enumerate(services) if r.split()[1:2] == ["queue"]) - header - 1
            term.press("g", *(["j"] * index), "Enter")  # from the first row down to mx2's queue row
            screen = term.wait_for("Mail queue on mx2 · ", timeout=30, what="the host's queue dialog")
            assert qid in screen and "alice@rig.test" in screen
            term.press("h")
            screen = term.wait_for(f"Hold message {qid}", timeout=10, what="the question")
            assert f"Hold message {qid} from alice@rig.test on host mx2?" in " ".join(screen.split())
            term.press("y")
            term.wait_for(lambda s: any(qid in ln and " hold " in ln for ln in s.splitlines()), timeout=30)
            assert lab.in_queue("mx2", qid) == "hold"
            for width, height in ((80, 24), (200, 55)):
                term.resize(width, height)
                screen = term.wait_for(
                    lambda s, w=width: (
                        "Mail queue on mx2" in s and qid in s and all(len(ln) <= w for ln in s.splitlines())
                    ),
                    timeout=30,
                    what=f"the dialog at {width}x{height}",
                )
                assert len(screen.splitlines()) <= height
            term.press("Escape")
            term.wait_gone("Mail queue on mx2")
            term.press("q")
            assert term.wait_exit() == 0
    finally:
        if lab.in_queue("mx2", qid):
            change("delete", qid, str(lab.postfix["mx2"].conf_dir))
