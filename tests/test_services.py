"""Services: daemons, ports, queue, certificates and alerts, against the rig's real daemons."""

from __future__ import annotations

import datetime
import json
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from mailtui.system.alerts import Thresholds, evaluate
from mailtui.system.certs import read_certificate
from mailtui.system.listeners import Expected, Listening, match_ports, parse_doveconf_services
from mailtui.system.processes import ProcessWatch, ProcInfo
from mailtui.system.queue import normalize_reason, parse_mailq, parse_postqueue_json, read_queue
from mailtui.system.queue_actions import QueueActionError, change, valid_queue_id
from mailtui.system.report import ServicesCollector, ServicesReport
from mailtui.system.resources import disk_use, mail_store_path
from tests.rig.base import need, wait_for
from tests.rig.dovecot import start_dovecot

REPO = Path(__file__).resolve().parent.parent


def rig_collector(rig, **kw) -> ServicesCollector:
    args = {
        "postfix_dir": str(rig.postfix.conf_dir),
        "dovecot_config": str(rig.dovecot.conf),
        "fail2ban_socket": str(rig.fail2ban.socket),
    } | kw
    return ServicesCollector(**args)


# -- against the rig ------------------------------------------------------------------------------


@pytest.mark.daemons
def test_rig_daemons_and_ports_are_found(rig) -> None:
    report = rig_collector(rig).collect()
    daemons = {d.key: d for d in report.daemons}
    postfix_pid = int((rig.postfix.dir / "spool" / "pid" / "master.pid").read_text().split()[0])
    assert daemons["postfix"].running and daemons["postfix"].pid == postfix_pid
    # the second rig instance (postfix_file) must not be mistaken for this one
    assert {"qmgr", "pickup"} <= set(daemons["postfix"].children)
    dovecot_pid = int((rig.dovecot.dir / "run" / "master.pid").read_text())
    assert daemons["dovecot"].running and daemons["dovecot"].pid == dovecot_pid
    assert {"anvil", "log", "config"} <= set(daemons["dovecot"].children)
    assert daemons["fail2ban"].running
    assert daemons["fail2ban"].pid == int((rig.fail2ban.dir / "fail2ban.pid").read_text())
    assert all(d.rss > 0 and d.uptime() >= 0 for d in daemons.values())

    ports = {(p.daemon, p.port): p for p in report.ports}
    for port in rig.postfix.ports.values():
        row = ports[("postfix", port)]
        assert row.state == "ok" and row.owner == "postfix" and row.address == "127.0.0.1", row
    assert ports[("postfix", rig.postfix.ports["submission"])].service == "submission"
    for name, port in rig.dovecot.ports.items():
        row = ports[("dovecot", port)]
        assert row.state == "ok" and row.owner == "dovecot", row
        assert row.tls == ("implicit" if name.endswith("s") else "starttls")
    # the other Postfix instance listens too, held by a postfix master that is not this one
    other = rig.postfix_file.ports["smtp"]
    assert ("postfix", other) not in ports
    assert not [a for a in report.alerts if a.id.startswith(("down:", "port:"))], report.alerts
    assert report.queue is not None and not report.queue.error
    certs = {c.used_by: c for c in report.certificates}
    for used_by, path in (
        ("postfix smtpd_tls_cert_file", rig.postfix.dir / "cert.pem"),
        ("dovecot ssl_cert", rig.dovecot.dir / "cert.pem"),
    ):
        cert = certs[used_by]
        assert cert.path == str(path) and cert.subject == "mail.rig.test" and cert.names == ["mail.rig.test"]
        assert 29 < cert.days_left() <= 30  # the rig's certificates are made for 30 days


@pytest.mark.daemons
def test_stopped_dovecot_is_down_and_its_ports_missing(tmp_path: Path) -> None:
    dovecot = start_dovecot(tmp_path / "dovecot")
    try:
        collector = ServicesCollector(postfix_dir=str(tmp_path / "no-postfix"), dovecot_config=str(dovecot.conf))
        before = collector.collect()
        up = next(d for d in before.daemons if d.key == "dovecot")
        assert up.running
        assert {p.port for p in before.ports if p.daemon == "dovecot" and p.state == "ok"} == set(
            dovecot.ports.values()
        )
    finally:
        dovecot.stop()
    after = collector.collect()
    down = next(d for d in after.daemons if d.key == "dovecot")
    assert not down.running and down.pid is None
    missing = {p.port for p in after.ports if p.daemon == "dovecot" and p.state == "missing"}
    assert missing == set(dovecot.ports.values())
    ids = {a.id for a in after.alerts}
    assert "down:dovecot" in ids
    assert all(f"port:dovecot:127.0.0.1:{port}" in ids for port in dovecot.ports.values()), ids


