"""Turn a recognized line into a diagnosis: the recognizer's text plus the live settings behind it.

Each setting a recognizer names is looked up in the running configuration (postconf /
doveconf, the 2.4 name on Dovecot 2.4) with every place it is set. Lookups are cached per
setting for the life of the Explainer, so a scan of a million lines asks each tool once.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.location import Location
from mailtui.mta.postconf import PostfixConfig
from mailtui.recognizers.model import Match, Setting


@dataclass
class SettingReport:
    setting: Setting
    name: str  # the name asked for on this server's version
    value: str | None  # None when it could not be read
    locations: list[Location] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"daemon": self.setting.daemon, "name": self.name, "value": self.value,
                "set_in": [loc.to_dict() for loc in self.locations], "note": self.note}


@dataclass
class Diagnosis:
    record: LogRecord
    match: Match
    settings: list[SettingReport]

    def to_dict(self) -> dict[str, Any]:
        r = self.match.recognizer
        rec = self.record
        return {
            "file": rec.source, "lineno": rec.lineno, "timestamp": rec.timestamp,
            "program": rec.program, "line": rec.line,
            **self.match.to_dict(),
            "cause": r.cause, "fix": r.fix, "server_fix": r.server_fix,
            "weakens_security": r.weakens_security,
            "settings": [s.to_dict() for s in self.settings],
        }


class Explainer:
    def __init__(self, postfix: PostfixConfig | None = None,
                 dovecot: DovecotConfig | None = None) -> None:
        self.postfix = postfix or PostfixConfig()
        self.dovecot = dovecot or DovecotConfig()
        self._cache: dict[str, SettingReport] = {}

    def reports(self, settings: tuple[Setting, ...] | list[Setting]) -> list[SettingReport]:
        """Reports for these settings; what is not cached is asked in one call per daemon."""
        missing = [s for s in settings if str(s) not in self._cache]
        postfix = [s for s in missing if s.daemon == "postfix"]
        dovecot = [s for s in missing if s.daemon == "dovecot"]
        if postfix:
            values = self.postfix.values([s.name for s in postfix]) if self.postfix.available else {}
            for s in postfix:
                self._cache[str(s)] = self._report(s, s.name, values, self.postfix)
        if dovecot:
            is_24 = self.dovecot.available and self.dovecot.is_24()
            names = {str(s): (s.name_24 if s.name_24 and is_24 else s.name) for s in dovecot}
            values = self.dovecot.values(sorted(set(names.values()))) if self.dovecot.available else {}
            for s in dovecot:
                self._cache[str(s)] = self._report(s, names[str(s)], values, self.dovecot)
        return [self._cache[str(s)] for s in settings]

    @staticmethod
    def _report(setting: Setting, name: str, values: dict[str, str],
                reader: PostfixConfig | DovecotConfig) -> SettingReport:
        if not reader.available:
            return SettingReport(setting, name, None, note=reader.problem)
        value = values.get(name)
        which = "Postfix" if setting.daemon == "postfix" else "Dovecot"
        note = "" if value is not None else f"not known to this {which} version"
        return SettingReport(setting, name, value, reader.where(name), note)

    def diagnose(self, record: LogRecord, match: Match) -> Diagnosis:
        return Diagnosis(record, match, self.reports(match.recognizer.settings))


def format_diagnosis(d: Diagnosis) -> str:
    """Plain-text explanation for the CLI (the TUI renders the same parts as Content)."""
    r = d.match.recognizer
    out = [f"{r.title}  [{r.severity}] ({r.id})", f"  what happened  {d.match.summary}"]
    out += _block("  why           ", r.cause)
    for s in d.settings:
        shown = "(unknown)" if s.value is None else s.value
        alias = f" (Dovecot 2.4: {s.setting.name_24})" if s.setting.name_24 and s.name != s.setting.name_24 else ""
        out.append(f"  setting       {s.name} = {shown}{alias}")
        for loc in s.locations:
            out.append(f"                  set in {loc.describe()}: {loc.value}")
        if s.note:
            out.append(f"                  ({s.note})")
    label = "  fix (client)  " if r.server_fix else "  fix           "
    out += _block(label, r.fix)
    if r.server_fix:
        warn = "⚠ weakens security: " if r.weakens_security == "yes" else ""
        out += _block("  fix (server)  ", warn + r.server_fix)
    if d.match.fields:
        out.append("  fields        " + ", ".join(f"{k}={v}" for k, v in sorted(d.match.fields.items())))
    return "\n".join(out)


def _block(label: str, text: str) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=100, initial_indent=label,
                         subsequent_indent=" " * len(label)) or [label]
