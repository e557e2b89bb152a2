"""Transport security: MTA-STS, TLS-RPT, DANE TLSA, CAA, and live TLS probes of advertised ports."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

from mailtui.dns.clientconfig import ServerEntry
from mailtui.dns.context import CheckContext, lookup_status
from mailtui.dns.model import TRANSPORT, Finding
from mailtui.dns.probe import ProbeResult
from mailtui.dns.records import parse_sts_policy, parse_tags, sts_mx_matches
from mailtui.dns.resolver import NODATA, NXDOMAIN

CERT_WARN_DAYS = 14


async def check_mta_sts(ctx: CheckContext) -> None:
    txt = await ctx.answer(
        "mta-sts", TRANSPORT, "MTA-STS", f"_mta-sts.{ctx.domain}", "TXT", absent=("info", "MTA-STS: not published")
    )
    if txt is None:
        return
    records = [t for t in txt.texts() if t.strip().startswith("v=STSv1")]
    if len(records) != 1:
        ctx.add(
            Finding(
                "mta-sts",
                TRANSPORT,
                "fail" if records else "info",
                f"MTA-STS: {len(records)} v=STSv1 records" + (": senders ignore the policy" if records else ""),
            )
        )
        return
    tags, errors = parse_tags(records[0])
    sts_id = tags.get("id", "")
    if not sts_id.isalnum() or not 1 <= len(sts_id) <= 32:
        errors.append(f"id={sts_id[:40]!r} must be 1-32 letters and digits")
    url = f"https://mta-sts.{ctx.domain}/.well-known/mta-sts.txt"
    fetch = await ctx.web.fetch(url, follow=0)  # RFC 8461 §3.3: redirects must not be followed
    if fetch.status in (301, 302, 303, 307, 308):
        errors.append(f"the policy URL redirects (to {fetch.location}); RFC 8461 forbids following it")
    elif not fetch.ok:
        errors.append(f"policy not fetched: {fetch.describe()}")
    policy = parse_sts_policy(fetch.body.decode("utf-8", "replace")) if fetch.ok else None
    if policy is not None:
        errors += policy.errors
        if "text/plain" not in fetch.content_type.lower():
            policy.warnings.append(f"Content-Type is {fetch.content_type or 'missing'}, not text/plain")
        await ctx.mx_done.wait()
        uncovered = [h for h in ctx.mx_hosts if not any(sts_mx_matches(h, p) for p in policy.mx)]
        if uncovered:
            problem = f"MX {', '.join(uncovered)} not covered by the policy's mx: lines ({', '.join(policy.mx)})"
            (errors if policy.mode == "enforce" else policy.warnings).append(problem)
    shown = (
        [f"mode: {policy.mode}", f"mx: {' '.join(policy.mx)}", f"max_age: {policy.max_age}", *policy.warnings]
        if policy is not None
        else []
    )
    detail = "\n".join([records[0], *shown, *errors])
    if errors:
        ctx.add(Finding("mta-sts", TRANSPORT, "fail", f"MTA-STS: {errors[0]}", detail))
    elif policy is not None and policy.warnings:
        ctx.add(Finding("mta-sts", TRANSPORT, "warn", f"MTA-STS: {policy.warnings[0]}", detail))
    else:
        assert policy is not None  # without a policy there is an error above
        ctx.add(Finding("mta-sts", TRANSPORT, "ok", f"MTA-STS mode {policy.mode}, id {sts_id}", detail))


async def check_tlsrpt(ctx: CheckContext) -> None:
    txt = await ctx.answer(
        "tls-rpt",
        TRANSPORT,
        "TLS-RPT",
        f"_smtp._tls.{ctx.domain}",
        "TXT",
        absent=("info", "TLS-RPT: not published", "Without it, senders cannot tell you when TLS to your MX fails."),
    )
    if txt is None:
        return
    records = [t for t in txt.texts() if t.strip().startswith("v=TLSRPTv1")]
    if len(records) != 1:
        ctx.add(Finding("tls-rpt", TRANSPORT, "fail", f"TLS-RPT: {len(records)} v=TLSRPTv1 records"))
        return
    tags, errors = parse_tags(records[0])
    uris = [u.strip() for u in tags.get("rua", "").split(",") if u.strip()]
    if not uris:
        errors.append("rua= is missing")
    errors += [
        f"rua {u[:60]!r} is neither mailto: nor https:" for u in uris if not u.lower().startswith(("mailto:", "https:"))
    ]
    if errors:
        ctx.add(Finding("tls-rpt", TRANSPORT, "fail", f"TLS-RPT: {errors[0]}", records[0]))
    else:
        ctx.add(Finding("tls-rpt", TRANSPORT, "ok", f"TLS-RPT reports to {', '.join(uris)}", records[0]))


async def check_caa(ctx: CheckContext) -> None:
    """RFC 8659 tree climbing: the closest CAA RRset up the tree applies."""
    labels = ctx.domain.split(".")
    for i in range(len(labels) - 1):
        name = ".".join(labels[i:])
        caa = await ctx.resolver.query(name, "CAA")
        if caa.ok:
            issuers = [r.value.decode("ascii", "replace") for r in caa.records if r.tag == b"issue"]
            text = "\n".join(
                f"{r.flags} {r.tag.decode('ascii', 'replace')} {r.value.decode('ascii', 'replace')}"
                for r in caa.records
            )
            where = "" if name == ctx.domain else f" (inherited from {name})"
            if not issuers:
                ctx.add(Finding("caa", TRANSPORT, "warn", f"CAA{where} has no issue tag", text))
            else:
                ctx.add(
                    Finding(
                        "caa",
                        TRANSPORT,
                        "info",
                        f"CAA{where}: certificates only from {', '.join(issuers)}",
                        "Make sure the CA your ACME client uses is listed, or renewals fail.\n" + text,
                    )
                )
            return
        if caa.status not in (NXDOMAIN, NODATA):
            ctx.add(Finding("caa", TRANSPORT, lookup_status(caa), f"CAA: {caa.describe()}"))
            return
    ctx.add(Finding("caa", TRANSPORT, "info", "no CAA record: any CA may issue certificates for this domain"))


async def check_tlsa(ctx: CheckContext, host: str) -> None:
    fid = f"tlsa:{host}"
    tlsa = await ctx.answer(
        fid, TRANSPORT, f"DANE {host}", f"_25._tcp.{host}", "TLSA", absent=("info", f"DANE: no TLSA record for {host}")
    )
    if tlsa is None:
        return
    records = [(r.usage, r.selector, r.mtype, r.cert.hex()) for r in tlsa.records]
    text = "\n".join(f"{u} {s} {m} {h}" for u, s, m, h in records)
    notes = [f"usage {u} (PKIX) should not be used for SMTP (RFC 7672)" for u, _, _, _ in records if u in (0, 1)]
    probe = await ctx.probe(host, 25, "smtp", "starttls") if ctx.options.probes else None
    der = probe.der if probe is not None else b""
    if der:
        if any(tlsa_matches(der, r) for r in records):
            status, summary = "ok", f"DANE {host}: a TLSA record matches the certificate on port 25"
        else:
            status, summary = "fail", f"DANE {host}: no TLSA record matches the certificate on port 25"
    else:
        status = "warn" if notes else "info"
        summary = f"DANE {host}: {len(records)} TLSA records (certificate on port 25 not seen)"
    ctx.add(
        Finding(
            fid,
            TRANSPORT,
            status,
            summary,
            "\n".join(
                [text, *notes, "TLSA only counts when the zone is DNSSEC-signed; mailtui does not validate DNSSEC."]
            ),
        )
    )


def tlsa_matches(der: bytes, record: tuple[int, int, int, str]) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    usage, selector, mtype, data = record
    if usage not in (1, 3):  # 0/2 match a CA in the chain, which a single certificate cannot show
        return False
    if selector == 1:
        cert = x509.load_der_x509_certificate(der)
        payload = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    else:
        payload = der
    digest: dict[int, Callable[[bytes], bytes]] = {
        0: lambda b: b,
        1: lambda b: hashlib.sha256(b).digest(),
        2: lambda b: hashlib.sha512(b).digest(),
    }
    return mtype in digest and digest[mtype](payload).hex() == data.lower()


async def check_advertised_ports(ctx: CheckContext) -> None:
    """Probe every host:port a discovery method advertised, in the mode it advertised."""
    await ctx.mx_done.wait()
    jobs = [_probe_entry(ctx, s.host, s.port, s.protocol, s.tls, s.source) for s in _unique(ctx)]
    jobs += [_probe_entry(ctx, host, 25, "smtp", "starttls", "MX") for host in ctx.mx_hosts]
    await asyncio.gather(*jobs)


def _unique(ctx: CheckContext) -> list[ServerEntry]:
    seen: set[tuple[str, int, str]] = set()
    out: list[ServerEntry] = []
    for s in ctx.services:
        key = (s.host, s.port, s.tls)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


async def _probe_entry(ctx: CheckContext, host: str, port: int, protocol: str, mode: str, source: str) -> None:
    fid = f"probe:{host}:{port}:{mode}"
    if any(f.id == fid for f in ctx.findings):
        return
    result = await ctx.probe(host, port, protocol, mode)
    ctx.add(probe_finding(fid, result, source, time.time()))


def probe_finding(fid: str, r: ProbeResult, source: str, now: float) -> Finding:
    where = f"{r.host}:{r.port} ({r.mode}, advertised by {source})"
    detail = [
        f"address {r.address or '-'}",
        f"greeting: {r.greeting}" if r.greeting else "",
        f"TLS {r.tls_version}" if r.tls_version else "",
        f"certificate: {r.subject} for {', '.join(r.names)}" if r.names else "",
    ]
    data = r.to_dict()
    text = "\n".join(x for x in detail if x)
    if not r.connected:
        return Finding(fid, TRANSPORT, "fail", f"{where}: nothing answers ({r.error})", text, data)
    if r.error:
        return Finding(fid, TRANSPORT, "fail", f"{where}: {r.error}", text, data)
    problems = []
    if r.verify_error:
        problems.append(f"certificate not trusted: {r.verify_error}")
    if r.tls_version and not r.name_ok:
        problems.append(f"certificate does not cover {r.host} (it names {', '.join(r.names) or r.subject})")
    if r.not_after is not None and r.not_after < now:
        problems.append("certificate has expired")
    if problems:
        return Finding(fid, TRANSPORT, "fail", f"{where}: {problems[0]}", "\n".join([text, *problems]), data)
    warnings = []
    if r.mode == "plain":
        warnings.append("advertised without TLS: clients are told to send everything in clear")
    if r.auth_before_tls:
        warnings.append(
            f"authentication offered before TLS ({', '.join(r.auth_before_tls)}): passwords can be sent in clear"
        )
    if r.not_after is not None and r.not_after - now < CERT_WARN_DAYS * 86400:
        warnings.append(f"certificate expires in {(r.not_after - now) / 86400:.0f} days")
    if warnings:
        return Finding(fid, TRANSPORT, "warn", f"{where}: {warnings[0]}", "\n".join([text, *warnings]), data)
    return Finding(fid, TRANSPORT, "ok", f"{where}: {r.tls_version or 'answers'}", text, data)
