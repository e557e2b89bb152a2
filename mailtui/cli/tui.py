"""Start the dashboard (``mailtui`` with no command). Textual is imported only here, lazily."""

from __future__ import annotations

import argparse
import sys

from mailtui.cli.output import CliError, stdin_closed
from mailtui.config import Config


def run_tui(args: argparse.Namespace, cfg: Config) -> int:
    if not sys.stdout.isatty():
        raise CliError("the dashboard needs a terminal; use a subcommand (see --help) for scripts")
    if stdin_closed() or not sys.stdin.isatty():
        # Textual reads keys from stdin: closed, /dev/null or a pipe ends it at once (exit 129)
        raise CliError(
            "the dashboard needs a terminal on stdin (it reads the keys there); "
            "use a subcommand (see --help) for scripts"
        )
    from mailtui.ui.app import MailTuiApp

    if not args.demo:
        app = MailTuiApp(cfg)
        app.run()
        return app.return_code or 0
    import shutil
    import tempfile
    from pathlib import Path

    from mailtui.demo.replay import DemoReplay

    directory = Path(tempfile.mkdtemp(prefix="mailtui-demo-"))
    replay = DemoReplay(directory)
    replay.start()
    from mailtui.demo import configure

    configure(cfg, replay.paths, directory)

    def cleanup() -> None:  # also run by the app itself when a stuck worker forces the exit
        replay.stop()
        shutil.rmtree(directory, ignore_errors=True)

    try:
        from mailtui.demo.bans import DemoBans
        from mailtui.demo.dns import DemoDns
        from mailtui.demo.services import DemoServices

        app = MailTuiApp(cfg, demo=True, services=DemoServices(), bans=DemoBans(), dns=DemoDns())
        app.add_cleanup(cleanup)
        app.run()
    finally:
        cleanup()
    return app.return_code or 0
