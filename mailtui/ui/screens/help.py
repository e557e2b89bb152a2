"""The help screen (``?``): the keys of what has focus — the pane or the dialog — then the global ones.

Everything listed is read from the live bindings (``Screen.active_bindings``), so the help can
never drift from what the keys do; keys that --read-only turns off are listed as off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.widgets import Static

from mailtui.ui.panes.base import REFUSE_ACTION
from mailtui.ui.screens.dialog import Dialog

if TYPE_CHECKING:
    from textual.screen import Screen

    from mailtui.ui.panes.base import Pane

#: (keys, what they do)
Row = tuple[str, str]
#: (title, rows, shown in two columns)
Section = tuple[str, list[Row], bool]

#: movement inside a list: summarised in one "Move" row instead of a row per key
NAV_ACTIONS = frozenset(
    {
        "cursor_up",
        "cursor_down",
        "cursor_left",
        "cursor_right",
        "page_up",
        "page_down",
        "page_left",
        "page_right",
        "scroll_top",
        "scroll_bottom",
        "scroll_home",
        "scroll_end",
        "cursor",
        "first",
        "select_cursor",
        "select",
        "side",
    }
)
#: the dashboard's own moves between panes, also summarised
PANE_MOVES = frozenset(
    {
        "focus_next",
        "focus_previous",
        "app.focus_next",
        "app.focus_previous",
        "show_pane",
        "restore",
        "copy_text",
        "command_palette",
    }
)
KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "space": "Space",
    "ctrl+q": "^q",
    "ctrl+p": "^p",
}
MOVE_ROW: Row = ("↑ ↓ j k PgUp PgDn g G Home End", "move in the list")
#: short, so that two columns fit in 80: the help must fit a 80x24 terminal without scrolling
GLOBAL_EXTRA: list[Row] = [
    ("Tab", "next pane"),
    ("Shift+Tab", "previous pane"),
    ("1 … 5", "go to pane 1 … 5"),
    ("Esc", "un-maximize"),
    ("^p", "find any action"),
]


def key_label(binding: Binding) -> str:
    return binding.key_display or KEY_NAMES.get(binding.key, binding.key)


def _ours(node: DOMNode) -> bool:
    # Textual's own widgets (Input, Select, DataTable) bring dozens of editing keys; the
    # mailtui widgets built on them carry the keys that matter here
    return type(node).__module__.startswith("mailtui")


def binding_rows(active: dict[str, ActiveBinding], keep: Callable[[DOMNode], bool]) -> list[Row]:
    """One row per action, its keys together (``Esc q  Close``), in binding order."""
    rows: dict[tuple[int, str], list[str]] = {}
    for ab in active.values():
        b = ab.binding
        name = b.action.split("(", 1)[0]
        if b.system or not b.description or name in NAV_ACTIONS or name in PANE_MOVES:
            continue
        if not keep(ab.node) or not _ours(ab.node):
            continue
        description = b.description
        if name == REFUSE_ACTION:
            description += " — off (read-only)"
        keys = rows.setdefault((id(ab.node), description), [])
        label = key_label(b)
        if label not in keys:
            keys.append(label)
    merged: dict[str, list[str]] = {}
    for (_, description), keys in rows.items():  # the same action on the pane and its table
        merged.setdefault(description, [])
        merged[description] += [k for k in keys if k not in merged[description]]
    return [(" ".join(keys), description) for description, keys in merged.items()]


def _inside(root: DOMNode) -> Callable[[DOMNode], bool]:
    return lambda node: node is root or root in node.ancestors


def pane_sections(screen: Screen[Any], pane: Pane) -> list[Section]:
    """The focused pane's keys, then the ones that work everywhere on the dashboard."""
    active = screen.active_bindings
    rows = binding_rows(active, _inside(pane))
    if pane.ENTER_HELP:
        rows.append(("Enter", pane.ENTER_HELP))
    rows.append((MOVE_ROW[0] + pane.MOVE_KEYS, MOVE_ROW[1] + pane.MOVE_HELP))
    app = screen.app
    everywhere = binding_rows(active, lambda node: node is app or node is screen) + GLOBAL_EXTRA
    return [(f"{pane.TITLE} pane", rows, False), ("Everywhere", everywhere, True)]


def dialog_sections(dialog: Dialog[Any]) -> list[Section]:
    rows = binding_rows(dialog.active_bindings, _inside(dialog))
    if dialog.query("DataTable"):
        rows.append(MOVE_ROW)
    title = getattr(dialog, "HELP_TITLE", "") or "This dialog"
    return [(title, rows, False)]


def sections_content(sections: list[Section], width: int) -> Content:
    lines: list[Content] = []
    for title, rows, two_columns in sections:
        if lines:
            lines.append(Content(""))
        lines.append(Content.styled(title, "bold underline"))
        # a long key list (the Move row) overflows its column instead of widening every row
        key_width = max((len(k) for k, _ in rows if len(k) <= 14), default=4) + 2
        cells = [
            Content.assemble((keys.ljust(key_width) if len(keys) < key_width else keys + "  ", "bold $accent"), what)
            for keys, what in rows
        ]
        column = max((c.cell_length for c in cells), default=0) + 3
        if two_columns and 2 * column <= width:
            half = (len(cells) + 1) // 2
            for left, right in zip(cells[:half], [*cells[half:], Content("")]):
                lines.append(Content.assemble(left, " " * (column - left.cell_length), right))
        else:
            lines += cells
    return Content("\n").join(lines)


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > .dialog-box { width: 90; max-height: 100%; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]
    HELP_TITLE = "Help"

    def __init__(self, sections: list[Section], read_only: bool = False) -> None:
        super().__init__()
        self.sections = sections
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        width = min(90, self.app.size.width - 2) - 4
        body = sections_content(self.sections, width)
        with VerticalScroll(classes="dialog-box") as scroll:
            scroll.border_title = "Keys · Esc, q or ? closes"
            if self.read_only:
                scroll.border_subtitle = "read-only: actions that change the server are off"
            yield Static(body, markup=False)
