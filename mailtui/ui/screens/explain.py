"""The explanation panel (Enter on a recognized line): what happened, why, live settings, the fix.

The line is explained in its context: the Logs pane's lines before it are correlated
(analysis.correlate) and the context settled against the live configuration, so a Dovecot
"auth failed" that was really a refused cleartext login says so, with that fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from mailtui.analysis.live import LiveEntry
from mailtui.core.record import LogRecord
from mailtui.recognizers.explain import Diagnosis
from mailtui.recognizers.model import Match
from mailtui.ui.screens.dialog import Dialog

LABEL = 15


def _row(label: str, text: str | Content, style: str = "") -> Content:
    body = text if isinstance(text, Content) else Content.styled(text, style) if style else Content(text)
    return Content.assemble((label.ljust(LABEL), "bold"), body)


def diagnosis_content(entry: LiveEntry, diagnosis: Diagnosis | None, lookup_error: str = "") -> Content:
    """All untrusted text (the line, fields) goes in as plain Content, never as markup."""
    rec = entry.record
    parts: list[Content] = [_row("Line", rec.line, "dim")]
    if entry.match is None:
        parts.append(_row("", "No recognizer knows this line."))
        return Content("\n").join(parts)
    r = entry.match.recognizer if diagnosis is None else diagnosis.headline
    if r is not entry.match.recognizer:
        parts.append(_row("The line says", f"{entry.match.recognizer.title} — which it is not here", "dim"))
    parts.append(_row("What happened", entry.match.summary))
    if diagnosis is not None and diagnosis.context is not None:
        parts.append(_row("In context", " ".join(diagnosis.context.note.split()), "bold"))
    if not entry.match.recognizer.explained:  # the catch-all surfaced it by its level; nobody explained it yet
        level = entry.match.recognizer.id.rsplit(".", 1)[-1]
        parts.append(
            _row(
                "Not explained",
                f"yet: no recognizer knows this message; it is shown because it "
                f"was logged at level {level}. `mailtui scan --unknown` lists "
                "such lines; docs/recognizers.md shows how to add a recognizer.",
                "$warning",
            )
        )
    parts.append(_row("Why", " ".join(r.cause.split())))
    if diagnosis is None:
        parts.append(_row("Settings", lookup_error or "looking up the live configuration…", "italic"))
    else:
        for s in diagnosis.settings:
            value = "(unknown)" if s.value is None else s.value
            renamed = s.setting.name_24 and s.name != s.setting.name_24
            alias = f"   (Dovecot 2.4: {s.setting.name_24})" if renamed else ""
            alias += f"   ({s.scope()})" if s.scope() else ""
            parts.append(_row("Setting", Content.assemble((s.name, "bold $accent"), f" = {value}{alias}")))
            for loc in s.locations:
                parts.append(_row("", f"set in {loc.describe()}: {loc.value}", "" if loc.effective else "dim"))
            if s.note:
                parts.append(_row("", s.note, "italic"))
    fix_label = "Fix (client)" if r.server_fix else "Fix"
    parts.append(_row(fix_label, " ".join(r.fix.split())))
    if r.server_fix:
        warn = "⚠ weakens security: " if r.weakens_security == "yes" else ""
        parts.append(_row("Fix (server)", warn + " ".join(r.server_fix.split()), "$warning" if warn else ""))
    if diagnosis is not None and diagnosis.meaning is not None and r is not diagnosis.meaning:
        parts.append(
            _row("Other fix", f"If it is '{diagnosis.meaning.title}': " + " ".join(diagnosis.meaning.fix.split()))
        )
    if entry.match.fields:
        fields = ", ".join(f"{k}={v}" for k, v in sorted(entry.match.fields.items()))
        parts.append(_row("Fields", fields, "dim"))
    return Content("\n").join(parts)


class ExplainScreen(Dialog[None]):
    DEFAULT_CSS = """
    ExplainScreen > .dialog-box { width: 110; max-height: 90%; }
    """
    BINDINGS = [Binding("y", "copy", "Copy")]
    HELP_TITLE = "Explanation"

    class Diagnosed(Message):
        """The diagnosis in context, or why there is none (posted by the lookup worker)."""

        def __init__(self, diagnosis: Diagnosis | None, error: str) -> None:
            super().__init__()
            self.diagnosis = diagnosis
            self.error = error

    def __init__(self, entry: LiveEntry, group: Content | None = None, entries: list[LiveEntry] | None = None) -> None:
        """``group``: for a Problems-pane group, its count, who is affected and sample lines;
        ``entries``: the lines to read the context from, copied by the caller on the UI thread
        (the Logs pane's, see MailTuiApp.explain; None: the line alone)."""
        super().__init__()
        self.entry = entry
        self.group = group
        self.entries = entries
        self.diagnosis: Diagnosis | None = None
        self.body = Static(self._content(None, ""), markup=False)

    def _content(self, diagnosis: Diagnosis | None, error: str) -> Content:
        base = diagnosis_content(self.entry, diagnosis, error)
        return base if self.group is None else Content("\n").join([self.group, Content(""), base])

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog-box") as scroll:
            match = self.entry.match
            # catalog text (users can write their own): never parsed as markup
            scroll.border_title = Content(
                f"{match.recognizer.title} · {match.recognizer.severity}" if match else "Unrecognized line"
            )
            yield self.body

    def on_mount(self) -> None:
        if self.entry.match is not None:
            self._lookup()

    @work(thread=True, exclusive=True, group="explain", exit_on_error=False)
    def _lookup(self) -> None:
        from mailtui.analysis.correlate import context_of

        # a fleet host's line: that host's settings (app.explainer_for); the demo's app has none
        pick = getattr(self.app, "explainer_for", None)
        explainer = pick(self.entry.record) if pick is not None else self.app.explainer  # type: ignore[attr-defined]
        try:
            entries = self.entries or [self.entry]
            # a LiveEntry is its own match (it offers what Match offers)
            pairs = cast("Iterable[tuple[LogRecord, Match | None]]", ((e.record, e.match) for e in entries))
            found = context_of(pairs, self.entry.record)
            diagnosis = explainer.diagnose(self.entry.record, self.entry.match, found)
            self.post_message(self.Diagnosed(diagnosis, ""))
        except Exception as exc:  # noqa: BLE001 - a failing postconf must not crash the panel
            self.post_message(self.Diagnosed(None, f"could not read the configuration: {exc}"))

    def on_explain_screen_diagnosed(self, message: ExplainScreen.Diagnosed) -> None:
        message.stop()
        self._show(message.diagnosis, message.error)

    def _show(self, diagnosis: Diagnosis | None, error: str) -> None:
        self.diagnosis = diagnosis
        self.body.update(self._content(diagnosis, error))
        match = self.entry.match
        if diagnosis is not None and match is not None and diagnosis.headline is not match.recognizer:
            r = diagnosis.headline
            self.query_one(VerticalScroll).border_title = Content(f"{r.title} · {r.severity} (in context)")

    def action_copy(self) -> None:
        from mailtui.recognizers.explain import format_diagnosis

        text = format_diagnosis(self.diagnosis) if self.diagnosis else self.entry.record.line
        self.app.copy_to_clipboard(text)
        self.notify("copied to the clipboard (OSC 52)", markup=False)