@pytest.fixture()
def deferred_message(rig):
    """A message to a remote domain, deferred because the relayhost's port is closed."""
    with smtplib.SMTP("127.0.0.1", rig.postfix.ports["smtp"], timeout=10, source_address=("127.0.0.1", 0)) as client:
        client.ehlo("client.rig.test")
        client.sendmail(
            "alice@rig.test", ["someone@example.org"], b"Subject: stuck\r\n\r\nThis one waits for a dead relay.\r\n"
        )
    conf = str(rig.postfix.conf_dir)

    def deferred():
        snap = read_queue(conf)
        return [
            m
            for m in snap.messages
            if m.queue == "deferred"
            and m.recipients
            and m.recipients[0].address == "someone@example.org"
            and m.recipients[0].reason
        ]

    found = wait_for(deferred, 30, 0.2, "the message to be deferred")
    qid = found[-1].queue_id
    yield qid
    change("delete", qid, conf) if read_queue(conf).find(qid) else None


@pytest.mark.daemons
def test_deferred_mail_shows_with_its_reason(rig, deferred_message) -> None:
    report = rig_collector(rig).collect()
    queue = report.queue
    msg = queue.find(deferred_message)
    assert msg is not None and msg.queue == "deferred" and msg.sender == "alice@rig.test"
    assert queue.counts()["deferred"] >= 1 and queue.oldest_age("deferred") >= 0
    group = next(g for g in queue.reasons() if deferred_message in g.queue_ids)
    assert "Connection refused" in group.reason
    assert group.recognizer == "delivery.connect_failed"
    assert next((d, n) for d, n in queue.top_domains() if d == "example.org") >= ("example.org", 1)
    assert report.queue_history and report.queue_history[-1][1] == queue.total
    # the mailq text of the same queue (what Postfix < 3.1 offers) parses to the same message
    text = subprocess.run(
        [need("postqueue"), "-c", str(rig.postfix.conf_dir), "-p"], capture_output=True, text=True, check=True
    ).stdout
    legacy = parse_mailq(text).find(deferred_message)
    assert legacy is not None and legacy.sender == msg.sender and legacy.size == msg.size
    assert [(r.address, r.reason) for r in legacy.recipients] == [(r.address, r.reason) for r in msg.recipients]
    assert abs(legacy.arrival - msg.arrival) < 1
    # the deferred-age alert fires when its threshold is below the message's age
    strict = rig_collector(rig, limits=Thresholds(deferred_max=0, deferred_age_hours=0.0))
    ids = {a.id for a in strict.collect().alerts}
    assert {"queue:deferred", "queue:age"} <= ids


@pytest.mark.daemons
def test_hold_release_delete_change_the_real_queue(rig, deferred_message) -> None:
    conf = str(rig.postfix.conf_dir)
    qid = deferred_message
    assert change("hold", qid, conf) == f"{qid} put on hold"
    assert read_queue(conf).find(qid).queue == "hold"
    assert change("release", qid, conf) == f"{qid} released from hold"
    assert read_queue(conf).find(qid).queue in ("deferred", "active", "incoming")
    assert change("delete", qid, conf) == f"{qid} deleted"
    wait_for(lambda: read_queue(conf).find(qid) is None, 10, what="the message to be gone")
    with pytest.raises(QueueActionError, match="not in the queue"):
        change("hold", qid, conf)


