"""State shared by the checks of one run: options, resolver, HTTP client, findings, service map."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailtui.dns.clientconfig import ServerEntry
from mailtui.dns.model import Finding
from mailtui.dns.probe import ProbeResult
from mailtui.dns.resolver import NODATA, NXDOMAIN, TIMEOUT, Lookup, Resolver, to_name
from mailtui.dns.silent import answered, silent_nameserver
from mailtui.dns.web import Web, make_ssl_context
from mailtui.settings import Settings

DEFAULT_SELECTORS = ("default",)


@dataclass
class CheckOptions:
    domain: str
    email: str = ""
    nameserver: str = ""
    selectors: tuple[str, ...] = DEFAULT_SELECTORS
    ca_file: str = ""
    timeout: float = 3.0  # one DNS query / connect / read
    deadline: float = 25.0  # the whole run
    probes: bool = True
    postfix_dir: str = ""
    dovecot_config: str = ""
    #: addresses the checks may connect to (HTTP and probes); None allows all. The tests allow
    #: loopback only, so a zone naming a public address can never make them leave the machine.
    allow_connect: Callable[[str], bool] | None = None
    #: DNS blocklists to look our sending addresses and the domain up in ([dns] blocklists,
    #: ``check --blocklists``); empty: not asked
    blocklists: tuple[str, ...] = ()
    #: the addresses we send from; empty: found from postconf, the interfaces and myhostname
    send_addresses: tuple[str, ...] = ()


@dataclass
class LocalView:
    """What this machine's configuration says (for the consistency check)."""

    addresses: set[str] = field(default_factory=set)
    listeners: list[Any] = field(default_factory=list)  # mailtui.system.listeners.Expected
    dovecot: dict[str, str] = field(default_factory=dict)
    postfix: dict[str, str] = field(default_factory=dict)


def lookup_status(lookup: Lookup) -> str:
    """The finding status of a lookup that failed for a reason other than absence."""
    return "timeout" if lookup.status == TIMEOUT else "error"


class CheckContext:
    def __init__(self, options: CheckOptions, on_finding: Callable[[Finding], None] | None = None) -> None:
        self.options = options
        self.domain = to_name(options.domain).to_text(omit_final_dot=True)
        self.unicode_domain = to_name(options.domain).to_unicode(omit_final_dot=True)
        self.email = options.email or f"postmaster@{self.domain}"
        self.resolver = Resolver(options.nameserver, timeout=options.timeout)
        self.ssl_context: ssl.SSLContext = make_ssl_context(options.ca_file)
        self.web = Web(self.resolver, self.ssl_context, timeout=options.timeout, allow=options.allow_connect)
        self.findings: list[Finding] = []
        self._on_finding = on_finding
        # failures posted while the name server has answered nothing yet: if it never does,
        # they become one "does not answer" finding (mailtui/dns/silent.py)
        self._held: list[Finding] | None = []
        self.services: list[ServerEntry] = []  # everything advertised (SRV, autoconfig, autodiscover)
        self.probes: dict[tuple[str, int, str], asyncio.Future[ProbeResult]] = {}
        self.mx_hosts: list[str] = []
        self.mx_done = asyncio.Event()
        self.local: LocalView | None = None
        self.started = time.monotonic()

    def add(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        if self._held is not None:
            if not answered(self.resolver.results()):
                self._held.append(finding)
                return finding
            self._release()
        if self._on_finding is not None:
            self._on_finding(finding)
        return finding

    def _release(self) -> None:
        held, self._held = self._held or [], None
        if self._on_finding is not None:
            for finding in held:
                self._on_finding(finding)

    def finish(self) -> list[Finding]:
        """The run's findings: one "name server does not answer" instead of all of them when no
        lookup got an answer; posts whatever was held back."""
        if self._held is not None:
            results = self.resolver.results()
            silent = silent_nameserver(
                results, len(self.resolver.asked()) - len(results), self.resolver.describe(), self.domain, self.findings
            )
            if silent is not None:
                self._held = None
                self.findings = [silent]
                if self._on_finding is not None:
                    self._on_finding(silent)
                return self.findings
            self._release()
        return self.findings

    async def answer(
        self, fid: str, group: str, label: str, name: Any, rdtype: str, absent: tuple[str, ...] | None = None
    ) -> Lookup | None:
        """The answer to one lookup, or None once the reason there is none is reported.

        A failed lookup (SERVFAIL, REFUSED, timeout, ...) is reported as ``label: why``. For
        NXDOMAIN/NODATA, ``absent`` is the finding's (status, summary[, detail]); without it the
        empty lookup is returned, for checks where "no such record" is judged with the records.
        """
        found = await self.resolver.query(name, rdtype)
        if found.status in (NXDOMAIN, NODATA):
            if absent is None:
                return found
            self.add(Finding(fid, group, absent[0], absent[1], absent[2] if len(absent) > 2 else ""))
            return None
        if not found.ok:
            self.add(Finding(fid, group, lookup_status(found), f"{label}: {found.describe()}"))
            return None
        return found

    def advertise(self, entry: ServerEntry) -> None:
        if entry not in self.services:
            self.services.append(entry)

    async def probe(self, host: str, port: int, protocol: str, mode: str) -> ProbeResult:
        """One live probe per (host, port, mode), shared by every check that needs it."""
        key = (host.lower(), port, mode)
        fut = self.probes.get(key)
        if fut is None:
            fut = self.probes[key] = asyncio.ensure_future(self._probe(host, port, protocol, mode))
        return await asyncio.shield(fut)

    async def _probe(self, host: str, port: int, protocol: str, mode: str) -> ProbeResult:
        from mailtui.dns.probe import probe

        addresses, lookups = await self.resolver.addresses(host)
        if not addresses:
            failed = ProbeResult(host, "", port, protocol, mode)
            failed.error = f"no address: {lookups[0].describe()}"
            return failed
        address = sorted(addresses, key=lambda a: ":" in a)[0]
        if self.options.allow_connect is not None and not self.options.allow_connect(address):
            refused = ProbeResult(host, address, port, protocol, mode)
            refused.error = f"not connecting to {address}: outside the allowed addresses"
            return refused
        return await asyncio.to_thread(
            probe, host, address, port, protocol, mode, self.options.timeout, self.ssl_context
        )

    async def close(self) -> None:
        await self.web.close()


def default_domain(settings: Settings) -> str:
    """[dns] domain, else Postfix's mydomain, else "" (the pane then asks)."""
    if settings.dns.domain:
        return settings.dns.domain
    from mailtui.mta.postconf import PostfixConfig

    postfix = PostfixConfig(settings.postfix.config_dir)
    return postfix.values(["mydomain"]).get("mydomain", "") if postfix.available else ""


def options_from_settings(settings: Settings, domain: str, **kw: Any) -> CheckOptions:
    nameserver = kw.pop("nameserver", None) or settings.dns.nameserver
    kw.setdefault("blocklists", settings.dns.blocklists)
    return CheckOptions(
        domain=domain,
        nameserver=nameserver,
        ca_file=settings.dns.ca_file,
        postfix_dir=settings.postfix.config_dir,
        dovecot_config=settings.dovecot.config,
        **kw,
    )
