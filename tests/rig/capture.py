"""Refresh tests/data with the lines the real daemons write for every scenario.

    sudo .venv/bin/python -m tests.rig.capture

For each scenario and each log format it writes ``tests/data/<scenario>/<log>.log``
(only the lines that mention the scenario's source address), and ``tests/data/VERSIONS``
with the daemon versions that produced them, and merges them into mailtui/demo/data
(``--demo-only`` rebuilds just that). Fast unit tests and the demo read these files
instead of starting daemons.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.rig.base import run
from tests.rig.rig import start_rig
from tests.rig.run import run_scenario
from tests.rig.scenarios import SCENARIOS

DATA = Path(__file__).resolve().parent.parent / "data"


def versions() -> dict[str, str]:
    def first(argv: list[str]) -> str:
        proc = run(argv, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else ""

    return {
        "postfix": first(["postconf", "-d", "-h", "mail_version"]),
        "dovecot": first(["dovecot", "--version"]),
        "fail2ban": first(["fail2ban-server", "--version"]),
        "rsyslog": first(["rsyslogd", "-v"]),
    }


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    base.chmod(0o755)
    rig = start_rig(base)
    failures = 0
    try:
        for scenario in SCENARIOS:
            out = DATA / scenario.name
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for pf in scenario.postfix_instances(rig):
                offsets = rig.offsets()
                outcome = run_scenario(rig, scenario, pf)
                if outcome.missing:
                    failures += 1
                    print(f"{scenario.name}: missing {outcome.missing}", file=sys.stderr)
                for name in rig.logs:
                    lines = [ln for ln in rig.new_text(name, offsets).splitlines() if outcome.ip in ln]
                    if lines:
                        (out / f"{name}.log").write_text("\n".join(lines) + "\n")
            print(f"captured {scenario.name}")
    finally:
        rig.stop()
        shutil.rmtree(base, ignore_errors=True)
    (DATA / "VERSIONS").write_text(json.dumps(versions(), indent=2) + "\n")
    build_demo_data()
    return 1 if failures else 0


DEMO_DATA = Path(__file__).resolve().parents[2] / "mailtui" / "demo" / "data"
DEMO_SOURCES = {"mail.log": "syslog.log", "dovecot.log": "dovecot.log", "fail2ban.log": "fail2ban.log"}


def build_demo_data() -> None:
    """Concatenate every scenario's captured lines into the three logs the demo replays.

    Scenarios ran one after another, so their order is the order the daemons wrote the
    lines in; sorting by the one-second timestamps would interleave connections that share
    an smtpd process and break the correlation the demo is meant to show."""
    DEMO_DATA.mkdir(parents=True, exist_ok=True)
    for demo_name, captured in DEMO_SOURCES.items():
        lines = []
        for scenario in SCENARIOS:
            path = DATA / scenario.name / captured
            if path.exists():
                lines += path.read_text().splitlines()
        (DEMO_DATA / demo_name).write_text("\n".join(lines) + "\n")


def capture_demo_services() -> None:
    """Start the rig, leave one message deferred behind the dead relay, and save what the
    Services collector sees as the demo's services.json."""
    import smtplib

    from mailtui.system.report import ServicesCollector
    from tests.rig.base import wait_for

    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    base.chmod(0o755)
    rig = start_rig(base)
    try:
        with smtplib.SMTP("127.0.0.1", rig.postfix.ports["smtp"], timeout=10) as client:
            client.ehlo("client.rig.test")
            client.sendmail("alice@rig.test", ["someone@example.org"], b"Subject: demo\r\n\r\nstuck\r\n")
        collector = ServicesCollector(str(rig.postfix.conf_dir), str(rig.dovecot.conf), str(rig.fail2ban.socket))
        wait_for(
            lambda: (r := collector.collect()).queue and r.queue.counts().get("deferred"),
            30,
            0.5,
            "the deferred message",
        )
        time.sleep(1.5)  # a CPU sample needs two polls
        report = collector.collect()
        (DEMO_DATA / "services.json").write_text(json.dumps(report.to_dict(), indent=1) + "\n")
    finally:
        rig.stop()
        shutil.rmtree(base, ignore_errors=True)


