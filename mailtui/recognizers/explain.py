"""Turn a recognized line into a diagnosis: the recognizer's text plus the live settings behind it.

Each setting a recognizer names is looked up in the running configuration (postconf /
doveconf, the 2.4 name on Dovecot 2.4) with every place it is set. A Postfix setting is the
value in force for the service the line came from: ``postfix/submission/smtpd`` runs with
master.cf's ``-o`` overrides of the entry whose syslog_name gives that program name, not
with main.cf's value. Lookups are cached per setting (and service) for the life of the
Explainer, so a scan of a million lines asks each tool once.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.location import Location
from mailtui.mta.postconf import PostfixConfig, Service
from mailtui.recognizers.context import CONDITIONS, Context, refuses_cleartext
from mailtui.recognizers.model import Match, Recognizer, Setting


@dataclass
class SettingReport:
    setting: Setting
    name: str  # the name asked for on this server's version
    value: str | None  # None when it could not be read
    locations: list[Location] = field(default_factory=list)
    note: str = ""
    service: str = ""  # the master.cf service whose value this is ("submission/inet")
    main_value: str | None = None  # main.cf's value, when a per-service override replaced it

    def to_dict(self) -> dict[str, Any]:
        return {
            "daemon": self.setting.daemon,
            "name": self.name,
            "value": self.value,
            "service": self.service,
            "main_value": self.main_value,
            "set_in": [loc.to_dict() for loc in self.locations],
            "note": self.note,
        }

    def scope(self) -> str:
        """What the value is for, when it is not simply main.cf's ("" then)."""
        if self.service and self.main_value is not None:
            return f"for {self.service}, from its master.cf -o override; main.cf: {self.main_value}"
        if self.service and any(loc.section for loc in self.locations):
            return f"for {self.service}: main.cf's value, no master.cf override"
        return ""


@dataclass
class Diagnosis:
    record: LogRecord
    match: Match
    settings: list[SettingReport]
    context: Context | None = None  # what the other lines (and the configuration) say
    meaning: Recognizer | None = None  # the recognizer that explains the line in that context

    @property
    def headline(self) -> Recognizer:
        """Whose title, cause and fix are the explanation: the context's when it is certain."""
        if self.meaning is not None and self.context is not None and self.context.certain:
            return self.meaning
        return self.match.recognizer

    def to_dict(self) -> dict[str, Any]:
        r = self.match.recognizer
        rec = self.record
        out = {
            "file": rec.source,
            "lineno": rec.lineno,
            "timestamp": rec.timestamp,
            "program": rec.program,
            "line": rec.line,
            **self.match.to_dict(),
            "cause": r.cause,
            "fix": r.fix,
            "server_fix": r.server_fix,
            "weakens_security": r.weakens_security,
            "settings": [s.to_dict() for s in self.settings],
        }
        if self.context is not None:
            out["context"] = context_dict(self.context, self.meaning)
        return out


def context_dict(ctx: Context, meaning: Recognizer | None) -> dict[str, Any]:
    """A context diagnosis for JSON: the sentence, and what the line means in it."""
    out = ctx.to_dict()
    if meaning is not None:
        out.update(
            {
                "title": meaning.title,
                "severity": meaning.severity,
                "cause": meaning.cause,
                "fix": meaning.fix,
                "server_fix": meaning.server_fix,
                "weakens_security": meaning.weakens_security,
            }
        )
    return out


