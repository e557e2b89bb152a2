"""A fleet over SSH: agents on three "hosts" (aliases of a real sshd on loopback), one dashboard end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailtui.fleet.link import HostSpec, RemoteError, RemoteHost
from tests.helpers import proc_stat
from tests.rig.base import wait_for
from tests.sshlab import SshLab, start_sshd

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    ssh = start_sshd(tmp_path_factory.mktemp("sshlab"))
    yield ssh
    ssh.stop()


class Host:
    def __init__(self, lab: SshLab, root: Path, name: str, read_only: bool = False) -> None:
        self.dir = root / name
        (self.dir / "xdg").mkdir(parents=True)
        self.log = self.dir / "mail.log"
        self.log.write_text("")
        self.written: list[str] = []
        self.n = 0
        lab.add_host(name)
        flags = "--read-only " if read_only else ""
        command = (
            f"env XDG_CONFIG_HOME={self.dir}/xdg PYTHONPATH={REPO} {sys.executable} -m mailtui {flags}"
            f"--log {self.log} agent --stdio"
        )
        # fields=True: the agent's own recognizer and fields travel with each line (the protocol's full form)
        self.remote = RemoteHost(HostSpec(name, name, command, ["-F", str(lab.config)]), fields=True)

    def write(self, count: int) -> None:
        with self.log.open("a") as fh:
            for _ in range(count):
                self.n += 1
                line = (
                    f"{time.strftime('%b %e %H:%M:%S')} {self.remote.name} postfix/smtpd[{self.n}]: "
                    f"warning: unknown[198.51.100.{self.n % 250 + 1}]: SASL LOGIN authentication failed: x"
                )
                fh.write(line + "\n")
                self.written.append(line)


@pytest.fixture
def fleet(lab: SshLab, tmp_path: Path) -> Iterator[dict[str, Host]]:
    hosts = {
        "mx1": Host(lab, tmp_path, "mx1", read_only=True),
        "mx2": Host(lab, tmp_path, "mx2"),
        "imap1": Host(lab, tmp_path, "imap1"),
    }
    for h in hosts.values():
        h.remote.start()
    yield hosts
    for h in hosts.values():
        h.remote.close()


def _session_of(host: Host) -> int:
    """The sshd process serving this host's session (the agent's parent; not our own ssh client,
    whose command line names the same log)."""
    found = subprocess.run(["pgrep", "-f", "--", f"--log {host.log} agent"], capture_output=True, text=True)
    for pid in found.stdout.split():
        try:
            parent = int(proc_stat(pid)[1])
            if Path(f"/proc/{parent}/comm").read_text().strip() == "sshd":
                return parent
        except (OSError, ValueError, IndexError):
            continue
    raise AssertionError(f"no sshd session runs the agent of {host.remote.name}")


def _lines(received: dict[str, list[Any]], host: str) -> list[str]:
    return [e["line"] for m in received[host] if m["type"] in ("logs", "summary") for e in m["entries"]]


def _drain(hosts: dict[str, Host], received: dict[str, list[Any]]) -> None:
    for name, h in hosts.items():
        received.setdefault(name, []).extend(h.remote.poll())


def test_three_hosts_stream_recognized_lines_each_in_order(fleet: dict[str, Host]) -> None:
    received: dict[str, list[Any]] = {}
    wait_for(lambda: all(h.remote.state == "ok" for h in fleet.values()), what="three hellos")
    assert {h.remote.status() for h in fleet.values()} == {"mx1 ok", "mx2 ok", "imap1 ok"}
    assert fleet["mx1"].remote.hello["read_only"] is True and fleet["mx2"].remote.hello["read_only"] is False
    for h in fleet.values():
        h.write(20)

    def all_in() -> bool:
        _drain(fleet, received)
        return all(_lines(received, n) == h.written for n, h in fleet.items())

    wait_for(all_in, what="every line of every host")
    first = next(e for m in received["mx2"] if m["type"] == "logs" for e in m["entries"])
    assert first["rec"] == "postfix.sasl.auth_failed" and first["fields"]["client_ip"].startswith("198.51.100.")
    assert all(m["host"] == "mx2" for m in received["mx2"])


def test_a_killed_connection_reconnects_and_resumes_without_loss_or_repetition(fleet: dict[str, Host]) -> None:
    received: dict[str, list[Any]] = {}
    mx2 = fleet["mx2"]
    wait_for(lambda: mx2.remote.state == "ok", what="mx2 up")
    mx2.write(10)
    wait_for(lambda: (_drain(fleet, received), len(_lines(received, "mx2")) == 10)[1], what="the first 10")
    # kill the sshd process serving mx2's session, as a dropped link would end it
    os.kill(_session_of(mx2), signal.SIGKILL)
    # one read of the link: its first retry is 1 s later, after which the state is no longer reconnecting
    wait_for(lambda: mx2.remote.status().startswith("mx2 reconnecting ("), what="mx2 reconnecting (its status)")
    mx2.write(15)  # while it is away
    wait_for(lambda: mx2.remote.state == "ok" and mx2.remote.connects >= 2, what="mx2 back")
    mx2.write(5)
    wait_for(lambda: (_drain(fleet, received), len(_lines(received, "mx2")) >= 30)[1], what="all 30 lines")
    time.sleep(0.5)
    _drain(fleet, received)
    assert _lines(received, "mx2") == mx2.written  # once each, in order
    assert fleet["mx1"].remote.connects == 1  # the others were not disturbed


def test_requests_are_routed_and_read_only_is_the_agents_word(fleet: dict[str, Host]) -> None:
    wait_for(lambda: all(h.remote.state == "ok" for h in fleet.values()), what="three hellos")
    ro = fleet["mx1"].remote.request("unban", ip="203.0.113.9")
    rw = fleet["mx2"].remote.request("where", key="smtpd_tls_security_level")
    empty = fleet["imap1"].remote.request("unban", ip="203.0.113.9", jail="")
    replies = {
        "mx1": fleet["mx1"].remote.wait_reply(ro, 20),
        "mx2": fleet["mx2"].remote.wait_reply(rw, 20),
        "imap1": fleet["imap1"].remote.wait_reply(empty, 20),
    }
    assert replies["mx1"]["id"] == ro and replies["mx1"]["ok"] is False
    assert "runs --read-only" in replies["mx1"]["error"]
    assert replies["mx2"]["id"] == rw and replies["mx2"]["ok"] is True and isinstance(replies["mx2"]["result"], list)
    assert replies["imap1"]["id"] == empty and replies["imap1"]["ok"] is False
    assert "empty jail name" in replies["imap1"]["error"]
    # replies do not travel with the log stream
    assert not any(m["type"] == "reply" for h in fleet.values() for m in h.remote.poll())
    with pytest.raises(RemoteError, match=r"mx1: unban refused: the agent on .* runs --read-only"):
        fleet["mx1"].remote.call("unban", ip="203.0.113.9")


def test_a_wrong_host_key_is_refused_and_said(lab: SshLab, tmp_path: Path) -> None:
    bad = tmp_path / "bad_config"
    bad.write_text(
        lab.config.read_text().replace(str(lab.dir / "known_hosts"), str(tmp_path / "other_hosts"))
        + f"Host evil\n  HostName 127.0.0.1\n  Port {lab.port}\n  User root\n"
        f"  IdentityFile {lab.dir}/user_ed25519\n  UserKnownHostsFile {tmp_path}/other_hosts\n"
        "  StrictHostKeyChecking yes\n"
    )
    (tmp_path / "other_hosts").write_text(
        f"[127.0.0.1]:{lab.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAs8gYdzzB1b6nAmQz2D8+3ZVffPZiyjDKT4i3oZ4rs\n"
    )
    host = RemoteHost(HostSpec("evil", "evil", "true", ["-F", str(bad)]))
    host.start()
    try:
        wait_for(lambda: host.state == "reconnecting" and host.problem, what="a refusal")
        assert "Host key verification failed" in host.problem or "REMOTE HOST IDENTIFICATION" in host.problem
        assert host.hello == {}
    finally:
        host.close()


def test_a_backlog_larger_than_a_message_is_split_not_dropped(tmp_path: Path) -> None:
    """5,000 long lines read at once (the back-fill) make more than 1 MiB of JSON: they arrive
    as several messages, each line once and in order (the agent once dropped such a batch)."""
    import json
    import select

    from mailtui.fleet.protocol import MAX_LINE, encode

    log = tmp_path / "mail.log"
    lines = [
        f'Dec  1 12:00:00 mx1 postfix/smtpd[{i}]: warning: "{"x" * 300}" {i}: SASL LOGIN authentication failed'
        for i in range(5000)
    ]
    log.write_text("\n".join(lines) + "\n")
    conf = tmp_path / "agent.toml"
    conf.write_text(
        f"[logs]\nfiles = ['{log}']\nbackfill = 5000\n[fail2ban]\nsocket = '{tmp_path}/none.sock'\n"
        "[ui]\nrefresh_seconds = 3600\n[containers]\nmode = 'no'\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailtui", "--config", str(conf), "agent", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(encode({"type": "subscribe", "logs": {}}))
        proc.stdin.flush()
        got: list[str] = []
        sizes: list[int] = []
        notices: list[str] = []
        deadline = time.monotonic() + 30
        while len(got) < len(lines) and time.monotonic() < deadline:
            # never block past the deadline: a dropped batch means nothing more comes
            if not select.select([proc.stdout], [], [], 1.0)[0]:
                continue
            raw = proc.stdout.readline()
            if not raw:
                break
            msg = json.loads(raw)
            if msg["type"] == "logs":
                sizes.append(len(raw))
                got += [e["line"] for e in msg["entries"]]
            elif msg["type"] == "notice":
                notices.append(msg["text"])
    finally:
        proc.kill()
        proc.wait()
    assert got == lines and not notices
    assert len(sizes) > 1 and max(sizes) <= MAX_LINE
