"""The help screen (``?``): every key binding of the dashboard, generated from the bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "mailtui watches Postfix, Dovecot and fail2ban. Panes: Bans, Services, Problems, Logs, DNS.\n"
    "Tab / shift+tab move between panes; on a small terminal the tab strip switches panes."
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self._binding_rows = bindings

    def compose(self) -> ComposeResult:
        lines = [Content.styled("mailtui help", "bold"), Content(""), Content(INTRO), Content("")]
        width = max((len(k) for k, _ in self._binding_rows), default=4)
        for key, description in self._binding_rows:
            lines.append(Content.assemble((key.ljust(width + 2), "bold $accent"), description))
        lines += [Content(""), Content("ctrl+p opens the command palette; escape closes this help.")]
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            yield Static(Content("\n").join(lines), markup=False)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
