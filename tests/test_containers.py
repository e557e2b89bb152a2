"""Mail appliances in containers, against a real container engine (podman's Docker API service).

The containers run the host's own binaries (``/usr`` bind-mounted): ``postconf`` by exec, and
shell loops that write Postfix log lines to stdout the way mailcow's syslog-ng does.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.containers.appliances import detect
from mailtui.containers.engine import Container, EngineClient, EngineError, access_problem
from mailtui.containers.follow import ContainerLine, ContainerLogFollower
from mailtui.containers.frames import FrameDecoder
from tests.containerlab import ContainerLab, missing, start_lab
from tests.rig.base import REQUIRE_ENV, daemons_required, wait_for

MAILCOW = {"com.docker.compose.project": "mailcowdockerized"}

# one Postfix line a tick, numbered, in the traditional syslog format mailcow's syslog-ng writes;
# the counter lives in the container's own file system, so it survives a restart
SEQ_SCRIPT = (
    # the count survives a restart; written by rename, since `restart -t 0` may kill the shell
    # mid-write (an empty file ended the restarted loop with "[: -lt: unexpected operator")
    "n=$(cat /var/tmp/n 2>/dev/null); n=${{n:-0}}; "
    "while [ $n -lt {stop} ]; do n=$((n+1)); "
    'echo "$(date "+%b %e %H:%M:%S") mx postfix/smtpd[$$]: connect from unknown[127.0.0.9] seq=$n"; '
    "echo $n > /var/tmp/n.new; mv /var/tmp/n.new /var/tmp/n; sleep {pause}; done; sleep 600"
)


@pytest.fixture(scope="module")
def lab() -> Iterator[ContainerLab]:
    why = missing()
    if why:
        if daemons_required():
            pytest.fail(f"{why} ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
        pytest.skip(why)
    lab = start_lab()
    yield lab
    lab.stop()


@pytest.fixture
def client(lab: ContainerLab) -> Iterator[EngineClient]:
    c = EngineClient(lab.socket)
    yield c
    c.close()


def _engine_log(client: EngineClient, ident: str) -> list[str]:
    """The whole log as the engine has it: the truth the follower is compared against."""
    decoder = FrameDecoder()
    lines: list[str] = []
    with client.logs(ident, follow=False) as chunks:
        for chunk in chunks:
            lines += [raw.split(b" ", 1)[1].decode() for _s, raw in decoder.feed(chunk)]
    return lines


def _by_service(client: EngineClient, service: str):  # type: ignore[no-untyped-def]
    def resolve() -> Container | None:
        found = detect(client.containers()).containers
        for m in found:
            if m.container.service == service:
                return m.container
        return None

    return resolve


def _collect(follower: ContainerLogFollower, into: list[ContainerLine]) -> int:
    got = follower.poll()
    into += got
    return len(into)


# -- frames (no engine needed) ---------------------------------------------------------------------


def _frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def test_frames_split_anywhere_give_the_same_lines() -> None:
    data = _frame(1, b"one\ntw") + _frame(2, b"err1\n") + _frame(1, b"o\nthree\n") + _frame(2, b"err2\n")
    want = [(1, b"one"), (2, b"err1"), (1, b"two"), (1, b"three"), (2, b"err2")]
    for size in (1, 3, 7, 8, 9, len(data)):
        d = FrameDecoder()
        got: list[tuple[int, bytes]] = []
        for i in range(0, len(data), size):
            got += d.feed(data[i : i + size])
        assert got == want, size


def test_frames_oversized_frame_is_skipped_and_the_stream_stays_in_step() -> None:
    from mailtui.containers import frames

    big = b"x" * (frames.MAX_FRAME + 10)
    d = FrameDecoder()
    got = d.feed(_frame(1, b"before\n") + _frame(1, big) + _frame(1, b"after\n"))
    assert got == [(1, b"before"), (1, b"after")]
    assert d.skipped_frames == 1


def test_frames_overlong_line_is_cut_not_accumulated() -> None:
    from mailtui.containers import frames

    d = FrameDecoder(raw=True)
    for _ in range(100):
        assert d.feed(b"y" * 10_000) == []
    ((stream, line),) = d.feed(b"\n")
    assert stream == 1 and len(line) == frames.MAX_LINE


def test_tty_stream_without_headers_is_read_raw() -> None:
    d = FrameDecoder()
    assert d.feed(b"Dec  1 08:00:00 mx postfix/smtpd[1]: connect from x\nnext\n") == [
        (1, b"Dec  1 08:00:00 mx postfix/smtpd[1]: connect from x"),
        (1, b"next"),
    ]


# -- the socket, before any request ---------------------------------------------------------------


def test_socket_problems_are_told_apart(tmp_path: Path) -> None:
    assert "no container engine socket" in access_problem(str(tmp_path / "none.sock"))
    regular = tmp_path / "file.sock"
    regular.write_text("")
    assert "is not a socket" in access_problem(str(regular))
    dead = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()  # bound, never listening: connection refused
    with pytest.raises(EngineError, match="connection refused"):
        EngineClient(str(dead)).containers()


def test_socket_root_only_says_how_to_get_access() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a socket another user cannot open")
    import shutil
    import subprocess
    import sys
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="mailtui-sock-"))  # /tmp itself is searchable by everyone
    os.chmod(where, 0o755)
    path = where / "engine.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen()
    os.chmod(path, 0o600)
    code = f"from mailtui.containers.engine import access_problem; print(access_problem({str(path)!r}))"
    out = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    s.close()
    shutil.rmtree(where)
    assert "root-only (or group docker): run as root or join group docker" in out.stdout, out.stderr


# -- against the real engine ------------------------------------------------------------------------


def test_detects_mailcow_docker_mailserver_and_mailu(lab: ContainerLab, client: EngineClient) -> None:
    lab.run("mc-postfix", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    lab.run("mc-dovecot", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"})
    lab.run("unrelated", "sleep 600", labels={"com.docker.compose.service": "postgres"})
    lab.run(
        "dms",
        "sleep 600",
        image=lab.tag("localhost/docker-mailserver/docker-mailserver:test"),
        labels={"com.docker.compose.service": "mailserver"},
    )
    lab.run(
        "mailu-smtp",
        "sleep 600",
        image=lab.tag("localhost/mailu/postfix:test"),
        labels={"com.docker.compose.service": "smtp"},
    )
    try:
        found = {m.container.name: (m.appliance, m.roles) for m in detect(client.containers()).containers}
        assert found == {
            "mc-postfix": ("mailcow", ("postfix",)),
            "mc-dovecot": ("mailcow", ("dovecot",)),
            "dms": ("docker-mailserver", ("postfix", "dovecot", "fail2ban")),
            "mailu-smtp": ("mailu", ("postfix",)),
        }
        # a configured list wins over the guess
        only = detect(client.containers(), names={"unrelated": ("postfix",)}).containers
        assert [m.container.name for m in only] == ["unrelated"]
    finally:
        lab.podman("rm", "-f", "-t", "0", "mc-postfix", "mc-dovecot", "unrelated", "dms", "mailu-smtp")


def test_exec_runs_postconf_inside_the_container(lab: ContainerLab, client: EngineClient, tmp_path: Path) -> None:
    etc = tmp_path / "postfix"
    etc.mkdir()
    (etc / "main.cf").write_text("myhostname = mx.container.test\nsmtpd_tls_security_level = may\n")
    cid = lab.run(
        "pf-exec",
        "sleep 600",
        binds=[f"{etc}:/etc/postfix:ro"],
        labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"},
    )
    try:
        res = client.exec(cid, ["postconf", "-h", "myhostname", "smtpd_tls_security_level"])
        assert res.code == 0, res.stderr
        assert res.stdout.splitlines() == ["mx.container.test", "may"]
        bad = client.exec(cid, ["postconf", "-h", "no_such_parameter_xyz"])
        assert "unknown parameter" in bad.stderr
        state = client.inspect(cid)
        assert state.running and ("/etc/postfix" in [dst for _src, dst in state.mounts])
        with pytest.raises(EngineError, match="HTTP 404"):
            client.exec("no-such-container", ["true"])
    finally:
        lab.podman("rm", "-f", "-t", "0", "pf-exec")


def test_follow_across_restart_and_recreation_loses_and_repeats_nothing(
    lab: ContainerLab, client: EngineClient
) -> None:
    labels = {**MAILCOW, "com.docker.compose.service": "postfix-mailcow"}
    first = lab.run("pf-seq", SEQ_SCRIPT.format(stop=10_000, pause=0.02), labels=labels)
    follower = ContainerLogFollower(client, "pf-seq", _by_service(client, "postfix-mailcow"), backfill=10_000)
    follower.start()
    got: list[ContainerLine] = []
    try:
        wait_for(lambda: _collect(follower, got) >= 20, what="first lines")
        lab.podman("restart", "-t", "0", "pf-seq")
        wait_for(lambda: _collect(follower, got) > 0 and follower.reconnects >= 1, what="reconnect after restart")
        n_after_restart = len(got)
        wait_for(lambda: _collect(follower, got) >= n_after_restart + 30, what="lines after the restart")
        lab.podman("stop", "-t", "0", "pf-seq")
        time.sleep(0.3)
        _collect(follower, got)
        before = _engine_log(client, first)
        lab.podman("rm", "-f", "-t", "0", "pf-seq")
        second = lab.run("pf-seq", SEQ_SCRIPT.format(stop=25, pause=0.02), labels=labels)
        # the second container's last line is its " seq=25"; the first container's log may hold
        # that text twice already (`restart -t 0` can kill the loop between its echo and the saved
        # count, so the restarted loop says 25 again: seen in CI), so count past the first's
        first_25s = sum(text.endswith(" seq=25") for text in before)
        wait_for(
            lambda: _collect(follower, got) and sum(line.text.endswith(" seq=25") for line in got) > first_25s,
            what="the re-created container's lines",
        )
        after = _engine_log(client, second)
        texts = [line.text for line in got]
        # nothing lost, nothing twice. Around `restart -t 0` podman's own log may hand a few lines
        # of one second over in another order than it stored them (seen once in CI: 32 before
        # 28-31), so within the first container the order is not asserted; across the
        # re-creation it is: the second container's lines come after all of the first's
        assert Counter(texts) == Counter(before + after), (
            len(texts),
            len(before),
            len(after),
            [t[-7:] for t in texts],
            [t[-7:] for t in before + after],
        )
        assert texts[len(before) :] == after
        assert len(before) >= 50 and len(after) == 25
        assert all(line.timestamp is not None for line in got)
    finally:
        follower.close()
        lab.podman("rm", "-f", "-t", "0", "pf-seq", check=False)


def test_follow_reports_a_missing_container_then_picks_it_up(lab: ContainerLab, client: EngineClient) -> None:
    follower = ContainerLogFollower(client, "late", _by_service(client, "dovecot-mailcow"))
    follower.start()
    got: list[ContainerLine] = []
    try:
        wait_for(lambda: follower.problem, what="a problem")
        assert follower.problem == "container late not found"
        lab.run(
            "late",
            "echo 'Dec  1 08:00:00 mx dovecot: imap-login: Login: user=<a>'; sleep 600",
            labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"},
        )
        wait_for(lambda: _collect(follower, got), timeout=40, what="the late container's line")
        assert got[0].text.endswith("imap-login: Login: user=<a>")
        assert follower.problem == ""
    finally:
        follower.close()
        lab.podman("rm", "-f", "-t", "0", "late", check=False)


def test_hostile_output_is_sanitised_and_capped(lab: ContainerLab, client: EngineClient) -> None:
    script = (
        "printf 'Dec  1 08:00:00 mx postfix/smtpd[1]: helo=<\\033]0;PWN\\007\\033[2J>\\n'; "
        "head -c 200000 /dev/zero | tr '\\0' 'A'; echo; sleep 600"
    )
    lab.run("hostile", script, labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    follower = ContainerLogFollower(client, "hostile", _by_service(client, "postfix-mailcow"))
    follower.start()
    got: list[ContainerLine] = []
    try:
        wait_for(lambda: _collect(follower, got) >= 2, what="two lines")
        assert "\x1b" not in got[0].text and "\x07" not in got[0].text and "␛" in got[0].text
        assert len(got[1].text) < 40_000
    finally:
        follower.close()
        lab.podman("rm", "-f", "-t", "0", "hostile", check=False)


def test_postfix_tools_and_files_routed_into_the_container(
    lab: ContainerLab, client: EngineClient, tmp_path: Path
) -> None:
    from mailtui.containers.config import install_routes
    from mailtui.mta import run as mta_run

    etc = tmp_path / "conf-postfix"
    etc.mkdir()
    (etc / "main.cf").write_text("myhostname = mx.routed.test\nsmtpd_sasl_auth_enable = no\n")
    lab.run(
        "pf-route",
        "sleep 600",
        binds=[f"{etc}:/etc/postfix:ro"],
        labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"},
    )
    lab.run(
        "dc-route",
        "echo 'protocols = imap' > /tmp/d.conf; sleep 600",
        labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"},
    )
    try:
        done = install_routes(client, detect(client.containers()))
        assert done == ["postconf -> container pf-route", "doveconf -> container dc-route"]
        res = mta_run.run_tool(["postconf", "-h", "myhostname"])
        assert res.ok and res.stdout.strip() == "mx.routed.test"
        # a file bind-mounted from the host is named both ways, and read
        assert mta_run.config_label("/etc/postfix/main.cf", "postconf") == (
            f"pf-route:/etc/postfix/main.cf (host {etc}/main.cf)"
        )
        assert "smtpd_sasl_auth_enable = no" in (mta_run.read_config("/etc/postfix/main.cf", "postconf") or "")
        # a file only inside the container is read through it
        assert mta_run.read_config("/tmp/d.conf", "doveconf") == "protocols = imap\n"
        assert mta_run.config_exists("/tmp/d.conf", "doveconf")
        assert not mta_run.config_exists("/tmp/none.conf", "doveconf")
        assert mta_run.read_config("/tmp/none.conf", "doveconf") is None
        # the readers above see the container's configuration, named as the container sees it
        from mailtui.mta.postconf import PostfixConfig

        pf = PostfixConfig()
        assert pf.available, pf.problem
        assert pf.values(["myhostname"]) == {"myhostname": "mx.routed.test"}
        (loc,) = pf.where("smtpd_sasl_auth_enable")
        assert (loc.file, loc.line, loc.value) == (f"pf-route:/etc/postfix/main.cf (host {etc}/main.cf)", 2, "no")
        route = mta_run.routed("doveconf")
        assert route is not None
        missing_tool = route.run(["mailtui-no-such-tool"], 5)
        assert not missing_tool.ok and "not installed in container dc-route" in missing_tool.error
    finally:
        mta_run.route_tools([*mta_run.POSTFIX_TOOLS, *mta_run.DOVECOT_TOOLS], None)
        lab.podman("rm", "-f", "-t", "0", "pf-route", "dc-route")


def test_services_report_state_restarts_and_a_stopped_container(lab: ContainerLab, client: EngineClient) -> None:
    from mailtui.containers.services import collect

    lab.run("svc-postfix", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    lab.run("svc-dovecot", "exit 3", labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"})
    try:
        lab.podman("restart", "-t", "0", "svc-postfix")
        wait_for(
            lambda: lab.podman("inspect", "-f", "{{.State.Status}}", "svc-dovecot") == "exited",
            what="the dovecot container to exit",
        )
        report = collect(client)
        by = {s.name: s for s in report.services}
        assert report.appliance == "mailcow" and report.problem == ""
        pf, dc = by["svc-postfix"], by["svc-dovecot"]
        assert pf.state == "running" and pf.ok and (pf.uptime() or 0) < 60
        assert dc.state == "exited" and dc.exit_code == 3 and not dc.ok and dc.uptime() is None
        d = pf.to_dict()
        assert d["roles"] == ["postfix"] and d["ok"] is True
    finally:
        lab.podman("rm", "-f", "-t", "0", "svc-postfix", "svc-dovecot")


def test_services_without_an_engine_say_why(tmp_path: Path) -> None:
    from mailtui.containers.services import collect

    report = collect(EngineClient(str(tmp_path / "docker.sock")))
    assert report.services == [] and report.problem.startswith("no container engine socket at ")


def test_cli_lists_the_appliance_and_exits_1_when_one_is_down(lab: ContainerLab, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    lab.run("cli-postfix", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    lab.run("cli-dovecot", "exit 1", labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"})
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    try:
        wait_for(lambda: lab.podman("inspect", "-f", "{{.State.Status}}", "cli-dovecot") == "exited", what="exit")
        out = subprocess.run(
            [sys.executable, "-m", "mailtui", "containers", "--socket", lab.socket, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert out.returncode == 1, out.stderr
        data = json.loads(out.stdout)
        assert {c["name"]: c["state"] for c in data["containers"]} == {
            "cli-postfix": "running",
            "cli-dovecot": "exited",
        }
        text = subprocess.run(
            [sys.executable, "-m", "mailtui", "containers", "--socket", lab.socket],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert text.stdout.startswith("mailcow · ") and "cli-postfix" in text.stdout and text.stderr == ""
        none = subprocess.run(
            [sys.executable, "-m", "mailtui", "containers", "--socket", str(tmp_path / "x.sock")],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert none.returncode == 4 and none.stdout.strip() == f"no container engine socket at {tmp_path}/x.sock"
    finally:
        lab.podman("rm", "-f", "-t", "0", "cli-postfix", "cli-dovecot")


def test_docker_mailserver_fail2ban_is_read_and_unbans_inside_the_container(
    lab: ContainerLab, client: EngineClient, tmp_path: Path
) -> None:
    import shutil

    from mailtui.containers.fail2ban import locate
    from mailtui.fail2ban.actions import unban
    from mailtui.fail2ban.source import read_bans

    conf = tmp_path / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)
    for f in (conf / "jail.d").iterdir():
        f.unlink()
    (conf / "jail.local").write_text(
        "[DEFAULT]\nbackend = polling\n[sshd]\nenabled = false\n"
        "[postfix-sasl]\nenabled = true\nlogpath = /var/log/mail/mail.log\naction =\n"
    )
    script = (
        "mkdir -p /var/run/fail2ban /var/lib/fail2ban /var/log/mail; touch /var/log/mail/mail.log; "
        "exec fail2ban-server -f -x -s /var/run/fail2ban/fail2ban.sock -p /var/run/fail2ban/f.pid "
        "--logtarget /var/log/fail2ban.log"
    )
    image = lab.tag("localhost/docker-mailserver/docker-mailserver:f2b")
    lab.run(
        "dms-f2b",
        script,
        image=image,
        binds=[f"{conf}:/etc/fail2ban:ro"],
        labels={"com.docker.compose.service": "mailserver"},
    )
    try:

        def client_ok() -> bool:
            res = lab.podman(
                "exec", "dms-f2b", "fail2ban-client", "-s", "/var/run/fail2ban/fail2ban.sock", "ping", check=False
            )
            return "pong" in res

        wait_for(client_ok, timeout=30, what="fail2ban-server in the container")
        lab.podman(
            "exec",
            "dms-f2b",
            "fail2ban-client",
            "-s",
            "/var/run/fail2ban/fail2ban.sock",
            "set",
            "postfix-sasl",
            "banip",
            "203.0.113.9",
        )
        where = locate(client, detect(client.containers()))
        assert where is not None and where.problem == "" and where.container == "dms-f2b"
        assert where.socket.startswith("/proc/") and where.socket.endswith("/root/var/run/fail2ban/fail2ban.sock")
        result = read_bans(where.socket)
        assert result.mode == "socket", result.reason
        assert result.snapshot is not None
        (jail,) = result.snapshot.jails
        assert jail.name == "postfix-sasl" and [b.ip for b in jail.banned] == ["203.0.113.9"]
        assert unban(where.socket, "203.0.113.9", "postfix-sasl") == 1
        status = lab.podman(
            "exec", "dms-f2b", "fail2ban-client", "-s", "/var/run/fail2ban/fail2ban.sock", "status", "postfix-sasl"
        )
        assert "Currently banned:\t0" in status
    finally:
        lab.podman("rm", "-f", "-t", "0", "dms-f2b")


def test_live_view_follows_mailcow_streams_and_the_docker_mailserver_log_file(
    lab: ContainerLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailtui import config
    from mailtui.analysis.live import LiveLogs
    from mailtui.containers.setup import discover
    from mailtui.mta import run as mta_run
    from mailtui.recognizers.engine import default_engine
    from mailtui.settings import settings_from

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    sasl = (
        "echo \"$(date '+%b %e %H:%M:%S') 0a1b2c postfix/smtpd[77]: warning: unknown[198.51.100.7]: "
        'SASL LOGIN authentication failed: UGFzc3dvcmQ6"; sleep 600'
    )
    lab.run("mc-live-postfix", sasl, labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    dms = (
        "mkdir -p /var/log/mail; echo \"$(date '+%b %e %H:%M:%S') mail postfix/smtpd[88]: NOQUEUE: reject: "
        "RCPT from unknown[198.51.100.8]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@b.example> "
        'to=<x@example.org> proto=ESMTP helo=<pc>" >> /var/log/mail/mail.log; sleep 600'
    )
    lab.run(
        "dms-live",
        dms,
        image=lab.tag("localhost/docker-mailserver/docker-mailserver:live"),
        labels={"com.docker.compose.service": "mailserver"},
    )
    cfg = config.load(None, {"containers.socket": lab.socket, "logs.files": [str(tmp_path / "empty.log")]})
    (tmp_path / "empty.log").write_text("")
    setup = discover(settings_from(cfg).containers)
    live = None
    try:
        assert setup.active, setup.reason
        live = LiveLogs([], default_engine(), backfill=100, containers=setup)
        assert sorted(live.names) == ["dms-live", "mc-live-postfix"]
        got: list = []  # type: ignore[type-arg]

        def seen() -> bool:
            got.extend(live.poll())
            return {e.source for e in got} >= {"dms-live", "mc-live-postfix"}

        wait_for(seen, timeout=30, what="a line from each container")
        by_source = {e.source: e for e in got}
        pf = by_source["mc-live-postfix"]
        assert pf.recognizer is not None and pf.fields.get("client_ip") == "198.51.100.7"
        assert pf.program == "postfix/smtpd" and pf.timestamp is not None
        relay = by_source["dms-live"]
        assert relay.recognizer is not None and "relay" in relay.recognizer.id
        assert live.problems() == []
    finally:
        if live is not None:
            live.close()
        mta_run.route_tools([*mta_run.POSTFIX_TOOLS, *mta_run.DOVECOT_TOOLS], None)
        if setup.client is not None:
            setup.client.close()
        lab.podman("rm", "-f", "-t", "0", "mc-live-postfix", "dms-live")


def test_config_says_which_appliance_is_read_and_why_not(lab: ContainerLab, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    lab.run("cfg-postfix", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    (tmp_path / "mailtui").mkdir()
    (tmp_path / "mailtui" / "config.toml").write_text(f'[containers]\nsocket = "{lab.socket}"\n')
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    try:
        out = subprocess.run(
            [sys.executable, "-m", "mailtui", "config", "--json", "--no-logs"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        seen = json.loads(out.stdout)["containers"]
        assert seen["appliance"] == "mailcow" and seen["reason"] == ""
        assert seen["containers"] == [{"name": "cfg-postfix", "appliance": "mailcow", "roles": ["postfix"]}]
        assert seen["routes"] == ["postconf, postqueue, postsuper -> container cfg-postfix"]
        off = subprocess.run(
            [sys.executable, "-m", "mailtui", "config", "--no-logs"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "XDG_CONFIG_HOME": str(tmp_path / "none")},
        )
        assert "containers: not used: no container engine socket at " in off.stdout
    finally:
        lab.podman("rm", "-f", "-t", "0", "cfg-postfix")


async def test_services_pane_lists_the_appliance_containers(lab: ContainerLab, tmp_path: Path) -> None:
    from mailtui import config
    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.panes.services import ServicesPane
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    lab.run("pane-postfix", "sleep 600", labels={**MAILCOW, "com.docker.compose.service": "postfix-mailcow"})
    lab.run("pane-dovecot", "exit 2", labels={**MAILCOW, "com.docker.compose.service": "dovecot-mailcow"})
    log = tmp_path / "mail.log"
    log.write_text("")
    cfg = config.load(
        None,
        {
            "logs.files": [str(log)],
            "containers.socket": lab.socket,
            "ui.refresh_seconds": 0.5,
            "fail2ban.socket": "/nonexistent/f2b.sock",
            "dns.nameserver": "127.0.0.1:9",
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    try:
        wait_for(lambda: lab.podman("inspect", "-f", "{{.State.Status}}", "pane-dovecot") == "exited", what="exit")
        app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
        async with app.run_test(size=(160, 50)) as pilot:
            pane = app.query_one(ServicesPane)
            rows: dict[str, list[str]] = {}
            for _ in range(100):
                rows = {
                    str(pane.table.get_row_at(i)[0]): [str(c) for c in pane.table.get_row_at(i)]
                    for i in range(pane.table.row_count)
                }
                if "pane-postfix" in rows and "pane-dovecot" in rows:
                    break
                await pilot.pause(0.1)
            assert rows["pane-postfix"][1] == "running" and "postfix" in rows["pane-postfix"][2]
            assert rows["pane-dovecot"][1] == "exited" and "exit 2" in rows["pane-dovecot"][2]
    finally:
        lab.podman("rm", "-f", "-t", "0", "pane-postfix", "pane-dovecot")
