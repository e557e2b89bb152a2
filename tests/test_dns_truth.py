"""DNS findings as an admin reads them: worst first inside each group, in the same order on
every run whichever check finished first, and one "name server does not answer" finding
instead of a timeout per record (only when nothing at all was answered)."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from mailtui.dns.context import CheckOptions
from mailtui.dns.model import AUTH, GROUPS, LISTING, ROUTING, Finding, ordered
from mailtui.dns.run import check_domain
from tests.test_dns_checks import by_id, loopback_only

REPO = Path(__file__).resolve().parent.parent


def test_findings_are_listed_worst_first_inside_their_group_in_one_order() -> None:
    findings = [
        Finding("spf", AUTH, "info", "b"),
        Finding("dmarc", AUTH, "ok", "a"),
        Finding("mx", ROUTING, "ok", "MX fine"),
        Finding("dkim:x", AUTH, "fail", "c"),
        Finding("dkim:y", AUTH, "warn", "d"),
        Finding("mx:h", ROUTING, "fail", "h"),
        Finding("dkim:a", AUTH, "fail", "e"),
        Finding("t", AUTH, "timeout", "f"),
    ]
    want = [
        ("mx:h", "fail"),
        ("mx", "ok"),
        ("dkim:a", "fail"),
        ("dkim:x", "fail"),
        ("t", "timeout"),
        ("dkim:y", "warn"),
        ("dmarc", "ok"),
        ("spf", "info"),
    ]
    for perm in itertools.islice(itertools.permutations(findings), 0, None, 997):
        assert [(f.id, f.status) for f in ordered(list(perm))] == want
    assert LISTING.index("fail") < LISTING.index("warn") < LISTING.index("ok") < LISTING.index("info")


def _check(dnslab, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[dns]\nnameserver = "{dnslab.nameserver}"\nca_file = "{dnslab.ca_file}"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(cfg), "check", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=90,
    )


MARKS = {
    "FAIL": "fail",
    "ERROR": "error",
    "TIMEOUT": "timeout",
    "WARN": "warn",
    "ok": "ok",
    "not offered": "not_offered",
    "info": "info",
}


def _listing(text: str) -> list[tuple[str, str, str]]:
    """(group, status, summary) of each finding line of ``check``'s text output."""
    rows, group = [], ""
    for line in text.splitlines()[1:]:
        if line and not line.startswith(" "):
            group = line
        elif line.startswith("  ") and not line.startswith("   "):
            mark = next(m for m in sorted(MARKS, key=len, reverse=True) if line[2:].startswith(m))
            rows.append((group, MARKS[mark], line[14:]))
    return rows


@pytest.mark.daemons
def test_check_prints_worst_first_and_the_same_order_every_run(dnslab, tmp_path: Path) -> None:
    runs = [_check(dnslab, tmp_path, "broken.test", "--no-probes") for _ in range(2)]
    listings = [_listing(r.stdout) for r in runs]
    assert listings[0] and all(listing == listings[0] for listing in listings), [r.stdout for r in runs]
    rows = listings[0]
    assert [g for g in GROUPS if g in {g for g, _, _ in rows}] == list(dict.fromkeys(g for g, _, _ in rows))
    for group in {g for g, _, _ in rows}:
        statuses = [LISTING.index(s) for g, s, _ in rows if g == group]
        assert statuses == sorted(statuses), (group, rows)
    assert len({s for _, s, _ in rows}) >= 3  # broken.test mixes fail, warn and ok: the order means something
    data = json.loads(_check(dnslab, tmp_path, "broken.test", "--no-probes", "--json").stdout)
    assert [(c["status"], c["summary"]) for c in data["checks"]] == [(s, t) for _, s, t in rows]


def _responder(answer_types: set[int]) -> tuple[socket.socket, int]:
    """A name server on loopback that answers NXDOMAIN to ``answer_types`` and ignores the rest."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                data, peer = udp.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            if query.question and query.question[0].rdtype in answer_types:
                reply = dns.message.make_response(query)
                reply.set_rcode(dns.rcode.NXDOMAIN)
                udp.sendto(reply.to_wire(), peer)

    threading.Thread(target=serve, daemon=True).start()
    return udp, udp.getsockname()[1]


def test_a_silent_name_server_is_one_finding_in_the_stream_too() -> None:
    udp, port = _responder(set())
    seen: list[Finding] = []
    try:
        report = check_domain(
            CheckOptions(
                domain="good.test",
                nameserver=f"127.0.0.1:{port}",
                timeout=0.3,
                deadline=4.0,
                allow_connect=loopback_only,
            ),
            on_finding=seen.append,
            local=False,
        )
    finally:
        udp.close()
    # the pane is fed through on_finding: it gets the one finding, not 25 timeouts first
    assert [f.id for f in seen] == ["nameserver"] and report.findings == seen
    assert f"127.0.0.1:{port}" in seen[0].summary and seen[0].data["queries"] >= 10


def test_a_server_that_answers_some_lookups_keeps_each_failure_apart() -> None:
    udp, port = _responder({dns.rdatatype.MX})
    seen: list[Finding] = []
    try:
        report = check_domain(
            CheckOptions(
                domain="good.test",
                nameserver=f"127.0.0.1:{port}",
                timeout=0.3,
                deadline=4.0,
                probes=False,
                allow_connect=loopback_only,
            ),
            on_finding=seen.append,
            local=False,
        )
    finally:
        udp.close()
    f = by_id(report)
    assert "nameserver" not in f
    assert f["mx"].status == "fail" and "NXDOMAIN" in f["mx"].summary
    assert f["spf"].status == "timeout" and "timeout" in f["spf"].summary
    assert sorted(x.id for x in seen) == sorted(x.id for x in report.findings)  # nothing held back for good


def test_a_deadline_before_any_reply_is_still_one_finding() -> None:
    """The run's deadline comes before the first query's timeout: nothing finished, nothing answered."""
    udp, port = _responder(set())
    try:
        report = check_domain(
            CheckOptions(
                domain="good.test",
                nameserver=f"127.0.0.1:{port}",
                timeout=3.0,
                deadline=1.0,
                allow_connect=loopback_only,
            ),
            local=False,
        )
    finally:
        udp.close()
    assert [f.id for f in report.findings] == ["nameserver"]
    finding = report.findings[0]
    assert "got a reply" in finding.summary and "still unanswered at the deadline" in finding.summary
    assert finding.data["unfinished"] == finding.data["queries"] >= 10
