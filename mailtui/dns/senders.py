"""Sender authentication: SPF (syntax, 10 DNS lookups, 2 void lookups), DMARC, DKIM keys."""

from __future__ import annotations

import asyncio
import glob
import os
import re

from mailtui.core.files import read_text_capped
from mailtui.dns.context import CheckContext
from mailtui.dns.model import AUTH, Finding
from mailtui.dns.records import SpfRecord, is_spf, mailto_domain, parse_dkim, parse_dmarc, parse_spf
from mailtui.dns.resolver import NODATA, NXDOMAIN, TIMEOUT

MAX_SPF_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2


class _SpfCount:
    def __init__(self) -> None:
        self.lookups = 0
        self.void = 0
        self.problems: list[str] = []
        self.temp: list[str] = []


def _only_record(
    ctx: CheckContext, fid: str, kind: str, records: list[str], absent: str, advice: str, several: str
) -> str | None:
    """The one record of its kind; None after reporting none (warn, with advice) or several (fail:
    RFC 7208 §4.5 and RFC 7489 §6.6.3 both make more than one record count as none)."""
    if not records:
        ctx.add(Finding(fid, AUTH, "warn", absent, advice))
        return None
    if len(records) > 1:
        ctx.add(Finding(fid, AUTH, "fail", f"{len(records)} {kind} records: {several}", "\n".join(records)))
        return None
    return records[0]


async def check_spf(ctx: CheckContext) -> None:
    txt = await ctx.answer("spf", AUTH, "SPF lookup failed", ctx.domain, "TXT")
    if txt is None:
        return
    records = [t for t in txt.texts() if is_spf(t)]
    text = _only_record(
        ctx,
        "spf",
        "SPF",
        records,
        "no SPF record",
        "Receivers cannot tell which servers may send as this domain; publish e.g. 'v=spf1 mx -all'.",
        "SPF evaluation ends in permerror",
    )
    if text is None:
        return
    record = parse_spf(text)
    count = _SpfCount()
    await _count(ctx, record, count, depth=0, seen={ctx.domain.lower()})
    problems = record.errors + count.problems
    if count.lookups > MAX_SPF_LOOKUPS:
        problems.append(f"{count.lookups} DNS lookups (the limit is {MAX_SPF_LOOKUPS}): permerror")
    if count.void > MAX_VOID_LOOKUPS:
        problems.append(f"{count.void} void lookups (the limit is {MAX_VOID_LOOKUPS}): permerror")
    detail = "\n".join([records[0], *problems, *record.warnings, *count.temp])
    data = {"record": records[0], "lookups": count.lookups, "void_lookups": count.void}
    if problems:
        ctx.add(Finding("spf", AUTH, "fail", problems[0], detail, data))
    elif count.temp:
        ctx.add(
            Finding(
                "spf",
                AUTH,
                "timeout" if any("timeout" in t for t in count.temp) else "error",
                count.temp[0],
                detail,
                data,
            )
        )
    elif record.warnings:
        ctx.add(Finding("spf", AUTH, "warn", record.warnings[0], detail, data))
    else:
        ctx.add(Finding("spf", AUTH, "ok", f"SPF: {count.lookups} of {MAX_SPF_LOOKUPS} DNS lookups", detail, data))


async def _count(ctx: CheckContext, record: SpfRecord, count: _SpfCount, depth: int, seen: set[str]) -> None:
    if depth > MAX_SPF_LOOKUPS:
        count.problems.append("includes nested too deep")
        return
    jobs = []
    for term in record.terms:
        if term.name not in ("include", "a", "mx", "ptr", "exists", "redirect"):
            continue
        count.lookups += 1
        if term.name in ("include", "redirect") and term.value and "%" not in term.value:
            jobs.append(_include(ctx, term.value, count, depth, seen))
        elif term.name in ("a", "mx") and "%" not in term.value:
            jobs.append(_void_check(ctx, term.value or ctx.domain, "MX" if term.name == "mx" else "A", count))
    await asyncio.gather(*jobs)


async def _void_check(ctx: CheckContext, name: str, rdtype: str, count: _SpfCount) -> None:
    lookup = await ctx.resolver.query(name, rdtype)
    if lookup.status in (NXDOMAIN, NODATA):
        count.void += 1
    elif lookup.status == TIMEOUT:
        count.temp.append(f"{name} {rdtype}: timeout (temperror)")


async def _include(ctx: CheckContext, target: str, count: _SpfCount, depth: int, seen: set[str]) -> None:
    key = target.lower().rstrip(".")
    if key in seen:
        count.problems.append(f"include loop through {target}")
        return
    seen.add(key)
    txt = await ctx.resolver.query(target, "TXT")
    if txt.status in (NXDOMAIN, NODATA):
        count.void += 1
        count.problems.append(f"include:{target} has no SPF record (permerror)")
        return
    if not txt.ok:
        count.temp.append(f"include:{target}: {txt.describe()} (temperror)")
        return
    found = [t for t in txt.texts() if is_spf(t)]
    if len(found) != 1:
        count.problems.append(f"include:{target} has {len(found)} SPF records (permerror)")
        return
    inner = parse_spf(found[0])
    count.problems.extend(f"include:{target}: {e}" for e in inner.errors)
    await _count(ctx, inner, count, depth + 1, seen)


