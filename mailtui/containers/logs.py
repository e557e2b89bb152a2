"""Which logs of the appliance to follow, and how.

mailcow and Mailu write their daemons' syslog lines to the containers' stdout: those are
followed through the engine's logs API. docker-mailserver writes its mail log to
``/var/log/mail/mail.log`` inside its one container (rsyslog), usually bind-mounted to the host
(``docker-data/dms/mail-logs``): that file is followed like any log file, through the mount
or, as root, through ``/proc/<pid>/root``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailtui.containers.appliances import Detection
from mailtui.containers.engine import EngineClient, EngineError
from mailtui.containers.paths import host_path

#: roles whose container output is a mail log worth following
LOG_ROLES = ("postfix", "dovecot", "rspamd", "netfilter")
DMS_MAIL_LOG = "/var/log/mail/mail.log"


@dataclass
class ContainerLogSource:
    name: str  # the container's name: the Logs pane's source column
    key: str  # finds the container again after re-creation
    path: str = ""  # a file to follow instead of the engine's stream


def container_log_sources(client: EngineClient, detection: Detection) -> list[ContainerLogSource]:
    out: list[ContainerLogSource] = []
    for mc in detection.containers:
        if not any(r in LOG_ROLES for r in mc.roles):
            continue
        if mc.appliance == "docker-mailserver":
            try:
                state = client.inspect(mc.container.id)
            except EngineError:
                state = None
            path = host_path(state, DMS_MAIL_LOG) if state is not None else ""
            if path:
                out.append(ContainerLogSource(mc.container.name, mc.key, path))
                continue
        out.append(ContainerLogSource(mc.container.name, mc.key))
    return out
