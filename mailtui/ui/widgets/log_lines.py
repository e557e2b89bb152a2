"""A Line-API log view: only visible rows are rendered, lines arrive in batches, memory is capped.

Text from logs is put into Rich ``Text`` objects as plain strings (never parsed as markup)
after the ingest-time sanitising, so brackets and escape sequences show literally.
Following: the view sticks to the newest line until the user moves up; then it counts
the lines that arrived meanwhile, and ``end`` jumps back and follows again.

Rendered rows are kept in an LRU cache keyed by line, width, highlight, wrapped part and
sideways offset, so moving the cursor redraws only the two rows it leaves and lands on
(``refresh_lines``). Colours come from the widget's component classes (``log-lines--*`` in
DEFAULT_CSS), so an app's CSS or theme can restyle them.
A host column (after the time) shows while the lines shown are of more than one host (issue 19).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import datetime
from itertools import accumulate

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from mailtui.analysis.live import LiveEntry
from mailtui.core.record import NO_HOST, several_hosts
from mailtui.ui.messages import NodeMessage

SEVERITY_MARK = {
    "crit": ("✖", "bold red"),
    "error": ("✖", "red"),
    "warn": ("⚠", "yellow"),
    "notice": ("•", "cyan"),
    "info": (" ", ""),
}
PROGRAM_WIDTH = 24
#: the parts of a row entry_text styles, and their look outside a LogLines (its CSS gives its own)
DEFAULT_PART_STYLES: Mapping[str, Style | str] = {
    "time": "dim",
    "host": "magenta",
    "program": "cyan",
    "alarm": "bold",  # the message of an error or critical line
    **{severity: style for severity, (_, style) in SEVERITY_MARK.items()},
}
#: rendered rows kept, oldest dropped first: a few screens' worth (each is a dozen objects that
#: every full garbage collection walks, so more would lengthen the pauses while logs stream in)
STRIP_CACHE = 256
REDRAW_EVERY = 0.1  # seconds between redraws while lines stream in
#: where a wrapped line's continuation rows start: under the message, after mark, time, program
MESSAGE_COLUMN = 2 + 9 + PROGRAM_WIDTH + 1
SIDE_STEP = 8  # columns per left/right key while not wrapping
#: the host column's widest (names are cut, with …): a wide view, and one under WIDE columns, where
#: the program column gives up as much as the host column takes, so the message starts where it did
HOST_WIDTH, NARROW_HOST_WIDTH, WIDE = 14, 6, 110


def host_names(hosts: list[str]) -> dict[str, str]:
    """How each host is shown: its first label when those tell the hosts apart (mx1.example.org
    is "mx1"), else the whole name; an address stays whole."""

    def short(host: str) -> str:
        return host if not host or host.replace(".", "").isdigit() or ":" in host else host.split(".", 1)[0]

    shorts = {h: short(h) for h in hosts}
    distinct = len(set(shorts.values())) == len(shorts)
    return {h: (shorts[h] if distinct else h) or NO_HOST for h in hosts}


#: the Textual version RowStrip's reading of Strip's internals was checked against (and
#: tests/test_ui_idioms.py checks those internals are still what it assumes)
STRIP_INTERNALS_CHECKED = "8.2.8"


class RowStrip(Strip):
    """A rendered row that never caches itself.

    A Strip asked to crop-and-extend to the size it already has returns itself and remembers
    that in its own cache: a reference cycle, so every row the view dropped became garbage that
    only a full collection could reclaim (the pauses bench/ui_ingest.py measured). Rows here are
    exactly the view's width, so that answer needs no cache.

    This depends on Strip internals (Textual STRIP_INTERNALS_CHECKED): ``crop_extend`` stores
    its result in ``self._crop_extend_cache`` (a FIFOCache slot), and the compositor calls it
    with ``(0, width, style)`` for a row of exactly its width. If Textual stops caching there,
    this override is merely unnecessary; if it caches elsewhere, the cycle comes back.
    """

    def crop_extend(self, start: int, end: int, style: Style | None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self
        return super().crop_extend(start, end, style)


def entry_text(
    entry: LiveEntry,
    styles: Mapping[str, Style | str] = DEFAULT_PART_STYLES,
    host: str | None = None,
    host_width: int = 0,
    program_width: int = PROGRAM_WIDTH,
) -> Text:
    """One line as a row: severity mark, time, host, program, message. ``styles``: the look of each
    part (``time``, ``host``, ``program``, ``alarm`` and each severity's mark); ``host``: the host as
    shown, in a column ``host_width`` wide (none when 0)."""
    rec = entry.record
    when = datetime.fromtimestamp(rec.timestamp).strftime("%H:%M:%S") if rec.timestamp else "--:--:--"
    program = rec.program + (f"[{rec.pid}]" if rec.pid else "") if rec.program else ""
    severity = entry.match.recognizer.severity if entry.match else "info"
    mark = SEVERITY_MARK[severity][0]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(mark, styles[severity])
    text.append(" ")
    text.append(when, styles["time"])
    text.append(" ")
    if host_width:
        name = host if host is not None else rec.host or NO_HOST
        name = name if len(name) <= host_width else name[: host_width - 1] + "…"
        text.append(name.ljust(host_width), styles["host"])
        text.append(" ")
    text.append(program[:program_width].ljust(program_width), styles["program"])
    text.append(" ")
    text.append(
        rec.message if rec.fmt != "unknown" else rec.line, styles["alarm"] if severity in ("error", "crit") else ""
    )
    return text


class LogLines(ScrollView, can_focus=True):
    # left/right shift the text itself (self.x): Textual's horizontal scrollbar never has a use
    # here, and it came and went with the order of layout and backfill (one row more or less)
    COMPONENT_CLASSES = {
        "log-lines--cursor",
        "log-lines--time",
        "log-lines--host",
        "log-lines--program",
        "log-lines--alarm",
        *(f"log-lines--{severity}" for severity in SEVERITY_MARK),
    }
    # ansi_* colours: the same as the Rich colour names they replace (the terminal's palette);
    # #444444 is xterm's grey27
    DEFAULT_CSS = """
    LogLines { height: 1fr; overflow-x: hidden; }
    LogLines > .log-lines--cursor { background: #444444; }
    LogLines > .log-lines--time { text-style: dim; }
    LogLines > .log-lines--host { color: ansi_magenta; }
    LogLines > .log-lines--program { color: ansi_cyan; }
    LogLines > .log-lines--alarm { text-style: bold; }
    LogLines > .log-lines--crit { color: ansi_red; text-style: bold; }
    LogLines > .log-lines--error { color: ansi_red; }
    LogLines > .log-lines--warn { color: ansi_yellow; }
    LogLines > .log-lines--notice { color: ansi_cyan; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "follow", "Follow", show=False),  # the title says "(end)" when paused
        Binding("enter", "select", "Explain"),
        Binding("left", "side(-1)", "Scroll left", show=False),
        Binding("right", "side(1)", "Scroll right", show=False),
    ]

    following: reactive[bool] = reactive(True)
    """Stick to the newest line."""

    class Selected(NodeMessage):
        """Enter on a line: explain it."""

        def __init__(self, log_lines: LogLines, entry: LiveEntry) -> None:
            super().__init__(log_lines)
            self.entry = entry

    class FollowChanged(NodeMessage):
        """Following started or stopped, or the count of lines that came meanwhile changed."""

        LATEST_ONLY = True  # only the latest state is worth a new title

        def __init__(self, log_lines: LogLines, following: bool, pending: int) -> None:
            super().__init__(log_lines)
            self.following = following
            self.pending = pending

    def __init__(self, max_lines: int = 20000, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_lines = max_lines
        self.entries: deque[LiveEntry] = deque(maxlen=max_lines)  # everything kept
        self.view: deque[LiveEntry] = deque(maxlen=max_lines)  # what the filter lets through
        self.cursor = -1
        self.pending = 0
        self.dropped = 0  # lines pushed out by max_lines since the start
        self._filter: Callable[[LiveEntry], bool] | None = None
        self._redraw_timer: Timer | None = None
        self._last_redraw = 0.0
        self._pending_shown = 0  # the "+N new lines" count last announced
        # (id, width, highlighted, row of the line, x) -> (entry, strip): the entry is kept so its id
        # cannot be reused
        self._cache: LRUCache[tuple[int, int, bool, int, int], tuple[LiveEntry, Strip]] = LRUCache(STRIP_CACHE)
        self._styles: dict[str, Style | str] | None = None  # from the component classes, read once
        self.wrap = False  # long lines continue on the next rows (W) instead of being cut
        self.x = 0  # columns scrolled to the right (left/right) while not wrapping
        self._starts: list[int] = []  # wrapping: the first row of every line of the view, and the end
        self._hosts: Counter[str] = Counter()  # lines of the view per host
        self._host_names: dict[str, str] = {}  # host -> as shown; empty while one host is shown
        self._host_width = 0  # the host column's width, 0 while it is not shown
        self._program_width = PROGRAM_WIDTH
        self.message_column = MESSAGE_COLUMN

    # -- data --------------------------------------------------------------------------------------
    def add(self, batch: list[LiveEntry]) -> None:
        """Append a batch: one call per batch keeps rendering cost per batch, not per line."""
        overflow = max(0, len(self.entries) + len(batch) - self.max_lines)
        self.dropped += overflow
        self.entries.extend(batch)
        shown = batch if self._filter is None else [e for e in batch if self._filter(e)]
        removed = max(0, len(self.view) + len(shown) - self.max_lines)
        if removed:  # the lines the view is about to drop no longer count for the host column
            for i in range(min(removed, len(self.view))):
                self._uncount(self.view[i].record.host)
        hosts = self._hosts
        for e in shown[-self.max_lines :]:
            hosts[e.record.host] += 1
        self.view.extend(shown)
        if shown or removed:
            self._columns()
        if removed and self.cursor >= 0:
            self.cursor = max(0, self.cursor - removed)
        if shown and not self.following:
            self.pending += len(shown)
        # the view is redrawn at most REDRAW_EVERY: a lone line shows at once, a stream of
        # batches costs a few frames a second instead of one per batch (each frame re-renders
        # every visible row, and the rows it drops are garbage to collect)
        if self._redraw_timer is None:
            wait = self._last_redraw + REDRAW_EVERY - time.monotonic()
            if wait <= 0:
                self._redraw()
            else:
                self._redraw_timer = self.set_timer(wait, self._redraw)

    def _redraw(self) -> None:
        self._redraw_timer = None
        self._last_redraw = time.monotonic()
        self._resize()
        if self.following:
            self.scroll_end(animate=False, immediate=True)
        elif self.pending != self._pending_shown:
            self._pending_shown = self.pending
            self.post_message(self.FollowChanged(self, False, self.pending))
        self.refresh()

    def set_filter(self, predicate: Callable[[LiveEntry], bool] | None) -> None:
        self._filter = predicate
        self.view = deque((e for e in self.entries if predicate is None or predicate(e)), maxlen=self.max_lines)
        self._hosts = Counter(e.record.host for e in self.view)
        self._columns()
        self.cursor = min(self.cursor, len(self.view) - 1)
        self._cache.clear()
        self._resize()
        if self.following:
            self.scroll_end(animate=False, immediate=True)
        self.refresh()

    def _uncount(self, host: str) -> None:
        left = self._hosts[host] - 1
        if left > 0:
            self._hosts[host] = left
        else:
            del self._hosts[host]

    @property
    def hosts_shown(self) -> bool:
        """The host column is on: the view's lines are of more than one host."""
        return self._host_width > 0

    def _columns(self) -> None:
        """The host column's width (0: off) and the program column's, for the hosts and the width."""
        if not several_hosts(self._hosts):
            host_width, names = 0, {}
        else:
            names = host_names(sorted(self._hosts))
            wide = self._width >= WIDE
            host_width = min(HOST_WIDTH if wide else NARROW_HOST_WIDTH, max(len(n) for n in names.values()))
        program_width = PROGRAM_WIDTH if not host_width or self._width >= WIDE else PROGRAM_WIDTH - host_width - 1
        if (host_width, program_width, names) != (self._host_width, self._program_width, self._host_names):
            self._host_width, self._program_width, self._host_names = host_width, program_width, names
            self.message_column = 2 + 9 + (host_width + 1 if host_width else 0) + program_width + 1
            self._cache.clear()
            if self.wrap:
                self._resize()

    @property
    def _width(self) -> int:
        # the rows' width: without the vertical scrollbar (a row as wide as the widget made a
        # horizontal scrollbar appear, which took a row, and cut every line's last characters)
        return max(1, self.scrollable_content_region.width)

    def _resize(self) -> None:
        width = self._width
        if self.wrap:
            column = self.message_column
            self._starts = [0, *accumulate(self._rows_of(e, width, column) for e in self.view)]
            self.virtual_size = Size(width, self._starts[-1])
        else:
            self._starts = []
            self.virtual_size = Size(width, len(self.view))

    @staticmethod
    def _rows_of(entry: LiveEntry, width: int, column: int = MESSAGE_COLUMN) -> int:
        """Rows a line takes when wrapped: the first row, then continuation rows under the message."""
        rec = entry.record
        length = column + len(rec.message if rec.fmt != "unknown" else rec.line)
        room = max(10, width - column)
        return 1 if length <= width else 1 + -(-(length - width) // room)

    def _first_row(self, index: int) -> int:
        return self._starts[index] if self.wrap and index < len(self._starts) else index

    def _last_row(self, index: int) -> int:
        return self._starts[index + 1] - 1 if self.wrap and index + 1 < len(self._starts) else index

    def set_wrap(self, wrap: bool) -> None:
        self.wrap = wrap
        self.x = 0
        self._cache.clear()
        self._resize()
        if self.following:
            self.scroll_end(animate=False, immediate=True)
        elif self.cursor >= 0:
            self.scroll_to_region_cursor()
        self.refresh()

    def action_side(self, direction: int) -> None:
        if self.wrap:
            return
        self.x = max(0, self.x + direction * SIDE_STEP)
        self._cache.clear()
        self.refresh()

    @property
    def selected(self) -> LiveEntry | None:
        return self.view[self.cursor] if 0 <= self.cursor < len(self.view) else None

    # -- rendering ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        _, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self._width
        part = 0
        if self.wrap:
            index = bisect_right(self._starts, row) - 1
            if index < 0 or index >= len(self.view):
                return Strip.blank(width, self.rich_style)
            part = row - self._starts[index]
        else:
            index = row
        if index >= len(self.view):
            return Strip.blank(width, self.rich_style)
        entry = self.view[index]
        highlighted = index == self.cursor
        key = (id(entry), width, highlighted, part, self.x)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is entry:
            return hit[1]
        column = self.message_column
        text = entry_text(
            entry, self._part_styles(), self._host_names.get(entry.record.host), self._host_width, self._program_width
        )
        if self.wrap:
            room = max(10, width - column)
            if part:
                start = width + (part - 1) * room
                text = Text.assemble(" " * (width - room), text[start : start + room], no_wrap=True)
        elif self.x:
            # scrolled sideways: the message moves, the time and the program stay
            head = text[:column]
            head.append_text(text[column + self.x :])
            text = head
        # wrapping, the first row is cut where the next one goes on; else an ellipsis says there is more
        text.truncate(width, overflow="crop" if self.wrap else "ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        segments = [s for s in segments if s.text != "\n"]
        if highlighted:
            cursor = self.get_component_rich_style("log-lines--cursor", partial=True)
            segments = list(Segment.apply_style(segments, post_style=cursor))
        strip = RowStrip(segments)
        if strip.cell_length != width:  # wide characters at the edge
            strip = RowStrip(list(Strip(segments).crop_extend(0, width, self.rich_style)))
        self._cache[key] = (entry, strip)
        return strip

    def _part_styles(self) -> dict[str, Style | str]:
        if self._styles is None:
            self._styles = {
                part: self.get_component_rich_style(f"log-lines--{part}", partial=True) for part in DEFAULT_PART_STYLES
            }
        return self._styles

    def notify_style_update(self) -> None:
        # the CSS or the theme changed: the component styles, and every row drawn with them
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    # -- navigation --------------------------------------------------------------------------------
    def set_following(self, value: bool) -> None:
        if value != self.following:
            self.following = value
            if value:
                self.pending = 0
            self._pending_shown = self.pending
            self.post_message(self.FollowChanged(self, value, self.pending))

    def action_cursor(self, delta: int) -> None:
        if not self.view:
            return
        start = self.cursor if self.cursor >= 0 else len(self.view) - 1 + (1 if delta < 0 else 0)
        self._move_cursor(max(0, min(len(self.view) - 1, start + delta)))
        self.set_following(self.cursor == len(self.view) - 1 and delta > 0)
        self.scroll_to_region_cursor()

    def _move_cursor(self, index: int) -> None:
        """Move the highlight to line ``index`` (-1: none). Only the rows of the line it leaves and
        of the one it lands on are redrawn: the cache keys carry the highlight, so no cached row
        is wrong (a scroll that follows redraws the rest)."""
        before, self.cursor = self.cursor, index
        for line in {before, index}:
            if 0 <= line < len(self.view):
                first = self._first_row(line)
                self.refresh_lines(first, self._last_row(line) - first + 1)

    def scroll_to_region_cursor(self) -> None:
        _, top = self.scroll_offset
        height = self.scrollable_content_region.height
        first, last = self._first_row(self.cursor), self._last_row(self.cursor)
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif last >= top + height:
            self.scroll_to(y=max(first, last - height + 1), animate=False, immediate=True)

    def action_first(self) -> None:
        self._move_cursor(0 if self.view else -1)
        self.set_following(False)
        self.scroll_home(animate=False, immediate=True)

    def action_follow(self) -> None:
        self._move_cursor(-1)
        self.set_following(True)
        self.scroll_end(animate=False, immediate=True)

    def find(self, predicate: Callable[[LiveEntry], bool], forward: bool = True) -> bool:
        """Move the cursor to the next (or previous) shown line the predicate accepts."""
        if not self.view:
            return False
        n = len(self.view)
        start = self.cursor if self.cursor >= 0 else (n - 1 if not forward else -1)
        for step in range(1, n + 1):
            index = (start + step) % n if forward else (start - step) % n
            if predicate(self.view[index]):
                self._move_cursor(index)
                self.set_following(False)
                self.scroll_to_region_cursor()
                return True
        return False

    def action_select(self) -> None:
        entry = self.selected if self.cursor >= 0 else (self.view[-1] if self.view else None)
        if entry is not None:
            self.post_message(self.Selected(self, entry))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.set_following(False)

    def on_resize(self) -> None:
        self._cache.clear()
        self._columns()  # the host column is narrower in a narrow view
        self._resize()
        if self.following:
            # the backfill can arrive before the first layout: stick to the end once the size is known
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