async def check_dmarc(ctx: CheckContext) -> None:
    name = f"_dmarc.{ctx.domain}"
    txt = await ctx.answer("dmarc", AUTH, "DMARC lookup failed", name, "TXT")
    if txt is None:
        return
    records = [t for t in txt.texts() if t.strip().lower().startswith("v=dmarc1")]
    text = _only_record(
        ctx,
        "dmarc",
        "DMARC",
        records,
        f"no DMARC record at {name}",
        "Publish e.g. 'v=DMARC1; p=quarantine; rua=mailto:dmarc@" + ctx.domain + "'.",
        "receivers ignore them all",
    )
    if text is None:
        return
    dmarc = parse_dmarc(text)
    problems, warnings = list(dmarc.errors), list(dmarc.warnings)
    checks = []
    for uri in dmarc.report_uris():
        dest = mailto_domain(uri)
        if dest and dest != ctx.domain.lower() and not dest.endswith("." + ctx.domain.lower()):
            checks.append(_external_report(ctx, dest, problems, warnings))
    await asyncio.gather(*checks)
    detail = "\n".join([records[0], *problems, *warnings])
    data = {"record": records[0], "policy": dmarc.tags.get("p", "")}
    if problems:
        ctx.add(Finding("dmarc", AUTH, "fail", problems[0], detail, data))
    elif warnings:
        ctx.add(Finding("dmarc", AUTH, "warn", warnings[0], detail, data))
    else:
        ctx.add(Finding("dmarc", AUTH, "ok", f"DMARC p={dmarc.tags.get('p')}", detail, data))


async def _external_report(ctx: CheckContext, dest: str, problems: list[str], warnings: list[str]) -> None:
    """RFC 7489 §7.1: another domain must agree to receive this domain's reports."""
    name = f"{ctx.domain}._report._dmarc.{dest}"
    txt = await ctx.resolver.query(name, "TXT")
    if txt.ok and any(t.strip().lower().startswith("v=dmarc1") for t in txt.texts()):
        return
    if txt.status in (NXDOMAIN, NODATA):
        wildcard = await ctx.resolver.query(f"*._report._dmarc.{dest}", "TXT")
        if wildcard.ok and any(t.strip().lower().startswith("v=dmarc1") for t in wildcard.texts()):
            return
        problems.append(f"reports go to {dest}, which does not authorize them ({name} has no v=DMARC1)")
    else:
        warnings.append(f"could not check report authorization at {name}: {txt.describe()}")


def local_dkim_selectors(root: str = "/") -> list[str]:
    """Selectors in a readable OpenDKIM or rspamd configuration under ``root`` (empty when none)."""

    def paths(*patterns: str) -> list[str]:
        return [p for pattern in patterns for p in sorted(glob.glob(os.path.join(root, pattern)))]

    found: list[str] = []
    for path in paths("etc/opendkim.conf", "etc/opendkim/*.conf"):
        found += _grep(path, r"^\s*Selector\s+(\S+)")
    for path in paths("etc/opendkim/KeyTable", "etc/opendkim/keytable"):
        found += _grep(path, r"^\s*\S+\s+[^:\s]+:([^:\s]+):")
    for path in paths("etc/rspamd/local.d/dkim_signing.conf", "etc/rspamd/override.d/dkim_signing.conf"):
        found += _grep(path, r"selector\s*=\s*\"?([A-Za-z0-9._-]+)")
    return list(dict.fromkeys(s for s in found if re.fullmatch(r"[A-Za-z0-9._-]{1,63}", s)))


def _grep(path: str, pattern: str) -> list[str]:
    try:
        text = read_text_capped(path, 256 * 1024)
    except OSError:
        return []
    return re.findall(pattern, text, flags=re.MULTILINE)


async def check_dkim(ctx: CheckContext, selector: str, guessed: bool) -> None:
    name = f"{selector}._domainkey.{ctx.domain}"
    fid = f"dkim:{selector}"
    absent = (
        ("info", f"no DKIM key at selector '{selector}' (a guess: pass --selector)")
        if guessed
        else (
            "fail",
            f"no DKIM key published for selector '{selector}'",
            f"The local signer uses '{selector}' but {name} has no TXT record: every signature fails.",
        )
    )
    txt = await ctx.answer(fid, AUTH, "DKIM lookup failed", name, "TXT", absent=absent)
    if txt is None:
        return
    texts = txt.texts()
    if len(texts) > 1:
        ctx.add(Finding(fid, AUTH, "fail", f"{len(texts)} TXT records at {name}: verifiers may pick either"))
        return
    key = parse_dkim(texts[0])
    bits = f"{key.key_type} {key.bits} bits" if key.bits else key.key_type
    detail = "\n".join([texts[0][:300], *key.errors, *key.warnings])
    if key.errors:
        ctx.add(Finding(fid, AUTH, "fail", f"selector '{selector}': {key.errors[0]}", detail))
    elif key.warnings:
        ctx.add(Finding(fid, AUTH, "warn", f"selector '{selector}': {key.warnings[0]}", detail))
    else:
        ctx.add(Finding(fid, AUTH, "ok", f"selector '{selector}': {bits}", detail))
