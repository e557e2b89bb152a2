"""Ask which IP to ban and in which jail; the IP is validated before the confirmation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Select, Static

from mailtui.ui.screens.dialog import Dialog


class BanScreen(Dialog["tuple[str, str] | None"]):
    """Dismisses with (ip, jail), or None when cancelled."""

    DEFAULT_CSS = """
    BanScreen > .dialog-box { width: 72; }
    BanScreen #ban-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    HELP_TITLE = "Ban an IP"

    def __init__(self, jails: list[str], jail: str) -> None:
        super().__init__()
        self.jails = jails
        self.jail = jail if jail in jails else jails[0]
        self.ip_input = Input(placeholder="IP address to ban", id="ban-ip")
        self.jail_select: Select[str] = Select(
            [(Text(j), j) for j in jails], value=self.jail, allow_blank=False, id="ban-jail"
        )
        self.error = Static("", markup=False, id="ban-error")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box -warning") as box:
            box.border_title = "Ban an IP"
            yield Static(Content("IP address, then Enter (esc cancels):"), markup=False)
            yield self.ip_input
            yield self.jail_select
            yield self.error

    def on_mount(self) -> None:
        self.ip_input.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from mailtui.fail2ban.actions import ActionRefused, valid_ip

        event.stop()
        try:
            ip = valid_ip(event.value)
        except ActionRefused as exc:
            self.error.update(Content(str(exc)))
            return
        self.dismiss((ip, str(self.jail_select.value)))

    def action_cancel(self) -> None:
        self.dismiss(None)
