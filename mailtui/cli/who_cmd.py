"""``mailtui who QUERY``: the timeline of a user, address, IP or host across all logs, explained."""

from __future__ import annotations

import argparse
import gzip
import sys
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mailtui.cli.output import CliError, print_json
from mailtui.config import Config
from mailtui.core.record import host_label
from mailtui.settings import settings_from
from mailtui.system.units import plural

if TYPE_CHECKING:
    from mailtui.analysis.who import Pair, TimelineLine, WhoResult

HELP = "who is complaining? everything the logs say about a user, email address, IP or host"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="email address, user name, IP address or host name")
    parser.add_argument("files", nargs="*", metavar="FILE", help="logs to search (default: the configured logs)")
    parser.add_argument("--since", help="only lines at or after this time (2026-02-19, 2h, 7d)")
    from mailtui.cli import fleet_cli

    fleet_cli.add_host_arguments(parser)


def run(args: argparse.Namespace, cfg: Config) -> int:
    from mailtui.analysis.who import iterate_files, lookup
    from mailtui.cli.catalog import engine as load_engine
    from mailtui.cli.scan_cmd import _files
    from mailtui.cli.timespec import parse_time
    from mailtui.logs.locate import access_problem
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.recognizers.explain import Explainer

    if not args.query.strip():
        raise CliError("give a user, address, IP or host name to look up")
    from mailtui.cli import fleet_cli

    hosts = fleet_cli.wanted_hosts(args, cfg)  # --host / --all-hosts: each host's agent reads its own logs
    if hosts:
        if args.files:
            raise CliError("FILE names this machine's logs: not with --host / --all-hosts")
        since = parse_time(args.since) if args.since else None
        return _remote(args, fleet_cli.ask(hosts, "who", query=args.query, since=since))
    args.rotated = False
    files = _files(args, cfg)
    for name in files:
        problem = access_problem(name, follow=True)  # who reads its files twice: no pipes
        if problem:
            raise CliError(f"{name}: {problem}")
    since = parse_time(args.since) if args.since else None
    settings = settings_from(cfg)
    explainer = Explainer(PostfixConfig(settings.postfix.config_dir), DovecotConfig(settings.dovecot.config))
    load_engine()  # a bad user catalog is said here, before the timeline
    damaged: dict[str, str] = {}  # file -> why its end was not read (said once, after the timeline)
    result = lookup(_each_file(files, since, damaged, iterate_files), args.query, settle=explainer.settle)
    code = _timeline(args, files, result)
    for name, why in damaged.items():
        print(
            f"mailtui: warning: {name}: compressed data is corrupt or truncated ({why}); "
            "the rest of this file was not read",
            file=sys.stderr,
        )
    return 2 if damaged else code


def _each_file(
    files: list[str],
    since: float | None,
    damaged: dict[str, str],
    iterate_files: Callable[..., Callable[[], Iterator[Pair]]],
) -> Callable[[], Iterator[Pair]]:
    """The files one after the other; a broken .gz ends that file, not the timeline."""
    sources = [(name, iterate_files([name], since)) for name in files]

    def gen() -> Iterator[Pair]:
        for name, source in sources:
            try:
                yield from source()
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                damaged.setdefault(name, str(exc))

    return gen


def as_dict(result: WhoResult, max_lines: int | None = None) -> dict[str, Any]:
    """``who --json``'s object; with ``max_lines`` only the last ones (an agent's reply is capped)."""
    lines = result.lines if max_lines is None else result.lines[-max_lines:]
    summary = result.summary()
    return {
        "query": result.query,
        "kind": result.kind,
        "truncated": result.truncated or len(lines) < len(result.lines),
        "problems": len(result.problems),
        "summary": summary.to_dict(),
        "lines": [_line_dict(t, summary.several_hosts) for t in lines],
    }


