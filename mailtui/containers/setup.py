"""From the configuration to a working container setup: the engine, what runs, the routes.

``discover(containers)`` answers the one question every part asks first — is this a container host
with a mail appliance? — and says why not in one line ("no container engine socket at ...",
"the container engine socket is root-only (or group docker): ...", "no mail containers
run"). ``[containers] mode = no`` turns it off; ``yes`` makes a missing engine an error worth
showing instead of a quiet "not a container host".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtui.containers.appliances import Detection, detect
from mailtui.containers.engine import EngineClient, EngineError, access_problem, socket_from_env
from mailtui.settings import ContainersSettings


@dataclass
class ContainerSetup:
    mode: str  # auto | yes | no
    socket: str = ""
    client: EngineClient | None = None
    detection: Detection = field(default_factory=Detection)
    reason: str = ""  # why containers are not used (or what went wrong)
    routes: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.client is not None and bool(self.detection.containers)


def names_from(containers: ContainersSettings) -> dict[str, tuple[str, ...]] | None:
    """The containers named in the config ([containers] postfix / dovecot) -> their roles."""
    names: dict[str, tuple[str, ...]] = {}
    for role, name in (("postfix", containers.postfix), ("dovecot", containers.dovecot)):
        if name:
            names[name] = (*names.get(name, ()), role)
    return names or None


def discover(containers: ContainersSettings, *, routes: bool = True) -> ContainerSetup:
    setup = ContainerSetup(containers.mode)
    if setup.mode == "no":
        setup.reason = "turned off ([containers] mode = no)"
        return setup
    setup.socket = socket_from_env(containers.socket)
    problem = access_problem(setup.socket)
    if problem:
        setup.reason = problem
        return setup
    client = EngineClient(setup.socket)
    try:
        setup.detection = detect(client.containers(), names_from(containers))
    except EngineError as exc:
        setup.reason = str(exc)
        client.close()
        return setup
    if not setup.detection.containers:
        setup.reason = "no mail appliance containers (mailcow, docker-mailserver, Mailu) found"
        client.close()
        return setup
    setup.client = client
    if routes:
        from mailtui.containers.config import install_routes

        setup.routes = install_routes(client, setup.detection)
    return setup
