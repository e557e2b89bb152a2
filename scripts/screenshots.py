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
    ("help.svg", (120, 35), ["question_mark"]),
]


async def shoot(name: str, size: tuple[int, int], keys: list[str], log: Path) -> None:
    from mailtui import config
    from mailtui.ui.app import MailTuiApp

    cfg = config.load(None, {"logs.files": [str(log)]})
    app = MailTuiApp(cfg, watch_tty=False)
    async with app.run_test(size=size) as pilot:
        for worker in list(app.workers):
            if worker.group != "log-tail":  # the tail runs until the app exits
                await worker.wait()
        await pilot.pause(0.5)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        app.save_screenshot(filename=name, path=str(ROOT / "screenshots"))
    print(f"screenshots/{name}")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = tmp
        log = Path(tmp) / "mail.log"
        log.write_text("")
        for name, size, keys in SHOTS:
            await shoot(name, size, keys, log)


if __name__ == "__main__":
    asyncio.run(main())
