"""``mailtui scan FILE...``: a report over whole log files (pflogsumm-like totals + diagnoses)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailtui.cli import validate
from mailtui.cli.output import CliError, json_text, need_stdin, print_json
from mailtui.cli.output import progress as show_progress
from mailtui.config import Config
from mailtui.system.units import plural

if TYPE_CHECKING:
    from mailtui.core.record import LogRecord
    from mailtui.recognizers.explain import Explainer
    from mailtui.recognizers.model import Match
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

HELP = "summarise log files: problems by recognizer and severity, top clients/users, delivery totals"

PROGRESS_EVERY = 200_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="log files (.gz too); '-' for stdin; default: the configured logs"
    )
    parser.add_argument("--since", help="only lines at or after this time (2026-02-19, '2026-02-19 10:00', 2h, 7d)")
    parser.add_argument("--until", help="only lines before this time")
    parser.add_argument(
        "--rotated", action="store_true", help="also read each file's rotations (mail.log.1, mail.log.2.gz, ...)"
    )
    parser.add_argument(
        "--events", action="store_true", help="with --json: one JSON object per recognized line instead of a report"
    )
    parser.add_argument(
        "--unknown",
        action="store_true",
        help="list the commonest shapes of lines no recognizer explains (ids, addresses, "
        "hosts, users and numbers normalised), with counts and an example: what to "
        "write a recognizer for (docs/recognizers.md)",
    )
    parser.add_argument(
        "--limit",
        type=validate.count(0, 1_000_000),
        default=20,
        help="diagnoses (or --unknown shapes) shown in the text report",
    )
    parser.add_argument(
        "--fail-on",
        choices=("notice", "warn", "error", "crit"),
        help="exit 1 when a problem of this severity or worse was found",
    )


JOURNAL = "journal:"  # a journal directory among the files: "journal:/var/log/journal/remote"


def _files(args: argparse.Namespace, cfg: Config, hosts: dict[str, str] | None = None) -> list[str]:
    """The files to read; with ``hosts`` (scan) also journal directories, as ``journal:DIR``, and
    ``hosts`` gets each pattern-matched file's host (/var/log/hosts/%HOST%/mail.log)."""
    from mailtui.logs.locate import LogLocation, configured_files, locate_logs
    from mailtui.logs.reader import with_rotated
    from mailtui.logs.sources import is_pattern

    files = list(args.files)
    found: list[LogLocation] = []
    if files:
        # a quoted pattern the shell left alone: expanded like [logs] files
        if any(is_pattern(f) and not os.path.exists(f) for f in files):
            found = configured_files(files, "command line")
            files = [loc.path for loc in found if loc.path]
            if not files:
                raise CliError(f"{', '.join(args.files)}: matches no file")
    else:
        found = locate_logs(cfg)
        files = [loc.path for loc in found if loc.path and loc.usable]
        for loc in found if hosts is not None else []:
            if loc.kind == "journald" and loc.directory:
                if loc.problem:
                    raise CliError(f"journal directory {loc.directory}: {loc.problem}")
                files.append(JOURNAL + loc.directory)
        if not files:
            raise CliError("no readable log file found: name files to scan (see mailtui config)")
    if hosts is not None:
        hosts.update((loc.path, loc.host) for loc in found if loc.path and loc.host)
    if args.rotated:
        files = [
            f
            for name in files
            for f in (with_rotated(name) if name != "-" and not name.startswith(JOURNAL) else [name])
        ]
    return files


def _journal(directory: str, damaged: list[str]) -> Iterator[LogRecord]:
    """Every mail record of a journal directory, as journalctl -D gives them (hosts from _HOSTNAME)."""
    from mailtui.logs.journal import JournalFollower

    follower = JournalFollower(directory=directory, follow=False)
    yield from follower.read_all()
    if follower.problem:
        damaged.append(f"journal {directory}: {follower.problem}")


def run(args: argparse.Namespace, cfg: Config) -> int:
    try:
        return _run(args, cfg)
    except KeyboardInterrupt:  # Ctrl-C (the reader is Python between chunks, so it comes at once)
        if sys.stderr.isatty():
            show_progress(" " * 70)  # the progress line
            show_progress("")
        raise CliError("scan interrupted: no report", exit_code=130) from None


