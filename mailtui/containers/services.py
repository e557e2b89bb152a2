"""The appliance's containers as services: state, health, restarts, uptime, published ports.

On a container host the daemons' pids mean little (they live in other PID namespaces and
restart with their container); what an admin asks is whether ``postfix-mailcow`` is up and
healthy, how often it restarted, and which ports it publishes. One engine round trip lists
the containers; each mail container is inspected once per poll.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mailtui.containers.appliances import Detection, detect
from mailtui.containers.engine import EngineClient, EngineError
from mailtui.core.numbers import is_ascii_digits
from mailtui.logs.sanitize import clean


@dataclass
class ContainerService:
    name: str
    appliance: str
    roles: list[str]
    state: str  # running, exited, restarting, ...
    health: str = ""  # healthy / unhealthy / starting / "" (no health check)
    restarts: int = 0
    started: float | None = None  # epoch
    exit_code: int | None = None
    ports: list[str] = field(default_factory=list)  # "0.0.0.0:25->25/tcp"
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "running" and self.health in ("", "healthy", "starting")

    def uptime(self, now: float | None = None) -> float | None:
        if self.state != "running" or self.started is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.started)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "uptime_seconds": self.uptime()}


@dataclass
class ContainersReport:
    socket: str
    appliance: str = ""
    services: list[ContainerService] = field(default_factory=list)
    problem: str = ""  # the engine could not be asked (socket, permission, ...)

    def to_dict(self) -> dict[str, Any]:
        return {
            "socket": self.socket,
            "appliance": self.appliance,
            "problem": self.problem,
            "containers": [s.to_dict() for s in self.services],
        }


def _epoch(text: str) -> float | None:
    if not text or text.startswith("0001-"):
        return None
    main, _, frac = text.rstrip("Z").partition(".")
    try:
        when = datetime.fromisoformat(main + "+00:00")
    except ValueError:
        return None
    return when.timestamp() + (float("0." + "".join(c for c in frac if is_ascii_digits(c))[:6]) if frac else 0.0)


def collect(client: EngineClient, names: dict[str, tuple[str, ...]] | None = None) -> ContainersReport:
    report = ContainersReport(client.socket)
    try:
        detection: Detection = detect(client.containers(), names)
    except EngineError as exc:
        report.problem = str(exc)
        return report
    report.appliance = detection.appliance
    for m in detection.containers:
        c = m.container
        svc = ContainerService(
            clean(c.name),
            m.appliance,
            list(m.roles),
            clean(c.state),
            ports=[clean(f"{ip or '*'}:{pub}->{priv}/{proto}") for ip, pub, priv, proto in c.ports],
        )
        try:
            st = client.inspect(c.id)
        except EngineError as exc:
            svc.problem = str(exc)
        else:
            svc.health, svc.restarts, svc.exit_code = clean(st.health), st.restarts, st.exit_code
            svc.started = _epoch(st.started_at)
            if st.status:
                svc.state = clean(st.status)
        report.services.append(svc)
    return report
