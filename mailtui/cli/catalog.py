"""The recognizer engine for commands: a bad user catalog is said once on stderr, then skipped.

``main`` calls :func:`report_problems` after every command too, so a command that loaded
the engine indirectly (the queue's reasons, ``bans --ip``) cannot keep the problem quiet.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from mailtui.cli.output import CliError

if TYPE_CHECKING:
    from mailtui.recognizers.engine import Engine

_reported = False


def engine() -> Engine:
    """The default engine (built-in + valid user catalogs); its skipped files reported."""
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.loader import CatalogError

    try:
        loaded = default_engine()
    except CatalogError as exc:  # the built-in catalog: a broken installation
        raise CliError(f"the built-in recognizer catalog is invalid: {exc}") from None
    report_problems()
    return loaded


def report_problems() -> None:
    global _reported
    # a command that never loaded the engine has nothing to report: importing it would cost
    # the catalog's modules (~8 ms) to every command
    module = sys.modules.get("mailtui.recognizers.engine")
    loaded = getattr(module, "_default", None)
    if _reported or loaded is None:
        return
    _reported = True
    for problem in loaded.problems:
        print(f"mailtui: warning: {problem}", file=sys.stderr)
