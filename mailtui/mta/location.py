"""Where a configuration value is set: file, line, the value there, and whether it wins."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    value: str
    section: str = ""  # Dovecot section path ("protocol pop3"), Postfix master.cf service
    effective: bool = False  # this assignment is the one in force (for its scope)
    note: str = ""  # why it is or is not in force here, when "overridden" would be wrong

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def describe(self) -> str:
        scope = f" [{self.section}]" if self.section else ""
        state = f" ({self.note})" if self.note else "" if self.effective else " (overridden — not effective)"
        return f"{self.file}:{self.line}{scope}{state}"