def _run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.analysis.correlate import Correlator, context
    from mailtui.cli.catalog import engine as load_engine
    from mailtui.cli.timespec import parse_time
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.logs.locate import access_problem
    from mailtui.logs.reader import special_kind
    from mailtui.recognizers.explain import context_dict
    from mailtui.recognizers.model import SEVERITY_RANK
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    hosts: dict[str, str] = {}
    files = _files(args, cfg, hosts)
    for name in files:
        if name.startswith(JOURNAL):
            continue
        if name == "-":
            need_stdin("name files to scan instead of '-'")
        else:
            problem = access_problem(name)
            if problem:
                raise CliError(f"{name}: {problem}")
            kind = special_kind(os.stat(name).st_mode)
            if kind:  # a pipe or a device is read like stdin: from now until its writer ends it
                print(f"mailtui scan: {name} is {kind}: reading it until it ends (Ctrl-C stops)", file=sys.stderr)
    engine = load_engine()
    summary = ScanSummary()
    unknown = UnknownShapes() if args.unknown else None
    if unknown is not None and args.events:
        raise CliError("--unknown and --events do not go together: --unknown reports shapes, not lines")
    events = args.json and args.events
    # events carry context diagnoses: the correlation runs only then (it costs per line)
    corr, explainer = (Correlator(), _explainer(cfg)) if events else (None, None)
    progress = sys.stderr.isatty() and not events
    out = sys.stdout
    started = time.monotonic()
    # lines left out by --since/--until: how many, and the span they cover (only counted when
    # skipped, so lines in range cost nothing more)
    outside, outside_first, outside_last = 0, float("inf"), float("-inf")
    damaged: list[str] = []
    for name in files:
        if name.startswith(JOURNAL):
            records = _journal(name[len(JOURNAL) :], damaged)
        else:
            mtime = os.path.getmtime(name) if name != "-" else None
            parser = EnvelopeParser(source=name, year_reference=mtime, host=hosts.get(name, ""))
            records = (parser.parse(line, lineno, sanitized=True) for lineno, line in _readable(name, damaged))
        for record in records:
            ts = record.timestamp
            if ts is not None and ((since is not None and ts < since) or (until is not None and ts >= until)):
                outside += 1
                outside_first, outside_last = min(outside_first, ts), max(outside_last, ts)
                continue
            match = engine.recognize(record)
            summary.add(record, match)
            if unknown is not None and (match is None or not match.recognizer.explained):
                unknown.add(record, match)
            if corr is not None and explainer is not None:
                keys = corr.keys(record, match)
                if match is not None:
                    found = context(record, match, keys, corr) if match.recognizer.rank >= 1 else None
                    event = _event(record, match)
                    settled = explainer.settle(found, record)
                    if settled is not None:
                        event["context"] = context_dict(settled, engine.by_id.get(settled.means))
                    out.write(json_text(event, indent=None) + "\n")
                    if getattr(out, "broken", False):
                        return EXIT_PIPE  # the reader left (| head): the rest would go nowhere
            if progress and summary.lines % PROGRESS_EVERY == 0:
                rate = summary.lines / max(time.monotonic() - started, 1e-6)
                show_progress(f"scanning {name}: {summary.lines:,} lines ({rate:,.0f}/s)")
    if progress and summary.lines >= PROGRESS_EVERY:
        show_progress(" " * 70)
        show_progress("")
    order = {r.id: i for i, r in enumerate(engine.recognizers)}
    if unknown is not None:
        _print_unknown(summary, unknown, files, args.limit, args.json)
    elif events:
        pass  # the events were written as they were found
    elif args.json:
        report = summary.to_dict()
        report["files"] = files
        report["outside_range"] = {
            "since": since,
            "until": until,
            "lines": outside,
            "first": outside_first if outside else None,
            "last": outside_last if outside else None,
        }
        report["recognizers"] = [
            {
                "recognizer": rid,
                "severity": st.sample_match.recognizer.severity if st.sample_match else "",
                "title": st.sample_match.recognizer.title if st.sample_match else "",
                "explained": st.sample_match.recognizer.explained if st.sample_match else True,
                "count": st.count,
                "first": st.first,
                "last": st.last,
                "top_clients": st.clients.most_common(5),
                "top_users": st.users.most_common(5),
                "sample": st.sample,
            }
            for rid, st in summary.ordered(order)
        ]
        print_json(report)
    else:
        if summary.lines == 0 and outside:
            first = min(outside_first, summary.first) if summary.first is not None else outside_first
            last = max(outside_last, summary.last) if summary.last is not None else outside_last
            print(
                f"nothing {_range(since, until)}: {', '.join(files)} cover{'s' if len(files) == 1 else ''} "
                f"{_when(first)} .. {_when(last)} ({plural(outside, 'line')}, all outside the range)"
            )
        elif summary.lines == 0:
            print(f"nothing to scan: {', '.join(files)} hold{'s' if len(files) == 1 else ''} no lines")
        else:
            _print_report(summary, order, files, args.limit)
    for problem in damaged:
        print(f"mailtui: warning: {problem}", file=sys.stderr)
    if damaged:
        return 2  # the report above is incomplete
    if args.fail_on:
        threshold = SEVERITY_RANK[args.fail_on]
        if any(SEVERITY_RANK[sev] >= threshold and n for sev, n in summary.severity.items()):
            return 1
    return 0


def _explainer(cfg: Config) -> Explainer:
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.recognizers.explain import Explainer

    return Explainer(PostfixConfig(cfg["postfix.config_dir"]), DovecotConfig(cfg["dovecot.config"]))


EXIT_PIPE = 141