@pytest.mark.daemons
def test_cli_services_json_and_queue_actions(rig, deferred_message, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[postfix]\nconfig_dir = "{rig.postfix.conf_dir}"\n[dovecot]\nconfig = "{rig.dovecot.conf}"\n'
        f'[fail2ban]\nsocket = "{rig.fail2ban.socket}"\n[alerts]\ndeferred_max = 100000\n'
        f"deferred_age_hours = 1000.0\ncert_days = 1\n"
    )
    base = [sys.executable, "-m", "mailtui", "--config", str(cfg)]
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    out = subprocess.run([*base, "services", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    data = json.loads(out.stdout)
    assert out.returncode == 0, data["alerts"]
    assert {d["key"] for d in data["daemons"] if d["running"]} >= {"postfix", "dovecot", "fail2ban"}
    assert data["queue"]["counts"]["deferred"] >= 1 and "messages" not in data["queue"]
    # hold through the CLI, refused under --read-only, then released
    ro = subprocess.run(
        [*base, "--read-only", "queue", "hold", deferred_message, "--yes"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert ro.returncode == 2 and "read-only" in ro.stderr
    assert read_queue(str(rig.postfix.conf_dir)).find(deferred_message).queue == "deferred"
    held = subprocess.run(
        [*base, "queue", "hold", deferred_message, "--yes", "--json"], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert held.returncode == 0, held.stderr
    assert read_queue(str(rig.postfix.conf_dir)).find(deferred_message).queue == "hold"
    listing = subprocess.run([*base, "queue", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    assert any(
        m["queue_id"] == deferred_message and m["queue_name"] == "hold" for m in json.loads(listing.stdout)["messages"]
    )
    no_tty = subprocess.run(
        [*base, "queue", "release", deferred_message],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr


@pytest.mark.daemons
def test_services_without_root_say_owners_are_unknown(rig, tmp_path: Path) -> None:
    """As nobody: listeners are still seen (from /proc/net), owners and pid files are not."""
    setpriv = need("setpriv")
    site = subprocess.run(
        [sys.executable, "-c", "import psutil, os; print(os.path.dirname(os.path.dirname(psutil.__file__)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    code = (
        "import json, sys; sys.path[:0] = sys.argv[1:3]; from mailtui.system.report import ServicesCollector;"
        f"r = ServicesCollector({str(rig.postfix.conf_dir)!r}, {str(rig.dovecot.conf)!r}).collect();"
        "print(json.dumps(r.to_dict()))"
    )
    out = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code, str(REPO), site],
        capture_output=True,
        text=True,
        cwd="/",
    )
    if out.returncode != 0 and "Permission denied" in out.stderr:
        pytest.fail(f"nobody cannot read the checkout or the venv: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    rows = [p for p in data["ports"] if p["daemon"] == "dovecot"]
    assert rows and all(p["listening"] and p["owner"] == "unknown" for p in rows)
    assert any("without root" in n for n in data["notes"])
    assert next(d for d in data["daemons"] if d["key"] == "dovecot")["running"]


# -- parsers and rules (real tool output where the tool exists) -------------------------------------


def test_postqueue_json_is_parsed_and_garbage_skipped() -> None:
    text = "\n".join(
        [
            json.dumps(
                {
                    "queue_name": "deferred",
                    "queue_id": "4B7C51A0F2",
                    "arrival_time": 1000,
                    "message_size": 412,
                    "forced_expire": False,
                    "sender": "a@x.test",
                    "recipients": [
                        {"address": "b@y.test", "delay_reason": "connect to y.test[192.0.2.1]:25: Connection timed out"}
                    ],
                }
            ),
            "{not json",
            json.dumps(
                {
                    "queue_name": "deferred",
                    "queue_id": "5C8D62B1A3",
                    "arrival_time": 2000,
                    "message_size": 1,
                    "sender": "",
                    "recipients": [
                        {"address": "c@y.test", "delay_reason": "connect to y.test[192.0.2.2]:25: Connection timed out"}
                    ],
                    "future_member": [1, 2],
                }
            ),
            json.dumps(
                {
                    "queue_name": "hold",
                    "queue_id": "6D9E73C2B4",
                    "arrival_time": 3000,
                    "message_size": 1,
                    "sender": "d@x.test",
                    "recipients": [{"address": "e@z.test"}],
                }
            ),
            json.dumps(["not", "an", "object"]),
        ]
    )
    snap = parse_postqueue_json(text)
    snap.taken = 4000
    assert [m.queue_id for m in snap.messages] == ["4B7C51A0F2", "5C8D62B1A3", "6D9E73C2B4"]
    assert snap.counts()["deferred"] == 2 and snap.counts()["hold"] == 1
    assert snap.oldest_age() == 3000 and snap.oldest_age("hold") == 1000
    groups = snap.reasons()
    assert len(groups) == 1 and groups[0].count == 2  # different IPs, same cause
    assert groups[0].title == "Cannot connect to the destination"
    assert snap.top_domains()[0] == ("y.test", 2)
    assert parse_postqueue_json(text, limit=1).truncated


def test_mailq_text_is_parsed() -> None:
    text = """-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
4B7C51A0F2*     412 Sun Nov 29 03:30:00  alice@rig.test
                                         bob@example.com

5C8D62B1A3!     999 Sat Nov 28 10:00:00  carol@rig.test
(connect to example.org[192.0.2.1]:25: Connection refused)
                                         dave@example.org
                                         erin@example.org

-- 2 Kbytes in 2 Requests.
"""
    now = datetime.datetime(2026, 11, 29, 4, 0).timestamp()
    snap = parse_mailq(text, now=now)
    assert [(m.queue_id, m.queue, m.size) for m in snap.messages] == [
        ("4B7C51A0F2", "active", 412),
        ("5C8D62B1A3", "hold", 999),
    ]
    assert [r.address for r in snap.messages[1].recipients] == ["dave@example.org", "erin@example.org"]
    assert snap.messages[1].recipients[0].reason.startswith("connect to example.org")
    assert datetime.datetime.fromtimestamp(snap.messages[0].arrival).year == 2026


def test_reason_normalization_keeps_the_cause() -> None:
    a = normalize_reason("connect to a.test[192.0.2.1]:25: Connection refused")
    assert a == normalize_reason("connect to a.test[198.51.100.7]:2525: Connection refused")
    assert a != normalize_reason("connect to a.test[192.0.2.1]:25: Connection timed out")


@pytest.mark.parametrize("bad", ["ALL", "-d", "ab", "4B7C51A0F2;rm", "../x", "4B7C 51A0", "x" * 40])
def test_queue_ids_are_validated(bad: str) -> None:
    with pytest.raises(QueueActionError):
        valid_queue_id(bad)


def test_queue_id_forms_accepted() -> None:
    assert valid_queue_id("4B7C51A0F2") == "4B7C51A0F2"
    assert valid_queue_id("4Ln0Xt2yYWz1Fmb") == "4Ln0Xt2yYWz1Fmb"  # enable_long_queue_ids


def test_doveconf_service_listeners_from_the_real_doveconf(tmp_path: Path) -> None:
    need("doveconf")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(
        "protocols = imap\nlisten = 127.0.0.1\nservice imap-login {\n inet_listener imap {\n"
        "  port = 1143\n }\n inet_listener imaps {\n  port = 1993\n  ssl = yes\n }\n}\n"
    )
    out = subprocess.run([need("doveconf"), "-c", str(conf), "service"], capture_output=True, text=True)
    rows = parse_doveconf_services(out.stdout)
    assert ("imap-login", "imap", "imap", "", 1143, False) in rows
    assert ("imap-login", "imap", "imaps", "", 1993, True) in rows
    assert any(r[0] == "pop3-login" and r[1] == "pop3" for r in rows)  # filtered later by protocols
    from mailtui.system.listeners import dovecot_expected

    expected = dovecot_expected(str(conf))
    assert {(e.service, e.address, e.port, e.tls) for e in expected} == {
        ("imap-login/imap", "127.0.0.1", 1143, "starttls"),
        ("imap-login/imaps", "127.0.0.1", 1993, "implicit"),
    }


def test_port_matching_flags_missing_and_unexpected() -> None:
    expected = [
        Expected("postfix", "smtp", "*", 25, "starttls"),
        Expected("dovecot", "imap-login/imaps", "127.0.0.1", 993, "implicit"),
        Expected("dovecot", "imap-login/imap", "::1", 143, "starttls"),
    ]
    actual = [
        Listening("0.0.0.0", 25, 10),
        Listening("::", 143, None),
        Listening("0.0.0.0", 110, 99),
        Listening("127.0.0.1", 8080, 55),
        Listening("127.0.0.1", 10024, 10),
    ]
    rows = {(r.port, r.address): r for r in match_ports(expected, actual, {10: "postfix"})}
    assert rows[(25, "*")].state == "ok" and rows[(25, "*")].owner == "postfix"
    assert rows[(993, "127.0.0.1")].state == "missing"
    assert rows[(143, "::1")].state == "ok" and rows[(143, "::1")].owner == "unknown"
    assert rows[(110, "0.0.0.0")].state == "unexpected"  # a mail port nobody configured
    assert rows[(10024, "127.0.0.1")].state == "unexpected"  # held by a mail daemon
    assert (8080, "127.0.0.1") not in rows  # not ours, not a mail port


def test_restarts_are_noticed_and_pid_files_win(tmp_path: Path) -> None:
    def table(master: int) -> list[ProcInfo]:
        return [
            ProcInfo(master, 1, "dovecot", ("/usr/sbin/dovecot", "-c", "/x"), "root", 100.0),
            ProcInfo(master + 1, master, "anvil", ("dovecot/anvil",), "dovenull", 101.0),
            ProcInfo(7000, 1, "dovecot", ("/usr/sbin/dovecot",), "root", 50.0),
        ]

    watch = ProcessWatch()
    pid_file = tmp_path / "master.pid"
    pid_file.write_text("5000\n")
    first = next(d for d in watch.scan({"dovecot": str(pid_file)}, {}, table(5000)) if d.key == "dovecot")
    assert first.pid == 5000 and first.children == {"anvil": 1} and first.restarts == 0
    pid_file.write_text("6000\n")
    second = next(d for d in watch.scan({"dovecot": str(pid_file)}, {}, table(6000)) if d.key == "dovecot")
    assert second.pid == 6000 and second.restarts == 1
    pid_file.unlink()  # a stopped daemon removes its pid file: another instance must not stand in
    third = next(
        d for d in watch.scan({"dovecot": str(pid_file)}, {"dovecot": True}, table(6000)) if d.key == "dovecot"
    )
    assert not third.running
    # no pid file known: the process table decides, oldest root wins, and the note says so
    fourth = next(d for d in ProcessWatch().scan({}, {}, table(6000)) if d.key == "dovecot")
    assert fourth.pid == 7000 and "2 instances" in fourth.note


def _make_cert(path: Path, days: float) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.example.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=400))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.example.test")]), False)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_certificate_and_disk_alerts(tmp_path: Path) -> None:
    _make_cert(tmp_path / "soon.pem", 3)
    _make_cert(tmp_path / "gone.pem", -1)
    _make_cert(tmp_path / "fine.pem", 300)
    (tmp_path / "junk.pem").write_text("-----BEGIN NOTHING-----\n")
    report = ServicesReport()
    report.certificates = [
        read_certificate(str(tmp_path / n), "test")
        for n in ("soon.pem", "gone.pem", "fine.pem", "junk.pem", "absent.pem")
    ]
    assert report.certificates[0].names == ["mail.example.test"]
    assert 2 < report.certificates[0].days_left() < 3.1
    assert report.certificates[3].error and report.certificates[4].error
    report.disks = [disk_use("queue", str(tmp_path))]
    alerts = {
        a.id: a
        for a in evaluate(
            Thresholds(cert_days=14, disk_percent=0.0), certificates=report.certificates, disks=report.disks
        )
    }
    assert alerts[f"cert:{tmp_path}/soon.pem"].severity == "warn"
    assert alerts[f"cert:{tmp_path}/gone.pem"].severity == "crit"
    assert f"cert:{tmp_path}/fine.pem" not in alerts
    assert "disk:queue:space" in alerts
    assert not [
        a for a in evaluate(Thresholds(cert_days=1, disk_percent=100.0), disks=report.disks) if a.id.startswith("disk:")
    ]


@pytest.mark.parametrize(
    "location, path",
    [
        ("maildir:/var/vmail/%d/%n", "/var/vmail"),
        ("maildir:/srv/mail/u_%n", "/srv/mail"),
        ("maildir:~/Maildir", "/home"),
        ("mbox:~/mail:INBOX=/var/mail/%u", "/home"),
        ("", "/var/mail"),
        ("sdbox:/var/mail/store", "/var/mail/store"),
    ],
)
def test_mail_store_path(location: str, path: str) -> None:
    assert mail_store_path(location) == path


def test_services_exit_code_reflects_alerts(tmp_path: Path) -> None:
    """A configured Dovecot that does not run: the CLI says so and exits 1 (for cron/monitoring)."""
    need("doveconf")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(
        f"base_dir = {tmp_path}/run\nprotocols = imap\nlisten = 127.0.0.1\n"
        "service imap-login {\n inet_listener imap {\n  port = 1143\n }\n}\n"
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[dovecot]\nconfig = "{conf}"\n[postfix]\nconfig_dir = "{tmp_path}/none"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(cfg), "services", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert out.returncode == 1, out.stderr
    ids = {a["id"] for a in json.loads(out.stdout)["alerts"]}
    assert {"down:dovecot", "port:dovecot:127.0.0.1:1143"} <= ids
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(cfg), "services"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert text.returncode == 1 and "ALERT [crit] Dovecot is not running" in text.stdout
