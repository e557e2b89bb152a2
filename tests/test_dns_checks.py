"""The DNS & autoconfig checks against the DNS lab: real NSD, a real HTTPS server with a
throwaway CA, real Postfix and Dovecot on 127.0.0.25. Connections are allowed to loopback only."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mailtui.dns.context import CheckOptions
from mailtui.dns.model import Finding
from mailtui.dns.run import CheckReport, check_domain

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.daemons


def loopback_only(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def run(lab, domain: str, **kw) -> CheckReport:
    options = CheckOptions(
        domain=domain,
        nameserver=lab.nameserver,
        ca_file=str(lab.ca_file),
        postfix_dir=str(lab.postfix.conf_dir),
        dovecot_config=str(lab.dovecot.conf),
        allow_connect=loopback_only,
        **kw,
    )
    return check_domain(options)


def by_id(report: CheckReport) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in report.findings:
        out.setdefault(f.id, f)
    return out


def test_good_domain_is_all_good(dnslab) -> None:
    report = run(dnslab, "good.test")
    bad = [f for f in report.findings if f.status not in ("ok", "info", "not_offered")]
    assert not bad, [f.to_dict() for f in bad]
    f = by_id(report)
    assert f["mx"].status == "ok" and "mail.good.test" in f["mx"].summary
    assert f["ptr:127.0.0.25"].status == "ok"
    # the SSL-only layout: plaintext IMAP/POP3 deliberately not offered
    assert f["srv:_imap._tcp"].status == "not_offered" and f["srv:_pop3._tcp"].status == "not_offered"
    assert f["srv:_imaps._tcp"].status == "ok"
    assert f["srv:_pop3s._tcp"].data["records"][0] == {
        "priority": 10,
        "weight": 1,
        "port": 995,
        "target": "mail.good.test",
        "share": 100.0,
    }
    assert f["spf"].status == "ok" and f["spf"].data["lookups"] == 1
    assert f["dmarc"].status == "ok" and f["dkim:default"].summary == "selector 'default': rsa 2048 bits"
    assert f["mta-sts"].status == "ok" and f["tls-rpt"].status == "ok"
    assert f["tlsa:mail.good.test"].status == "ok"  # the TLSA hash matches the certificate served on 25
    assert f["autoconfig:https-autoconfig"].status == "ok" and f["autoconfig:http-autoconfig"].status == "info"
    assert f["autodiscover:https-autodiscover"].status == "ok"
    assert f["autodiscover:http-redirect"].status == "ok"  # 302 to https, then the POST
    for port, mode in ((993, "implicit"), (995, "implicit"), (587, "starttls"), (25, "starttls")):
        probe = f[f"probe:mail.good.test:{port}:{mode}"]
        assert probe.status == "ok" and probe.data["tls_version"].startswith("TLSv1"), probe.to_dict()
        assert probe.data["auth_before_tls"] == []
    assert f["consistency"].status == "ok"
    assert report.worst() in ("ok", "info", "not_offered")


def test_broken_domain_names_each_mistake(dnslab) -> None:
    report = run(dnslab, "broken.test", timeout=1.0)
    f = by_id(report)
    statuses = {i: x.status for i, x in f.items()}
    assert f["mx:mx.broken.test"].status == "fail" and "alias" in f["mx:mx.broken.test"].summary
    assert f["spf"].status == "fail" and f["spf"].data["lookups"] == 11
    assert f["dmarc"].status == "fail" and "elsewhere.test" in f["dmarc"].summary
    assert f["mta-sts"].status == "fail" and "redirects" in f["mta-sts"].summary
    assert "XML refused" in f["autoconfig:https-wellknown"].summary  # the billion-laughs bomb
    assert f["autoconfig:http-autoconfig"].status == "fail" and "larger than" in f["autoconfig:http-autoconfig"].summary
    assert "redirect loop" in f["autoconfig:http-wellknown"].summary
    assert "more than 10" in f["autodiscover:https-autodiscover"].summary  # redirectUrl loop
    assert f["autodiscover:https-domain"].status == "timeout"  # the slowloris
    consistency = [x.summary for x in report.findings if x.group == "Consistency"]
    assert "SRV _submissions._tcp says smtp implicit on mail.good.test:465, but nothing listens there" in consistency
    assert "SRV _imaps._tcp says imap implicit on mail.good.test:143, but the port speaks starttls" in consistency
    assert any("pop.broken.test" in c and "does not cover" in c for c in consistency)
    assert (
        "autoconfig https-autoconfig says smtp implicit on mail.good.test:587, but the port speaks starttls"
        in consistency
    )
    assert any(
        c.startswith("SRV _imap._tcp offers imap on port 143 while Dovecot refuses plaintext") for c in consistency
    )
    assert any("this machine's postfix configuration has no listener" in c for c in consistency)
    assert report.worst() == "timeout" and statuses["srv:_imaps._tcp"] == "ok"


def test_mailcow_layout_and_idn(dnslab) -> None:
    f = by_id(run(dnslab, "mailcow.test"))
    assert f["autodiscover:https-autodiscover"].status == "info"
    assert "needs credentials (401)" in f["autodiscover:https-autodiscover"].summary
    assert "needs credentials" in f["autodiscover:srv"].summary  # SRV -> web.mailcow.test -> 401
    assert f["autoconfig:https-autoconfig"].status == "ok"  # reached through the CNAME, %EMAILDOMAIN% domain
    idn = run(dnslab, "bücher.test", probes=False)
    assert idn.domain == "xn--bcher-kva.test" and idn.unicode_domain == "bücher.test"
    assert by_id(idn)["mx"].status == "ok"


def test_dns_failures_stay_apart(dnslab, corpus: Path) -> None:  # nomail.example.test
    nomail = by_id(run(dnslab, "nomail.example.test", probes=False))
    assert nomail["mx"].status == "not_offered" and "null MX" in nomail["mx"].summary
    servfail = by_id(run(dnslab, "servfail.test", probes=False))
    assert servfail["mx"].status == "error" and "SERVFAIL" in servfail["mx"].summary
    # NSD refuses every query for a zone it does not serve: one finding says so
    refused = by_id(run(dnslab, "nowhere.example", probes=False))
    assert list(refused) == ["nameserver"] and refused["nameserver"].status == "fail"
    assert "refuses every query about nowhere.example (REFUSED" in refused["nameserver"].summary
    nx = by_id(run(dnslab, "absent.good.test", probes=False))
    assert nx["mx"].status == "fail" and "NXDOMAIN" in nx["mx"].summary
    assert by_id(run(dnslab, "elsewhere.test", probes=False))["spf"].summary == "no SPF record"  # NODATA


def test_expired_certificate_is_named_as_such(dnslab) -> None:
    f = by_id(run(dnslab, "expired.test"))
    probe = f["probe:mail.expired.test:993:implicit"]
    assert probe.status == "fail" and "expired" in probe.summary, probe.to_dict()
    assert probe.data["names"] == ["mail.expired.test"] and probe.data["not_after"] < time.time()


def test_mx_written_as_an_address(dnslab) -> None:
    f = by_id(run(dnslab, "iplit.test", probes=False))
    assert f["mx:127.0.0.25"].status == "fail" and "is an IP address" in f["mx:127.0.0.25"].summary


def test_public_addresses_are_never_contacted(dnslab, corpus: Path) -> None:
    """The corpus zone names 192.0.2.10: with the loopback filter, nothing leaves the machine."""
    f = by_id(run(dnslab, "example.test", timeout=1.0))
    probe = f["probe:mail.example.test:993:implicit"]
    assert probe.status == "fail" and "outside the allowed addresses" in probe.summary
    assert "outside the allowed addresses" in f["autoconfig:https-autoconfig"].summary


def test_a_resolver_that_never_answers(tmp_path: Path) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        started = time.monotonic()
        report = check_domain(
            CheckOptions(
                domain="good.test",
                nameserver=f"127.0.0.1:{port}",
                timeout=0.3,
                deadline=4.0,
                allow_connect=loopback_only,
            ),
            local=False,
        )
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    # one finding naming the server, not a timeout per record (the rest is in its detail)
    assert [(f.id, f.status) for f in report.findings] == [("nameserver", "fail")]
    silent_ns = report.findings[0]
    assert silent_ns.summary.startswith(f"name server 127.0.0.1:{port} does not answer: ")
    assert "timed out" in silent_ns.summary and silent_ns.data["statuses"]["timeout"] >= 10
    assert {"mx", "spf", "srv:_imaps._tcp"} <= set(silent_ns.data["suppressed"])
    assert report.worst() == "fail"
    assert elapsed < 6  # the deadline holds even though no answer ever comes


def test_findings_arrive_while_the_check_runs(dnslab) -> None:
    seen: list[tuple[float, str]] = []
    t0 = time.monotonic()
    options = CheckOptions(
        domain="broken.test",
        nameserver=dnslab.nameserver,
        ca_file=str(dnslab.ca_file),
        timeout=1.0,
        allow_connect=loopback_only,
    )
    check_domain(options, on_finding=lambda f: seen.append((time.monotonic() - t0, f.id)))
    first_mx = next(t for t, i in seen if i == "mx")
    slowloris = next(t for t, i in seen if i == "autodiscover:https-domain")
    assert first_mx < slowloris - 1.0  # the MX finding did not wait for the slow server


def test_cli_check_json_and_exit_codes(dnslab, corpus: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[dns]\nnameserver = "{dnslab.nameserver}"\nca_file = "{dnslab.ca_file}"\n'
        f'[postfix]\nconfig_dir = "{dnslab.postfix.conf_dir}"\n[dovecot]\nconfig = "{dnslab.dovecot.conf}"\n'
    )
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    base = [sys.executable, "-m", "mailtui", "--config", str(cfg), "check"]
    good = subprocess.run([*base, "good.test", "--json"], capture_output=True, text=True, env=env, cwd=REPO)
    assert good.returncode == 0, good.stdout[-2000:]
    data = json.loads(good.stdout)
    assert data["domain"] == "good.test"
    assert {c["id"] for c in data["checks"]} >= {"mx", "srv:_imaps._tcp", "srv:_imap._tcp", "spf", "dmarc"}
    assert all(set(c) >= {"id", "group", "status", "summary", "detail"} for c in data["checks"])
    assert {c["status"] for c in data["checks"]} <= {"ok", "info", "not_offered"}
    nomail = subprocess.run(
        [*base, "nomail.example.test", "--no-probes"], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert "not offered null MX" in nomail.stdout
    servfail = subprocess.run(
        [*base, "servfail.test", "--no-probes"], capture_output=True, text=True, env=env, cwd=REPO
    )
    assert servfail.returncode == 4 and "SERVFAIL" in servfail.stdout
    bad = subprocess.run([*base, "bad..name", "--no-probes"], capture_output=True, text=True, env=env, cwd=REPO)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_cli_warn_exit_code(dnslab, tmp_path: Path) -> None:
    """elsewhere.test has an MX but no SPF/DMARC: warnings only -> exit 1."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[dns]\nnameserver = "{dnslab.nameserver}"\nca_file = "{dnslab.ca_file}"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(cfg), "check", "elsewhere.test", "--no-probes"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert out.returncode == 1, out.stdout
    assert "WARN        no SPF record" in out.stdout


