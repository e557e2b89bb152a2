"""Why an IP is banned: fail2ban's Found lines for it, and the mail-log lines it caused.

Works on (record, match) pairs, so the same code serves the Bans pane (the lines the live
tail holds) and ``mailtui bans --ip`` (whole log files).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.recognizers.recognition import Recognition

Pair = tuple[LogRecord, "Recognition | None"]
MAX_LINES = 200


@dataclass
class BanEvent:
    timestamp: float | None  # None for a line without a time (stdin without an envelope)
    jail: str
    action: str  # Ban, Unban, Restore Ban, Increase Ban, Reban
    ip: str


@dataclass
class BanReason:
    ip: str
    found: list[Pair] = field(default_factory=list)  # fail2ban "[jail] Found ip" lines
    mail: list[Pair] = field(default_factory=list)  # Postfix/Dovecot lines about that ip
    events: list[BanEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def line(pair: Pair) -> dict[str, Any]:
            rec, match = pair
            return {
                "time": rec.timestamp,
                "program": rec.program,
                "message": rec.message,
                "recognizer": match.recognizer.id if match else None,
                "title": match.recognizer.title if match else None,
            }

        return {
            "ip": self.ip,
            "found": [line(p) for p in self.found],
            "mail": [line(p) for p in self.mail],
            "events": [e.__dict__ for e in self.events],
        }


def _mentions(record: LogRecord, match: Recognition | None, ip: str) -> bool:
    if match is not None and match.fields.get("client_ip") == ip:
        return True
    message = record.message
    return f"[{ip}]" in message or f"rip={ip}," in message or message.endswith(f"rip={ip}")


def event_of(record: LogRecord, match: Recognition | None) -> BanEvent | None:
    if match is None or match.recognizer.id not in ("fail2ban.ban", "fail2ban.unban"):
        return None
    f = match.fields
    action = f.get("action") or "Unban"
    return BanEvent(record.timestamp, f.get("jail", "?"), action, f.get("client_ip", ""))


def why_banned(pairs: Iterable[Pair], ip: str, jail: str | None = None) -> BanReason:
    reason = BanReason(ip)
    for record, match in pairs:
        if record.family == "fail2ban":
            if match is None or match.fields.get("client_ip") != ip:
                continue
            if jail and match.fields.get("jail") not in (jail, None):
                continue
            if match.recognizer.id == "fail2ban.found":
                reason.found.append((record, match))
            event = event_of(record, match)
            if event is not None:
                reason.events.append(event)
        elif record.family in ("postfix", "dovecot") and _mentions(record, match, ip):
            reason.mail.append((record, match))
    reason.found = reason.found[-MAX_LINES:]
    reason.mail = reason.mail[-MAX_LINES:]
    return reason
