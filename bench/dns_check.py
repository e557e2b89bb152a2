"""DNS check wall time against its slowest single lookup, and against the same lookups in a row.

Needs root and the Debian packages of the rig (NSD, Postfix, Dovecot): it starts the DNS lab of
the tests (tests/rig/dnslab.py) and puts a UDP proxy in front of NSD that adds a realistic
round trip to every query (``--rtt``) and makes one name slow (``--slow``, the DMARC record).
The full check of ``good.test`` (every lookup, the autoconfig/autodiscover/MTA-STS fetches
and the TLS probes of the lab's mail ports) is then compared with its slowest single lookup,
and with the same lookups asked one after another.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import dns.message

SLOW_NAME = "_dmarc.good.test."


class DelayProxy:
    """UDP forwarder to NSD that delays each answer: ``rtt`` for every name, ``slow`` for one."""

    def __init__(self, upstream: tuple[str, int], rtt: float, slow: float) -> None:
        self.upstream, self.rtt, self.slow = upstream, rtt, slow
        self.port = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        proxy = self

        class Front(asyncio.DatagramProtocol):
            def connection_made(self, transport) -> None:
                self.transport = transport
                self.pending: set[asyncio.Future[None]] = set()

            def datagram_received(self, data: bytes, addr) -> None:
                task = asyncio.ensure_future(self.answer(data, addr))
                self.pending.add(task)  # a task only weakly referenced by the loop may be collected
                task.add_done_callback(self.pending.discard)

            async def answer(self, data: bytes, addr) -> None:
                name = dns.message.from_wire(data).question[0].name.to_text()
                await asyncio.sleep(proxy.slow if name.lower() == SLOW_NAME else proxy.rtt)
                loop = asyncio.get_running_loop()
                fut = loop.create_future()

                class Back(asyncio.DatagramProtocol):
                    def datagram_received(self, reply: bytes, _addr) -> None:
                        if not fut.done():
                            fut.set_result(reply)

                transport, _ = await loop.create_datagram_endpoint(Back, remote_addr=proxy.upstream)
                transport.sendto(data)
                try:
                    self.transport.sendto(await asyncio.wait_for(fut, 5), addr)
                finally:
                    transport.close()

        transport, _ = self.loop.run_until_complete(
            self.loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", 0))
        )
        self.port = transport.get_extra_info("sockname")[1]
        ready.set()
        self.loop.run_forever()


def measure(rtt: float = 0.02, slow: float = 0.5, runs: int = 5) -> dict[str, float]:
    import ipaddress

    from mailtui.dns.context import CheckOptions
    from mailtui.dns.resolver import Resolver
    from mailtui.dns.run import check_domain
    from tests.rig.dnslab import start_dnslab

    base = Path(tempfile.mkdtemp(prefix="mailtui-bench-dns-"))
    base.chmod(0o755)
    lab = start_dnslab(base)
    try:
        host, port = lab.nameserver.split(":")
        proxy = DelayProxy((host, int(port)), rtt, slow)
        options = CheckOptions(
            domain="good.test",
            nameserver=f"127.0.0.1:{proxy.port}",
            ca_file=str(lab.ca_file),
            postfix_dir=str(lab.postfix.conf_dir),
            dovecot_config=str(lab.dovecot.conf),
            allow_connect=lambda a: ipaddress.ip_address(a).is_loopback,
        )
        walls, slowest, lookups, bad = [], [], [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            report = check_domain(options)
            walls.append(time.perf_counter() - t0)
            slowest.append(report.slowest_lookup)
            lookups = report.lookups
            bad += sum(f.status in ("fail", "timeout", "error") for f in report.findings)

        async def one_after_another() -> float:
            resolver = Resolver(f"127.0.0.1:{proxy.port}")
            t0 = time.perf_counter()
            for name, rdtype in lookups:
                await resolver.query(name, rdtype)
            return time.perf_counter() - t0

        sequential = asyncio.run(one_after_another())
    finally:
        lab.stop()
    wall = statistics.median(walls)
    return {
        "wall": wall,
        "slowest": statistics.median(slowest),
        "sequential": sequential,
        "lookups": len(lookups),
        "rtt": rtt,
        "slow": slow,
        "runs": runs,
        "bad_findings": bad,
    }


def section(m: dict[str, float]) -> str:
    return f"""## DNS & autoconfig check

`mailtui check good.test` against the DNS lab (NSD, the HTTPS server with its throwaway CA,
Postfix and Dovecot on 127.0.0.25), through a proxy that adds {m["rtt"] * 1000:.0f} ms to every
DNS answer and {m["slow"] * 1000:.0f} ms to one (`{SLOW_NAME}`). The full check makes
{m["lookups"]} distinct lookups, 4 autoconfig fetches, 3 autodiscover requests, the MTA-STS
fetch and the TLS probes of every advertised port. Median of {m["runs"]} runs
({m["bad_findings"]} failed findings over all runs: the lab domain is healthy).

| measure | time | ratio |
|---|---|---|
| slowest single lookup | {m["slowest"] * 1000:.0f} ms | 1.00 |
| full check, everything concurrent | {m["wall"] * 1000:.0f} ms | {m["wall"] / m["slowest"]:.2f} × the slowest lookup |
| the same lookups one after another (no HTTP, no probes) | {m["sequential"] * 1000:.0f} ms | {m["sequential"] / m["wall"]:.1f} × the full check |

Target (issue 7): the full check within 1.5 × its slowest lookup.
"""


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(section(measure()))
