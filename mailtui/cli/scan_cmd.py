"""``mailtui scan FILE...``: a report over whole log files (pflogsumm-like totals + diagnoses)."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from mailtui.cli import validate
from mailtui.cli.output import CliError, json_text, need_stdin, print_json
from mailtui.cli.output import progress as show_progress
from mailtui.config import Config
from mailtui.core.record import host_label
from mailtui.settings import settings_from
from mailtui.system.units import plural

if TYPE_CHECKING:
    from mailtui.core.record import LogRecord
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import Engine
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
        "--engine",
        choices=("python", "parallel", "fast"),
        help="python: one process (the reference); parallel: the same engine in worker processes, "
        "the input cut at line boundaries; fast: the vectorized engine of mailtui[fast]. Default for "
        "large inputs: fast when installed (not for --events/--unknown), else parallel on more than "
        "one core; python otherwise",
    )
    parser.add_argument(
        "--jobs",
        type=validate.count(1, 1024),
        default=None,
        help="worker processes of --engine parallel (default: the usable cores)",
    )
    # the size of a parallel scan's pieces; hidden: for tests that cut small inputs in many places
    parser.add_argument("--chunk-bytes", type=validate.count(1, 1 << 40), default=None, help=argparse.SUPPRESS)
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
    from mailtui.cli.catalog import engine as load_engine
    from mailtui.cli.timespec import parse_time
    from mailtui.core.files import special_kind
    from mailtui.logs.locate import access_problem
    from mailtui.recognizers.model import SEVERITY_RANK

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    hosts: dict[str, str] = {}  # a pattern-matched file -> the host its path names
    files = _files(args, cfg, hosts)
    streams = False  # stdin, a pipe or a device: read once, in one process
    for name in files:
        if name.startswith(JOURNAL):
            continue
        if name == "-":
            need_stdin("name files to scan instead of '-'")
            streams = True
        else:
            problem = access_problem(name)
            if problem:
                raise CliError(f"{name}: {problem}")
            kind = special_kind(os.stat(name).st_mode)
            if kind:  # a pipe or a device is read like stdin: from now until its writer ends it
                print(f"mailtui scan: {name} is {kind}: reading it until it ends (Ctrl-C stops)", file=sys.stderr)
                streams = True
    if args.unknown and args.events:
        raise CliError("--unknown and --events do not go together: --unknown reports shapes, not lines")
    engine = load_engine()
    opts = ScanOptions(since, until, unknown=args.unknown, events=bool(args.json and args.events))
    # events carry context diagnoses: the correlation (and the explainer) run only then
    explainer = _explainer(cfg) if opts.events else None
    # journal directories and per-host files (a central box) are read by the reference engine only
    one_process = bool(hosts) or any(f.startswith(JOURNAL) for f in files)
    if one_process:
        if args.engine not in (None, "python"):
            print(
                f"mailtui scan: --engine {args.engine} reads no journal directory or per-host file yet: "
                "using --engine python",
                file=sys.stderr,
            )
        which, jobs = "python", 1
    else:
        which, jobs = _choose_engine(args, files, streams)
    progress = sys.stderr.isatty() and not opts.events
    if which == "parallel":
        from mailtui.cli.scan_parallel import scan_parallel

        outcome = scan_parallel(
            files, opts, engine, explainer, sys.stdout, jobs=jobs, chunk=args.chunk_bytes, progress=progress
        )
    elif which == "fast":
        import importlib

        outcome = importlib.import_module(FAST_MODULE).scan(
            files, opts, engine, explainer, sys.stdout, progress, jobs=jobs
        )
    else:
        outcome = _scan_python(files, opts, engine, explainer, sys.stdout, progress, hosts)
    if outcome.exit is not None:
        return outcome.exit
    summary, unknown = outcome.summary, outcome.unknown
    outside, outside_first, outside_last = outcome.outside, outcome.outside_first, outcome.outside_last
    if progress and summary.lines >= PROGRESS_EVERY:
        show_progress(" " * 70)
        show_progress("")
    order = {r.id: i for i, r in enumerate(engine.recognizers)}
    if unknown is not None:
        _print_unknown(summary, unknown, files, args.limit, args.json)
    elif opts.events:
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
                **({"hosts": _on_hosts(summary, rid)} if summary.several_hosts else {}),
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
    for problem in outcome.damaged:
        print(f"mailtui: warning: {problem}", file=sys.stderr)
    if outcome.damaged:
        return 2  # the report above is incomplete
    if args.fail_on:
        threshold = SEVERITY_RANK[args.fail_on]
        if any(SEVERITY_RANK[sev] >= threshold and n for sev, n in summary.severity.items()):
            return 1
    return 0


@dataclass(frozen=True)
class ScanOptions:
    """What every engine is asked (the same for each piece of a parallel scan)."""

    since: float | None = None
    until: float | None = None
    unknown: bool = False  # count unexplained lines by shape
    events: bool = False  # write one JSON object per recognized line, with its context


@dataclass
class ScanOutcome:
    """What an engine hands back for the report (the events, if asked, are already written)."""

    summary: ScanSummary
    unknown: UnknownShapes | None = None
    # lines left out by --since/--until: how many, and the span they cover
    outside: int = 0
    outside_first: float = float("inf")
    outside_last: float = float("-inf")
    damaged: list[str] = field(default_factory=list)  # files whose read stopped early, said why
    exit: int | None = None  # set when the scan stopped early (EXIT_PIPE: the reader left)


#: below this many bytes a scan stays in one process (starting workers costs more than it saves)
PARALLEL_FROM = 8 << 20
GZ_RATIO = 6  # a .gz file is counted as this many times its size


def _choose_engine(args: argparse.Namespace, files: list[str], streams: bool) -> tuple[str, int]:
    """The engine to use and its worker count: parallel when the input is large and there is
    more than one usable core, unless --engine says otherwise."""
    jobs = args.jobs or usable_cores()
    which = args.engine
    if which == "fast":
        why = fast_unavailable()
        if why:
            raise CliError(f"--engine fast is not available: {why}")
        return which, args.jobs or fast_workers(jobs)
    if streams:  # stdin or a pipe is read once, front to back: one process
        return "python", 1
    if which is None:
        size = sum(os.path.getsize(f) * (GZ_RATIO if f.endswith(".gz") else 1) for f in files)
        # a large report: the vectorized engine when installed (it runs --events and --unknown in
        # one process, where parallel does better); --jobs 1 asks for one core
        whole = not (getattr(args, "events", False) or getattr(args, "unknown", False))
        if size >= PARALLEL_FROM and whole and args.jobs != 1 and not fast_unavailable():
            return "fast", args.jobs or fast_workers(jobs)
        which = "parallel" if jobs > 1 and size >= PARALLEL_FROM else "python"
    return which, jobs


#: what one worker of the fast engine holds at its peak (Python, Polars, a block in work: ~110-125
#: MiB summed PSS each on the 1M-line bench log), rounded up
FAST_WORKER_MIB = 160


def fast_workers(cores: int) -> int:
    """The fast engine's workers when --jobs does not say: one per usable core, but no more than
    a quarter of the memory available now holds (a mail server with many cores and little free
    memory must not be pushed into swap or the OOM killer by a log scan; 1: in one process)."""
    return max(1, min(cores, available_mib() // (4 * FAST_WORKER_MIB)))


def available_mib() -> int:
    """The memory available now, in MiB: Linux's MemAvailable, which is what psutil reports
    there, read directly (importing psutil cost ~15 ms of a fast scan's ~0.1 s before its
    workers start); psutil's answer elsewhere."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) >> 10  # (kB)
    except (OSError, ValueError, IndexError):
        pass
    import psutil

    return int(psutil.virtual_memory().available >> 20)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, which containers and taskset narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: the vectorized engine (``pip install 'mailtui[fast]'``): a module with ``unavailable() -> str``
