"""Postfix's and Dovecot's configuration inside their containers: tools by exec, files by path.

``install_routes`` points ``postconf``/``postqueue``/``postsuper`` at the Postfix container and
``doveconf``/``doveadm`` at the Dovecot one (mailtui.mta.run's routes), so explanations,
``mailtui where``, the Services pane and queue actions read the appliance's real settings.
A configuration file is read from the host when the container has it bind-mounted (mailcow's
``data/conf/postfix/main.cf``), else through the container (``cat`` by exec, capped); it is
named as the container sees it, with the host's path beside it when there is one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from mailtui.containers.appliances import Detection, MailContainer
from mailtui.containers.engine import ContainerState, EngineClient, EngineError
from mailtui.containers.paths import host_path
from mailtui.core.files import read_text_capped
from mailtui.mta.run import DOVECOT_TOOLS, POSTFIX_TOOLS, ToolResult, route_tools

MAX_FILE = 4 << 20


@dataclass
class ContainerRoute:
    client: EngineClient
    container_id: str
    name: str
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (host source, container path)

    @property
    def where(self) -> str:
        return f"container {self.name}"

    def run(self, argv: list[str], timeout: float) -> ToolResult:
        try:
            res = self.client.exec(self.container_id, argv, timeout=timeout)
        except EngineError as exc:
            return ToolResult(False, "", f"{argv[0]} in {self.where}: {exc}")
        if res.code == 0:
            return ToolResult(True, res.stdout, "", res.stderr)
        err = res.stderr.strip().splitlines()
        if res.code in (126, 127) and not res.stdout:
            return ToolResult(False, "", f"{argv[0]} is not installed in {self.where}", res.stderr)
        return ToolResult(
            False, res.stdout, err[-1] if err else f"{argv[0]} exited {res.code} in {self.where}", res.stderr
        )

    def host_path(self, path: str) -> str:
        """The host's file behind a container path, through the longest bind mount that covers it
        (not /proc/<pid>/root: a file named to the admin should be one they can open)."""
        return host_path(ContainerState(mounts=self.mounts), path)

    def read_text(self, path: str) -> str | None:
        host = self.host_path(path)
        if host:
            try:
                return read_text_capped(host, MAX_FILE)
            except OSError:
                pass  # not readable here (a volume of another user): ask the container
        res = self.run(["cat", "--", path], timeout=10)
        if not res.ok:
            return None
        return res.stdout[:MAX_FILE]

    def exists(self, path: str) -> bool:
        host = self.host_path(path)
        if host and os.path.exists(host):
            return True
        return self.run(["test", "-e", path], timeout=10).ok

    def label(self, path: str) -> str:
        host = self.host_path(path)
        return f"{self.name}:{path}" + (f" (host {host})" if host else "")


def route_for(client: EngineClient, mc: MailContainer) -> ContainerRoute:
    mounts: list[tuple[str, str]] = []
    try:
        mounts = client.inspect(mc.container.id).mounts
    except EngineError:
        pass  # files are then read through the container
    return ContainerRoute(client, mc.container.id, mc.container.name, mounts)


def install_routes(client: EngineClient, detection: Detection) -> list[str]:
    """Route the Postfix and Dovecot tools into their containers; returns what was routed, for
    ``mailtui config`` ("postconf -> container postfix-mailcow")."""
    done: list[str] = []
    for role, tools in (("postfix", POSTFIX_TOOLS), ("dovecot", DOVECOT_TOOLS)):
        found = [m for m in detection.with_role(role) if m.container.state == "running"] or detection.with_role(role)
        if not found:
            continue
        route = route_for(client, found[0])
        route_tools(tools, route)
        done.append(f"{tools[0]} -> {route.where}")
    return done