class Explainer:
    def __init__(self, postfix: PostfixConfig | None = None, dovecot: DovecotConfig | None = None) -> None:
        self.postfix = postfix or PostfixConfig()
        self.dovecot = dovecot or DovecotConfig()
        self._cache: dict[str, SettingReport] = {}
        self._conditions: dict[tuple[str, str], tuple[bool | None, str]] = {}

    def services_of(self, record: LogRecord | None) -> list[Service]:
        """The master.cf entries a Postfix line came from (by its program name)."""
        if record is None or record.family != "postfix" or not self.postfix.available:
            return []
        return self.postfix.services_of(record.program)

    def reports(
        self, settings: tuple[Setting, ...] | list[Setting], record: LogRecord | None = None
    ) -> list[SettingReport]:
        """Reports for these settings (Postfix ones as in force for ``record``'s service);
        what is not cached is asked in one call per daemon."""
        services = self.services_of(record)
        scope = ",".join(s.name for s in services)
        key = {str(s): (f"{s}@{scope}" if s.daemon == "postfix" and scope else str(s)) for s in settings}
        missing = [s for s in settings if key[str(s)] not in self._cache]
        postfix = [s for s in missing if s.daemon == "postfix"]
        dovecot = [s for s in missing if s.daemon == "dovecot"]
        if postfix:
            values = self.postfix.values([s.name for s in postfix]) if self.postfix.available else {}
            for s in postfix:
                report = self._report(s, s.name, values, self.postfix)
                self._cache[key[str(s)]] = _in_service(report, services)
        if dovecot:
            is_24 = self.dovecot.available and self.dovecot.is_24()
            names = {str(s): (s.name_24 if s.name_24 and is_24 else s.name) for s in dovecot}
            values = self.dovecot.values(sorted(set(names.values()))) if self.dovecot.available else {}
            for s in dovecot:
                self._cache[str(s)] = self._report(s, names[str(s)], values, self.dovecot)
        return [self._cache[key[str(s)]] for s in settings]

    @staticmethod
    def _report(
        setting: Setting, name: str, values: dict[str, str], reader: PostfixConfig | DovecotConfig
    ) -> SettingReport:
        if not reader.available:
            return SettingReport(setting, name, None, note=reader.problem)
        value = values.get(name)
        which = "Postfix" if setting.daemon == "postfix" else "Dovecot"
        error = getattr(reader, "error", "")  # the tool failed: the name is not the problem
        note = "" if value is not None else error or f"not known to this {which} version"
        return SettingReport(setting, name, value, reader.where(name), note)

    def diagnose(self, record: LogRecord, match: Match, context: Context | None = None) -> Diagnosis:
        """``context``: from analysis.correlate (settled here when it still needs the configuration)."""
        context = self.settle(context, record)
        meaning = None
        settings = list(match.recognizer.settings)
        if context is not None and context.means:
            from mailtui.recognizers.engine import default_engine

            meaning = default_engine().by_id.get(context.means)
            if meaning is not None:
                first = meaning.settings if context.certain else ()
                settings = list(dict.fromkeys([*first, *settings, *meaning.settings]))
        return Diagnosis(record, match, self.reports(settings, record), context, meaning)

    def settle(self, context: Context | None, record: LogRecord | None = None) -> Context | None:
        """Check a context's condition against the live configuration: confirmed (certain, the
        context's meaning), contradicted (a note naming the setting; the line means what it says),
        or unknown (both possibilities, and which settings decide)."""
        if context is None or not context.needs:
            return context
        if context.needs != "cleartext_refused":
            return context
        protocol = record.daemon.removesuffix("-login") if record is not None and record.family == "dovecot" else ""
        verdict, said = self._cleartext_refused(protocol)
        scope = f" for {protocol}" if protocol and said else ""
        if verdict is True:
            return Context(
                f"{context.note} {said} is in force{scope}: Dovecot refused this cleartext login before "
                "checking the password, so it is not a wrong password — the mail client logs in without "
                "SSL/TLS. (Were cleartext logins allowed, the same line would mean a wrong password.)",
                context.means,
                certain=True,
                decided_by=said,
            )
        if verdict is False:  # cleartext is allowed now: the line means what it says, most likely
            return Context(
                f"{context.note} {said} is in force{scope}, so Dovecot does not refuse cleartext logins: "
                "this is a failed login (a wrong password, sent in clear) — unless the setting was different "
                "when the line was written, when it would have been a refused cleartext login.",
                certain=True,
                decided_by=said,
            )
        why = self.dovecot.problem or self.dovecot.error or "doveconf did not say"
        return Context(
            f"{context.note} Either Dovecot refused a cleartext login (disable_plaintext_auth = yes, "
            "2.4: auth_allow_cleartext = no, or ssl = required: the client must use SSL/TLS — 995/993 or "
            "STARTTLS), or the password was wrong (cleartext logins allowed). Those settings decide; they "
            f"could not be read here ({why}).",
            context.means,
            certain=False,
        )

    def _cleartext_refused(self, protocol: str) -> tuple[bool | None, str]:
        key = ("cleartext_refused", protocol)
        if key not in self._conditions:
            verdict: tuple[bool | None, str] = (None, "")
            if self.dovecot.available:
                is_24 = self.dovecot.is_24()
                settings = [Setting.parse(spec) for spec in CONDITIONS["cleartext_refused"]]
                names = [s.name_24 if s.name_24 and is_24 else s.name for s in settings]
                values = self.dovecot.values(names, protocol)
                verdict = refuses_cleartext({n: values.get(n) for n in names})
            self._conditions[key] = verdict
        return self._conditions[key]