def test_background_thread_does_not_block(dnslab) -> None:
    """check_domain runs its own event loop: usable from a worker thread (as the pane does)."""
    result: list[CheckReport] = []
    t = threading.Thread(target=lambda: result.append(run(dnslab, "good.test", probes=False)))
    t.start()
    t.join(20)
    assert result and by_id(result[0])["mx"].status == "ok"


def test_a_truncated_answer_is_asked_again_over_tcp(dnslab) -> None:
    import asyncio

    import dns.flags
    import dns.message
    import dns.query

    from mailtui.dns.resolver import Resolver, parse_nameserver

    host, port = parse_nameserver(dnslab.nameserver)
    query = dns.message.make_query("big.test", "TXT", use_edns=0, payload=1232)
    udp = dns.query.udp(query, host, port=port, timeout=2)
    assert udp.flags & dns.flags.TC  # the lab's NSD really truncates this answer

    lookup = asyncio.run(Resolver(dnslab.nameserver, timeout=1.0).query("big.test", "TXT"))
    assert lookup.ok and lookup.tcp and len(lookup.records) == 13
    spf = by_id(run(dnslab, "big.test", probes=False))["spf"]
    assert spf.status == "ok" and "ip4:127.0.0.25" in json.dumps(spf.to_dict())


def test_truncated_answer_without_tcp_says_so(tmp_path: Path) -> None:
    """A server that truncates every answer over UDP and has no TCP listener."""
    import asyncio

    import dns.flags
    import dns.message

    from mailtui.dns.resolver import ERROR, Resolver

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                data, peer = udp.recvfrom(4096)
            except OSError:
                return
            reply = dns.message.make_response(dns.message.from_wire(data))
            reply.flags |= dns.flags.TC
            udp.sendto(reply.to_wire(), peer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        lookup = asyncio.run(Resolver(f"127.0.0.1:{port}", timeout=0.5, tries=1).query("big.test", "TXT"))
    finally:
        udp.close()
    assert lookup.status == ERROR and lookup.tcp
    assert "truncated, TC" in lookup.describe() and "over TCP failed" in lookup.describe()