#: ("" when it can run here, else why not) and ``scan(files, opts, engine, explainer, out,
#: progress, jobs=N) -> ScanOutcome``, the same contract as :func:`_scan_python` (``jobs``: the
#: worker processes it may use)
FAST_MODULE = "mailtui.cli.scan_fast"


def fast_unavailable() -> str:
    """Why ``--engine fast`` cannot run here ("" when it can)."""
    import importlib

    try:
        module = importlib.import_module(FAST_MODULE)
    except ImportError as exc:
        missing = getattr(exc, "name", "") or ""
        if missing == FAST_MODULE:
            return "this installation has no vectorized engine"
        return f"it needs {missing or exc} (pip install 'mailtui[fast]')"
    why: str = module.unavailable()
    return why


def _scan_python(
    files: list[str],
    opts: ScanOptions,
    engine: Engine,
    explainer: Explainer | None,
    out: TextIO,
    progress: bool,
    hosts: dict[str, str] | None = None,
) -> ScanOutcome:
    """The reference engine: every line in this process, in file order (``hosts``: the host a
    pattern-matched file's path names; ``journal:DIR`` names: a journal directory)."""
    from mailtui.analysis.correlate import Correlator, context
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.explain import context_dict
    from mailtui.recognizers.summary import ScanSummary, UnknownShapes

    since, until = opts.since, opts.until
    summary = ScanSummary()
    unknown = UnknownShapes() if opts.unknown else None
    corr = Correlator() if explainer is not None else None
    result = ScanOutcome(summary, unknown)
    started = time.monotonic()
    # lines left out by --since/--until are only counted when skipped: lines in range cost nothing more
    outside, outside_first, outside_last = 0, float("inf"), float("-inf")
    hosts = hosts or {}
    for name in files:
        records: Iterable[LogRecord]
        plain = since is None and until is None and unknown is None and corr is None and not progress
        if name.startswith(JOURNAL):
            records = _journal(name[len(JOURNAL) :], result.damaged)
        else:
            mtime = os.path.getmtime(name) if name != "-" else None
            parser = EnvelopeParser(source=name, year_reference=mtime, host=hosts.get(name, ""))
            if plain:
                # the plain report (the usual scan): the loop below without its per-line tests,
                # all false here, with its methods looked up once and lines read a block at a time
                _scan_plain(name, parser, engine, summary, result.damaged)
                continue
            records = (parser.parse(line, lineno, sanitized=True) for lineno, line in _readable(name, result.damaged))
        if plain:
            recognize, add = engine.recognize, summary.add
            for record in records:
                add(record, recognize(record))
            continue
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
                        result.exit = EXIT_PIPE  # the reader left (| head): the rest would go nowhere
                        return result
            if progress and summary.lines % PROGRESS_EVERY == 0:
                rate = summary.lines / max(time.monotonic() - started, 1e-6)
                show_progress(f"scanning {name}: {summary.lines:,} lines ({rate:,.0f}/s)")
    result.outside, result.outside_first, result.outside_last = outside, outside_first, outside_last
    return result


