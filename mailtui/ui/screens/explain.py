"""The explanation panel (Enter on a recognized line): what happened, why, live settings, the fix."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from mailtui.logs.live import LiveEntry
from mailtui.recognizers.explain import Diagnosis
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
    r = entry.match.recognizer
    parts.append(_row("What happened", entry.match.summary))
    parts.append(_row("Why", " ".join(r.cause.split())))
    if diagnosis is None:
        parts.append(_row("Settings", lookup_error or "looking up the live configuration…", "italic"))
    else:
        for s in diagnosis.settings:
            value = "(unknown)" if s.value is None else s.value
            alias = f"   (Dovecot 2.4: {s.setting.name_24})" if s.setting.name_24 and s.name != s.setting.name_24 else ""
            parts.append(_row("Setting", Content.assemble((s.name, "bold $accent"), f" = {value}{alias}")))
            for loc in s.locations:
                parts.append(_row("", f"set in {loc.describe()}: {loc.value}",
                                  "" if loc.effective else "dim"))
            if s.note:
                parts.append(_row("", s.note, "italic"))
    fix_label = "Fix (client)" if r.server_fix else "Fix"
    parts.append(_row(fix_label, " ".join(r.fix.split())))
    if r.server_fix:
        warn = "⚠ weakens security: " if r.weakens_security == "yes" else ""
        parts.append(_row("Fix (server)", warn + " ".join(r.server_fix.split()),
                          "$warning" if warn else ""))
    if entry.match.fields:
        fields = ", ".join(f"{k}={v}" for k, v in sorted(entry.match.fields.items()))
        parts.append(_row("Fields", fields, "dim"))
    return Content("\n").join(parts)


class ExplainScreen(Dialog[None]):
    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    ExplainScreen > VerticalScroll {
        width: 110; max-width: 98%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("y", "copy", "Copy")]
    HELP_TITLE = "Explanation"

    def __init__(self, entry: LiveEntry, group: Content | None = None) -> None:
        """``group``: for a Problems-pane group, its count, who is affected and sample lines."""
        super().__init__()
        self.entry = entry
        self.group = group
        self.diagnosis: Diagnosis | None = None
        self.body = Static(self._content(None, ""), markup=False)

    def _content(self, diagnosis: Diagnosis | None, error: str) -> Content:
        base = diagnosis_content(self.entry, diagnosis, error)
        return base if self.group is None else Content("\n").join([self.group, Content(""), base])

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            match = self.entry.match
            # catalog text (users can write their own): never parsed as markup
            scroll.border_title = Content(f"{match.recognizer.title} · {match.recognizer.severity}"
                                   if match else "Unrecognized line")
            yield self.body

    def on_mount(self) -> None:
        if self.entry.match is not None:
            self.run_worker(self._lookup, thread=True, exclusive=True, exit_on_error=False)

    def _lookup(self) -> None:
        explainer = self.app.explainer  # type: ignore[attr-defined]
        try:
            diagnosis = explainer.diagnose(self.entry.record, self.entry.match)
            self.app.call_from_thread(self._show, diagnosis, "")
        except Exception as exc:  # noqa: BLE001 - a failing postconf must not crash the panel
            self.app.call_from_thread(self._show, None, f"could not read the configuration: {exc}")

    def _show(self, diagnosis: Diagnosis | None, error: str) -> None:
        self.diagnosis = diagnosis
        self.body.update(self._content(diagnosis, error))

    def action_copy(self) -> None:
        from mailtui.recognizers.explain import format_diagnosis

        text = format_diagnosis(self.diagnosis) if self.diagnosis else self.entry.record.line
        self.app.copy_to_clipboard(text)
        self.notify("copied to the clipboard (OSC 52)", markup=False)

