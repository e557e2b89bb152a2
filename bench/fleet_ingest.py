"""The dashboard reading a fleet: 3 hosts x 5,000 lines/s over ssh for a minute, next to the same
lines from 3 local files in the same run.

Three "hosts" are aliases of a real OpenSSH sshd on loopback (tests/sshlab.py), each with its own
log directory and its agent configured to follow that host's log (tests/fleetlab.py). A writer
process per host appends numbered generated lines (bench/gen_log.py, `` #N``; the first line of
each 10 ms step also carries its write time) at ``rate`` lines/s for ``seconds``. The real app
runs headless (160x50) with those ``[[hosts]]``; the peer is the same app following the same
three kinds of files locally (``logs.files``), measured right after, on the same machine.

* Accounting per host: the sequence numbers as the Logs pane receives them, by ``entry.host``
  (fleet) or file (peer): a number skipped is a lost line, one seen twice a repeated one, and
  any number out of place is counted.
* Event-loop lateness: a probe on the UI's loop wakes every 10 ms; how late it woke.
* Write → Logs pane latency of the stamped lines.

``python bench/fleet_ingest.py [SECONDS] [RATE]`` prints the section for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOSTS = ("mx1", "mx2", "imap1")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


async def _run(cfg: Any, logs: dict[str, Path], key: str, rate: int, seconds: float) -> dict[str, Any]:
    """One headless app with ``cfg``; writers append to ``logs`` (name -> file); ``key`` says how an
    entry names its stream ("host" for the fleet, "file" for local files)."""
    from bench.ui_ingest import Accounting
    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    total = int(rate * seconds)
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    acct = {name: Accounting() for name in logs}
    by_file = {str(path): name for name, path in logs.items()}
    lags: list[float] = []

    def stream_of(entry: Any) -> str | None:
        if key == "host":
            return entry.host if entry.host in acct else None
        return by_file.get(entry.source)

    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(LogLines)
        add = view.add

        def counted_add(batch: list[Any]) -> None:
            parts: dict[str, list[Any]] = {}
            for entry in batch:
                name = stream_of(entry)
                if name is not None:
                    parts.setdefault(name, []).append(entry)
            for name, entries in parts.items():
                acct[name].batch(entries)
            add(batch)

        view.add = counted_add  # type: ignore[method-assign]
        if key == "host":  # every link up before the clock starts
            fleet = app.fleet
            assert fleet is not None
            deadline = time.monotonic() + 60
            while any(h.state != "ok" for h in fleet.hosts.values()) and time.monotonic() < deadline:
                await pilot.pause(0.1)
        await pilot.pause(1.0)
        stop = asyncio.Event()

        async def probe() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - t0 - 0.01)

        def writer(path: Path) -> None:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "ui_ingest.py"),
                    "--write",
                    str(path),
                    str(rate),
                    str(seconds),
                    "0",
                ],
                check=True,
            )

        probe_task = asyncio.create_task(probe())
        threads = [threading.Thread(target=writer, args=(p,)) for p in logs.values()]
        t_start = time.perf_counter()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            await asyncio.sleep(0.05)
        wrote_in = time.perf_counter() - t_start
        deadline = time.perf_counter() + 60
        while any(a.expected < total for a in acct.values()) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        drained = time.perf_counter() - t_start
        stop.set()
        await probe_task
        latencies = [x for a in acct.values() for x in a.latencies]
        notices = list(app._fleet_logs.said) if app._fleet_logs is not None else []
        summarized = dict(app._fleet_logs.routine_skipped) if app._fleet_logs is not None else {}
    return {
        "written": total * len(logs),
        "in_order": sum(a.expected for a in acct.values()),
        "lost": sum(a.lost + (total - a.expected) for a in acct.values()),
        "repeated": sum(a.repeated for a in acct.values()),
        "per_host": {name: (a.expected, a.lost + (total - a.expected), a.repeated) for name, a in acct.items()},
        "wrote_in": wrote_in,
        "drained": drained,
        "lag_p50": statistics.median(lags),
        "lag_p99": _percentile(lags, 0.99),
        "lag_max": max(lags),
        "over_50ms": sum(lag > 0.05 for lag in lags),
        "samples": len(lags),
        "load_p50": statistics.median(latencies) if latencies else 0.0,
        "load_p99": _percentile(latencies, 0.99),
        "notices": notices,
        "summarized": summarized,
    }


def measure(rate: int = 5_000, seconds: float = 60.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fleet, local peer) figures for 3 streams of ``rate`` lines/s for ``seconds``."""
    from mailtui import config
    from tests.fleetlab import LabHost, dashboard_config
    from tests.sshlab import start_sshd

    tmp = Path(tempfile.mkdtemp(prefix="mailtui-bench-fleet-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "xdg")
    config.SYSTEM_CONFIG = tmp / "none.toml"
    lab = start_sshd(tmp / "ssh")
    try:
        # the default refresh (5 s): agents collect services and bans as often as in real use
        hosts = [LabHost(lab, tmp, name, fail2ban=False, refresh=5.0) for name in HOSTS]
        path = dashboard_config(tmp, hosts, refresh=5.0)
        cfg = config.load(path, {"logs.max_lines": 20_000})
        fleet = asyncio.run(_run(cfg, {h.name: h.log for h in hosts}, "host", rate, seconds))
        local_logs = {name: tmp / "local" / f"{name}.log" for name in HOSTS}
        (tmp / "local").mkdir()
        for p in local_logs.values():
            p.write_text("")
        peer_cfg = config.load(
            None,
            {
                "logs.files": [str(p) for p in local_logs.values()],
                "logs.max_lines": 20_000,
                "logs.backfill": 0,
                "fail2ban.socket": "/nonexistent/f2b.sock",
                "logs.fail2ban": "/nonexistent/f2b.log",
                "postfix.config_dir": "/nonexistent",
                "dovecot.config": "/nonexistent",
                "containers.mode": "no",
            },
        )
        peer = asyncio.run(_run(peer_cfg, local_logs, "file", rate, seconds))
    finally:
        lab.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return fleet, peer


def section(fleet: dict[str, Any], peer: dict[str, Any], rate: int, seconds: float) -> str:
    def row(label: str, key: str, fmt: str, scale: float = 1.0) -> str:
        return f"| {label} | {fleet[key] * scale:{fmt}} | {peer[key] * scale:{fmt}} |"

    per_host = " · ".join(f"{n} {got:,}/{lost:,}/{rep:,}" for n, (got, lost, rep) in fleet["per_host"].items())
    return f"""## A fleet over SSH: 3 hosts × {rate:,} lines/s (issue 19)

The whole app, headless at 160x50, with three `[[hosts]]` reached through a real OpenSSH sshd on
loopback (tests/sshlab.py), each host's agent following its own log, which a writer process
appends to at {rate:,} lines/s for {seconds:.0f} s (numbered lines from bench/gen_log.py). The peer, in
the same run right after: the same app following three local files written the same way. Every
agent, writer, sshd and the dashboard share this 2-core machine (with other engineers' work).

| measure | fleet (3 × ssh) | local files (3) |
|---|---|---|
| lines written | {fleet["written"]:,} | {peer["written"]:,} |
| reached the Logs pane in order / lost / repeated | {fleet["in_order"]:,} / {fleet["lost"]:,} / {fleet["repeated"]:,} | {peer["in_order"]:,} / {peer["lost"]:,} / {peer["repeated"]:,} |
{row("time to write / until the pane had every line (s)", "wrote_in", ".1f")} |
{row("until the pane had every line (s)", "drained", ".1f")}
{row("event-loop lateness p50 (ms)", "lag_p50", ".1f", 1000)}
{row("event-loop lateness p99 (ms)", "lag_p99", ".1f", 1000)}
{row("event-loop lateness max (ms)", "lag_max", ".1f", 1000)}
| wake-ups later than 50 ms | {fleet["over_50ms"]} of {fleet["samples"]:,} | {peer["over_50ms"]} of {peer["samples"]:,} |
{row("write → Logs pane under load, p50 (ms)", "load_p50", ".0f", 1000)}
{row("write → Logs pane under load, p99 (ms)", "load_p99", ".0f", 1000)}

Per host (in order / lost / repeated): {per_host}. Routine lines an agent left out while its link
was slow (counted in its summaries, so among "lost"): {sum(fleet["summarized"].values()):,}. Agent notices:
{"; ".join(f"{h}: {t}" for h, t in fleet["notices"]) or "none"}.
Target: every line once and in order per host, p99 lateness ≤ 50 ms.
"""


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    per_second = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    fleet_figures, peer_figures = measure(per_second, secs)
    print(section(fleet_figures, peer_figures, per_second, secs))
