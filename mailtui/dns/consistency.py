"""Consistency: one service map from SRV, autoconfig, autodiscover, the probes and this machine's
own configuration, with every disagreement called out.

This is the check no other tool does: SRV says 993 but nothing listens; autoconfig says SSL on
587 but the port speaks STARTTLS; the certificate does not cover the advertised name; SRV
offers plaintext ``_imap`` while Dovecot refuses plaintext logins.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import defaultdict

from mailtui.dns.clientconfig import ServerEntry
from mailtui.dns.context import CheckContext, LocalView
from mailtui.dns.model import CONSISTENCY, Finding

_LOCAL_PROTOCOL = {"smtp": "postfix", "imap": "dovecot", "pop3": "dovecot"}


def read_local_view(postfix_dir: str = "", dovecot_config: str = "") -> LocalView:
    """This machine's addresses, expected listeners and TLS settings (runs in a thread)."""
    import psutil

    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.system.listeners import dovecot_expected, postfix_expected

    view = LocalView()
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family.name in ("AF_INET", "AF_INET6"):
                view.addresses.add(a.address.split("%", 1)[0])
    postfix = PostfixConfig(postfix_dir)
    if postfix.available:
        view.listeners += postfix_expected(postfix_dir)
        view.postfix = postfix.values(["myhostname", "mydomain", "smtpd_tls_security_level"])
    dovecot = DovecotConfig(dovecot_config)
    if dovecot.available:
        view.listeners += dovecot_expected(dovecot_config)
        view.dovecot = dovecot.values(["ssl", "disable_plaintext_auth", "auth_allow_cleartext"])
    return view


def _is_local(address: str, local: LocalView) -> bool:
    # every 127/8 address is this machine, though interfaces list only 127.0.0.1
    return address in local.addresses or ipaddress.ip_address(address).is_loopback


def _source_family(source: str) -> str:
    return source.split()[0] if source else "?"


async def check_consistency(ctx: CheckContext) -> None:
    local = ctx.local
    before = len(ctx.findings)
    entries = list(dict.fromkeys(ctx.services))
    await asyncio.gather(*(_against_probe(ctx, e) for e in entries))
    _across_sources(ctx, entries)
    if local is not None:
        await _against_local(ctx, entries, local)
    if len(ctx.findings) == before:
        ctx.add(
            Finding(
                "consistency",
                CONSISTENCY,
                "ok" if entries else "info",
                f"{len(entries)} advertised services agree with each other and with what answers"
                if entries
                else "nothing advertised to compare (no SRV, autoconfig or autodiscover)",
            )
        )


async def _against_probe(ctx: CheckContext, e: ServerEntry) -> None:
    if not ctx.options.probes:
        return
    r = await ctx.probe(e.host, e.port, e.protocol, e.tls)
    fid = f"consistency:{e.host}:{e.port}:{e.tls}"
    said = f"{e.source} says {e.protocol} {e.tls} on {e.host}:{e.port}"
    if not r.connected:
        ctx.add(Finding(fid, CONSISTENCY, "fail", f"{said}, but nothing listens there", r.error))
        return
    if r.error and e.tls in ("implicit", "starttls"):
        other = "starttls" if e.tls == "implicit" else "implicit"
        alt = await ctx.probe(e.host, e.port, e.protocol, other)
        if not alt.error and alt.connected:
            ctx.add(
                Finding(
                    fid,
                    CONSISTENCY,
                    "fail",
                    f"{said}, but the port speaks {other}",
                    f"Probing as advertised: {r.error}. Clients configured from {e.source} will fail to connect.",
                )
            )
            return
        ctx.add(Finding(fid, CONSISTENCY, "fail", f"{said}, but the probe failed: {r.error}"))
        return
    if r.tls_version and not r.name_ok:
        ctx.add(
            Finding(
                fid,
                CONSISTENCY,
                "fail",
                f"{said}, but its certificate does not cover {e.host}",
                f"The certificate names {', '.join(r.names) or r.subject}.",
            )
        )


