"""``mailtui agent --stdio``: run on a mail host for a dashboard elsewhere (started over ssh)."""

from __future__ import annotations

import argparse

from mailtui.cli.output import CliError
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "stream this host's logs, bans and services as JSON lines for a remote dashboard (over ssh)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio", action="store_true", help="speak the agent protocol on stdin/stdout (docs/fleet.md); required"
    )


def run(args: argparse.Namespace, cfg: Config) -> int:
    if not args.stdio:
        raise CliError("mailtui agent is started by the dashboard as `mailtui agent --stdio` over ssh")
    from mailtui.cli.who_cmd import agent_lookup
    from mailtui.fleet.agent import serve

    # requests answered by layers above the agent's (who is analysis): handed in from here
    return serve(cfg, read_only=settings_from(cfg).ui.read_only, handlers={"who": lambda msg: agent_lookup(cfg, msg)})