def _scan_plain(name: str, parser: EnvelopeParser, engine: Engine, summary: ScanSummary, damaged: list[str]) -> None:
    """Every line of one file into ``summary`` (no range, no events, no shapes, no progress)."""
    stop: list[tuple[str, int, str]] = []
    parse, recognize, add = parser.parse, engine.recognize, summary.add
    for first, block in readable_blocks(name, stop, 0, None):
        for lineno, line in enumerate(block, first):
            record = parse(line, lineno, True)
            add(record, recognize(record))
    damaged.extend(damage_text(name, kind, lineno, detail) for kind, lineno, detail in stop)


def _explainer(cfg: Config) -> Explainer:
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.recognizers.explain import Explainer

    settings = settings_from(cfg)
    return Explainer(PostfixConfig(settings.postfix.config_dir), DovecotConfig(settings.dovecot.config))


EXIT_PIPE = 141


def _readable(name: str, damaged: list[str]) -> Iterator[tuple[int, str]]:
    """The file's lines; a corrupt or truncated .gz (or a read error) ends the file, said once."""
    stop: list[tuple[str, int, str]] = []
    yield from readable(name, stop)
    damaged.extend(damage_text(name, kind, lineno, detail) for kind, lineno, detail in stop)


def readable(
    name: str, stop: list[tuple[str, int, str]], start: int = 0, end: int | None = None
) -> Iterator[tuple[int, str]]:
    """The lines of ``name`` (or of its bytes ``[start, end)``); why the read stopped early, if
    it did, goes into ``stop`` as (kind, last line number read, detail): see :func:`damage_text`."""
    for first, block in readable_blocks(name, stop, start, end):
        yield from enumerate(block, first)


