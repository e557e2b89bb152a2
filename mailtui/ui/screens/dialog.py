"""The base of every dialog: the same keys everywhere, its own footer, its own help.

Escape and q close any dialog (a confirmation answers no); ``?`` lists the dialog's keys.
A dialog has its own footer, so the pane's actions behind it are never offered while it is
open (the app's keys do not reach a modal screen anyway).

Every dialog draws its content in one centred box with the class ``dialog-box`` (``-warning``
added for questions before a change to the server); the look is here, and each dialog's CSS
gives only its box's size.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer

from mailtui.ui.panes.base import ReportsFailedWorkers, read_only_state, refuse

ResultType = TypeVar("ResultType")


class Dialog(ReportsFailedWorkers, ModalScreen[ResultType]):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .dialog-box {
        max-width: 98%; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    Dialog > .dialog-box.-warning { border: round $warning; padding: 1 2; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("question_mark", "help", "Keys", key_display="?"),
    ]
    #: one line on top of the dialog's help: what it is for
    HELP_INTRO = ""
    #: actions that change a server: hidden and refused under --read-only
    WRITE_ACTIONS: frozenset[str] = frozenset()

    def on_mount(self) -> None:
        self.mount(Footer())

    def action_close(self) -> None:
        # dialogs that answer something (a confirmation: no) override this
        self.dismiss(None)

    def action_help(self) -> None:
        from mailtui.ui.screens.help import HelpScreen, dialog_sections

        self.app.push_screen(HelpScreen(dialog_sections(self)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return read_only_state(self, action, self.WRITE_ACTIONS)

    def action_refuse_read_only(self, what: str) -> None:
        refuse(self, what)
