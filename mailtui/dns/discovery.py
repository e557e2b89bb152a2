"""Client discovery: RFC 6186/8314 SRV records, Thunderbird autoconfig, Outlook autodiscover.

Everything a discovery method advertises becomes a ``ServerEntry`` in the run's service
map, which the probes and the consistency check read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TypeVar
from urllib.parse import quote

import dns.name

from mailtui.dns.clientconfig import (
    AUTODISCOVER_REQUEST,
    ServerEntry,
    XmlRefused,
    parse_autoconfig,
    parse_autodiscover,
)
from mailtui.dns.context import CheckContext
from mailtui.dns.model import DISCOVERY, Finding
from mailtui.dns.records import srv_order
from mailtui.dns.web import Fetch

Doc = TypeVar("Doc")

#: SRV owner label -> (protocol, TLS mode it implies, standard port)
MAIL_SRV = {
    "_submissions._tcp": ("smtp", "implicit", 465),
    "_submission._tcp": ("smtp", "starttls", 587),
    "_imaps._tcp": ("imap", "implicit", 993),
    "_imap._tcp": ("imap", "starttls", 143),
    "_pop3s._tcp": ("pop3", "implicit", 995),
    "_pop3._tcp": ("pop3", "starttls", 110),
}
OTHER_SRV = ("_autodiscover._tcp", "_caldavs._tcp", "_carddavs._tcp")
MAX_AUTODISCOVER_REDIRECTS = 10


async def check_srv(ctx: CheckContext, label: str) -> None:
    fid = f"srv:{label}"
    name = f"{label}.{ctx.domain}"
    srv = await ctx.answer(fid, DISCOVERY, label, name, "SRV", absent=("info", f"{label}: not published"))
    if srv is None:
        return
    records = [
        (r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True) if r.target != dns.name.root else ".")
        for r in srv.records
    ]
    if any(r[3] == "." for r in records):
        if len(records) == 1:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "not_offered",
                    f"{label}: deliberately not offered (target '.')",
                    "RFC 2782: a single SRV record with target '.' says the service is not available here.",
                )
            )
        else:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "fail",
                    f"{label}: target '.' mixed with real targets",
                    "A '.' record says 'not offered'; other records say it is. Clients may do either.",
                )
            )
        return
    ordered = srv_order(records)
    order_text = "\n".join(
        f"priority {p} weight {w} ({share:g}% of its priority): {t}:{port}" for p, w, port, t, share in ordered
    )
    protocol, tls, std_port = MAIL_SRV.get(label, ("", "", 0))
    problems: list[str] = []
    for _, _, port, target, _ in ordered:
        addresses, lookups = await ctx.resolver.addresses(target)
        if any(lk.cnames for lk in lookups):
            problems.append(f"target {target} is an alias (CNAME); RFC 2782 requires the host name itself")
        if not addresses:
            problems.append(f"target {target} has no address ({lookups[0].describe()})")
        if protocol:
            ctx.advertise(ServerEntry(protocol, target.lower(), port, tls, source=f"SRV {label}"))
            if std_port in (465, 587) and port in (465, 587) and port != std_port:
                problems.append(f"{label} points to port {port}, the port of the other submission service")
    first = ordered[0]
    summary = f"{label}: {first[3]}:{first[2]}" + (f" (+{len(ordered) - 1} more)" if len(ordered) > 1 else "")
    data = {
        "records": [{"priority": p, "weight": w, "port": port, "target": t, "share": s} for p, w, port, t, s in ordered]
    }
    if problems:
        ctx.add(Finding(fid, DISCOVERY, "fail", f"{label}: {problems[0]}", "\n".join([order_text, *problems]), data))
    else:
        ctx.add(Finding(fid, DISCOVERY, "ok", summary, order_text, data))


def autoconfig_urls(domain: str, email: str) -> list[tuple[str, str]]:
    """The four places Thunderbird looks, in its order (id suffix, URL)."""
    q = f"?emailaddress={quote(email, safe='@')}"
    return [
        ("https-autoconfig", f"https://autoconfig.{domain}/mail/config-v1.1.xml{q}"),
        ("https-wellknown", f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml{q}"),
        ("http-autoconfig", f"http://autoconfig.{domain}/mail/config-v1.1.xml{q}"),
        ("http-wellknown", f"http://{domain}/.well-known/autoconfig/mail/config-v1.1.xml{q}"),
    ]


async def check_autoconfig(ctx: CheckContext) -> None:
    urls = autoconfig_urls(ctx.domain, ctx.email)
    fetches = await asyncio.gather(*(ctx.web.fetch(url) for _, url in urls))
    served_https = False
    for (suffix, url), fetch in zip(urls, fetches):
        fid = f"autoconfig:{suffix}"
        plain = url.startswith("http:")
        doc = _fetched(ctx, fid, "autoconfig", url, fetch, partial(parse_autoconfig, source=f"autoconfig {suffix}"))
        if doc is None:
            continue
        for server in doc.servers:
            ctx.advertise(server)
        listing = "\n".join(f"{s.protocol} {s.host}:{s.port} {s.tls} auth={s.auth}" for s in doc.servers)
        data = {"servers": [s.to_dict() for s in doc.servers], "url": url}
        if doc.problems:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "fail",
                    f"autoconfig {suffix}: {doc.problems[0]}",
                    "\n".join([listing, *doc.problems]),
                    data,
                )
            )
        elif plain and not served_https:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "warn",
                    f"autoconfig served over plain HTTP only ({len(doc.servers)} servers)",
                    "Anyone on the path can rewrite it; serve it over HTTPS too.\n" + listing,
                    data,
                )
            )
        else:
            served_https = served_https or not plain
            ctx.add(Finding(fid, DISCOVERY, "ok", f"autoconfig {suffix}: {len(doc.servers)} servers", listing, data))


def _fetched(
    ctx: CheckContext, fid: str, what: str, url: str, fetch: Fetch, parse: Callable[[bytes], Doc]
) -> Doc | None:
    """The parsed document; None after reporting a failed fetch (absent) or a refused one (fail)."""
    if not fetch.ok:
        ctx.add(_absent(fid, what, url, fetch))
        return None
    try:
        return parse(fetch.body)
    except XmlRefused as exc:
        ctx.add(Finding(fid, DISCOVERY, "fail", f"{what} at {url}: {exc}"))
        return None


def _absent(fid: str, what: str, url: str, fetch: Fetch) -> Finding:
    """A discovery URL that gave nothing: absent is information, broken is a failure."""
    if fetch.kind == "dns" or fetch.status == 404 or fetch.kind == "connect":
        return Finding(fid, DISCOVERY, "info", f"{what}: nothing at {url} ({fetch.describe()})")
    if fetch.kind == "timeout":
        return Finding(fid, DISCOVERY, "timeout", f"{what}: {url}: {fetch.describe()}")
    if fetch.kind == "dns-error":
        return Finding(fid, DISCOVERY, "error", f"{what}: {url}: {fetch.describe()}")
    return Finding(fid, DISCOVERY, "fail", f"{what}: {url}: {fetch.describe()}")


async def check_autodiscover(ctx: CheckContext) -> None:
    body = AUTODISCOVER_REQUEST.format(email=_xml_text(ctx.email)).encode()
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    posts = [
        ("https-domain", f"https://{ctx.domain}/autodiscover/autodiscover.xml"),
        ("https-autodiscover", f"https://autodiscover.{ctx.domain}/autodiscover/autodiscover.xml"),
    ]

    async def post(suffix: str, url: str) -> None:
        await _autodiscover_post(ctx, f"autodiscover:{suffix}", url, body, headers)

    async def via_http_redirect() -> None:
        fid = "autodiscover:http-redirect"
        url = f"http://autodiscover.{ctx.domain}/autodiscover/autodiscover.xml"
        fetch = await ctx.web.fetch(url, follow=0)
        if fetch.status in (301, 302, 307, 308) and fetch.location:
            if not fetch.location.startswith("https:"):
                ctx.add(Finding(fid, DISCOVERY, "fail", f"autodiscover redirect goes to plain HTTP: {fetch.location}"))
                return
            await _autodiscover_post(ctx, fid, fetch.location, body, headers, via=url)
        elif fetch.ok:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "warn",
                    f"{url} answers 200 over plain HTTP instead of redirecting",
                    "Outlook expects a 302 to an https:// autodiscover URL here.",
                )
            )
        else:
            ctx.add(_absent(fid, "autodiscover (HTTP redirect method)", url, fetch))

    async def via_srv() -> None:
        fid = "autodiscover:srv"
        srv = await ctx.resolver.query(f"_autodiscover._tcp.{ctx.domain}", "SRV")
        usable = [r for r in srv.records if r.target != dns.name.root] if srv.ok else []
        if not usable:
            ctx.add(Finding(fid, DISCOVERY, "info", "autodiscover: no usable _autodiscover._tcp SRV record"))
            return
        best = srv_order([(r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True)) for r in usable])[0]
        port = "" if best[2] == 443 else f":{best[2]}"
        await _autodiscover_post(ctx, fid, f"https://{best[3]}{port}/autodiscover/autodiscover.xml", body, headers)

    await asyncio.gather(*(post(s, u) for s, u in posts), via_http_redirect(), via_srv())


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def _autodiscover_post(
    ctx: CheckContext, fid: str, url: str, body: bytes, headers: dict[str, str], via: str = ""
) -> None:
    seen: list[str] = []
    email = ctx.email
    while True:
        fetch = await ctx.web.fetch(url, method="POST", content=body, headers=headers)
        if fetch.status == 401:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "info",
                    f"autodiscover at {url}: present, needs credentials (401)",
                    "Outlook asks for the password here; mailtui does not send one.",
                )
            )
            return
        doc = _fetched(
            ctx,
            fid,
            "autodiscover",
            url,
            fetch,
            partial(parse_autodiscover, source=f"autodiscover {fid.split(':', 1)[1]}"),
        )
        if doc is None:
            return
        if doc.action == "error":
            ctx.add(Finding(fid, DISCOVERY, "warn", f"autodiscover at {url} answered an error: {doc.error}"))
            return
        if doc.action in ("redirectAddr", "redirectUrl"):
            seen.append(f"{doc.action} -> {doc.redirect}")
            if len(seen) > MAX_AUTODISCOVER_REDIRECTS:
                ctx.add(
                    Finding(
                        fid,
                        DISCOVERY,
                        "fail",
                        f"autodiscover redirects more than {MAX_AUTODISCOVER_REDIRECTS} times",
                        "\n".join(seen),
                    )
                )
                return
            if doc.action == "redirectUrl":
                if not doc.redirect.startswith("https://"):
                    ctx.add(Finding(fid, DISCOVERY, "fail", f"autodiscover redirectUrl is not https: {doc.redirect}"))
                    return
                url = doc.redirect
            else:
                email = doc.redirect
                body = AUTODISCOVER_REQUEST.format(email=_xml_text(email)).encode()
            continue
        for server in doc.servers:
            ctx.advertise(server)
        listing = "\n".join(f"{s.protocol} {s.host}:{s.port} {s.tls}" for s in doc.servers)
        trail = "\n".join(x for x in (f"via {via}" if via else "", *seen) if x)
        data = {"servers": [s.to_dict() for s in doc.servers], "url": url}
        if not doc.servers:
            ctx.add(Finding(fid, DISCOVERY, "warn", f"autodiscover at {url}: no IMAP/POP3/SMTP settings", trail, data))
        elif doc.problems:
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "warn",
                    f"autodiscover: {doc.problems[0]}",
                    "\n".join(x for x in (listing, trail, *doc.problems) if x),
                    data,
                )
            )
        else:
            how = " (HTTP redirect method)" if via else ""
            ctx.add(
                Finding(
                    fid,
                    DISCOVERY,
                    "ok",
                    f"autodiscover at {url}{how}: {len(doc.servers)} servers",
                    "\n".join(x for x in (listing, trail) if x),
                    data,
                )
            )
        return
