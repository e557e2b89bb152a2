"""Mail routing: MX (null MX, alias and IP-literal targets), addresses, PTR and forward-confirmed rDNS."""

from __future__ import annotations

import asyncio
import ipaddress

import dns.name
import dns.reversename

from mailtui.dns.context import CheckContext, lookup_status
from mailtui.dns.model import ROUTING, Finding
from mailtui.dns.resolver import NODATA, NXDOMAIN, OK


async def check_mx(ctx: CheckContext) -> None:
    try:
        await _check_mx(ctx)
    finally:
        ctx.mx_done.set()


async def _check_mx(ctx: CheckContext) -> None:
    mx = await ctx.resolver.query(ctx.domain, "MX")
    if mx.status == NXDOMAIN:
        ctx.add(
            Finding(
                "mx",
                ROUTING,
                "fail",
                f"{ctx.domain} does not exist (NXDOMAIN)",
                "Nothing can be delivered to a domain that does not exist in DNS.",
            )
        )
        return
    if mx.status == NODATA:
        addresses, _ = await ctx.resolver.addresses(ctx.domain)
        if addresses:
            ctx.add(
                Finding(
                    "mx",
                    ROUTING,
                    "warn",
                    "no MX record: senders fall back to the domain's own address",
                    f"RFC 5321 implicit MX: mail goes to {', '.join(addresses)}. Publish an MX.",
                )
            )
            ctx.mx_hosts = [ctx.domain]
        else:
            ctx.add(Finding("mx", ROUTING, "fail", "no MX and no address: this domain cannot receive mail"))
        return
    if not mx.ok:
        ctx.add(Finding("mx", ROUTING, lookup_status(mx), f"MX lookup failed: {mx.describe()}"))
        return
    records = sorted(((r.preference, r.exchange) for r in mx.records), key=lambda r: r[0])
    null = [r for r in records if r[1] == dns.name.root]
    if null:
        if len(records) > 1:
            ctx.add(
                Finding(
                    "mx",
                    ROUTING,
                    "fail",
                    "null MX mixed with other MX records",
                    "RFC 7505: a null MX (MX 0 .) must be the only MX record.",
                )
            )
        else:
            ctx.add(
                Finding(
                    "mx",
                    ROUTING,
                    "not_offered",
                    "null MX: this domain accepts no mail (RFC 7505)",
                    "Do not use it as a sender domain: receivers may reject mail from it (5.7.27).",
                )
            )
        return
    listing = ", ".join(f"{p} {h.to_text(omit_final_dot=True)}" for p, h in records)
    ctx.add(Finding("mx", ROUTING, "ok", f"{len(records)} MX: {listing}", data={"mx": listing}))
    ctx.mx_hosts = [h.to_text(omit_final_dot=True) for _, h in records]
    ctx.mx_done.set()
    await asyncio.gather(*(_check_mx_host(ctx, host) for host in ctx.mx_hosts))


async def _check_mx_host(ctx: CheckContext, host: str) -> None:
    fid = f"mx:{host}"
    try:
        ipaddress.ip_address(host)
        ctx.add(Finding(fid, ROUTING, "fail", f"MX target {host} is an IP address, not a host name"))
        return
    except ValueError:
        pass
    addresses, lookups = await ctx.resolver.addresses(host)
    aliases = next((lk.cnames for lk in lookups if lk.cnames), [])
    if aliases:
        ctx.add(
            Finding(
                fid,
                ROUTING,
                "fail",
                f"MX target {host} is an alias (CNAME to {aliases[-1]})",
                "RFC 2181 §10.3 / RFC 5321 §5.1: an MX must name the host itself. Some senders refuse to deliver.",
            )
        )
    if not addresses:
        worst = next((lk for lk in lookups if lk.status not in (OK, NODATA)), lookups[0])
        status = lookup_status(worst) if worst.status not in (OK, NODATA, NXDOMAIN) else "fail"
        ctx.add(Finding(fid, ROUTING, status, f"MX target {host} has no address ({worst.describe()})"))
        return
    if not aliases:
        ctx.add(Finding(fid, ROUTING, "ok", f"{host} has {', '.join(addresses)}"))
    await asyncio.gather(*(check_ptr(ctx, host, a) for a in addresses))


async def check_ptr(ctx: CheckContext, host: str, address: str) -> None:
    """PTR and forward confirmation: what reject_unknown_client_hostname and receivers judge by."""
    fid = f"ptr:{address}"
    ptr = await ctx.answer(
        fid,
        ROUTING,
        f"PTR of {address}",
        dns.reversename.from_address(address),
        "PTR",
        absent=(
            "warn",
            f"{address} ({host}) has no PTR record",
            "Receivers using reject_unknown_client_hostname (or their equivalent) answer "
            "'450 4.7.1 Client host rejected: cannot find your hostname' to mail sent "
            "from it.",
        ),
    )
    if ptr is None:
        return
    names = [r.target.to_text(omit_final_dot=True) for r in ptr.records]
    for name in names:
        forward, _ = await ctx.resolver.addresses(name)
        if address in forward:
            status = "ok" if name.lower() == host.lower() else "info"
            note = "" if status == "ok" else f" (the MX name is {host})"
            ctx.add(Finding(fid, ROUTING, status, f"{address} -> {name} -> {address}: forward-confirmed{note}"))
            return
    ctx.add(
        Finding(
            fid,
            ROUTING,
            "warn",
            f"{address} -> {', '.join(names)}, which does not resolve back to it",
            "Not forward-confirmed: Postfix logs 'hostname … does not resolve to address' and treats the "
            "client as 'unknown'.",
        )
    )
