"""Our own reputation: are the addresses we send from, or our domain, on the common blocklists?

A DNSBL is asked by name: the address reversed (IPv4 by octets, IPv6 by nibbles) under the
list's zone, ``A`` record. NXDOMAIN means not listed; an answer in 127.0.0.0/8 means listed,
and the code says why (the ``TXT`` record often says it in words). Spamhaus answers some
codes that mean *your query was refused*, not *listed*: 127.255.255.252 (a malformed query),
127.255.255.254 (the query came through a public or open resolver, or without a DQS key) and
127.255.255.255 (too many queries). Those are a problem of the resolver this machine uses,
reported with its fix, never as a listing. The same for the domain lists (Spamhaus DBL:
127.0.1.255 refuses IP queries, 127.0.1.x codes list the domain).

Which lists are asked comes from the configuration (``[dns] blocklists``); the addresses from
Postfix (``smtp_bind_address``/``smtp_bind_address6``), this machine's public interfaces and the
addresses of ``myhostname``. Everything goes through the checks' one resolver, under their deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mailtui.dns.model import REPUTATION, Finding
from mailtui.dns.resolver import NODATA, NXDOMAIN, OK, TIMEOUT, Resolver

if TYPE_CHECKING:
    from mailtui.dns.context import CheckContext

GROUP = REPUTATION

#: Spamhaus's "refused" answers (https://www.spamhaus.org/faqs/domain-blocklist/ and DNSBL usage terms)
SPAMHAUS_REFUSED = {
    "127.255.255.252": "the query was malformed (a typing error in the list's name)",
    "127.255.255.254": "the query came through a public or open resolver (or without a DQS key)",
    "127.255.255.255": "this resolver sent too many queries",
    "127.0.1.255": "the list refuses this kind of query (an address asked of a domain list)",
}
SPAMHAUS_ZEN = {
    "127.0.0.2": "SBL: a spam source or spam operation",
    "127.0.0.3": "SBL CSS: a snowshoe spam source",
    "127.0.0.4": "XBL: an infected or exploited machine",
    "127.0.0.5": "XBL",
    "127.0.0.6": "XBL",
    "127.0.0.7": "XBL",
    "127.0.0.9": "DROP: a hijacked or criminal network",
    "127.0.0.10": "PBL (ISP): an address that should not send mail directly",
    "127.0.0.11": "PBL (Spamhaus): an address that should not send mail directly",
}
SPAMHAUS_DBL = {
    "127.0.1.2": "a spam domain",
    "127.0.1.4": "a phishing domain",
    "127.0.1.5": "a malware domain",
    "127.0.1.6": "a botnet command-and-control domain",
    "127.0.1.102": "an abused legitimate spam domain",
    "127.0.1.103": "an abused legitimate redirector",
    "127.0.1.104": "an abused legitimate phishing domain",
    "127.0.1.105": "an abused legitimate malware domain",
    "127.0.1.106": "an abused legitimate botnet C&C",
}

REFUSED_FIX = (
    "Spamhaus answers queries from large public resolvers (8.8.8.8, 1.1.1.1, a provider's "
    "shared resolver) with this code instead of the truth. Check through a resolver of your own "
    "(unbound on this machine, [dns] nameserver = 127.0.0.1) or a Spamhaus DQS key "
    "(list zone <key>.zen.dq.spamhaus.net). The same resolver problem affects Postfix's own "
    "reject_rbl_client checks."
)


@dataclass(frozen=True)
class Blocklist:
    zone: str
    kind: str = "ip"  # ip | domain
    codes: dict[str, str] = field(default_factory=dict, hash=False)  # listed: code -> meaning
    refused: dict[str, str] = field(default_factory=dict, hash=False)  # not an answer: code -> why


def parse_lists(entries: list[str]) -> list[Blocklist]:
    """``[dns] blocklists`` entries: ``zone`` or ``domain:zone``; Spamhaus zones get Spamhaus's codes."""
    out: list[Blocklist] = []
    for entry in entries:
        kind, sep, zone = entry.partition(":")
        if not sep:
            kind, zone = "ip", entry
        zone = zone.strip().strip(".").lower()
        if not zone or kind not in ("ip", "domain"):
            continue
        spamhaus = "spamhaus" in zone
        codes = (SPAMHAUS_DBL if kind == "domain" else SPAMHAUS_ZEN) if spamhaus else {}
        out.append(Blocklist(zone, kind, codes, SPAMHAUS_REFUSED if spamhaus else {}))
    return out


DEFAULT_LISTS = [
    "zen.spamhaus.org",
    "b.barracudacentral.org",
    "bl.spamcop.net",
    "psbl.surriel.com",
    "domain:dbl.spamhaus.org",
]


def reversed_name(address: str, zone: str) -> str:
    """203.0.113.7 -> 7.113.0.203.<zone>; IPv6 by nibbles (RFC 5782 §2.4)."""
    addr = ipaddress.ip_address(address)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv4Address):
        return ".".join(reversed(str(addr).split("."))) + "." + zone
    return ".".join(reversed(addr.exploded.replace(":", ""))) + "." + zone


@dataclass
class Listing:
    target: str  # the address or domain asked about
    zone: str
    status: str  # listed | clean | refused | timeout | error
    codes: list[str] = field(default_factory=list)
    reason: str = ""


