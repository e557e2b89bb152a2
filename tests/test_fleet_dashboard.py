"""The dashboard with [[hosts]]: three hosts behind a real sshd on loopback, each with its own logs,
agent config and (two of them) a real fail2ban-server; lines, bans, an unban routed to its host
and a killed ssh connection, driven through to the screen (Pilot)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from mailtui import config
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.bans import BansPane
from mailtui.ui.panes.logs import LogsPane
from mailtui.ui.panes.services import ServicesPane
from mailtui.ui.screens.confirm import ConfirmScreen
from tests.fleetlab import LabHost, dashboard_config
from tests.helpers import REPO, until
from tests.rig.base import free_port
from tests.sshlab import SshLab, start_sshd
from tests.ui_apps import FIXED_SUMMARY

pytestmark = pytest.mark.daemons
MX2_MAIN_CF = "smtpd_sasl_auth_enable = yes\nsmtpd_client_auth_rate_limit = 17\n"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LabHost]]:
    root = tmp_path_factory.mktemp("fleet")
    lab: SshLab = start_sshd(root / "ssh")
    made: dict[str, LabHost] = {}
    try:
        made["mx1"] = LabHost(lab, root, "mx1", fail2ban=True, agent_read_only=True)
        made["mx2"] = LabHost(lab, root, "mx2", fail2ban=True, main_cf=MX2_MAIN_CF)
        made["imap1"] = LabHost(lab, root, "imap1", fail2ban=False)
        yield made
    finally:
        for h in made.values():
            h.stop()
        lab.stop()


def app_for(hosts: dict[str, LabHost], root: Path) -> MailTuiApp:
    path = dashboard_config(root, list(hosts.values()), read_only=frozenset({"imap1"}))
    return MailTuiApp(config.load(path), watch_tty=False, stack_summary=lambda: FIXED_SUMMARY)


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def bar(app: MailTuiApp) -> str:
    return str(app.query_one("#fleetbar", Static).render())


def mail_lines(logs: LogsPane, host: str) -> list[str]:
    """The host's mail.log lines in the Logs pane (its fail2ban.log is followed too)."""
    return [e.line for e in logs.lines.entries if e.host == host and e.source.endswith("/mail.log")]


async def test_three_hosts_on_one_screen_with_routed_unban_and_a_dropped_link(
    hosts: dict[str, LabHost], tmp_path: Path
) -> None:
    app = app_for(hosts, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="three hosts up")
        logs, bans, services = app.query_one(LogsPane), app.query_one(BansPane), app.query_one(ServicesPane)
        for h in hosts.values():
            h.write(4)
        await until(
            pilot,
            lambda: all(mail_lines(logs, n) == h.written for n, h in hosts.items()),
            tries=200,
            what="every host's lines, each once and in order",
        )
        entry = next(e for e in logs.lines.entries if e.host == "imap1")
        assert entry.source.startswith("imap1:") and entry.match is not None
        assert entry.match.recognizer.id == "postfix.sasl.auth_failed"

        # a ban on mx2 by its own fail2ban, shown under host mx2
        mx2 = hosts["mx2"]
        mx2.write(3, ip="198.51.100.77")
        key = "ip:mx2/postfix-sasl:198.51.100.77"

        def jail_row() -> int | None:
            found = [i for i, r in enumerate(rows(bans.table)) if r[0] == "postfix-sasl" and r[1] == "mx2"]
            return found[0] if found else None

        # each host's bans message comes on its own poll: mx1's row may come after mx2's
        await until(
            pilot,
            lambda: jail_row() is not None and any(r[0] == "postfix-sasl" and r[1] == "mx1" for r in rows(bans.table)),
            tries=200,
            what="mx2's and mx1's postfix-sasl rows",
        )
        await pilot.press("1")
        bans.table.focus()
        bans.table.move_cursor(row=jail_row())
        await until(pilot, lambda: key in bans._keys, tries=200, what="the ban on mx2")
        bans.table.move_cursor(row=bans._keys.index(key))
        await pilot.pause(0.1)
        assert rows(bans.table)[bans._keys.index(key)][1] == "mx2"
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.question.plain
        assert "198.51.100.77" in question and "jail postfix-sasl" in question and "on host mx2" in question
        await pilot.press("y")
        await until(pilot, lambda: "198.51.100.77" not in mx2.banned(), tries=200, what="mx2's fail2ban to unban")
        # fail2ban there has unbanned before the agent's reply reaches the dashboard: wait for it
        await until(
            pilot,
            lambda: any(
                "unbanned 198.51.100.77 in jail postfix-sasl on mx2" in str(n.message) for n in app._notifications
            ),
            tries=200,
            what="the unban's notification",
        )

        # mx1's agent runs --read-only: the unban is refused before any question
        mx1 = hosts["mx1"]
        assert mx1.f2b is not None
        mx1.f2b.cli("set", "postfix-sasl", "banip", "203.0.113.5")
        mx1_jail = next(i for i, r in enumerate(rows(bans.table)) if r[0] == "postfix-sasl" and r[1] == "mx1")
        bans.table.move_cursor(row=mx1_jail)
        key1 = "ip:mx1/postfix-sasl:203.0.113.5"
        await until(pilot, lambda: key1 in bans._keys, tries=200, what="the ban on mx1")
        bans.table.move_cursor(row=bans._keys.index(key1))
        await pilot.pause(0.1)
        await pilot.press("u")
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("the agent on mx1 runs --read-only" in str(n.message) for n in app._notifications)
        assert "203.0.113.5" in mx1.banned()

        # Services: a host column, each host's rows (each host's report comes on its own poll)
        await until(
            pilot,
            lambda: {r[0] for r in rows(services.table)} >= {"mx1", "mx2", "imap1"},
            tries=200,
            what="every host's rows in Services",
        )

        # a dropped link: mx2's sshd session is killed; the bar says so, lines written meanwhile
        # arrive after the reconnect, none lost, none twice
        os.kill(mx2.session(), signal.SIGKILL)
        await until(pilot, lambda: "mx2 reconnecting (" in bar(app), tries=200, what="mx2 reconnecting")
        assert bar(app).startswith("mx1 ok · mx2 reconnecting (") and bar(app).endswith(" s) · imap1 ok")
        mx2.write(6)
        await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="mx2 back")
        mx2.write(2)
        await until(pilot, lambda: mail_lines(logs, "mx2") == mx2.written, tries=200, what="mx2's lines after the drop")
        assert app.fleet is not None and app.fleet.hosts["mx1"].connects == 1


