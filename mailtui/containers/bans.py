"""The appliance's bans as the Bans pane and ``mailtui bans`` show fail2ban's.

mailcow: through its API (read-only key to read, read-write key to unban). docker-mailserver:
its fail2ban's socket inside the container (mounted, or /proc/<pid>/root as root), read and
unbanned like a local one. Anything else: None, and the caller reads the host's fail2ban.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailtui.fail2ban.source import RUNNING, STOPPED, BansResult, ServerState, read_bans
from mailtui.settings import ContainersSettings, Settings

if TYPE_CHECKING:  # mailcow's client imports httpx (~100 ms): only for a configured mailcow
    from mailtui.containers.mailcow import MailcowAPI


@dataclass
class ApplianceBans:
    result: BansResult
    socket: str = ""  # docker-mailserver: the socket unban goes to
    mailcow: MailcowAPI | None = None  # mailcow: the API unban goes to


def mailcow_api(containers: ContainersSettings) -> MailcowAPI | None:
    if not containers.mailcow_url or containers.mode == "no":
        return None
    from mailtui.containers.mailcow import MailcowAPI

    return MailcowAPI(
        containers.mailcow_url,
        containers.mailcow_api_key,
        containers.mailcow_api_key_rw,
        verify=containers.mailcow_verify_tls,
    )


def appliance_bans(settings: Settings) -> ApplianceBans | None:
    """The appliance's bans, or None when the host's own fail2ban is the one to read."""
    api = mailcow_api(settings.containers)
    if api is not None:
        from mailtui.containers.mailcow import MailcowError

        try:
            bans = api.bans()
        except MailcowError as exc:
            return ApplianceBans(BansResult(None, "", str(exc), ServerState(STOPPED, None, str(exc))), mailcow=api)
        blocked = (
            "" if api.write_key else ("unban needs a read-write mailcow API key ([containers] mailcow_api_key_rw)")
        )
        if settings.ui.read_only:
            blocked = "read-only (--read-only or [ui] read_only)"
        result = BansResult(
            bans.snapshot, "mailcow", "", ServerState(RUNNING, True, "mailcow's API answered"), api.url, blocked=blocked
        )
        return ApplianceBans(result, mailcow=api)
    if settings.fail2ban.socket or settings.containers.mode == "no":
        return None  # a configured socket wins over the guess
    from mailtui.containers.fail2ban import locate
    from mailtui.containers.setup import discover

    setup = discover(settings.containers, routes=False)
    if not setup.active or setup.client is None:
        return None
    try:
        where = locate(setup.client, setup.detection)
    finally:
        setup.client.close()
    if where is None:
        return None
    if where.problem:
        return ApplianceBans(BansResult(None, "", where.problem, ServerState(STOPPED, None, where.problem)))
    return ApplianceBans(read_bans(where.socket, where.log, where.database), socket=where.socket)


def unban(found: ApplianceBans, ip: str, jail: str | None) -> str:
    """Lift a ban the appliance's way; the caller has asked the admin and checked --read-only."""
    if found.mailcow is not None:
        return found.mailcow.unban(ip)
    from mailtui.fail2ban.actions import unban as f2b_unban

    lifted = f2b_unban(found.socket, ip, jail)
    return f"{ip} unbanned in {lifted} jail{'s' if lifted != 1 else ''}"
