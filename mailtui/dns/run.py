"""Run every check of a domain concurrently under one deadline; findings arrive as they are made.

Order of dependence: DNS lookups and discovery fetches all start at once; TLSA waits for
the MX list; the port probes wait for discovery (they probe what was advertised); the
consistency check waits for the probes and this machine's configuration. Whatever has not
finished at the deadline is reported as a timeout, never silently dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mailtui.dns.blocklists import check_reputation
from mailtui.dns.consistency import check_consistency, read_local_view
from mailtui.dns.context import CheckContext, CheckOptions
from mailtui.dns.discovery import MAIL_SRV, OTHER_SRV, check_autoconfig, check_autodiscover, check_srv
from mailtui.dns.model import AUTH, CONSISTENCY, DISCOVERY, REPUTATION, ROUTING, TRANSPORT, Finding, ordered, worst
from mailtui.dns.routing import check_mx
from mailtui.dns.senders import check_dkim, check_dmarc, check_spf, local_dkim_selectors
from mailtui.dns.transport import check_advertised_ports, check_caa, check_mta_sts, check_tlsa, check_tlsrpt


@dataclass
class CheckReport:
    domain: str
    unicode_domain: str
    nameserver: str
    findings: list[Finding] = field(default_factory=list)
    elapsed: float = 0.0
    queries: int = 0
    slowest_lookup: float = 0.0
    lookups: list[tuple[str, str]] = field(default_factory=list)

    def worst(self) -> str:
        return worst(self.findings)

    def ordered(self) -> list[Finding]:
        return ordered(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "unicode_domain": self.unicode_domain,
            "nameserver": self.nameserver,
            "worst": self.worst(),
            "elapsed": round(self.elapsed, 3),
            "queries": self.queries,
            "checks": [f.to_dict() for f in self.ordered()],
        }


class _Tracker:
    """Which checks are still running, so the deadline can name them."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.pending: dict[str, str] = {}

    async def guard(self, name: str, group: str, coro: Awaitable[None]) -> None:
        self.pending[name] = group
        try:
            await coro
        except asyncio.CancelledError:
            raise  # the deadline: it stays pending and is reported as a timeout
        except Exception as exc:  # noqa: BLE001 - one broken check must not sink the report
            self.ctx.add(Finding(name, group, "error", f"{name}: {type(exc).__name__}: {exc}"))
        self.pending.pop(name, None)


async def run_checks(
    options: CheckOptions, on_finding: Callable[[Finding], None] | None = None, local: bool = True
) -> CheckReport:
    started = time.monotonic()
    ctx = CheckContext(options, on_finding)
    report = CheckReport(ctx.domain, ctx.unicode_domain, ctx.resolver.describe())
    tracker = _Tracker(ctx)
    g = tracker.guard
    selectors = list(options.selectors)
    guessed = set(selectors) == {"default"}
    found_local = local_dkim_selectors() if local else []
    selectors += [s for s in found_local if s not in selectors]

    async def discovery() -> None:
        await asyncio.gather(
            *(g(f"srv:{label}", DISCOVERY, check_srv(ctx, label)) for label in [*MAIL_SRV, *OTHER_SRV]),
            g("autoconfig", DISCOVERY, check_autoconfig(ctx)),
            g("autodiscover", DISCOVERY, check_autodiscover(ctx)),
        )
        if options.probes:
            await g("probes", TRANSPORT, check_advertised_ports(ctx))

    async def tlsa() -> None:
        await ctx.mx_done.wait()
        await asyncio.gather(*(g(f"tlsa:{h}", TRANSPORT, check_tlsa(ctx, h)) for h in ctx.mx_hosts))

    async def local_view() -> None:
        if local:
            ctx.local = await asyncio.to_thread(read_local_view, options.postfix_dir, options.dovecot_config)

    async def everything() -> None:
        first = asyncio.gather(
            g("mx", ROUTING, check_mx(ctx)),
            g("spf", AUTH, check_spf(ctx)),
            g("dmarc", AUTH, check_dmarc(ctx)),
            *(
                g(f"dkim:{s}", AUTH, check_dkim(ctx, s, guessed and s == "default" and s not in found_local))
                for s in selectors
            ),
            g("mta-sts", TRANSPORT, check_mta_sts(ctx)),
            g("tls-rpt", TRANSPORT, check_tlsrpt(ctx)),
            g("caa", TRANSPORT, check_caa(ctx)),
            tlsa(),
            discovery(),
            g("local", CONSISTENCY, local_view()),
            *([g("blocklists", REPUTATION, check_reputation(ctx))] if options.blocklists else []),
        )
        await first
        await g("consistency", CONSISTENCY, check_consistency(ctx))

    try:
        await asyncio.wait_for(everything(), options.deadline)
    except asyncio.TimeoutError:
        for name, group in list(tracker.pending.items()):
            if name == "local":
                continue
            ctx.add(Finding(name, group, "timeout", f"{name}: not finished within the {options.deadline:g} s deadline"))
    finally:
        await ctx.close()
    report.findings = ctx.finish()
    report.elapsed = time.monotonic() - started
    report.queries = ctx.resolver.count
    report.slowest_lookup = ctx.resolver.slowest
    report.lookups = ctx.resolver.asked()
    return report


def check_domain(
    options: CheckOptions, on_finding: Callable[[Finding], None] | None = None, local: bool = True
) -> CheckReport:
    """Blocking entry point for the CLI and the pane's thread worker."""
    return asyncio.run(run_checks(options, on_finding, local))
