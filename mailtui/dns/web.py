"""HTTP(S) fetches for autoconfig, autodiscover and MTA-STS, resolved through the checks' resolver.

Each hop's host name is looked up with :class:`Resolver` and the connection goes to that
address with the name as SNI and Host header, so the certificate is checked against the
name (never the system resolver). Redirects are followed by hand, each hop re-resolved,
with a limit and loop detection. Bodies are capped; every fetch has an overall deadline,
which also bounds a server that trickles bytes (slowloris).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from mailtui.dns.resolver import Resolver

MAX_BODY = 1 << 20
MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)


@dataclass
class Fetch:
    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    error: str = ""
    kind: str = ""  # "", "dns" (no such name), "dns-error", "connect", "tls", "timeout", "too_big",
    # "redirects", "http"
    redirects: list[str] = field(default_factory=list)  # the URLs that were redirected to, in order
    location: str = ""  # Location of an unfollowed redirect

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error

    @property
    def final_url(self) -> str:
        return self.redirects[-1] if self.redirects else self.url

    def describe(self) -> str:
        if self.error:
            return self.error
        return f"HTTP {self.status}" + (f" -> {self.location}" if self.location else "")


def make_ssl_context(ca_file: str = "") -> ssl.SSLContext:
    """The system trust store, or an extra CA bundle (a private CA; the tests' throwaway CA)."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


class Web:
    def __init__(
        self,
        resolver: Resolver,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 5.0,
        max_body: int = MAX_BODY,
        allow: Callable[[str], bool] | None = None,
    ) -> None:
        self.resolver = resolver
        self.allow = allow
        self.timeout = timeout
        self.max_body = max_body
        self.client = httpx.AsyncClient(
            verify=ssl_context or make_ssl_context(),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        follow: int = MAX_REDIRECTS,
    ) -> Fetch:
        result = Fetch(url)
        try:
            await asyncio.wait_for(self._fetch(result, method, content, headers or {}, follow), self.timeout * 2)
        except asyncio.TimeoutError:
            result.error, result.kind = f"no complete answer within {self.timeout * 2:g} s", "timeout"
        return result

    async def _fetch(
        self, result: Fetch, method: str, content: bytes | None, headers: dict[str, str], follow: int
    ) -> None:
        url = result.url
        seen = {url}
        while True:
            status = await self._one(result, url, method, content, headers)
            if not status or status not in REDIRECT_CODES:
                return
            target = result.location
            if follow <= 0:
                return
            if target in seen:
                result.error, result.kind = f"redirect loop back to {target}", "redirects"
                return
            if len(result.redirects) >= follow:
                result.error, result.kind = f"more than {follow} redirects", "redirects"
                return
            seen.add(target)
            result.redirects.append(target)
            result.location = ""
            if status == 303 and method == "POST":  # "see other": fetch the answer with GET
                method, content = "GET", None
            url = target

    async def _one(
        self, result: Fetch, url: str, method: str, content: bytes | None, headers: dict[str, str]
    ) -> int | None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            result.error, result.kind = f"invalid URL {url[:100]!r}: {exc}", "http"
            return None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            result.error, result.kind = f"not an http(s) URL: {url[:100]}", "http"
            return None
        host = parsed.host
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            addresses, lookups = await self.resolver.addresses(host)
            if not addresses:
                worst = next((lk for lk in lookups if not lk.ok and lk.status != "nodata"), lookups[0])
                result.error = f"{host}: no address ({worst.describe()})"
                # absence is an answer; SERVFAIL, REFUSED and silence are not
                result.kind = {"nxdomain": "dns", "nodata": "dns", "timeout": "timeout"}.get(worst.status, "dns-error")
                return None
            address = sorted(addresses, key=lambda a: ":" in a)[0]  # IPv4 first: loopback tests, NAT64
        if self.allow is not None and not self.allow(address):
            result.error, result.kind = f"not connecting to {address}: outside the allowed addresses", "connect"
            return None
        target = parsed.copy_with(host=address)
        req_headers = {"Host": parsed.netloc.decode("ascii"), "User-Agent": "mailtui-check", **headers}
        try:
            async with self.client.stream(
                method, target, content=content, headers=req_headers, extensions={"sni_hostname": host}
            ) as response:
                result.status = response.status_code
                result.content_type = response.headers.get("content-type", "")
                if response.status_code in REDIRECT_CODES:
                    result.location = str(parsed.join(response.headers.get("location", "")))
                    return response.status_code
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_body:
                        result.error, result.kind = f"body larger than {self.max_body} bytes (not read)", "too_big"
                        return response.status_code
                result.body = bytes(body)
                return response.status_code
        except httpx.ConnectError as exc:
            text = str(exc)
            tls = "CERTIFICATE" in text.upper() or "SSL" in text.upper() or "HOSTNAME" in text.upper()
            result.error = f"{host} ({address}): {'TLS: ' if tls else ''}{text or 'connection failed'}"
            result.kind = "tls" if tls else "connect"
        except httpx.TimeoutException:
            result.error, result.kind = f"{host} ({address}): timed out", "timeout"
        except httpx.HTTPError as exc:
            result.error, result.kind = f"{host} ({address}): {type(exc).__name__}: {exc}", "http"
        return None