def _readable(name: str, damaged: list[str]) -> Iterator[tuple[int, str]]:
    """The file's lines; a corrupt or truncated .gz (or a read error) ends the file, said once."""
    import gzip
    import zlib

    from mailtui.logs.reader import iter_lines

    lineno = 0
    try:
        for lineno, line in iter_lines(name):
            yield lineno, line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        damaged.append(
            f"{name}: compressed data is corrupt or truncated after line {lineno:,} "
            f"({exc}); the rest of this file was not read"
        )
    except OSError as exc:
        damaged.append(
            f"{name}: read error after line {lineno:,} ({exc.strerror or exc}); the rest of this file was not read"
        )


def _event(record: LogRecord, match: Match) -> dict[str, Any]:
    r = match.recognizer
    return {
        "file": record.source,
        "lineno": record.lineno,
        "timestamp": record.timestamp,
        "program": record.program,
        "recognizer": r.id,
        "severity": r.severity,
        **dict(match.fields.items()),
        "fields": match.fields,
        "settings": [str(s) for s in r.settings],
        "restrictions": list(r.restrictions),
        "explained": r.explained,
        "summary": match.summary,
        "fix": r.fix,
    }


def _print_unknown(summary: ScanSummary, unknown: UnknownShapes, files: list[str], limit: int, as_json: bool) -> None:
    top = unknown.top(max(limit, 1))
    if as_json:
        print_json(
            {
                "files": files,
                "lines": summary.lines,
                "unknown": unknown.total,
                "shapes": len(unknown.counts) + (1 if unknown.other else 0),
                "other_shapes_lines": unknown.other,
                "top": top,
            }
        )
        return
    print(f"mailtui scan --unknown: {', '.join(files)}")
    print(
        f"  {summary.lines:,} lines, {unknown.total:,} not explained by any recognizer, "
        f"in {len(unknown.counts):,} shape{'' if len(unknown.counts) == 1 else 's'}"
        + (f" (+{unknown.other:,} lines of further shapes)" if unknown.other else "")
    )
    if not top:
        print("  every line is explained by a recognizer")
        return
    print()
    print(f"{'count':>7}  shape")
    for item in top:
        surfaced = f"   [surfaced by {item['surfaced_as']}]" if item["surfaced_as"] else ""
        print(f"{item['count']:>7,}  {item['shape']}{surfaced}")
        print(f"{'':>9}e.g. {textwrap.shorten(item['example'], 200, placeholder=' …')}")
    if len(unknown.counts) > len(top):
        print(f"... {len(unknown.counts) - len(top):,} more shapes (use --limit or --json)")
    print()
    print("Write a recognizer for a shape: see docs/recognizers.md; put it in ~/.config/mailtui/recognizers/.")


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts is not None else "-"


def _range(since: float | None, until: float | None) -> str:
    if since is not None and until is not None:
        return f"between {_when(since)} and {_when(until)}"
    return f"since {_when(since)}" if since is not None else f"before {_when(until)}"


def _print_report(summary: ScanSummary, order: dict[str, int], files: list[str], limit: int) -> None:

    p = print
    p(f"mailtui scan: {', '.join(files)}")
    p(
        f"  {plural(summary.lines, 'line')}, {summary.recognized:,} recognized, {summary.unparsed:,} unparsed;"
        f" {_when(summary.first)} .. {_when(summary.last)}"
    )
    d = summary.delivery
    p(
        f"  received {d.get('received', 0):,}  delivered {d.get('delivered', 0):,}  deferred {d.get('deferred', 0):,}  "
        f"bounced {d.get('bounced', 0):,}  rejected {d.get('rejected', 0):,}  expired {d.get('expired', 0):,}"
    )
    p("  by severity: " + "  ".join(f"{s} {n:,}" for s, n in summary.severity.most_common()))
    for title, counter in (
        ("top clients in problems", summary.clients),
        ("top users in problems", summary.users),
        ("top senders in problems", summary.senders),
    ):
        if counter:
            p(f"  {title}: " + ", ".join(f"{k} ×{n}" for k, n in counter.most_common(5)))
    p("")
    p(f"{'count':>7}  {'severity':<8}  problem")
    problems = [
        (rid, st, st.sample_match)
        for rid, st in summary.ordered(order)
        if st.sample_match and st.sample_match.recognizer.rank >= 1
    ]
    for rid, st, sample in problems[:limit]:
        r = sample.recognizer
        p(f"{st.count:>7,}  {r.severity:<8}  {r.title}  ({rid})")
        p(f"{'':>19}last {_when(st.last)}; e.g. {sample.summary}")
        who = ", ".join(f"{k} ×{n}" for k, n in st.clients.most_common(3))
        if who:
            p(f"{'':>19}from {who}")
        p(f"{'':>19}fix: {textwrap.shorten(r.fix, 150, placeholder=' …')}")
    if len(problems) > limit:
        p(f"... {plural(len(problems) - limit, 'more problem')} (use --limit or --json)")
    if not problems:
        p(f"no problems recognized in {plural(summary.lines, 'line')}")
