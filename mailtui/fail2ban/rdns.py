"""Reverse DNS names of banned IPs, looked up in the background and cached.

One batch per refresh, all PTR lookups concurrent through the checks' resolver (the
configured name server), bounded by a time budget so a slow resolver only delays names.
"""

from __future__ import annotations

import asyncio
import time

NEGATIVE_TTL = 600.0  # retry names that failed after this long
BATCH = 200
PRUNE_SLACK = 1000  # names of addresses no longer banned kept before the cache is pruned


class ReverseNames:
    def __init__(self, nameserver: str = "", budget: float = 1.5) -> None:
        self.nameserver = nameserver
        self.budget = budget
        self.names: dict[str, str] = {}  # ip -> name ("" when it has none)
        self._failed: dict[str, float] = {}

    def get(self, ip: str) -> str:
        return self.names.get(ip, "")

    def resolve(self, ips: list[str]) -> int:
        """Look up the IPs not known yet (at most BATCH); returns how many were asked.

        ``ips`` are the addresses banned now; names of the others are forgotten once they
        outnumber those, since a server bans thousands of addresses a day and the pane runs
        for weeks. (The UI thread reads ``names`` meanwhile: the dict is replaced, not edited.)
        """
        now = time.monotonic()
        current = dict.fromkeys(ips)
        if len(self.names) + len(self._failed) > 2 * len(current) + PRUNE_SLACK:
            self.names = {ip: name for ip, name in self.names.items() if ip in current}
            self._failed = {ip: at for ip, at in self._failed.items() if ip in current}
        from mailtui.fail2ban.status import is_ip

        for ip in current:
            if ip not in self.names and not is_ip(ip):
                self.names[ip] = ""  # a host name or junk in a ban list has no reverse name to ask for
        todo = [
            ip for ip in current if ip not in self.names and now - self._failed.get(ip, -NEGATIVE_TTL) >= NEGATIVE_TTL
        ][:BATCH]
        if todo:
            asyncio.run(self._lookup(todo))
        return len(todo)

    async def _lookup(self, ips: list[str]) -> None:
        import dns.exception
        import dns.reversename

        from mailtui.dns.resolver import NODATA, NXDOMAIN, Resolver

        resolver = Resolver(self.nameserver, timeout=min(1.0, self.budget), tries=1)

        async def one(ip: str) -> None:
            try:
                lookup = await resolver.query(dns.reversename.from_address(ip), "PTR")
            except (ValueError, dns.exception.DNSException):  # not an address: fail2ban can ban names
                self.names[ip] = ""
                return
            if lookup.ok:
                self.names[ip] = lookup.records[0].target.to_text(omit_final_dot=True)
            elif lookup.status in (NXDOMAIN, NODATA):
                self.names[ip] = ""
            else:
                self._failed[ip] = time.monotonic()

        try:
            await asyncio.wait_for(asyncio.gather(*(one(ip) for ip in ips)), self.budget)
        except asyncio.TimeoutError:
            for ip in ips:
                if ip not in self.names:
                    self._failed[ip] = time.monotonic()
