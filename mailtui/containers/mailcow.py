"""mailcow's bans: its netfilter container replaces fail2ban, and its API is the way in.

``GET /api/v1/get/fail2ban`` answers the thresholds (``ban_time``, ``max_attempts``,
``retry_window``, ``netban_ipv4``/``_ipv6``), the allow and deny lists (``whitelist`` /
``blacklist``, one network a line), permanent bans and the active ones, each with
``banned_until`` as time *left* ("00h 29m 12s") and ``queued_for_unban``.
``GET /api/v1/get/logs/netfilter/N`` is the netfilter container's log (why an address was
banned). ``POST /api/v1/edit/fail2ban`` with ``{"items": [network], "attr": {"action": "unban"}}``
queues an unban; it needs a read-write API key, so mailtui keeps two: the read-only key for
everything it shows, and the read-write key only for an unban the admin confirmed.

Every answer is untrusted: sizes capped, shapes checked, strings sanitised by the caller.
The result is the same :class:`Fail2banSnapshot` the Bans pane shows for fail2ban, as one
jail named ``netfilter (mailcow)``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from mailtui.core.numbers import MAX_DIGITS, ascii_int, is_ascii_digits
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus

JAIL = "netfilter (mailcow)"
MAX_BODY = 4 << 20
TIMEOUT = 10.0
_LEFT = re.compile(r"^\s*(-?[0-9]{1,12})h\s+(-?[0-9]{1,12})m\s+(-?[0-9]{1,12})s\s*$")  # ASCII, bounded


class MailcowError(Exception):
    """The API cannot be reached or refused; one line for the user."""


@dataclass
class MailcowBans:
    snapshot: Fail2banSnapshot
    ban_time: int | None = None
    max_attempts: int | None = None
    retry_window: int | None = None
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)  # networks waiting for netfilter to unban them


@dataclass
class NetfilterEvent:
    time: float | None
    priority: str
    message: str


def seconds_left(text: Any) -> float | None:
    """mailcow's "00h 29m 12s" (left), "Forever" for a permanent ban, None when unreadable."""
    if not isinstance(text, str):
        return None
    if text.strip().lower() == "forever":
        return float("inf")
    m = _LEFT.match(text)
    if not m:
        return None
    h, mi, s = (int(x) for x in m.groups())
    return float(max(0, h * 3600 + mi * 60 + s))