async def _ask(resolver: Resolver, target: str, bl: Blocklist) -> Listing:
    name = reversed_name(target, bl.zone) if bl.kind == "ip" else f"{target.strip('.')}.{bl.zone}"
    found = await resolver.query(name, "A")
    if found.status in (NXDOMAIN, NODATA):
        return Listing(target, bl.zone, "clean")
    if found.status == TIMEOUT:
        return Listing(target, bl.zone, "timeout", reason=found.describe())
    if found.status != OK:
        return Listing(target, bl.zone, "error", reason=found.describe())
    codes = sorted({r.address for r in found.records if hasattr(r, "address")})
    refused = [c for c in codes if c in bl.refused]
    if refused:
        return Listing(target, bl.zone, "refused", codes, bl.refused[refused[0]])
    listed = [c for c in codes if c.startswith("127.")]
    if not listed:
        # an answer outside 127/8 is not a DNSBL answer at all: a resolver that rewrites NXDOMAIN
        return Listing(
            target,
            bl.zone,
            "error",
            codes,
            "answered outside 127.0.0.0/8: the resolver rewrites NXDOMAIN (ad or captive DNS)",
        )
    txt = await resolver.query(name, "TXT")
    words = "; ".join(t[:200] for t in txt.texts()[:2]) if txt.ok else ""
    meaning = ", ".join(bl.codes.get(c, c) for c in listed)
    return Listing(target, bl.zone, "listed", listed, f"{meaning}" + (f" — {words}" if words else ""))


async def check_listings(
    resolver: Resolver, addresses: list[str], domain: str, lists: list[Blocklist]
) -> list[Listing]:
    jobs = [_ask(resolver, a, bl) for a in addresses for bl in lists if bl.kind == "ip"]
    if domain:
        jobs += [_ask(resolver, domain, bl) for bl in lists if bl.kind == "domain"]
    return list(await asyncio.gather(*jobs))


def findings(listings: list[Listing]) -> list[Finding]:
    """One finding per listing, per refusal (per list) and per unanswered list; the clean ones
    of each address or domain together in one."""
    out: list[Finding] = []
    clean: dict[str, list[str]] = {}
    refused_seen: set[str] = set()
    for li in listings:
        if li.status == "clean":
            clean.setdefault(li.target, []).append(li.zone)
        elif li.status == "listed":
            out.append(
                Finding(
                    f"blocklist.listed.{li.zone}",
                    GROUP,
                    "fail",
                    f"{li.target} is listed on {li.zone} ({', '.join(li.codes)})",
                    f"{li.reason}\nReceivers that use {li.zone} reject or junk mail from it. "
                    "Find the cause (a compromised account or machine, an open relay), fix it, "
                    "then ask the list to remove it (its website has a lookup and removal form).",
                    {"target": li.target, "zone": li.zone, "codes": li.codes},
                )
            )
        elif li.status == "refused":
            if li.zone in refused_seen:
                continue
            refused_seen.add(li.zone)
            out.append(
                Finding(
                    f"blocklist.refused.{li.zone}",
                    GROUP,
                    "warn",
                    f"{li.zone} refused to answer ({', '.join(li.codes)}: {li.reason}) — not a listing",
                    REFUSED_FIX,
                    {"zone": li.zone, "codes": li.codes},
                )
            )
        else:
            status = "timeout" if li.status == "timeout" else "error"
            out.append(
                Finding(
                    f"blocklist.{status}.{li.zone}",
                    GROUP,
                    status,
                    f"{li.zone}: no usable answer for {li.target}",
                    li.reason,
                    {"target": li.target, "zone": li.zone},
                )
            )
    for target, zones in clean.items():
        out.append(
            Finding(
                "blocklist.clean",
                GROUP,
                "ok",
                f"{target} is on none of {len(zones)} list{'s' if len(zones) != 1 else ''} ({', '.join(zones)})",
                data={"target": target, "zones": zones},
            )
        )
    return out


def public(addresses: list[str]) -> list[str]:
    """The addresses receivers would see: global unicast, each once, IPv4 first."""
    seen: dict[str, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}
    for a in addresses:
        try:
            addr = ipaddress.ip_address(a.split("%", 1)[0].strip("[]"))
        except ValueError:
            continue
        if addr.is_global:
            seen.setdefault(str(addr), addr)
    return sorted(seen, key=lambda s: (seen[s].version, seen[s]))


def local_send_addresses(postfix_dir: str = "") -> tuple[list[str], str]:
    """What Postfix binds outgoing connections to, else this machine's interface addresses, and
    ``myhostname`` (whose A/AAAA records are looked up by the caller)."""
    from mailtui.mta.run import run_tool

    conf = ["-c", postfix_dir] if postfix_dir else []
    res = run_tool(["postconf", *conf, "-h", "smtp_bind_address", "smtp_bind_address6", "myhostname"], timeout=5)
    bind4, bind6, myhostname = ([*res.stdout.splitlines(), "", "", ""][:3]) if res.ok else ("", "", "")
    out = [a.strip() for a in (bind4, bind6) if a.strip()]
    if not out:
        import psutil

        for addrs in psutil.net_if_addrs().values():
            out += [a.address for a in addrs if a.family.name in ("AF_INET", "AF_INET6")]
    return out, myhostname.strip()


async def check_reputation(ctx: CheckContext) -> None:
    import asyncio as _asyncio

    opts = ctx.options
    lists = parse_lists(list(opts.blocklists))
    addresses = list(opts.send_addresses)
    if not addresses:
        found, myhostname = await _asyncio.to_thread(local_send_addresses, opts.postfix_dir)
        addresses = found
        if myhostname:
            resolved, _lookups = await ctx.resolver.addresses(myhostname)
            addresses += resolved
        addresses = public(addresses)
        if not addresses:
            ctx.add(
                Finding(
                    "blocklist.no_addresses",
                    GROUP,
                    "info",
                    "no public sending address found here to look up (smtp_bind_address, "
                    "interfaces, myhostname): pass them with --send-address",
                )
            )
    for finding in findings(await check_listings(ctx.resolver, addresses, ctx.domain, lists)):
        ctx.add(finding)