def _in_service(report: SettingReport, services: list[Service]) -> SettingReport:
    """``report`` (main.cf's value, every place it is written) as in force for ``services``
    (the entries the line's program name belongs to; none when it is not known)."""
    if report.value is None and not report.locations:
        return report
    name = report.name
    mine = {s.name for s in services}
    own = {s.overrides[name] for s in services if name in s.overrides}
    overridden = bool(own) and all(name in s.overrides for s in services)
    locations = []
    for loc in report.locations:
        if loc.section:  # a master.cf -o override: in force for its own service only
            if loc.section in mine:
                locations.append(
                    Location(
                        loc.file,
                        loc.line,
                        loc.value,
                        loc.section,
                        True,
                        f"in force for {loc.section}, the service of this line",
                    )
                )
            else:
                locations.append(Location(loc.file, loc.line, loc.value, loc.section, False, f"for {loc.section} only"))
        elif overridden and loc.effective:
            locations.append(
                Location(
                    loc.file,
                    loc.line,
                    loc.value,
                    loc.section,
                    False,
                    f"not used by {', '.join(sorted(mine))}: master.cf overrides it",
                )
            )
        else:
            locations.append(loc)
    out = SettingReport(report.setting, name, report.value, locations, report.note, service=", ".join(sorted(mine)))
    if overridden and len(own) == 1:
        out.main_value, out.value = report.value, own.pop()
    elif own:  # entries sharing one program name disagree: say so rather than pick one
        values = "; ".join(f"{s.name}: {s.overrides.get(name, report.value)}" for s in services)
        out.note = (out.note + "; " if out.note else "") + f"these services log alike but differ: {values}"
    return out


def format_diagnosis(d: Diagnosis) -> str:
    """Plain-text explanation for the CLI (the TUI renders the same parts as Content)."""
    r = d.headline
    line = d.match.recognizer
    if r is line:
        out = [f"{r.title}  [{r.severity}] ({r.id})"]
    else:
        out = [
            f"{r.title}  [{r.severity}] ({r.id}, from the context)",
            f"  the line says {line.title} ({line.id}), which it is not here",
        ]
    out.append(f"  what happened  {d.match.summary}")
    if d.context is not None:
        out += _block("  in context    ", d.context.note)
    out += _block("  why           ", r.cause)
    for s in d.settings:
        shown = "(unknown)" if s.value is None else s.value
        alias = f" (Dovecot 2.4: {s.setting.name_24})" if s.setting.name_24 and s.name != s.setting.name_24 else ""
        scope = f"   ({s.scope()})" if s.scope() else ""
        out.append(f"  setting       {s.name} = {shown}{alias}{scope}")
        for loc in s.locations:
            out.append(f"                  set in {loc.describe()}: {loc.value}")
        if s.note:
            out.append(f"                  ({s.note})")
    label = "  fix (client)  " if r.server_fix else "  fix           "
    out += _block(label, r.fix)
    if r.server_fix:
        warn = "⚠ weakens security: " if r.weakens_security == "yes" else ""
        out += _block("  fix (server)  ", warn + r.server_fix)
    if d.meaning is not None and r is not d.meaning:  # uncertain: the other possibility's fix too
        out += _block("  other fix     ", f"If it is '{d.meaning.title}': {d.meaning.fix}")
    if d.match.fields:
        out.append("  fields        " + ", ".join(f"{k}={v}" for k, v in sorted(d.match.fields.items())))
    return "\n".join(out)


def _block(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()), width=100, initial_indent=label, subsequent_indent=" " * len(label)
    ) or [label]
