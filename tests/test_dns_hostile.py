"""Hostile name servers: alias loops and endless chains end in a clear error, every check ends
by its deadline. The server is a real UDP/TCP peer on loopback (tests/fake_dns.py) answering
crafted messages, not a mock of the resolver."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.name
import pytest

from mailtui.dns.resolver import ERROR, MAX_CNAME_HOPS, OK, Resolver
from tests.fake_dns import FakeDns, qname, response

REPO = Path(__file__).resolve().parent.parent
Msg = dns.message.Message


def _one_answer(*records: tuple[str, str, str]) -> Callable[[Msg], Msg]:
    """Every query gets the same answer section (the whole chain in one answer)."""
    return lambda q: response(q, *records)


def _per_name(table: dict[str, list[tuple[str, str, str]]]) -> Callable[[Msg], Msg]:
    """Each name gets only its own records: the resolver has to ask again for every hop."""

    def answer(q: Msg) -> Msg:
        name = qname(q).to_text().lower()
        return response(q, *table.get(name, []))

    return answer


def _endless(q: Msg) -> Msg:
    """hN.endless.test -> hN+1.endless.test, forever, one hop per answer."""
    first = qname(q).labels[0].decode()
    n = int(first[1:]) if first[1:].isdigit() else 0
    return response(q, (qname(q).to_text(), "CNAME", f"h{n + 1}.endless.test."))


def _any_name_2_cycle(q: Msg) -> Msg:
    """Any name N: N -> other.N -> N, one hop per answer (so every check's name loops)."""
    name = qname(q)
    if name.labels[0].lower() == b"other":
        return response(q, (name.to_text(), "CNAME", name.parent().to_text()))
    return response(q, (name.to_text(), "CNAME", "other." + name.to_text()))


def _any_name_dname_growing(q: Msg) -> Msg:
    """Any name's parent is a DNAME to y.<parent>: example.org -> example.y.org -> example.y.y.org ..."""
    parent = qname(q).parent()
    return response(q, (parent.to_text(), "DNAME", "y." + parent.to_text()))


def _dname_growing(q: Msg) -> Msg:
    """x.test DNAME y.x.test: every substitution makes a new, longer name under x.test."""
    return response(q, ("x.test.", "DNAME", "y.x.test."))


def _chain(n: int, end: str = "192.0.2.1") -> list[tuple[str, str, str]]:
    names = [f"c{i}.chain.test." for i in range(n + 1)]
    return [*((names[i], "CNAME", names[i + 1]) for i in range(n)), (names[n], "A", end)]


LOOPS: dict[str, tuple[str, Callable[[Msg], Msg]]] = {
    # name asked, server behaviour
    "self-cname": ("example.org", _one_answer(("example.org.", "CNAME", "example.org."))),
    "self-cname-other-case": ("Example.ORG", _one_answer(("EXAMPLE.org.", "CNAME", "example.ORG."))),
    "self-cname-asked-again": ("example.org", _per_name({"example.org.": [("example.org.", "CNAME", "example.org.")]})),
    "2-cycle-one-answer": ("a.test", _one_answer(("a.test.", "CNAME", "b.test."), ("b.test.", "CNAME", "a.test."))),
    "2-cycle-across-queries": (
        "a.test",
        _per_name({"a.test.": [("a.test.", "CNAME", "b.test.")], "b.test.": [("b.test.", "CNAME", "a.test.")]}),
    ),
    "3-cycle-one-answer": (
        "a.test",
        _one_answer(("a.test.", "CNAME", "b.test."), ("b.test.", "CNAME", "c.test."), ("c.test.", "CNAME", "a.test.")),
    ),
    "3-cycle-across-queries": (
        "a.test",
        _per_name(
            {
                "a.test.": [("a.test.", "CNAME", "b.test.")],
                "b.test.": [("b.test.", "CNAME", "c.test.")],
                "c.test.": [("c.test.", "CNAME", "a.test.")],
            }
        ),
    ),
    "cycle-after-a-tail": (
        "t.test",
        _one_answer(("t.test.", "CNAME", "a.test."), ("a.test.", "CNAME", "b.test."), ("b.test.", "CNAME", "a.test.")),
    ),
    "dname-cycle-one-answer": (
        "www.a.test",
        _one_answer(("a.test.", "DNAME", "b.test."), ("b.test.", "DNAME", "a.test.")),
    ),
    "dname-cycle-across-queries": (
        "www.a.test",
        _per_name({"www.a.test.": [("a.test.", "DNAME", "b.test.")], "www.b.test.": [("b.test.", "DNAME", "a.test.")]}),
    ),
    "dname-then-cname-back": (
        "www.a.test",
        _per_name(
            {"www.a.test.": [("a.test.", "DNAME", "b.test.")], "www.b.test.": [("www.b.test.", "CNAME", "www.a.test.")]}
        ),
    ),
    "dname-growing": ("q.x.test", _dname_growing),
    "endless-across-queries": ("h0.endless.test", _endless),
    "long-chain-one-answer": ("c0.chain.test", _one_answer(*_chain(40))),
    "one-too-many": ("c0.chain.test", _one_answer(*_chain(MAX_CNAME_HOPS + 1))),
}


def _lookup(server: FakeDns, name: str, rdtype: str = "A") -> tuple[object, float]:
    resolver = Resolver(server.nameserver, timeout=1.0, tries=1)
    started = time.monotonic()
    lookup = asyncio.run(asyncio.wait_for(resolver.query(name, rdtype), 20))
    return lookup, time.monotonic() - started


@pytest.mark.parametrize("case", sorted(LOOPS))
@pytest.mark.parametrize("rdtype", ["A", "MX", "TXT"])
def test_alias_loops_and_endless_chains_end_with_an_error(case: str, rdtype: str) -> None:
    name, behaviour = LOOPS[case]
    with FakeDns(behaviour) as server:
        lookup, elapsed = _lookup(server, name, rdtype)
        asked = server.queries
    assert lookup.status == ERROR, (case, lookup)
    assert (
        ("loop" in lookup.error) or (f"longer than {MAX_CNAME_HOPS}" in lookup.error) or ("too long" in lookup.error)
    ), lookup.error
    assert len(lookup.cnames) <= MAX_CNAME_HOPS
    assert asked <= MAX_CNAME_HOPS + 1  # one query per alias at most, never a spin
    assert elapsed < 10  # answers come at once: no timeout was waited for


@pytest.mark.parametrize("hops", [0, 1, 3, MAX_CNAME_HOPS])
@pytest.mark.parametrize("split", [False, True])
def test_chains_within_the_cap_still_resolve(hops: int, split: bool) -> None:
    records = _chain(hops)
    if split:  # every hop in its own answer
        table: dict[str, list[tuple[str, str, str]]] = {}
        for r in records:
            table.setdefault(r[0], []).append(r)
        behaviour = _per_name(table)
    else:
        behaviour = _one_answer(*records)
    with FakeDns(behaviour) as server:
        lookup, _ = _lookup(server, "c0.chain.test")
    assert lookup.status == OK, lookup
    assert [r.address for r in lookup.records] == ["192.0.2.1"]
    assert len(lookup.cnames) == hops


def test_dname_without_synthesized_cname_is_followed() -> None:
    behaviour = _per_name(
        {"www.a.test.": [("a.test.", "DNAME", "b.test.")], "www.b.test.": [("www.b.test.", "A", "192.0.2.7")]}
    )
    with FakeDns(behaviour) as server:
        lookup, _ = _lookup(server, "www.a.test")
    assert lookup.status == OK and lookup.cnames == ["www.b.test"]


def _mailtui(*args: str, timeout: float, tmp: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp), "NO_COLOR": "1"}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mailtui", *args], check=False, capture_output=True, timeout=timeout, cwd=REPO, env=env
    )
    return proc, time.monotonic() - started