def capture_demo_bans() -> None:
    """Start the rig, get real clients banned by its fail2ban (SASL, IMAP and POP3 password
    guessing, HELO and relay rejects), and save the snapshot read through the socket as the
    demo's bans.json."""
    from mailtui.fail2ban.client import Fail2banClient
    from mailtui.fail2ban.status import collect
    from tests.rig import scenarios
    from tests.rig.base import wait_for

    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    base.chmod(0o755)
    rig = start_rig(base)
    try:
        pf = rig.postfix
        for drive in (scenarios.repeated_sasl_failures, scenarios.repeated_sasl_failures):
            drive(rig, pf, rig.fresh_ip())
        for drive in (
            scenarios.imap_auth_failed,
            scenarios.pop3_auth_failed,
            scenarios.helo_non_fqdn,
            scenarios.relay_denied,
        ):
            ip = rig.fresh_ip()
            for _ in range(4):
                drive(rig, pf, ip)

        def snapshot():
            with Fail2banClient(str(rig.fail2ban.socket)) as client:
                return collect(client)

        wait_for(lambda: sum(j.currently_banned for j in snapshot().jails) >= 4, 60, 1.0, "four bans")
        time.sleep(2)
        snap = snapshot()
        data = {"taken": snap.taken, **snap.to_dict()}
        (DEMO_DATA / "bans.json").write_text(json.dumps(data, indent=1) + "\n")
        print({j.name: j.currently_banned for j in snap.jails})
    finally:
        rig.stop()
        shutil.rmtree(base, ignore_errors=True)


def capture_demo_dns(domain: str = "broken.test", out: Path | None = None) -> None:
    """Start the DNS lab and save a real check of ``domain`` (one of each classic mistake) as
    the demo's dns.json (or ``out``): the demo's DNS pane replays it and touches no network."""
    import ipaddress

    from mailtui.dns.context import CheckOptions
    from mailtui.dns.run import check_domain
    from tests.rig.dnslab import start_dnslab

    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    base.chmod(0o755)
    lab = start_dnslab(base)
    try:
        options = CheckOptions(
            domain=domain,
            nameserver=lab.nameserver,
            ca_file=str(lab.ca_file),
            postfix_dir=str(lab.postfix.conf_dir),
            dovecot_config=str(lab.dovecot.conf),
            allow_connect=lambda a: ipaddress.ip_address(a).is_loopback,
            timeout=1.0,
        )
        report = check_domain(options)
        (out or DEMO_DATA / "dns.json").write_text(json.dumps(report.to_dict(), indent=1) + "\n")
        print(f"{len(report.findings)} findings, worst {report.worst()}")
    finally:
        lab.stop()
        shutil.rmtree(base, ignore_errors=True)


# the DNS lab's broken.test as it was "before": MX straight at the mail host, SPF within its ten
# lookups, DMARC quarantining; checked for real like the current zone, as the demo's previous run
def _previous_broken() -> list[tuple[str, str]]:
    from tests.rig.dnslab import _txt

    chain = " ".join(f"include:s{i}.broken.test" for i in range(1, 12))
    return [
        ("@ IN MX 10 mx\nmx IN CNAME mail.good.test.\n", "@ IN MX 10 mail.good.test.\n"),
        (_txt(f"v=spf1 {chain} -all"), _txt("v=spf1 include:s1.broken.test include:s2.broken.test -all")),
        ("v=DMARC1; p=none; rua=mailto:reports@elsewhere.test", "v=DMARC1; p=quarantine"),
    ]


def capture_demo_dns_previous() -> None:
    """A real check of the DNS lab's broken.test with its zone as it was before three mistakes
    (_previous_broken()), saved as the demo's dns-previous.json: the DNS pane marks what changed."""
    from tests.rig import dnslab

    real = dnslab.zones

    def before(cert: bytes) -> dict[str, str]:
        out = real(cert)
        for now, then in _previous_broken():
            assert now in out["broken.test"], now
            out["broken.test"] = out["broken.test"].replace(now, then)
        return out

    dnslab.zones = before
    try:
        capture_demo_dns(out=DEMO_DATA / "dns-previous.json")
    finally:
        dnslab.zones = real