def agent_lookup(cfg: Config, request: dict[str, Any]) -> dict[str, Any]:
    """The agent's ``who`` request: the timeline from this host's configured logs, as ``who --json``."""
    from mailtui.analysis.who import iterate_files, lookup
    from mailtui.fleet.protocol import MAX_LINE, encode, text
    from mailtui.logs.locate import locate_logs
    from mailtui.mta.doveconf import DovecotConfig
    from mailtui.mta.postconf import PostfixConfig
    from mailtui.recognizers.explain import Explainer

    query = text(request.get("query"), 512).strip()
    if not query:
        raise ValueError("who needs a user, address, IP or host name")
    since = request.get("since")
    since = float(since) if isinstance(since, (int, float)) and not isinstance(since, bool) else None
    files = [loc.path for loc in locate_logs(cfg) if loc.path and loc.usable]
    if not files:
        raise ValueError("no readable log on this host (see mailtui config there)")
    explainer = Explainer(PostfixConfig(cfg["postfix.config_dir"]), DovecotConfig(cfg["dovecot.config"]))
    result = lookup(iterate_files(files, since), query, settle=explainer.settle)
    limit = 2000
    while True:  # the reply must fit one message of the protocol
        data = as_dict(result, limit)
        data["files"] = files
        if len(encode(data)) < MAX_LINE - 4096 or limit <= 10:
            return data
        limit //= 2


def _remote(args: argparse.Namespace, answers: dict[str, tuple[bool, Any]]) -> int:
    """Every host's timeline: under its name in JSON; in text, the lines with their host."""
    from mailtui.logs.sanitize import clean

    failed = sum(not ok for ok, _ in answers.values())
    if args.json:
        print_json(
            {
                "query": args.query,
                "hosts": [
                    {"host": name, "ok": True, **result} if ok else {"host": name, "ok": False, "error": result}
                    for name, (ok, result) in answers.items()
                ],
            }
        )
        return 2 if failed else 0 if any(ok and r.get("lines") for ok, r in answers.values()) else 1
    found = False
    for name, (ok, result) in answers.items():
        if not ok:
            print(f"{name}: {result}")
            continue
        lines = result.get("lines") if isinstance(result, dict) else None
        if not lines:
            print(f"{name}: nothing in its logs mentions {args.query}")
            continue
        found = True
        print(f"{name}: {plural(len(lines), 'line')}, {plural(int(result.get('problems') or 0), 'recognized problem')}")
        for line in lines:
            if not isinstance(line, dict):
                continue
            marks = {"crit": "✖", "error": "✖", "warn": "⚠", "notice": "•"}
            mark = marks.get(str(line.get("severity", "")), " ")
            print(f"{mark} {name:<8} {clean(str(line.get('line', '')))}")  # the line has its own time
            if line.get("title") and line.get("severity") in marks:
                print(f"    → {clean(str(line['title']))}: {clean(str(line.get('summary', '')))}")
        if result.get("truncated"):
            print(f"({name}: timeline cut: narrow it with --since)")
        print()
    return 2 if failed else 0 if found else 1


def _timeline(args: argparse.Namespace, files: list[str], result: WhoResult) -> int:
    summary = result.summary()
    if args.json:
        print_json(as_dict(result))
        return 0 if result.lines else 1
    if not result.lines:
        print(f"nothing in {', '.join(files)} mentions {args.query}")
        return 1
    print(f"{args.query}: {plural(len(result.lines), 'line')}, {plural(len(result.problems), 'recognized problem')}")
    for line in summary.text_lines():
        print(f"  {line}")
    # several hosts: each line says which (the timeline stays in time order: a relayed message's path)
    width = min(HOST_WIDTH, max(len(host_label(h)) for h in summary.hosts)) if summary.several_hosts else 0
    last_ts: float | None = None
    for t in result.lines:
        ts = t.record.timestamp
        if last_ts is None or (ts is not None and ts - last_ts >= GAP):
            print()
        last_ts = ts if ts is not None else last_ts
        headline = t.headline
        mark = {"crit": "✖", "error": "✖", "warn": "⚠", "notice": "•"}.get(headline.severity if headline else "", " ")
        host = f"{host_label(t.record.host)[:width]:<{width}} " if width else ""
        print(f"{mark} {_when(ts)} {host}{t.record.program:<24} {t.record.message}")
        if t.match is not None and headline is not None and headline.rank >= 1:
            print(f"    → {headline.title}: {t.match.summary}")
            if t.note:
                print(f"    → {t.note}")
    if result.truncated:
        print("\n(timeline cut: narrow it with --since)")
    return 0


GAP = 60  # seconds of silence that start a new paragraph of the timeline
HOST_WIDTH = 16


def _line_dict(t: TimelineLine, hosts: bool) -> dict[str, Any]:
    """A timeline line as JSON; with several hosts it names its host (one host: as before)."""
    out = t.to_dict()
    if hosts:
        out["host"] = t.record.host
    return out


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%b %d %H:%M:%S") if ts is not None else "-"
