"""fail2ban inside a container (docker-mailserver): its socket and log as this machine reaches them.

docker-mailserver runs fail2ban-server in its one container. Its socket is spoken to exactly
like a local one (mailtui.fail2ban), through a mounted ``/var/run/fail2ban`` or, as root,
through ``/proc/<pid>/root``; unban and ban then act inside the container. mailcow has no
fail2ban (its netfilter container bans; see mailcow.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailtui.containers.appliances import Detection
from mailtui.containers.engine import EngineClient, EngineError
from mailtui.containers.paths import host_path, reach_problem

SOCKET = "/var/run/fail2ban/fail2ban.sock"
LOG = "/var/log/fail2ban.log"
DATABASE = "/var/lib/fail2ban/fail2ban.sqlite3"


@dataclass
class ContainerFail2ban:
    container: str
    socket: str = ""
    log: str = ""
    database: str = ""
    problem: str = ""


def locate(client: EngineClient, detection: Detection) -> ContainerFail2ban | None:
    """Where the appliance's fail2ban is, or None when no container runs one."""
    found = detection.with_role("fail2ban")
    if not found:
        return None
    mc = found[0]
    out = ContainerFail2ban(mc.container.name)
    try:
        state = client.inspect(mc.container.id)
    except EngineError as exc:
        out.problem = str(exc)
        return out
    out.problem = reach_problem(state, SOCKET, mc.container.name)
    out.socket, out.log, out.database = (host_path(state, p) for p in (SOCKET, LOG, DATABASE))
    return out
