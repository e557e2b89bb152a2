"""Each jail's thresholds, asked of the server: maxretry, findtime, bantime (+ increment, maxtime), ignoreip.

These answer "why was this address banned so fast / not at all": after ``maxretry`` failures
within ``findtime`` seconds an address is banned for ``bantime`` (growing when
``bantime.increment`` is on, up to ``bantime.maxtime``), unless it is in ``ignoreip``.
``bantime.*`` exist from fail2ban 0.11; an older server's refusal leaves them unknown.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from mailtui.core.numbers import ascii_int
from mailtui.fail2ban.client import Fail2banClient
from mailtui.fail2ban.protocol import ProtocolError, RemoteError


@dataclass
class JailSettings:
    jail: str
    maxretry: int | None = None
    findtime: int | None = None  # seconds
    bantime: int | None = None  # seconds; -1 = permanent
    increment: bool | None = None
    maxtime: int | None = None
    ignoreip: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def ignores(self, ip: str) -> bool:
        """Whether ``ip`` is in this jail's ignoreip (addresses and networks; names are not resolved)."""
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        for entry in self.ignoreip:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue  # a host name: fail2ban resolves it, we do not guess
        return False


def _number(value: Any) -> int | None:
    if value is _REFUSED or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None  # int(inf) raises OverflowError
    if isinstance(value, str):
        return ascii_int(value, signed=True)
    return None


def _flag(value: Any) -> bool | None:
    if value is _REFUSED:
        return None
    if value is None:
        return False  # the server answered: the option is not set, so it is off
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return None


_REFUSED = object()


def _ask(client: Fail2banClient, jail: str, name: str) -> Any:
    try:
        return client.call("get", jail, name)
    except (RemoteError, ProtocolError):
        return _REFUSED  # an older server, or no such jail: unknown, not "off"


def read_settings(client: Fail2banClient, jails: list[str]) -> dict[str, JailSettings]:
    out: dict[str, JailSettings] = {}
    for jail in jails:
        ignore = _ask(client, jail, "ignoreip")
        out[jail] = JailSettings(
            jail,
            _number(_ask(client, jail, "maxretry")),
            _number(_ask(client, jail, "findtime")),
            _number(_ask(client, jail, "bantime")),
            _flag(_ask(client, jail, "bantime.increment")),
            _number(_ask(client, jail, "bantime.maxtime")),
            [str(x)[:128] for x in ignore][:10_000] if isinstance(ignore, (list, tuple)) else [],
        )
    return out


def ignored_elsewhere(banned: dict[str, list[str]], settings: dict[str, JailSettings]) -> list[tuple[str, str, str]]:
    """(ip, the jail that banned it, a jail whose ignoreip holds it): an address one jail trusts
    and another bans — usually a forgotten ignoreip in one jail, or the admin's own address."""
    out: list[tuple[str, str, str]] = []
    for jail, ips in banned.items():
        for ip in ips:
            for other, s in settings.items():
                if other != jail and s.ignores(ip):
                    out.append((ip, jail, other))
    return out
