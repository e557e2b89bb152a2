"""Our own addresses and domain on DNS blocklists, against NSD serving test blocklist zones."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.dns.blocklists import check_listings, findings, parse_lists, public, reversed_name
from mailtui.dns.resolver import Resolver
from tests.rig.nsd import Nsd, start_nsd

SOA = "@ IN SOA ns1 hostmaster ( 1 3600 900 1209600 300 )\n@ IN NS ns1\nns1 IN A 127.0.0.1\n"
V6 = "2001:db8::25"
V6_NAME = ".".join(reversed("20010db8000000000000000000000025"))

ZONES = {
    # a Spamhaus-like list: one address listed (SBL CSS, with a reason), one answered "refused"
    "zen.spamhaus.test": "$ORIGIN zen.spamhaus.test.\n$TTL 60\n"
    + SOA
    + '7.113.0.203 IN A 127.0.0.3\n7.113.0.203 IN TXT "Listed: snowshoe, see https://check.example"\n'
    + "8.113.0.203 IN A 127.255.255.254\n"
    + f"{V6_NAME} IN A 127.0.0.4\n",
    # a plain list that lists nothing
    "bl.plain.test": "$ORIGIN bl.plain.test.\n$TTL 60\n" + SOA,
    # a domain list listing one domain
    "dbl.spamhaus.test": "$ORIGIN dbl.spamhaus.test.\n$TTL 60\n" + SOA + "bad.example IN A 127.0.1.2\n",
    # a list whose resolver rewrites NXDOMAIN (answers a public address)
    "rewrite.test": "$ORIGIN rewrite.test.\n$TTL 60\n" + SOA + "* IN A 192.0.2.80\n",
}
LISTS = parse_lists(["zen.spamhaus.test", "bl.plain.test", "domain:dbl.spamhaus.test"])


@pytest.fixture(scope="module")
def nsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nsd]:
    server = start_nsd(tmp_path_factory.mktemp("dnsbl"), ZONES, resolver_ip=None, corpus=False)
    yield server
    server.stop()


def _run(nsd: Nsd, addresses: list[str], domain: str, lists=LISTS):  # type: ignore[no-untyped-def]
    return asyncio.run(check_listings(Resolver(nsd.nameserver, timeout=2), addresses, domain, lists))


def test_listed_refused_and_clean_are_told_apart(nsd: Nsd) -> None:
    got = {
        (li.target, li.zone): li for li in _run(nsd, ["203.0.113.7", "203.0.113.8", "203.0.113.9", V6], "bad.example")
    }
    listed = got[("203.0.113.7", "zen.spamhaus.test")]
    assert listed.status == "listed" and listed.codes == ["127.0.0.3"]
    assert "snowshoe spam source" in listed.reason and "Listed: snowshoe" in listed.reason
    refused = got[("203.0.113.8", "zen.spamhaus.test")]
    assert refused.status == "refused" and "public or open resolver" in refused.reason
    assert got[("203.0.113.9", "zen.spamhaus.test")].status == "clean"
    assert got[(V6, "zen.spamhaus.test")].status == "listed"  # by nibbles
    assert all(got[(a, "bl.plain.test")].status == "clean" for a in ("203.0.113.7", "203.0.113.9"))
    assert got[("bad.example", "dbl.spamhaus.test")].status == "listed"
    assert "spam domain" in got[("bad.example", "dbl.spamhaus.test")].reason


def test_findings_say_refused_is_a_resolver_problem(nsd: Nsd) -> None:
    fs = findings(_run(nsd, ["203.0.113.7", "203.0.113.8", "203.0.113.9"], "good.example"))
    by_status: dict[str, list[str]] = {}
    for f in fs:
        by_status.setdefault(f.status, []).append(f.summary)
    assert by_status["fail"] == ["203.0.113.7 is listed on zen.spamhaus.test (127.0.0.3)"]
    (warn,) = by_status["warn"]
    assert "refused to answer" in warn and "not a listing" in warn
    assert any("203.0.113.9 is on none of 2 lists" in s for s in by_status["ok"])
    assert any("good.example is on none of 1 list " in s for s in by_status["ok"])
    refused = next(f for f in fs if f.status == "warn")
    assert "DQS" in refused.detail and "resolver of your own" in refused.detail


def test_a_resolver_that_rewrites_nxdomain_is_not_a_listing(nsd: Nsd) -> None:
    (li,) = _run(nsd, ["203.0.113.9"], "", parse_lists(["rewrite.test"]))
    assert li.status == "error" and "rewrites NXDOMAIN" in li.reason


def test_silent_nameserver_is_a_timeout_not_clean(tmp_path: Path) -> None:
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        (li,) = asyncio.run(
            check_listings(
                Resolver(f"127.0.0.1:{port}", timeout=0.3, tries=1),
                ["203.0.113.9"],
                "",
                parse_lists(["zen.spamhaus.test"]),
            )
        )
    finally:
        silent.close()
    assert li.status == "timeout"
    (f,) = findings([li])
    assert f.status == "timeout"


def test_names_and_public_addresses() -> None:
    assert reversed_name("203.0.113.7", "zen.spamhaus.org") == "7.113.0.203.zen.spamhaus.org"
    assert reversed_name("::ffff:203.0.113.7", "z.test") == "7.113.0.203.z.test"
    assert reversed_name("2001:db8::25", "z.test").startswith("5.2.0.0.0.0.0.0") and reversed_name(
        "2001:db8::25", "z.test"
    ).endswith("8.b.d.0.1.0.0.2.z.test")
    assert public(["127.0.0.1", "10.1.2.3", "8.8.4.4", "2606:4700::1111", "fe80::1%eth0", "bogus", "8.8.4.4"]) == [
        "8.8.4.4",
        "2606:4700::1111",
    ]
    assert [b.zone for b in parse_lists(["zen.spamhaus.org", "domain:dbl.spamhaus.org", "bad:kind", ""])] == [
        "zen.spamhaus.org",
        "dbl.spamhaus.org",
    ]


def test_check_cli_reputation_diff_and_save(nsd: Nsd, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "mailtui").mkdir()
    (tmp_path / "mailtui" / "config.toml").write_text(
        '[dns]\nblocklists = ["zen.spamhaus.test", "bl.plain.test", "domain:dbl.spamhaus.test"]\n'
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    last = tmp_path / "last.json"
    argv = [
        sys.executable,
        "-m",
        "mailtui",
        "check",
        "bad.example",
        "--nameserver",
        nsd.nameserver,
        "--no-probes",
        "--deadline",
        "10",
        "--blocklists",
        "--send-address",
        "203.0.113.7",
        "--send-address",
        "203.0.113.8",
    ]
    first = subprocess.run([*argv, "--json", "--save", str(last)], capture_output=True, text=True, timeout=60, env=env)
    data = json.loads(first.stdout)
    reputation = {c["summary"] for c in data["checks"] if c["group"] == "Reputation"}
    assert "203.0.113.7 is listed on zen.spamhaus.test (127.0.0.3)" in reputation
    assert any("refused to answer" in s for s in reputation)
    assert any(s.startswith("bad.example is listed on dbl.spamhaus.test") for s in reputation)
    assert json.loads(last.read_text())["checks"] == data["checks"]
    again = subprocess.run([*argv, "--diff", str(last)], capture_output=True, text=True, timeout=60, env=env)
    assert again.stdout == "" and again.returncode == first.returncode  # nothing changed: cron stays quiet
    old = json.loads(last.read_text())
    old["checks"] = [c for c in old["checks"] if not c["id"].startswith("blocklist.listed")]
    last.write_text(json.dumps(old))
    changed = subprocess.run([*argv, "--diff", str(last)], capture_output=True, text=True, timeout=60, env=env)
    assert sorted(changed.stdout.splitlines()) == [
        "+ blocklist.listed.dbl.spamhaus.test: fail: bad.example is listed on dbl.spamhaus.test (127.0.1.2)",
        "+ blocklist.listed.zen.spamhaus.test: fail: 203.0.113.7 is listed on zen.spamhaus.test (127.0.0.3)",
    ]