def _lines(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [x.strip()[:64] for x in re.split(r"[\s,;]+", value) if x.strip()][:100_000]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return ascii_int(value, max_digits=11)
    return None


def parse_fail2ban(data: Any, now: float | None = None) -> MailcowBans:
    if not isinstance(data, dict):
        raise MailcowError("mailcow API: get/fail2ban did not answer an object (is the key an admin key?)")
    now = time.time() if now is None else now
    banned: list[BannedIP] = []
    queued: list[str] = []
    ban_time = _int(data.get("ban_time"))
    active = data.get("active_bans")
    for item in active if isinstance(active, list) else []:
        if not isinstance(item, dict):
            continue
        raw_net, raw_ip = item.get("network"), item.get("ip")
        network = raw_net if isinstance(raw_net, str) else ""
        ip = raw_ip if isinstance(raw_ip, str) else network.split("/", 1)[0]
        if not ip:
            continue
        left = seconds_left(item.get("banned_until"))
        entry = BannedIP(
            ip[:64],
            ban_time=-1 if left == float("inf") else ban_time,
            ends=None if left is None or left == float("inf") else now + left,
        )
        if left is not None and left != float("inf") and ban_time:
            entry.ban_start = entry.ends - ban_time if entry.ends is not None else None
        banned.append(entry)
        if item.get("queued_for_unban") in (1, "1", True):
            queued.append(network or ip)
    perm = data.get("perm_bans")
    for item in perm if isinstance(perm, list) else []:
        value = item.get("network") if isinstance(item, dict) else item
        perm_net = value if isinstance(value, str) else ""
        if perm_net and not any(b.ip == perm_net.split("/", 1)[0] for b in banned):
            banned.append(BannedIP(perm_net.split("/", 1)[0][:64], ban_time=-1))
    jail = JailStatus(JAIL, currently_banned=len(banned), banned=banned)
    return MailcowBans(
        Fail2banSnapshot([jail], "mailcow"),
        ban_time,
        _int(data.get("max_attempts")),
        _int(data.get("retry_window")),
        _lines(data.get("whitelist")),
        _lines(data.get("blacklist")),
        queued,
    )


class MailcowAPI:
    def __init__(
        self, url: str, key: str, write_key: str = "", *, verify: bool | str = True, timeout: float = TIMEOUT
    ) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.write_key = write_key
        self.timeout = timeout
        self._client = httpx.Client(
            verify=verify, trust_env=False, follow_redirects=False, timeout=httpx.Timeout(timeout)
        )

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, key: str, body: Any = None) -> Any:
        if not key:
            raise MailcowError("no mailcow API key configured ([containers] mailcow_api_key)")
        deadline = time.monotonic() + self.timeout
        try:
            with self._client.stream(
                method, f"{self.url}{path}", json=body, headers={"X-API-Key": key, "Accept": "application/json"}
            ) as resp:
                raw = bytearray()
                for chunk in resp.iter_raw():
                    raw += chunk
                    if len(raw) > MAX_BODY:
                        raise MailcowError(f"mailcow API: {path}: answer larger than {MAX_BODY >> 20} MiB")
                    if time.monotonic() > deadline:
                        raise MailcowError(f"mailcow API: {path}: answer took longer than {self.timeout:g} s")
                status = resp.status_code
        except httpx.ConnectError as exc:
            raise MailcowError(f"cannot reach the mailcow API at {self.url}: {str(exc)[:200]}") from None
        except httpx.TimeoutException:
            raise MailcowError(f"the mailcow API at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise MailcowError(f"mailcow API: {type(exc).__name__}: {str(exc)[:200]}") from None
        if status in (401, 403):
            raise MailcowError(
                f"the mailcow API refused the key (HTTP {status}): check the key and "
                "that this host's address is allowed for it"
            )
        if status >= 400:
            raise MailcowError(f"mailcow API: {path}: HTTP {status}")
        try:
            data = json.loads(bytes(raw)) if raw.strip() else None
        except ValueError:
            raise MailcowError(f"mailcow API: {path}: the answer is not JSON") from None
        if isinstance(data, dict) and data.get("type") == "error":
            msg = data.get("msg")
            raise MailcowError(f"mailcow API: {msg if isinstance(msg, str) else 'error'}"[:300])
        return data

    def bans(self) -> MailcowBans:
        return parse_fail2ban(self._call("GET", "/api/v1/get/fail2ban", self.key))

    def netfilter_log(self, count: int = 100) -> list[NetfilterEvent]:
        data = self._call("GET", f"/api/v1/get/logs/netfilter/{int(count)}", self.key)
        out: list[NetfilterEvent] = []
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("message"), str):
                continue
            when = item.get("time")
            out.append(
                NetfilterEvent(
                    float(when)
                    if isinstance(when, (int, float)) and not isinstance(when, bool)
                    else float(when)
                    if isinstance(when, str) and is_ascii_digits(when) and len(when) <= MAX_DIGITS
                    else None,
                    str(item.get("priority", ""))[:16],
                    item["message"][:2000],
                )
            )
        return out

    def why(self, ip: str, count: int = 500) -> list[NetfilterEvent]:
        """The netfilter log lines that name this address (its matches, ban and unban)."""
        return [e for e in self.netfilter_log(count) if _names(e.message, ip)]

    def unban(self, network: str) -> str:
        """Queue an unban (netfilter applies it within seconds); returns mailcow's words."""
        net = valid_network(network)
        if not self.write_key:
            raise MailcowError(
                "unban needs a read-write mailcow API key ([containers] "
                "mailcow_api_key_rw); the read-only key cannot change bans"
            )
        data = self._call(
            "POST", "/api/v1/edit/fail2ban", self.write_key, {"items": [net], "attr": {"action": "unban"}}
        )
        replies = data if isinstance(data, list) else [data]
        for reply in replies:
            if isinstance(reply, dict) and reply.get("type") in ("danger", "error"):
                msg = reply.get("msg")
                raise MailcowError(f"mailcow refused: {_words(msg)}")
        return f"unban of {net} queued"


def valid_network(text: str) -> str:
    """An address or network as mailcow keys its bans ("1.2.3.4/32"); ValueError otherwise."""
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text.strip(), strict=False))
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        raise MailcowError(f"{text[:64]!r} is not an IP address or network") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # a v4 client seen through a v6 socket: netfilter banned the v4 address
    return f"{addr}/{addr.max_prefixlen}"


def _names(message: str, ip: str) -> bool:
    return re.search(rf"(?<![\w.:]){re.escape(ip)}(?![\w:]|\.\d)", message) is not None


def _words(msg: Any) -> str:
    if isinstance(msg, list):
        return " ".join(str(m) for m in msg)[:300]
    return str(msg)[:300]
