"""A yes/no confirmation for actions that change the server (unban, ban, queue actions)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from mailtui.ui.screens.dialog import Dialog


class ConfirmScreen(Dialog[bool]):
    DEFAULT_CSS = """
    ConfirmScreen > .dialog-box { width: 72; }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape,q,n", "answer(False)", "No"), Binding("y", "answer(True)", "Yes")]
    HELP_TITLE = "Confirmation"

    def __init__(self, question: Content, yes_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -warning") as box:
            box.border_title = "Confirm"
            yield Static(self.question, markup=False)
            with Horizontal():
                # button labels are fixed strings of ours, never untrusted text
                yield Button(f"{self.yes_label} (y)", variant="warning", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_close(self) -> None:
        self.dismiss(False)
