"""One finding for a name server that answers nothing, instead of a timeout per record.

When every lookup of a run timed out or was REFUSED, no check learned anything about the
domain: twenty-five "MX: timeout", "SPF: timeout", ... lines then hide the one fact that
matters, that the name server asked does not answer. Only that case is collapsed; as soon
as one lookup got an answer (records, NXDOMAIN, NODATA, even SERVFAIL, which is about the
zone, not the server) the findings stay as they are, each failure named apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from mailtui.dns.model import ROUTING, Finding
from mailtui.dns.resolver import REFUSED, TIMEOUT, Lookup
from mailtui.system.units import plural

#: lookup statuses that say nothing came back from the server (REFUSED: it will not answer)
SILENT = (TIMEOUT, REFUSED)


def answered(lookups: Iterable[Lookup]) -> bool:
    """True once any lookup got an answer from the server (anything but timeout / REFUSED)."""
    return any(lookup.status not in SILENT for lookup in lookups)


def silent_nameserver(
    lookups: list[Lookup], unfinished: int, nameserver: str, domain: str, suppressed: list[Finding]
) -> Finding | None:
    """The one finding replacing ``suppressed`` when no lookup got an answer, else None.

    ``unfinished``: lookups still waiting when the run's deadline stopped them (no answer
    either). ``nameserver`` is how the resolver names its server(s) ("127.0.0.1:5353" or
    "10.0.0.1, 10.0.0.2"): each of them was asked and none answered.
    """
    if (not lookups and not unfinished) or answered(lookups):
        return None
    counts = Counter(lookup.status for lookup in lookups)
    total = len(lookups) + unfinished
    many = "," in nameserver
    who = f"name server{'s' if many else ''} {nameserver}"
    if counts[REFUSED] == total:
        summary = (
            f"{who} refuse{'' if many else 's'} every query about {domain} (REFUSED, all "
            f"{plural(total, 'lookup')}): not {'their' if many else 'its'} zone, and not resolved for mailtui"
        )
    elif counts[TIMEOUT] == total:
        summary = f"{who} do{'' if many else 'es'} not answer: all {plural(total, 'lookup')} timed out"
    else:
        parts = [
            f"{counts[TIMEOUT]} timed out" if counts[TIMEOUT] else "",
            f"{counts[REFUSED]} refused" if counts[REFUSED] else "",
            f"{unfinished} still unanswered at the deadline" if unfinished else "",
        ]
        summary = (
            f"{who} do{'' if many else 'es'} not answer: none of {plural(total, 'lookup')} got a reply "
            f"({', '.join(p for p in parts if p)})"
        )
    checks = sorted({f.id for f in suppressed})
    detail = (
        f"Nothing about {domain} could be looked up, so no check had anything to judge. "
        f"Not shown: {plural(len(suppressed), 'finding')} that only repeat this "
        f"({', '.join(checks[:12])}{', ...' if len(checks) > 12 else ''}).\n"
        "Check that the server runs and listens there, or ask another with --nameserver."
    )
    return Finding(
        "nameserver",
        ROUTING,
        "fail",
        summary,
        detail,
        {
            "nameserver": nameserver,
            "queries": total,
            "statuses": dict(counts),
            "unfinished": unfinished,
            "suppressed": checks,
        },
    )