def readable_blocks(
    name: str, stop: list[tuple[str, int, str]], start: int = 0, end: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """:func:`readable`'s lines a block at a time: (number of the block's first line, its lines)."""
    import gzip
    import zlib

    from mailtui.logs.reader import iter_blocks

    lineno = 0  # lines read
    try:
        for block in iter_blocks(name, start, end):
            yield lineno + 1, block
            lineno += len(block)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        stop.append(("corrupt", lineno, str(exc)))
    except OSError as exc:
        stop.append(("read", lineno, str(exc.strerror or exc)))


def damage_text(name: str, kind: str, lineno: int, detail: str) -> str:
    if kind == "corrupt":
        return (
            f"{name}: compressed data is corrupt or truncated after line {lineno:,} "
            f"({detail}); the rest of this file was not read"
        )
    return f"{name}: read error after line {lineno:,} ({detail}); the rest of this file was not read"


#: an event's own keys ahead of the match's fields, which repeat at the top level for convenience:
#: a field of the same name (config.fatal_parameter's ``file=/etc/postfix/main.cf``) stays only
#: under "fields", and never replaces the log file or line number an event is about
EVENT_KEYS = frozenset({"file", "lineno", "timestamp", "program", "recognizer", "severity"})


def _event(record: LogRecord, match: Match) -> dict[str, Any]:
    r = match.recognizer
    return {
        "file": record.source,
        "lineno": record.lineno,
        "timestamp": record.timestamp,
        "program": record.program,
        "recognizer": r.id,
        "severity": r.severity,
        **{k: v for k, v in match.fields.items() if k not in EVENT_KEYS},
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


def _on_hosts(summary: ScanSummary, rid: str) -> dict[str, int]:
    """A recognizer's lines per host, most first."""
    counts = [(host, st.by_recognizer[rid]) for host, st in summary.hosts.items() if st.by_recognizer[rid]]
    return dict(sorted(counts, key=lambda item: (-item[1], item[0])))


def _print_hosts(summary: ScanSummary) -> None:
    """One line per host: its lines, span, delivery totals and problems (the totals are above)."""
    hosts = summary.hosts_dict()
    width = min(24, max(len(host_label(h["host"])) for h in hosts))
    print(f"  by host ({len(hosts)}):")
    for h in hosts:
        d, name = h["delivery"], host_label(h["host"])[:width]
        print(
            f"    {name:<{width}}  {plural(h['lines'], 'line')}, {h['recognized']:,} recognized;"
            f" {_when(h['first'])} .. {_when(h['last'])};  received {d.get('received', 0):,}"
            f"  delivered {d.get('delivered', 0):,}  deferred {d.get('deferred', 0):,}  bounced {d.get('bounced', 0):,}"
            f"  rejected {d.get('rejected', 0):,};  {plural(h['problems'], 'problem')}"
        )


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
    if summary.several_hosts:
        _print_hosts(summary)
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
        if summary.several_hosts:
            p(f"{'':>19}on " + ", ".join(f"{host_label(h)} ×{n:,}" for h, n in _on_hosts(summary, rid).items()))
        p(f"{'':>19}fix: {textwrap.shorten(r.fix, 150, placeholder=' …')}")
    if len(problems) > limit:
        p(f"... {plural(len(problems) - limit, 'more problem')} (use --limit or --json)")
    if not problems:
        p(f"no problems recognized in {plural(summary.lines, 'line')}")
