"""``mailtui containers``: the mail appliance's containers (state, health, restarts, ports)."""

from __future__ import annotations

import argparse

from mailtui.cli.output import print_json, print_table
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "the mail appliance's containers (mailcow, docker-mailserver, Mailu): state, health, restarts, ports"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--socket",
        default="",
        help="the engine's API socket (default: DOCKER_HOST, /var/run/docker.sock, /run/podman/podman.sock)",
    )


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.containers.engine import EngineClient, socket_from_env
    from mailtui.containers.services import collect
    from mailtui.containers.setup import names_from
    from mailtui.system.units import human_age

    containers = settings_from(cfg).containers
    socket = socket_from_env(args.socket or containers.socket)
    client = EngineClient(socket)
    try:
        report = collect(client, names_from(containers))
    finally:
        client.close()
    if args.json:
        print_json(report.to_dict())
    elif report.problem:
        print(report.problem)
    elif not report.services:
        print(f"no mail appliance containers (mailcow, docker-mailserver, Mailu) at {socket}")
    else:
        print(f"{report.appliance} · {socket}")
        print_table(
            [
                [
                    s.name,
                    ",".join(s.roles),
                    s.state + (f" ({s.health})" if s.health else ""),
                    human_age(s.uptime()) if s.uptime() is not None else "-",
                    str(s.restarts),
                    " ".join(s.ports) or "-",
                ]
                for s in report.services
            ],
            ["container", "roles", "state", "uptime", "restarts", "ports"],
        )
    if report.problem:
        return 4
    return 0 if all(s.ok for s in report.services) else 1
