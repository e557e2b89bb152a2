"""The dashboard ingesting a fast log: event-loop stalls, lines accounted for, memory, latency.

The real app runs headless (Textual's test driver, 160x50) on a log file that a writer thread
appends to at ``--rate`` lines/s for ``--seconds``; lines come from bench/gen_log.py. A probe
task on the UI's event loop wakes every 10 ms and records how late it woke: a stall of the
loop is a frame the screen could not draw. At the end the lines the Logs pane holds (plus the
ones its cap pushed out) are compared with the lines written, and the peak RSS is read.
Append-to-screen latency is measured separately at a calm rate (10 lines/s): the time from
the write of a marked line to its arrival in the Logs pane.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_at_rate(path: str, rate: int, seconds: float) -> None:
    """Append generated lines to ``path`` at ``rate`` lines/s, in 10 ms steps."""
    from bench.gen_log import generate

    total = int(rate * seconds)
    data = [line + "\n" for line in generate(total)]
    step = 0.01
    per_step = max(1, int(rate * step))
    start = time.perf_counter()
    with open(path, "a") as fh:
        for i in range(0, total, per_step):
            fh.write("".join(data[i:i + per_step]))
            fh.flush()
            delay = start + (i // per_step + 1) * step - time.perf_counter()
            if delay > 0:
                time.sleep(delay)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


async def _run(rate: int, seconds: float, max_lines: int) -> dict[str, float]:
    import psutil

    from mailtui import config
    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.ui_apps import FIXED_SUMMARY, FixedServices

    tmp = Path(tempfile.mkdtemp(prefix="mailtui-bench-ui-"))
    log = tmp / "mail.log"
    log.write_text("")
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "xdg")
    config.SYSTEM_CONFIG = tmp / "none.toml"
    cfg = config.load(None, {"logs.files": [str(log)], "logs.max_lines": max_lines, "logs.backfill": 0,
                             "fail2ban.socket": "/nonexistent/f2b.sock", "logs.fail2ban": "/nonexistent/f2b.log",
                             "postfix.config_dir": "/nonexistent", "dovecot.config": "/nonexistent"})
    total = int(rate * seconds)
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    proc = psutil.Process()
    lags: list[float] = []
    written = [0]

    def writer() -> None:
        # another process writes, so generating the lines costs this one (the app's) nothing
        import subprocess

        subprocess.run([sys.executable, __file__, "--write", str(log), str(rate), str(seconds)], check=True)
        written[0] = total

    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(LogLines)
        await pilot.pause(0.5)
        rss_before = proc.memory_info().rss
        stop = asyncio.Event()

        async def probe() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - t0 - 0.01)

        probe_task = asyncio.create_task(probe())
        thread = threading.Thread(target=writer)
        t_start = time.perf_counter()
        thread.start()
        rss_samples = []
        while thread.is_alive():
            await asyncio.sleep(0.05)
            if len(view.entries) >= max_lines:
                rss_samples.append(proc.memory_info().rss)
        wrote_in = time.perf_counter() - t_start  # includes the writer's start-up and line generation
        deadline = time.perf_counter() + 30
        while len(view.entries) + view.dropped < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        drained = time.perf_counter() - t_start
        stop.set()
        await probe_task
        seen = len(view.entries) + view.dropped
        rss_after = proc.memory_info().rss

        # latency at a calm rate: write one marked line, wait for it in the pane
        latencies = []
        with log.open("a") as fh:
            for i in range(20):
                marker = f"latency-probe-{i}"
                t0 = time.perf_counter()
                fh.write(f"Mar  1 12:00:00 mx postfix/smtpd[1]: connect from {marker}[192.0.2.1]\n")
                fh.flush()
                while not (view.entries and marker in view.entries[-1].record.message):
                    await asyncio.sleep(0.001)
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.1)
    return {"rate": rate, "seconds": seconds, "written": total, "seen": seen, "wrote_in": wrote_in,
            "drained": drained, "lag_max": max(lags), "lag_p99": _percentile(lags, 0.99),
            "lag_p50": statistics.median(lags), "stalls_over_50ms": sum(lag > 0.05 for lag in lags),
            "samples": len(lags), "rss_before": rss_before,
            "rss_capped_first": rss_samples[0] if rss_samples else 0,
            "rss_capped_last": rss_samples[-1] if rss_samples else 0, "rss_after": rss_after, "max_lines": max_lines,
            "lat_p50": statistics.median(latencies), "lat_p99": _percentile(latencies, 0.99)}


def measure(rate: int = 50_000, seconds: float = 10.0, max_lines: int = 20_000) -> dict[str, float]:
    return asyncio.run(_run(rate, seconds, max_lines))


def section(m: dict[str, float]) -> str:
    mib = 1024 * 1024
    return f"""## Live ingest with the dashboard running

The whole app, headless at 160x50, tailing a file that gets {m['rate']:,.0f} lines/s for
{m['seconds']:.0f} s ({m['written']:,} generated lines: deliveries, rejects, SASL failures, Dovecot logins),
with the Logs pane capped at {m['max_lines']:,} lines. A probe on the UI event loop wakes every 10 ms;
its lateness is how long the screen could not be drawn.

| measure | value |
|---|---|
| lines written / seen by the Logs pane (held + pushed out by the cap) | {m['written']:,} / {m['seen']:,} |
| time to write them (the writer first spends ~1 s generating) / until the pane had them all | {m['wrote_in']:.1f} s / {m['drained']:.1f} s |
| sustained ingest through the pane | {m['seen'] / m['drained']:,.0f} lines/s |
| event-loop lateness p50 / p99 / max ({m['samples']:,} samples) | {m['lag_p50'] * 1000:.1f} / {m['lag_p99'] * 1000:.1f} / {m['lag_max'] * 1000:.1f} ms |
| wake-ups later than 50 ms | {m['stalls_over_50ms']} |
| RSS before / once the cap is reached / at the end of the writing / after | {m['rss_before'] / mib:.0f} / {m['rss_capped_first'] / mib:.0f} / {m['rss_capped_last'] / mib:.0f} / {m['rss_after'] / mib:.0f} MiB |
| append → in the Logs pane, p50 / p99 (calm rate, 20 lines) | {m['lat_p50'] * 1000:.0f} / {m['lat_p99'] * 1000:.0f} ms |

Target (issue 5): no frame over ~50 ms while ingesting 50,000 lines/s, memory bounded by the cap.
Not met for frames: at a calm 100 lines/s the same probe already sees ~40 ms at p99 (a full
redraw of the 160x50 screen on this 2-core machine), and while a burst is parsed the tail
thread and the UI share one interpreter lock. What was fixed on the way: bursts reach the
panes in slices of 1,000 lines (the longest handler went from 40 ms to 4 ms), the Logs pane no
longer re-sets its status on every batch (127 needless screen re-layouts in 3 s), the Problems
table is redrawn in place at most twice a second, and polled panes skip unchanged updates.
"""


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 5 and sys.argv[1] == "--write":
        write_at_rate(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        print(section(measure(seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)))
