"""``mailtui explain [LINE]``: recognise one log line (or each line on stdin) and explain it.

Lines on stdin are correlated in order (analysis.correlate), so a line is explained with what the
lines before it say (its session, its connection); a single line is explained alone, and
says so where the other lines or a setting would decide.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from mailtui.cli.output import CliError, need_stdin, print_json
from mailtui.config import Config
from mailtui.settings import settings_from

HELP = "explain a log line: what happened, the settings behind it (live values), the fix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("line", nargs="?", help="the log line (default: read lines from stdin)")


MAX_STDIN_LINES = 100_000


def _capped() -> Iterator[str]:
    """Lines of stdin through the log reader (capped, sanitized), at most MAX_STDIN_LINES."""
    from mailtui.logs.reader import iter_lines

    for n, line in iter_lines("-"):
        if n > MAX_STDIN_LINES:
            raise CliError(f"more than {MAX_STDIN_LINES:,} lines on stdin: use mailtui scan - for many lines")
        yield line


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.analysis.correlate import Correlator, context
    from mailtui.cli.catalog import engine as load_engine
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.recognizers.explain import Explainer, format_diagnosis

    if args.line is not None:
        lines = [args.line]
    else:
        need_stdin("give a log line as argument, or pipe lines on stdin")
        if sys.stdin.isatty():
            raise CliError("give a log line as argument, or pipe lines on stdin")
        lines = [ln for ln in _capped() if ln.strip()]
        if not lines:
            raise CliError("no log line on stdin: give one as argument, or pipe lines")
    engine = load_engine()
    settings = settings_from(cfg)
    explainer = Explainer(PostfixConfig(settings.postfix.config_dir), DovecotConfig(settings.dovecot.config))
    parser = EnvelopeParser(source="argument" if args.line is not None else "stdin")
    results = []
    unrecognized = 0
    corr = Correlator()
    for lineno, line in enumerate(lines, 1):
        record = parser.parse(line, lineno)
        match = engine.recognize(record)
        keys = corr.keys(record, match)
        if match is None:
            unrecognized += 1
            results.append({"line": record.line, "recognizer": None})
            if not args.json:
                print(f"not recognized: {record.line}\n")
            continue
        diagnosis = explainer.diagnose(record, match, context(record, match, keys, corr))
        if args.json:
            results.append(diagnosis.to_dict())
        else:
            print(format_diagnosis(diagnosis) + "\n")
    if args.json:
        print_json(results[0] if args.line is not None else results)
    return 1 if unrecognized == len(lines) else 0