def _across_sources(ctx: CheckContext, entries: list[ServerEntry]) -> None:
    by_protocol: dict[str, dict[str, set[tuple[str, int, str]]]] = defaultdict(lambda: defaultdict(set))
    for e in entries:
        by_protocol[e.protocol][_source_family(e.source)].add((e.host, e.port, e.tls))
    for protocol, sources in by_protocol.items():
        names = sorted(sources)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if not {(h, p) for h, p, _ in sources[a]} & {(h, p) for h, p, _ in sources[b]}:

                    def fmt(s: set[tuple[str, int, str]]) -> str:
                        return ", ".join(f"{h}:{p} {t}" for h, p, t in sorted(s))

                    ctx.add(
                        Finding(
                            f"consistency:{protocol}:{a}:{b}",
                            CONSISTENCY,
                            "warn",
                            f"{protocol}: {a} and {b} disagree",
                            f"{a}: {fmt(sources[a])}\n{b}: {fmt(sources[b])}\n"
                            "Clients using different discovery methods end up on different servers.",
                        )
                    )


async def _against_local(ctx: CheckContext, entries: list[ServerEntry], local: LocalView) -> None:
    plaintext_refused = (
        local.dovecot.get("disable_plaintext_auth") == "yes"
        or local.dovecot.get("auth_allow_cleartext") == "no"
        or local.dovecot.get("ssl") == "required"
    )
    for e in entries:
        addresses, _ = await ctx.resolver.addresses(e.host)
        if not any(_is_local(a, local) for a in addresses):
            continue  # served by another machine: the local configuration says nothing about it
        daemon = _LOCAL_PROTOCOL.get(e.protocol, "")
        ours = [x for x in local.listeners if x.daemon == daemon]
        configured = [x for x in ours if x.port == e.port]
        if ours and not configured:  # no verdict when that daemon's configuration is unknown here
            ctx.add(
                Finding(
                    f"consistency:local:{e.host}:{e.port}",
                    CONSISTENCY,
                    "fail",
                    f"{e.source} says {e.protocol} on port {e.port}, but this machine's {daemon} "
                    "configuration has no listener there",
                    "The port may answer for another reason today, but nothing in master.cf / doveconf keeps it there.",
                )
            )
        elif configured and configured[0].tls != e.tls and e.tls != "plain" and not ctx.options.probes:
            # with probes on, the probe already showed what the port speaks
            ctx.add(
                Finding(
                    f"consistency:local-tls:{e.host}:{e.port}",
                    CONSISTENCY,
                    "fail",
                    f"{e.source} says {e.tls} on port {e.port}; the local {daemon} listener is "
                    f"{configured[0].tls} ({configured[0].service})",
                )
            )
        if e.protocol in ("imap", "pop3") and e.tls != "implicit" and e.source.startswith("SRV") and plaintext_refused:
            ctx.add(
                Finding(
                    f"consistency:plaintext:{e.protocol}",
                    CONSISTENCY,
                    "warn",
                    f"{e.source} offers {e.protocol} on port {e.port} while Dovecot refuses plaintext logins",
                    "Clients that follow this record and do not use STARTTLS fail with 'Plaintext "
                    "authentication disallowed'. If only TLS is wanted, publish the record with target "
                    f"'.' (not offered) and keep _{e.protocol}s._tcp (RFC 8314).",
                )
            )
    implicit_local = [x for x in local.listeners if x.daemon == "postfix" and x.tls == "implicit"]
    if implicit_local and not any(e.source == "SRV _submissions._tcp" for e in entries):
        ctx.add(
            Finding(
                "consistency:submissions",
                CONSISTENCY,
                "info",
                f"Postfix runs implicit-TLS submission ({implicit_local[0].service} on port "
                f"{implicit_local[0].port}) but no _submissions._tcp SRV record advertises it",
            )
        )
