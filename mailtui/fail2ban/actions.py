"""Actions that change fail2ban: unban and ban, with the IP validated before anything is sent."""

from __future__ import annotations

import ipaddress

from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable
from mailtui.fail2ban.protocol import ProtocolError, RemoteError


class ActionRefused(Exception):
    """The action was not done; the message says why (invalid IP, not banned, no socket...)."""


def valid_ip(ip: str) -> str:
    """The address as fail2ban stores it: canonical, an IPv4-mapped IPv6 one as plain IPv4
    (fail2ban's IPAddr turns ``::ffff:1.2.3.4`` into ``1.2.3.4``)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        raise ActionRefused(f"{ip!r} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def unban(socket_path: str, ip: str, jail: str | None = None) -> int:
    """Unban in one jail (reporting 'not banned') or in all jails; returns the number lifted."""
    address = valid_ip(ip)
    try:
        with Fail2banClient(socket_path) as client:
            if jail is not None:
                if not jail.strip():  # an empty $JAIL must not widen the scope to every jail
                    raise ActionRefused("empty jail name: name the jail, or leave --jail out for every jail")
                return int(client.call("set", jail, "unbanip", "--report-absent", address) or 0)
            return int(client.call("unban", address) or 0)
    except RemoteError as exc:
        raise ActionRefused(f"fail2ban refused: {exc}") from None
    except (SocketUnavailable, ProtocolError) as exc:
        raise ActionRefused(str(exc)) from None


def ban(socket_path: str, ip: str, jail: str) -> int:
    address = valid_ip(ip)
    try:
        with Fail2banClient(socket_path) as client:
            return int(client.call("set", jail, "banip", address) or 0)
    except RemoteError as exc:
        raise ActionRefused(f"fail2ban refused: {exc}") from None
    except (SocketUnavailable, ProtocolError) as exc:
        raise ActionRefused(str(exc)) from None