async def test_read_only_hosts_and_dashboard_refuse_before_asking(hosts: dict[str, LabHost], tmp_path: Path) -> None:
    app = app_for(hosts, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="three hosts up")
        fleet = app.fleet
        assert fleet is not None
        assert fleet.refusal("mx2", "unban") == ""
        # the agent says what its user cannot reach; a socket it may use is not among them
        assert not any("f2b.sock" in p for p in fleet.hosts["mx2"].hello["problems"])
        assert "runs --read-only" in fleet.refusal("mx1", "unban")
        assert "imap1 is read-only in the config" in fleet.refusal("imap1", "flush")
        services = app.query_one(ServicesPane)
        await pilot.press("2")
        await until(pilot, lambda: any(r[0] == "imap1" for r in rows(services.table)), what="imap1's rows")
        index = next(i for i, r in enumerate(rows(services.table)) if r[0] == "imap1")
        services.table.focus()
        services.table.move_cursor(row=index)
        await pilot.press("f")
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("imap1 is read-only in the config" in str(n.message) for n in app._notifications)
        fleet.read_only = True  # as --read-only sets it
        assert fleet.refusal("mx2", "ban") == "read-only mode: ban is disabled"


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


def test_cli_bans_and_who_over_the_same_links(hosts: dict[str, LabHost], tmp_path: Path) -> None:
    # a fourth host whose sshd is not there: one line for it, the others answer
    down = tmp_path / "down_ssh_config"
    down.write_text(f"Host down\n  HostName 127.0.0.1\n  Port {free_port()}\n  StrictHostKeyChecking yes\n")
    dashboard_config(tmp_path, list(hosts.values()), read_only=frozenset({"imap1"}))
    with (tmp_path / "dashboard.toml").open("a") as fh:
        fh.write(f'\n[[hosts]]\nname = "down"\nssh = "down"\nssh_config = "{down}"\n')
    mx2 = hosts["mx2"]
    assert mx2.f2b is not None
    mx2.f2b.cli("set", "postfix-sasl", "banip", "203.0.113.44")
    mx2.write(2, ip="203.0.113.44")

    res = mailtui(tmp_path, "bans", "--host", "mx2", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [h["host"] for h in data["hosts"]] == ["mx2"]
    jail = next(j for j in data["hosts"][0]["jails"] if j["name"] == "postfix-sasl")
    assert "203.0.113.44" in [b["ip"] for b in jail["banned"]]

    res = mailtui(tmp_path, "bans", "--host", "mx1", "--host", "mx2", "--host", "down")
    assert res.returncode == 2
    table = [line.split() for line in res.stdout.splitlines()]
    assert ["mx2", "postfix-sasl", "203.0.113.44"] in [row[:3] for row in table]
    assert any(row[:2] == ["mx1", "postfix-sasl"] for row in table)
    assert any(line.startswith("down: ") for line in res.stdout.splitlines())

    res = mailtui(tmp_path, "who", "203.0.113.44", "--all-hosts", "--json")
    data = json.loads(res.stdout)
    by_host = {h["host"]: h for h in data["hosts"]}
    assert set(by_host) == {"mx1", "mx2", "imap1", "down"} and res.returncode == 2
    assert by_host["down"]["ok"] is False and by_host["down"]["error"]
    assert [ln["line"] for ln in by_host["mx2"]["lines"] if "/mail.log" in ln["file"]] == mx2.written[-2:]
    assert by_host["mx1"]["lines"] == [] and by_host["imap1"]["ok"] is True

    res = mailtui(tmp_path, "who", "203.0.113.44", "--host", "mx2")
    assert res.returncode == 0, res.stderr
    assert "mx2: " in res.stdout and "SASL LOGIN authentication failed" in res.stdout
    assert "→ SMTP AUTH failed" in res.stdout

    res = mailtui(tmp_path, "bans", "--host", "nope")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "--host nope: no such host in [[hosts]] (hosts: mx1, mx2, imap1, down)" in res.stderr
    mx2.f2b.cli("set", "postfix-sasl", "unbanip", "203.0.113.44")


def test_the_fleet_in_a_real_terminal_at_three_sizes(hosts: dict[str, LabHost], tmp_path: Path) -> None:
    from tests.terminal import Terminal, box

    path = dashboard_config(tmp_path, list(hosts.values()), read_only=frozenset({"imap1"}))
    (tmp_path / "xdg").mkdir()
    with Terminal(["--config", str(path)], size=(120, 35), config_home=tmp_path / "xdg") as term:
        screen = term.wait_for("mx1 ok · mx2 ok · imap1 ok", timeout=60, what="the header line")
        assert screen.splitlines()[1].strip() == "mx1 ok · mx2 ok · imap1 ok"
        for width, height in ((80, 24), (200, 55), (120, 35)):
            term.resize(width, height)
            # redrawn at the new size: the hosts' line under the title, a pane's border ends in the
            # last column, mx1's and mx2's jails show (the Bans pane polls what the agents sent: a
            # host's first bans message can come a poll after the header says it is connected).
            # All in one wait: tmux keeps the old rows, shifted, until mailtui's frame has been
            # drawn, so a capture in between can hold new rows below and old rows above.
            screen = term.wait_for(
                lambda s, w=width: (
                    s.splitlines()[1:2] != []
                    and s.splitlines()[1].strip().startswith("mx1 ok · mx2 ok")
                    and any(len(ln.rstrip()) == w and ln.rstrip().endswith("╮") for ln in s.splitlines())
                    and any("mx2" in r and "postfix-sasl" in r for r in box(s, "Bans ·"))
                    and any(r.split()[:2] == ["postfix-sasl", "mx1"] for r in box(s, "Bans ·"))
                ),
                timeout=30,
                what=f"mx1's and mx2's jails in Bans at {width}x{height}",
            )
            lines = screen.splitlines()
            assert len(lines) <= height and all(len(ln) <= width for ln in lines)
        os.kill(hosts["mx2"].session(), signal.SIGKILL)
        term.wait_for("mx2 reconnecting (", timeout=30, what="mx2 reconnecting on screen")
        term.wait_for("mx1 ok · mx2 ok · imap1 ok", timeout=60, what="mx2 back on screen")
        term.press("q")
        assert term.wait_exit() == 0


async def test_a_hosts_line_is_explained_with_that_hosts_settings(hosts: dict[str, LabHost], tmp_path: Path) -> None:
    from mailtui.ui.screens.explain import ExplainScreen

    app = app_for(hosts, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: bar(app) == "mx1 ok · mx2 ok · imap1 ok", tries=300, what="three hosts up")
        logs = app.query_one(LogsPane)
        hosts["mx2"].write(1)
        hosts["imap1"].write(1)
        await until(
            pilot,
            lambda: {"mx2", "imap1"} <= {e.host for e in logs.lines.entries if e.match is not None},
            tries=200,
            what="a line of mx2 and of imap1",
        )
        shown = {}
        for name in ("mx2", "imap1"):
            entry = next(e for e in logs.lines.entries if e.host == name and e.match is not None)
            screen = ExplainScreen(entry)
            app.push_screen(screen)
            await until(pilot, lambda s=screen: s.diagnosis is not None, tries=200, what=f"{name}'s explanation")
            assert screen.diagnosis is not None
            shown[name] = {r.name: r for r in screen.diagnosis.settings}
            await pilot.press("escape")
        limit = shown["mx2"]["smtpd_client_auth_rate_limit"]
        assert limit.value == "17"  # mx2's main.cf, read there by its agent
        assert [loc.file for loc in limit.locations] == [f"mx2:{hosts['mx2'].dir}/postfix/main.cf"]
        # imap1's agent has no Postfix configured: said as its own problem, not this machine's values
        other = shown["imap1"]["smtpd_client_auth_rate_limit"]
        assert other.value is None and "/nonexistent/postfix" in other.note
