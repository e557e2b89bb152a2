"""``mailtui scan FILE...``: a report over whole log files (pflogsumm-like totals + diagnoses)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailtui.cli.output import CliError, print_json
from mailtui.config import Config

if TYPE_CHECKING:
    from mailtui.core.record import LogRecord
    from mailtui.recognizers.model import Match
    from mailtui.recognizers.summary import ScanSummary

HELP = "summarise log files: problems by recognizer and severity, top clients/users, delivery totals"

PROGRESS_EVERY = 200_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="log files (.gz too); '-' for stdin; default: the configured logs")
    parser.add_argument("--since", help="only lines at or after this time (2026-02-19, '2026-02-19 10:00', 2h, 7d)")
    parser.add_argument("--until", help="only lines before this time")
    parser.add_argument("--rotated", action="store_true",
                        help="also read each file's rotations (mail.log.1, mail.log.2.gz, ...)")
    parser.add_argument("--events", action="store_true",
                        help="with --json: one JSON object per recognized line instead of a report")
    parser.add_argument("--limit", type=int, default=20, help="diagnoses shown in the text report")
    parser.add_argument("--fail-on", choices=("notice", "warn", "error", "crit"),
                        help="exit 1 when a problem of this severity or worse was found")


def _files(args: argparse.Namespace, cfg: Config) -> list[str]:
    from mailtui.logs.locate import locate_logs
    from mailtui.logs.reader import with_rotated

    files = list(args.files)
    if not files:
        files = [loc.path for loc in locate_logs(cfg) if loc.path and loc.usable]
        if not files:
            raise CliError("no readable log file found: name files to scan (see mailtui config)")
    if args.rotated:
        files = [f for name in files for f in (with_rotated(name) if name != "-" else [name])]
    return files


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.cli.timespec import parse_time
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.logs.locate import access_problem
    from mailtui.logs.reader import iter_lines
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.loader import CatalogError
    from mailtui.recognizers.model import SEVERITY_RANK
    from mailtui.recognizers.summary import ScanSummary

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    files = _files(args, cfg)
    for name in files:
        if name != "-":
            problem = access_problem(name)
            if problem:
                raise CliError(f"{name}: {problem}")
    try:
        engine = default_engine()
    except CatalogError as exc:
        raise CliError(str(exc)) from None
    summary = ScanSummary()
    events = args.json and args.events
    progress = sys.stderr.isatty() and not events
    out = sys.stdout
    started = time.monotonic()
    for name in files:
        mtime = os.path.getmtime(name) if name != "-" else None
        parser = EnvelopeParser(source=name, year_reference=mtime)
        for lineno, line in iter_lines(name):
            record = parser.parse(line, lineno, sanitized=True)
            ts = record.timestamp
            if ts is not None and ((since is not None and ts < since) or (until is not None and ts >= until)):
                continue
            match = engine.recognize(record)
            summary.add(record, match)
            if events and match is not None:
                out.write(json.dumps(_event(record, match), ensure_ascii=False) + "\n")
            if progress and summary.lines % PROGRESS_EVERY == 0:
                rate = summary.lines / max(time.monotonic() - started, 1e-6)
                sys.stderr.write(f"\rscanning {name}: {summary.lines:,} lines ({rate:,.0f}/s)")
                sys.stderr.flush()
    if progress and summary.lines >= PROGRESS_EVERY:
        sys.stderr.write("\r" + " " * 70 + "\r")
    order = {r.id: i for i, r in enumerate(engine.recognizers)}
    if events:
        pass  # the events were written as they were found
    elif args.json:
        report = summary.to_dict()
        report["files"] = files
        report["recognizers"] = [
            {"recognizer": rid, "severity": st.sample_match.recognizer.severity if st.sample_match else "",
             "title": st.sample_match.recognizer.title if st.sample_match else "",
             "count": st.count, "first": st.first, "last": st.last,
             "top_clients": st.clients.most_common(5), "top_users": st.users.most_common(5),
             "sample": st.sample}
            for rid, st in summary.ordered(order)]
        print_json(report)
    else:
        _print_report(summary, order, files, args.limit)
    if args.fail_on:
        threshold = SEVERITY_RANK[args.fail_on]
        if any(SEVERITY_RANK[sev] >= threshold and n for sev, n in summary.severity.items()):
            return 1
    return 0


def _event(record: LogRecord, match: Match) -> dict[str, Any]:
    r = match.recognizer
    return {
        "file": record.source, "lineno": record.lineno, "timestamp": record.timestamp,
        "program": record.program, "recognizer": r.id, "severity": r.severity,
        **dict(match.fields.items()),
        "fields": match.fields,
        "settings": [str(s) for s in r.settings], "summary": match.summary, "fix": r.fix,
    }


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts is not None else "-"


def _print_report(summary: ScanSummary, order: dict[str, int], files: list[str], limit: int) -> None:
    p = print
    p(f"mailtui scan: {', '.join(files)}")
    p(f"  {summary.lines:,} lines, {summary.recognized:,} recognized, {summary.unparsed:,} unparsed;"
      f" {_when(summary.first)} .. {_when(summary.last)}")
    d = summary.delivery
    p(f"  received {d.get('received', 0):,}  delivered {d.get('delivered', 0):,}  deferred {d.get('deferred', 0):,}  "
      f"bounced {d.get('bounced', 0):,}  rejected {d.get('rejected', 0):,}  expired {d.get('expired', 0):,}")
    p("  by severity: " + "  ".join(f"{s} {n:,}" for s, n in summary.severity.most_common()))
    for title, counter in (("top clients in problems", summary.clients),
                           ("top users in problems", summary.users),
                           ("top senders in problems", summary.senders)):
        if counter:
            p(f"  {title}: " + ", ".join(f"{k} ×{n}" for k, n in counter.most_common(5)))
    p("")
    p(f"{'count':>7}  {'severity':<8}  problem")
    problems = [(rid, st, st.sample_match) for rid, st in summary.ordered(order)
                if st.sample_match and st.sample_match.recognizer.rank >= 1]
    for rid, st, sample in problems[:limit]:
        r = sample.recognizer
        p(f"{st.count:>7,}  {r.severity:<8}  {r.title}  ({rid})")
        p(f"{'':>19}last {_when(st.last)}; e.g. {sample.summary}")
        who = ", ".join(f"{k} ×{n}" for k, n in st.clients.most_common(3))
        if who:
            p(f"{'':>19}from {who}")
        p(f"{'':>19}fix: {textwrap.shorten(r.fix, 150, placeholder=' …')}")
    if len(problems) > limit:
        p(f"... {len(problems) - limit} more (use --limit or --json)")
    if not problems:
        p("   no problems recognized")
