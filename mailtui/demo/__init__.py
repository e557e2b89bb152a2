"""The demo: genuine daemon logs captured by the test rig, replayed into temporary files.

The panes tail those files exactly as they would tail /var/log/mail.log, so the demo runs
the real pipeline without a mail server.
"""

from __future__ import annotations

from importlib import resources

DEMO_LOGS = ("mail.log", "dovecot.log", "fail2ban.log")


def demo_data_text(name: str) -> str:
    return (resources.files("mailtui.demo") / "data" / name).read_text(encoding="utf-8")
