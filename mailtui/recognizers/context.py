"""A context diagnosis: what a line means given the other lines, and the conditions on the live
configuration that can settle it.

The correlator (``mailtui.analysis.correlate``) makes these from the log; the Explainer
(``recognizers.explain``), which reads the settings, settles the ones that ``need`` a condition.
Both use these types, so they live here, below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Context:
    """What a line means given the other lines (and, once settled, the live configuration).

    ``means`` names the recognizer that explains the line in this context (its cause and fix
    replace the line's own when ``certain``); ``needs`` names a :data:`CONDITIONS` entry not yet
    checked against the configuration; ``decided_by`` says which setting value settled it."""

    note: str
    means: str = ""
    needs: str = ""
    certain: bool = True
    decided_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "note": self.note,
            "recognizer": self.means or None,
            "certain": self.certain,
            "needs": self.needs or None,
            "decided_by": self.decided_by or None,
        }


#: conditions on the live configuration a context can depend on: the settings to read
#: (recognizer setting syntax) and what has to hold
CONDITIONS: dict[str, tuple[str, ...]] = {
    # Dovecot refuses passwords on connections without TLS: disable_plaintext_auth = yes
    # (2.4: auth_allow_cleartext = no), or ssl = required
    "cleartext_refused": ("dovecot:disable_plaintext_auth/auth_allow_cleartext", "dovecot:ssl"),
}


def refuses_cleartext(values: dict[str, str | None]) -> tuple[bool | None, str]:
    """Does this Dovecot refuse cleartext logins without TLS? (None: cannot tell), and the
    setting value that decides it, from ``values`` keyed by the names the running version uses."""
    if values.get("ssl") == "required":
        return True, "ssl = required"
    for name, refusing in (("disable_plaintext_auth", "yes"), ("auth_allow_cleartext", "no")):
        value = values.get(name)
        if value is not None:
            return value == refusing, f"{name} = {value}"
    return None, ""
