"""Regenerate screenshots/*.svg from the real app, headless: ``.venv/bin/python scripts/screenshots.py``."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHOTS = [
    ("dashboard-120x35.svg", (120, 35), []),
    ("dashboard-80x24.svg", (80, 24), []),
    ("dashboard-200x55.svg", (200, 55), []),
    ("dns-80x24.svg", (80, 24), ["5"]),
    ("logs-80x24.svg", (80, 24), ["4"]),
    ("explain.svg", (120, 35), ["4", "up", "enter"]),
    ("help.svg", (120, 35), ["question_mark"]),
]


async def shoot(name: str, size: tuple[int, int], keys: list[str], logs: list[str]) -> None:
    from mailtui import config
    from mailtui.demo import DEMO_LOGS, configure
    from mailtui.demo.bans import DemoBans
    from mailtui.demo.dns import DemoDns
    from mailtui.demo.services import DemoServices
    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.panes.dns import DnsPane

    cfg = config.load(None, {})
    configure(cfg, dict(zip(DEMO_LOGS, (Path(p) for p in logs))), Path(logs[0]).parent)

    # what `mailtui --demo` runs: the replayed logs, the rig's captured services, bans and DNS check
    app = MailTuiApp(cfg, watch_tty=False, demo=True, services=DemoServices(), bans=DemoBans(), dns=DemoDns(step=0))
    async with app.run_test(size=size) as pilot:
        for worker in list(app.workers):
            if worker.group != "log-tail":  # the tail runs until the app exits
                await worker.wait()
        for _ in range(100):  # the DNS check replayed to its end
            if app.query_one(DnsPane).done:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.3)
        await pilot.pause(0.5)
        app.save_screenshot(filename=name, path=str(ROOT / "screenshots"))
    print(f"screenshots/{name}")


async def main() -> None:
    from mailtui.demo.replay import DemoReplay

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = tmp
        # the demo's captured daemon logs, all written at once (no replay pacing needed here)
        replay = DemoReplay(Path(tmp) / "logs", backfill=10_000)
        replay.start()
        replay.stop()
        logs = [str(p) for p in replay.paths.values()]
        for name, size, keys in SHOTS:
            await shoot(name, size, keys, logs)


if __name__ == "__main__":
    asyncio.run(main())
