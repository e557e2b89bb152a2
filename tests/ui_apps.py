"""Deterministic app instances for Pilot and snapshot tests (no machine-specific text)."""

from __future__ import annotations

from mailtui.config import Config
from mailtui.ui.app import MailTuiApp

FIXED_SUMMARY = "mail.example.test · Postfix 3.7.11 · Dovecot 2.3.19.1 · fail2ban 1.0.2"


def make_app(cfg: Config) -> MailTuiApp:
    return MailTuiApp(cfg, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY)