@pytest.mark.parametrize("case", ["self-cname", "any-name-2-cycle", "any-name-dname-growing", "endless-across-queries"])
def test_cli_check_against_a_looping_server_ends_and_says_loop(case: str, tmp_path: Path) -> None:
    # the command: every name the check asks about is an alias loop
    behaviour = {"any-name-2-cycle": _any_name_2_cycle, "any-name-dname-growing": _any_name_dname_growing}.get(
        case
    ) or LOOPS[case][1]
    with FakeDns(behaviour) as server:
        proc, elapsed = _mailtui(
            "check",
            "--json",
            "--deadline",
            "5",
            "--nameserver",
            server.nameserver,
            "--no-probes",
            "example.org",
            timeout=30,
            tmp=tmp_path,
        )
    assert elapsed < 5 + 4, elapsed
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 4
    data = json.loads(proc.stdout)
    mx = next(c for c in data["checks"] if c["id"] == "mx")
    assert mx["status"] == "error" and ("loop" in mx["summary"] or "longer than" in mx["summary"]), mx


@pytest.mark.parametrize("server_kind", ["silent", "tcp-trickle"])
@pytest.mark.parametrize("deadline", [1.5, 3])
def test_cli_check_deadline_holds_whatever_the_server_does(server_kind: str, deadline: float, tmp_path: Path) -> None:
    if server_kind == "silent":
        server = FakeDns(lambda q: None)
    else:  # every UDP answer is truncated; the TCP one comes one byte a second
        server = FakeDns(_one_answer(("example.org.", "A", "192.0.2.1")), trickle=1.0, truncate_udp=True)
    with server:
        proc, elapsed = _mailtui(
            "check",
            "--json",
            "--deadline",
            str(deadline),
            "--nameserver",
            server.nameserver,
            "--no-probes",
            "example.org",
            timeout=60,
            tmp=tmp_path,
        )
    assert b"Traceback" not in proc.stderr
    assert elapsed < deadline + 4, elapsed  # start-up plus the deadline, never the servers' pace
    data = json.loads(proc.stdout)
    # a server that answers nothing at all is one "name server does not answer" finding (issue 15);
    # either way the run ends at its deadline and says why
    assert any(c["status"] == "timeout" or c["id"] == "nameserver" for c in data["checks"])


def test_loop_name_chain_is_named_in_the_error() -> None:
    with FakeDns(LOOPS["3-cycle-one-answer"][1]) as server:
        lookup, _ = _lookup(server, "a.test")
    assert lookup.error == "CNAME/DNAME loop: a.test -> b.test -> c.test -> a.test"
    assert isinstance(dns.name.from_text("a.test"), dns.name.Name)
