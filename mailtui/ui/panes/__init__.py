"""The dashboard's panes: Bans, Services, Problems, Logs, DNS."""

from mailtui.ui.panes.bans import BansPane
from mailtui.ui.panes.base import Pane
from mailtui.ui.panes.dns import DnsPane
from mailtui.ui.panes.logs import LogsPane
from mailtui.ui.panes.problems import ProblemsPane
from mailtui.ui.panes.services import ServicesPane

PANE_ORDER: tuple[type[Pane], ...] = (BansPane, ServicesPane, ProblemsPane, LogsPane, DnsPane)

__all__ = ["PANE_ORDER", "BansPane", "DnsPane", "LogsPane", "Pane", "ProblemsPane", "ServicesPane"]
