"""Start the dashboard (``mailtui`` with no command). Textual is imported only here, lazily."""

from __future__ import annotations

import argparse
import sys

from mailtui.cli.output import CliError
from mailtui.config import Config


def run_tui(args: argparse.Namespace, cfg: Config) -> int:
    if args.demo:
        raise CliError("--demo is not available yet: the demo replay is not built")
    if not sys.stdout.isatty():
        raise CliError("the dashboard needs a terminal; use a subcommand (see --help) for scripts")
    from mailtui.ui.app import MailTuiApp

    app = MailTuiApp(cfg)
    app.run()
    return app.return_code or 0
