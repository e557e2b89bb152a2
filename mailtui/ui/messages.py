"""The base of the dashboard's own messages: the widget they are about, and whether only the latest counts.

``control`` names the widget a message comes from or is about, so handlers can select on it
(``@on(ServicesPane.AlertsChanged, "#services")``). ``LATEST_ONLY`` messages are state, not
events: while one waits in a queue, a newer one of the same kind about the same widget replaces
it (Textual's ``can_replace``), so a slow consumer draws the newest state once, not every step.
"""

from __future__ import annotations

from typing import ClassVar

from textual.message import Message
from textual.widget import Widget


class NodeMessage(Message):
    """A message about one widget (its ``control``)."""

    #: True for state where only the newest matters (a poll result, the current alerts)
    LATEST_ONLY: ClassVar[bool] = False

    def __init__(self, node: Widget) -> None:
        super().__init__()
        self.node = node

    @property
    def control(self) -> Widget:
        return self.node

    def can_replace(self, message: Message) -> bool:
        # asked of the queued message about the one behind it: the newer may take its place
        return self.LATEST_ONLY and type(message) is type(self) and getattr(message, "node", None) is self.node
