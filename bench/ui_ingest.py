"""The dashboard ingesting a fast, rotating log: UI stalls, every line accounted for, memory, latency.

The real app runs headless (Textual's test driver, 160x50) on a log file that another process
appends to at ``rate`` lines/s for ``seconds``, rotating it every ``rotate_every`` seconds
(rename, copytruncate, delete and re-create, in turn). Lines come from bench/gen_log.py, each
with its sequence number appended (`` #N``); the first line of every 10 ms step also carries
its write time (`` @T``).

* Stalls: a probe task on the UI's event loop wakes every 10 ms and records how late it woke;
  a late wake-up is a frame the screen could not draw.
* Accounting: every batch that reaches the Logs pane is checked against the sequence: a
  number skipped is a lost line, a number seen twice a repeated one.
* Latency under load: write time to arrival in the Logs pane (drawn at the next frame) of the
  stamped lines.
* Memory: RSS when the pane's line cap is first reached, then at the end.

``python bench/ui_ingest.py [SECONDS] [ROTATE_EVERY]`` prints the section; tests call
:func:`measure` with CI-sized figures.
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP = 0.01
ROTATIONS = ("rename", "copytruncate", "recreate")


def write_at_rate(path: str, rate: int, seconds: float, rotate_every: float = 0.0) -> None:
    """Append numbered generated lines at ``rate`` lines/s in 10 ms steps, rotating as told."""
    from bench.gen_log import generate

    total = int(rate * seconds)
    # up to 500,000 distinct lines, generated before the clock starts and reused in turn
    # (a minute at 50,000 lines/s would otherwise hold 3 million strings)
    base = list(generate(min(total, 500_000)))
    per_step = max(1, int(rate * STEP))
    fh = open(path, "a")  # noqa: SIM115 - replaced by rotate() while writing, closed in finally
    start = time.perf_counter()
    next_rotation, rotations = (rotate_every or seconds * 10), 0
    try:
        for step, i in enumerate(range(0, total, per_step)):
            chunk = [f"{base[j % len(base)]} #{j}\n" for j in range(i, min(i + per_step, total))]
            chunk[0] = f"{chunk[0][:-1]} @{time.time():.6f}\n"
            fh.write("".join(chunk))
            fh.flush()
            elapsed = time.perf_counter() - start
            if elapsed >= next_rotation:
                fh = rotate(path, fh, ROTATIONS[rotations % len(ROTATIONS)])
                rotations += 1
                next_rotation += rotate_every
            delay = start + (step + 1) * STEP - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    finally:
        fh.close()


def rotate(path: str, fh, kind: str):
    """What logrotate does, done by the writer between two writes."""
    if kind == "rename":
        fh.close()
        os.replace(path, path + ".1")
        return open(path, "a")
    if kind == "copytruncate":
        shutil.copyfile(path, path + ".1")
        os.truncate(path, 0)  # the append-mode handle goes on writing at the new end
        return fh
    fh.close()
    os.unlink(path)
    return open(path, "a")


@dataclass
class Accounting:
    """Checks the sequence numbers of the lines as the Logs pane receives them."""

    expected: int = 0
    lost: int = 0
    repeated: int = 0
    latencies: list[float] = field(default_factory=list)

    def batch(self, entries) -> None:
        now = time.time()
        for entry in entries:
            line = entry.line
            stamp = None
            at = line.rfind(" @")
            if at > 0 and line.rfind(" #") < at:
                stamp, line = line[at + 2 :], line[:at]
            hash_at = line.rfind(" #")
            if hash_at < 0 or not line[hash_at + 2 :].isdigit():
                continue  # not a generated line (the calm-rate latency probe)
            seq = int(line[hash_at + 2 :])
            if seq < self.expected:
                self.repeated += 1
                continue
            self.lost += seq - self.expected
            self.expected = seq + 1
            if stamp is not None:
                self.latencies.append(now - float(stamp))


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


async def _run(rate: int, seconds: float, max_lines: int, rotate_every: float, calm_probes: int) -> dict[str, float]:
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
    cfg = config.load(
        None,
        {
            "logs.files": [str(log)],
            "logs.max_lines": max_lines,
            "logs.backfill": 0,
            "fail2ban.socket": "/nonexistent/f2b.sock",
            "logs.fail2ban": "/nonexistent/f2b.log",
            "postfix.config_dir": "/nonexistent",
            "dovecot.config": "/nonexistent",
        },
    )
    total = int(rate * seconds)
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY, services=FixedServices())
    proc = psutil.Process()
    lags: list[float] = []
    acct = Accounting()

    def writer() -> None:
        # another process writes, so generating the lines costs this one (the app's) nothing
        subprocess.run(
            [sys.executable, __file__, "--write", str(log), str(rate), str(seconds), str(rotate_every)], check=True
        )

    async with app.run_test(size=(160, 50)) as pilot:
        view = app.query_one(LogLines)
        add = view.add

        def counted_add(batch) -> None:
            acct.batch(batch)
            add(batch)

        view.add = counted_add  # type: ignore[method-assign]
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
        rss_capped = blocks_capped = 0
        held_max = 0
        while thread.is_alive():
            await asyncio.sleep(0.05)
            held_max = max(held_max, len(view.entries))
            if not rss_capped and len(view.entries) >= max_lines:
                rss_capped = proc.memory_info().rss
                blocks_capped = sys.getallocatedblocks()
        wrote_in = time.perf_counter() - t_start  # includes the writer's start-up and line generation
        rss_end_of_writing = proc.memory_info().rss
        blocks_end = sys.getallocatedblocks()  # live Python objects, unlike RSS not fragmentation
        deadline = time.perf_counter() + 30
        while acct.expected < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        drained = time.perf_counter() - t_start
        stop.set()
        await probe_task
        seen = len(view.entries) + view.dropped
        rss_after = proc.memory_info().rss

        # latency at a calm rate: write one marked line, wait for it in the pane
        calm = []
        with log.open("a") as fh:
            for i in range(calm_probes):
                marker = f"latency-probe-{i}"
                t0 = time.perf_counter()
                fh.write(f"Mar  1 12:00:00 mx postfix/smtpd[1]: connect from {marker}[192.0.2.1]\n")
                fh.flush()
                while not (view.entries and marker in view.entries[-1].message):
                    await asyncio.sleep(0.001)
                calm.append(time.perf_counter() - t0)
                await asyncio.sleep(0.1)
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "rate": rate,
        "seconds": seconds,
        "rotate_every": rotate_every,
        "written": total,
        "seen": seen,
        "in_order": acct.expected,
        "lost": acct.lost + (total - acct.expected),
        "repeated": acct.repeated,
        "held_max": held_max,
        "wrote_in": wrote_in,
        "drained": drained,
        "lag_max": max(lags),
        "lag_p99": _percentile(lags, 0.99),
        "lag_p50": statistics.median(lags),
        "stalls_over_50ms": sum(lag > 0.05 for lag in lags),
        "samples": len(lags),
        "rss_before": rss_before,
        "rss_capped": rss_capped,
        "rss_end_of_writing": rss_end_of_writing,
        "rss_after": rss_after,
        "max_lines": max_lines,
        "blocks_capped": blocks_capped,
        "blocks_end": blocks_end,
        "load_p50": statistics.median(acct.latencies) if acct.latencies else 0.0,
        "load_p99": _percentile(acct.latencies, 0.99),
        "load_samples": len(acct.latencies),
        "calm_p50": statistics.median(calm) if calm else 0.0,
        "calm_p99": _percentile(calm, 0.99),
    }


def measure(
    rate: int = 50_000, seconds: float = 60.0, max_lines: int = 20_000, rotate_every: float = 5.0, calm_probes: int = 20
) -> dict[str, float]:
    return asyncio.run(_run(rate, seconds, max_lines, rotate_every, calm_probes))


def first_frame() -> float:
    """Seconds from a fresh interpreter to the dashboard's first frame (headless, median of 5)."""
    code = (
        "import time; t0 = time.perf_counter(); import asyncio, sys; sys.path.insert(0, sys.argv[1])\n"
        "from bench.ui_ingest import _first_frame_in_process; print(asyncio.run(_first_frame_in_process(t0)))"
    )
    runs = sorted(
        float(
            subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(5)
    )
    return runs[2]


async def _first_frame_in_process(t0: float) -> float:
    from mailtui import config
    from mailtui.ui.app import MailTuiApp

    tmp = Path(tempfile.mkdtemp(prefix="mailtui-bench-start-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "xdg")
    config.SYSTEM_CONFIG = tmp / "none.toml"
    (tmp / "mail.log").write_text("")
    cfg = config.load(None, {"logs.files": [str(tmp / "mail.log")]})
    app = MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: "bench")
    async with app.run_test(size=(160, 50)):  # entered once the first screen is composed and drawn
        elapsed = time.perf_counter() - t0
    shutil.rmtree(tmp, ignore_errors=True)
    return elapsed


def section(m: dict[str, float], start: float) -> str:
    mib = 1024 * 1024
    growth = 100 * (m["blocks_end"] / m["blocks_capped"] - 1) if m["blocks_capped"] else 0.0
    rss_note = (
        " (objects level, RSS rising: the allocator keeping freed memory, its high-water mark)"
        if abs(growth) < 10 and m["rss_end_of_writing"] > m["rss_capped"] * 1.05
        else ""
    )
    return f"""## Live ingest with the dashboard running (soak with rotation)

The whole app, headless at 160x50, tailing a log that another process appends to at
{m["rate"]:,.0f} lines/s for {m["seconds"]:.0f} s ({m["written"]:,} generated lines: deliveries, rejects,
SASL failures, Dovecot logins), rotated every {m["rotate_every"]:.0f} s by rename, copytruncate and
delete-and-re-create in turn; the Logs pane is capped at {m["max_lines"]:,} lines. A probe on the UI
event loop wakes every 10 ms; its lateness is how long the screen could not be drawn. Every
line carries its sequence number, checked as it reaches the Logs pane.

| measure | value |
|---|---|
| lines written / reached the Logs pane in order / lost / repeated | {m["written"]:,} / {m["in_order"]:,} / {m["lost"]:,} / {m["repeated"]:,} |
| lines held by the pane at most (cap {m["max_lines"]:,}) | {m["held_max"]:,} |
| time to write them (the writer first spends ~1 s per 500,000 lines generating) / until the pane had them all | {m["wrote_in"]:.1f} s / {m["drained"]:.1f} s |
| event-loop lateness p50 / p99 / max ({m["samples"]:,} samples) | {m["lag_p50"] * 1000:.1f} / {m["lag_p99"] * 1000:.1f} / {m["lag_max"] * 1000:.1f} ms |
| wake-ups later than 50 ms | {m["stalls_over_50ms"]} |
| append → in the Logs pane under load, p50 / p99 ({m["load_samples"]:,} stamped lines) | {m["load_p50"] * 1000:.0f} / {m["load_p99"] * 1000:.0f} ms |
| append → in the Logs pane at a calm rate, p50 / p99 (one line every 0.1 s) | {m["calm_p50"] * 1000:.0f} / {m["calm_p99"] * 1000:.0f} ms |
| RSS before / when the cap is first reached / at the end of the writing / after | {m["rss_before"] / mib:.0f} / {m["rss_capped"] / mib:.0f} / {m["rss_end_of_writing"] / mib:.0f} / {m["rss_after"] / mib:.0f} MiB |
| Python memory blocks in use when the cap is first reached / at the end of the writing | {m["blocks_capped"] / 1000:,.0f}k / {m["blocks_end"] / 1000:,.0f}k |
| start-up: fresh interpreter → first frame of the dashboard (median of 5) | {start * 1000:.0f} ms |

Target (issue 5): no frame over ~50 ms while ingesting 50,000 lines/s, memory bounded by the
cap. Frames: {m["stalls_over_50ms"]} of {m["samples"]:,} wake-ups later than 50 ms (worst {m["lag_max"] * 1000:.0f} ms), p99 {m["lag_p99"] * 1000:.0f} ms.
Memory: the pane held at most {m["held_max"]:,} lines; live Python blocks went from {m["blocks_capped"] / 1000:,.0f}k to
{m["blocks_end"] / 1000:,.0f}k ({growth:+.0f}%) while RSS went from {m["rss_capped"] / mib:.0f} to {m["rss_end_of_writing"] / mib:.0f} MiB{rss_note}.

What it took: full garbage collections were the only pauses over ~25 ms (with the collector
off, a 10 s run's worst wake-up was 25 ms). The app now freezes its long-lived objects (DOM,
catalog, modules) out of the collector once the first screen is up and makes full collections
a quarter as frequent; a log line is one object instead of three; the Logs pane keeps only a few
screens of rendered rows, and its rows never cache themselves (Textual's Strip does, which made
every dropped row cyclic garbage: 4x less garbage reaching full collections); the Logs pane is
redrawn at most ten times a second while lines stream in (a lone line still shows at once);
while the panes are behind, the backlog waits in the log file (at most two batches in flight,
1 MiB per read).
What remains over 50 ms are full collections themselves (30-60 ms each on this machine under
this load), and their cost hardly depends on the line cap any more (a 2,000-line cap measured
the same), so the rest is Textual's and the interpreter's own objects. Before this work (same
probe, 10 s, no rotation): p99 76 ms, worst 111 ms, 29 of 744 wake-ups later than 50 ms.
"""


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 6 and sys.argv[1] == "--write":
        write_at_rate(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        secs = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
        every = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
        print(section(measure(seconds=secs, rotate_every=every), first_frame()))
