"""The demo: genuine daemon logs captured by the test rig, replayed into temporary files.

The panes tail those files exactly as they would tail /var/log/mail.log, so the demo runs
the real pipeline without a mail server.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailtui.config import Config

DEMO_LOGS = ("mail.log", "dovecot.log", "fail2ban.log")


def demo_data_text(name: str) -> str:
    return (resources.files("mailtui.demo") / "data" / name).read_text(encoding="utf-8")


def configure(cfg: Config, logs: dict[str, Path], directory: Path) -> None:
    """Point the configuration at the replayed logs: the panes tail them, the Bans pane reads the
    replayed fail2ban.log (there is no fail2ban socket in a demo), and nothing may be changed."""
    cfg.set("logs.files", [str(p) for p in logs.values()], "--demo")
    cfg.set("logs.fail2ban", str(logs["fail2ban.log"]), "--demo")
    cfg.set("fail2ban.socket", str(directory / "no-fail2ban-in-the-demo.sock"), "--demo")
    cfg.set("ui.read_only", True, "--demo")
    cfg.set("containers.mode", "no", "--demo")  # the demo replays captures: no container engine either
