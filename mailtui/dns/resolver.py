"""The one resolver every DNS lookup, HTTP fetch and TCP probe of the checks goes through.

Queries are sent as a stub resolver would (recursion desired) to the configured name server
(``--nameserver HOST[:PORT]`` or ``[dns] nameserver``), else to the first servers of
/etc/resolv.conf. The answer's rcode is interpreted here rather than by dnspython's
high-level resolver, so NXDOMAIN, NODATA, SERVFAIL, REFUSED and timeout stay apart.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.flags
import dns.inet
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver

MAX_CNAME_HOPS = 8  # aliases (CNAME or DNAME) followed in one lookup, in answers and across queries

# statuses of a lookup
OK, NXDOMAIN, NODATA, SERVFAIL, REFUSED, TIMEOUT, ERROR = (
    "ok",
    "nxdomain",
    "nodata",
    "servfail",
    "refused",
    "timeout",
    "error",
)

DESCRIBE = {
    NXDOMAIN: "does not exist (NXDOMAIN)",
    NODATA: "exists but has no such record (NODATA)",
    SERVFAIL: "the name server failed (SERVFAIL)",
    REFUSED: "the name server refused to answer (REFUSED)",
    TIMEOUT: "no answer in time (timeout)",
}


@dataclass
class Lookup:
    name: str
    rdtype: str
    status: str
    records: list[Any] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)  # the alias chain followed, in order
    error: str = ""
    elapsed: float = 0.0
    tcp: bool = False  # the UDP answer was truncated (TC) and the whole one came over TCP

    @property
    def ok(self) -> bool:
        return self.status == OK

    def describe(self) -> str:
        if self.status == ERROR:
            return f"{self.name} {self.rdtype}: {self.error}"
        return f"{self.name} {self.rdtype}: {DESCRIBE.get(self.status, self.status)}"

    def texts(self) -> list[str]:
        """TXT records with their 255-byte strings joined (as RFC 7208/6376 read them)."""
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self.records if hasattr(r, "strings")]


def parse_nameserver(text: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [V6]:PORT or a bare IPv6 address -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 53
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, 53


def to_name(domain: str) -> dns.name.Name:
    """An absolute DNS name from user input; IDN domains become their xn-- form."""
    domain = domain.strip().rstrip(".")
    if not domain:
        raise ValueError("empty domain name")
    try:
        return dns.name.from_unicode(domain + ".")
    except (dns.exception.DNSException, UnicodeError) as exc:
        raise ValueError(f"{domain!r} is not a valid domain name: {exc}") from None


def _text(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True)


def _chain(start: dns.name.Name, cnames: list[str]) -> str:
    return " -> ".join([_text(start), *cnames])


def _alias_target(response: Any, name: dns.name.Name) -> tuple[dns.name.Name | None, str]:
    """Where the answer says ``name`` is an alias of: its CNAME, else a DNAME above it (RFC 6672
    substitution, for servers that send the DNAME without the synthesized CNAME). (None, "")
    when the answer says nothing; (None, problem) when the substitution is impossible."""
    alias = response.get_rrset(response.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
    if alias is not None and len(alias):
        return alias[0].target, ""
    for rrset in response.answer:
        if rrset.rdtype != dns.rdatatype.DNAME or rrset.rdclass != dns.rdataclass.IN or not len(rrset):
            continue
        if name.is_subdomain(rrset.name) and name != rrset.name:
            try:
                return name.relativize(rrset.name).derelativize(rrset[0].target), ""
            except dns.name.NameTooLong:
                return None, f"DNAME {_text(rrset.name)} -> {_text(rrset[0].target)} makes {_text(name)} too long"
    return None, ""


class _TcpAfterTruncation(Exception):
    """The UDP answer was truncated and the TCP retry failed."""


class Resolver:
    def __init__(self, nameserver: str = "", timeout: float = 3.0, tries: int = 2) -> None:
        if nameserver:
            self.servers = [parse_nameserver(nameserver)]
        else:
            system = dns.resolver.Resolver(configure=True)
            self.servers = [(str(s), 53) for s in system.nameservers[:3]]
        if not self.servers:
            raise ValueError("no name server: /etc/resolv.conf lists none; pass --nameserver")
        self.timeout = timeout
        self.tries = tries
        self._cache: dict[tuple[str, str], asyncio.Future[Lookup]] = {}
        self.count = 0  # queries sent, for the benchmark and the report
        self.slowest = 0.0  # the longest single lookup, for the benchmark

    def describe(self) -> str:
        return ", ".join(f"{h}:{p}" if p != 53 else h for h, p in self.servers)

    async def query(self, name: str | dns.name.Name, rdtype: str) -> Lookup:
        """One lookup, memoized for the life of this resolver (one check run)."""
        key = (str(name).lower(), rdtype)
        fut = self._cache.get(key)
        if fut is None:
            fut = self._cache[key] = asyncio.ensure_future(self._lookup(name, rdtype))
        return await asyncio.shield(fut)

    async def _lookup(self, name: str | dns.name.Name, rdtype: str) -> Lookup:
        started = time.monotonic()
        try:
            qname = name if isinstance(name, dns.name.Name) else to_name(name)
        except (ValueError, dns.exception.DNSException) as exc:
            return Lookup(str(name), rdtype, ERROR, error=f"not a valid name: {exc}")
        result = Lookup(qname.to_text(omit_final_dot=True), rdtype, ERROR)
        want = dns.rdatatype.RdataType.make(rdtype)
        current = qname
        seen = {qname}
        # every follow-up query needs a new alias, and aliases are capped: this ends
        while True:
            response, status = await self._ask(current, want, result)
            if response is None:
                result.status = status
                break
            rrset = response.get_rrset(response.answer, current, dns.rdataclass.IN, want)
            chased = current
            # follow the alias chain inside this answer (recursive resolvers send all of it);
            # a hostile or broken server can send a CNAME to itself or a cycle: every name is
            # visited once and the chain is capped, so the loop ends whatever the answer says
            problem = ""
            while rrset is None and want != dns.rdatatype.CNAME:
                target, problem = _alias_target(response, chased)
                if target is None:
                    break
                if target in seen:
                    problem = f"CNAME/DNAME loop: {_chain(qname, result.cnames)} -> {_text(target)}"
                    break
                if len(result.cnames) >= MAX_CNAME_HOPS:
                    problem = f"CNAME/DNAME chain longer than {MAX_CNAME_HOPS} aliases"
                    break
                seen.add(target)
                chased = target
                result.cnames.append(_text(chased))
                rrset = response.get_rrset(response.answer, chased, dns.rdataclass.IN, want)
            if problem:
                result.status, result.error = ERROR, problem
                break
            if rrset is not None:
                result.status, result.records = OK, list(rrset)
                break
            if chased != current:  # the chain leaves this answer: ask for the target itself
                current = chased
                continue
            result.status = NXDOMAIN if response.rcode() == dns.rcode.NXDOMAIN else NODATA
            break
        result.elapsed = time.monotonic() - started
        self.slowest = max(self.slowest, result.elapsed)
        return result

    async def _ask(self, qname: dns.name.Name, want: dns.rdatatype.RdataType, result: Lookup) -> tuple[Any, str]:
        statuses = []
        for _ in range(self.tries):
            for host, port in self.servers:
                # EDNS with a 1232-byte buffer (the DNS flag day value): DKIM keys fit without TCP
                query = dns.message.make_query(qname, want, use_edns=0, payload=1232)
                query.flags |= dns.flags.RD
                self.count += 1
                try:
                    response = await self._exchange(query, host, port, result)
                except _TcpAfterTruncation as exc:
                    statuses.append(ERROR)
                    result.error = str(exc)
                    continue
                except dns.exception.Timeout:
                    statuses.append(TIMEOUT)
                    continue
                except (OSError, dns.exception.DNSException) as exc:
                    statuses.append(ERROR)
                    result.error = f"{host}:{port}: {exc}"
                    continue
                rcode = response.rcode()
                if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return response, OK
                statuses.append(
                    SERVFAIL if rcode == dns.rcode.SERVFAIL else REFUSED if rcode == dns.rcode.REFUSED else ERROR
                )
                if statuses[-1] == ERROR:
                    result.error = f"{host}:{port} answered {dns.rcode.to_text(rcode)}"
                elif statuses[-1] == REFUSED:
                    break  # asking the same server again will not change its mind
            if statuses and statuses[-1] == REFUSED:
                break
        # report the most telling failure: an answer (REFUSED/SERVFAIL) beats silence
        for status in (REFUSED, SERVFAIL, ERROR, TIMEOUT):
            if status in statuses:
                return None, status
        return None, TIMEOUT

    async def _exchange(self, query: dns.message.Message, host: str, port: int, result: Lookup) -> Any:
        """UDP first; a truncated answer (TC) is asked again over TCP, as RFC 7766 wants."""
        try:
            return await self._udp(query, host, port)
        except dns.message.Truncated as exc:
            # random bytes have the TC bit half the time: only a reply to this query is truncated
            partial = exc.kwargs.get("message")
            if partial is None or not query.is_response(partial):
                raise dns.exception.DNSException(  # type: ignore[no-untyped-call]
                    "the reply is not a DNS answer to the query (garbage)"
                ) from None
        except ConnectionRefusedError:
            # ICMP port unreachable on the connected socket: nothing listens there
            raise dns.exception.DNSException(  # type: ignore[no-untyped-call]
                "nothing listens there (connection refused)"
            ) from None
        result.tcp = True
        try:
            return await dns.asyncquery.tcp(query, host, timeout=self.timeout, port=port)
        except (OSError, EOFError, dns.exception.DNSException) as exc:
            why = "no answer in time" if isinstance(exc, dns.exception.Timeout) else (str(exc) or type(exc).__name__)
            raise _TcpAfterTruncation(
                f"{host}:{port}: the answer was too large for UDP (truncated, TC) "
                f"and asking again over TCP failed: {why}"
            ) from None

    def results(self) -> list[Lookup]:
        """Every finished lookup, in first-asked order (for the "server does not answer" check)."""
        return [f.result() for f in self._cache.values() if f.done() and not f.cancelled() and f.exception() is None]

    async def _udp(self, query: dns.message.Message, host: str, port: int) -> Any:
        """Over a connected UDP socket, so an ICMP port-unreachable is an error, not a timeout."""
        af = dns.inet.af_for_address(host)
        backend = dns.asyncbackend.get_default_backend()
        sock = await backend.make_socket(af, socket.SOCK_DGRAM, 0, None, (host, port))  # type: ignore[no-untyped-call]
        async with sock:
            return await dns.asyncquery.udp(
                query, host, timeout=self.timeout, port=port, sock=sock, raise_on_truncation=True
            )

    def asked(self) -> list[tuple[str, str]]:
        """Every (name, type) looked up by this resolver, in first-asked order."""
        return list(self._cache)

    async def addresses(self, host: str) -> tuple[list[str], list[Lookup]]:
        """A and AAAA of a host name, asked together."""
        a, aaaa = await asyncio.gather(self.query(host, "A"), self.query(host, "AAAA"))
        return [r.address for r in a.records] + [r.address for r in aaaa.records], [a, aaaa]