# (days back, jail, address) for the demo's ban history: 127.0.0.103 keeps coming back (and lands
# in recidive), 127.0.0.107 is banned by postfix and again weeks later, the rest are one-offs
HISTORY_PLAN = (
    [(27, "postfix", "127.0.0.107"), (27, "dovecot", "127.0.0.151"), (24, "postfix-sasl", "127.0.0.152")]
    + [(21, "dovecot", f"127.0.0.{i}") for i in range(160, 164)]
    + [(21, "dovecot", "127.0.0.103"), (17, "postfix-sasl", "127.0.0.103"), (17, "postfix", "127.0.0.153")]
    + [(14, "dovecot", f"127.0.0.{i}") for i in range(164, 170)]
    + [(10, "postfix-sasl", f"127.0.0.{i}") for i in range(170, 173)]
    + [(7, "dovecot", "127.0.0.103"), (7, "recidive", "127.0.0.103"), (7, "postfix", "127.0.0.107")]
    + [(4, "dovecot", f"127.0.0.{i}") for i in range(173, 182)]
    + [(2, "postfix-sasl", "127.0.0.182"), (2, "dovecot", "127.0.0.183")]
    + [(1, "dovecot", f"127.0.0.{i}") for i in range(184, 187)]
    + [(0, "dovecot", ip) for ip in ("127.0.0.103", "127.0.0.104", "127.0.0.105", "127.0.0.106")]
    + [(0, "postfix", "127.0.0.107"), (0, "postfix", "127.0.0.108")]
    + [(0, "postfix-sasl", "127.0.0.103"), (0, "postfix-sasl", "127.0.0.104")]
)


def capture_demo_insight() -> None:
    """The demo's ban history, jail settings and pending failures (data/bans-insight.json), from a real
    fail2ban-server with the rig's jails: started once per day of HISTORY_PLAN with its clock set back
    (libfaketime), so its database holds four weeks of bans as a real server's does across restarts;
    on the last day two addresses fail below maxretry. Settings through the socket, history from the
    database, pending from its log, all as the dashboard reads them."""
    from dataclasses import asdict

    from mailtui.fail2ban.client import Fail2banClient
    from mailtui.fail2ban.history import read_history
    from mailtui.fail2ban.pending import pending
    from mailtui.fail2ban.settings import read_settings
    from tests.minif2b import start_mini, syslog_now
    from tests.rig.base import wait_for
    from tests.rig.fail2ban import JAIL_CONF, JAILS, MAXRETRY

    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    (base / "dovecot.log").touch()
    jails = JAIL_CONF.format(maxretry=MAXRETRY, dir="{dir}", mail_log="{dir}/mail.log", dovecot_log="{dir}/dovecot.log")
    f2b = None
    try:
        for back in sorted({p[0] for p in HISTORY_PLAN}, reverse=True):
            if f2b is None:
                f2b = start_mini(base, jails, days_back=back)
            else:
                f2b.start(days_back=back)
            for when, jail, ip in HISTORY_PLAN:
                if when == back:
                    f2b.cli("set", jail, "banip", ip)
            if back:
                f2b.stop()
        assert f2b is not None
        with f2b.mail_log.open("a") as log:
            for ip, times in (("127.0.0.140", 2), ("127.0.0.141", 1)):
                for _ in range(times):
                    log.write(syslog_now(f"warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"))
        f2b.found("postfix-sasl", 3)
        with Fail2banClient(f2b.socket) as client:
            settings = read_settings(client, list(JAILS))
        wait_for(lambda: f2b.db.exists(), 10, what="the database")
        time.sleep(2)  # the last bans reach the database
        taken = time.time()
        hist = read_history(str(f2b.db), now=taken)
        waiting = pending(f2b.log.read_text().splitlines(), settings, now=taken)
        f2b.stop()
        data = {
            "taken": taken,
            "settings": {k: v.to_dict() for k, v in settings.items()},
            "history": hist.to_dict(),
            "pending": [asdict(p) for p in waiting],
        }
        (DEMO_DATA / "bans-insight.json").write_text(json.dumps(data, indent=1) + "\n")
        print({j: sum(c) for j, c in hist.per_day.items()}, [(p.ip, p.failures) for p in waiting])
    finally:
        if f2b is not None:
            f2b.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--demo-insight"]:
        capture_demo_insight()
        raise SystemExit(0)
    if sys.argv[1:] == ["--demo-dns-previous"]:
        capture_demo_dns_previous()
        raise SystemExit(0)
    if sys.argv[1:] == ["--demo-bans"]:
        capture_demo_bans()
        raise SystemExit(0)
    if sys.argv[1:2] == ["--demo-dns"]:
        capture_demo_dns(out=Path(sys.argv[2]) if len(sys.argv) > 2 else None)
        raise SystemExit(0)
    if sys.argv[1:] == ["--demo-only"]:
        build_demo_data()
        raise SystemExit(0)
    if sys.argv[1:] == ["--demo-services"]:
        capture_demo_services()
        raise SystemExit(0)
    raise SystemExit(main())
