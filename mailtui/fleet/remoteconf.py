"""A host's Postfix and Dovecot settings read through its agent, for explanations of its lines.

An explanation of a line from mx2 must quote mx2's settings, not the dashboard machine's. These
readers offer what the Explainer asks of ``PostfixConfig`` / ``DovecotConfig`` (``available``,
``problem``, ``values``, ``where``, ``services_of``, ``is_24``) by asking the agent (``values``,
``where``, ``dovecot_version``). Each answer is checked for its shape; a host that is not
connected or refuses is ``problem`` (shown as the reason a setting could not be read).
A Postfix line's service is asked too (``services_of``: the host's master.cf entries that log as
the line's program, with their ``-o`` overrides), so the Explainer gives the value in force for
that service — ``postfix/submission/smtpd``'s override, not main.cf's — with the master.cf file
and line from ``where``, exactly as for a local line.
"""

from __future__ import annotations

from typing import Any

from mailtui.fleet.link import RemoteError, RemoteHost
from mailtui.fleet.protocol import text
from mailtui.logs.sanitize import clean
from mailtui.mta.location import Location
from mailtui.mta.postconf import Service

TIMEOUT = 10.0
MAX_SERVICES = 50  # master.cf entries sharing one program name (a handful, in practice)
MAX_OVERRIDES = 200


class _RemoteReader:
    daemon = ""

    def __init__(self, host: RemoteHost) -> None:
        self.host = host
        self.problem = ""
        self.error = ""

    @property
    def available(self) -> bool:
        if not self.problem and self.host.state != "ok":
            return False
        return not self.problem

    def _call(self, op: str, **params: Any) -> Any:
        try:
            return self.host.call(op, TIMEOUT, **params)
        except (RemoteError, ConnectionError, TimeoutError) as exc:
            self.problem = clean(str(exc))[:300]
            return None

    def where(self, name: str) -> list[Location]:
        found = self._call("where", key=name, daemon=self.daemon)
        out: list[Location] = []
        for d in found if isinstance(found, list) else []:
            if isinstance(d, dict) and isinstance(d.get("line"), int) and not isinstance(d.get("line"), bool):
                out.append(
                    Location(
                        f"{self.host.name}:{clean(text(d.get('file'), 1024))}",
                        d["line"],
                        clean(text(d.get("value"), 4096)),
                        clean(text(d.get("section"), 256)),
                        d.get("effective") is True,
                        clean(text(d.get("note"), 256)),
                    )
                )
        return out

    def _values(self, names: list[str], **extra: Any) -> dict[str, str]:
        if not names or not self.available:
            return {}
        found = self._call("values", names=names, daemon=self.daemon, **extra)
        if not isinstance(found, dict):
            return {}
        return {k: clean(text(v, 4096)) for k, v in found.items() if k in names and isinstance(v, str)}


class RemotePostfix(_RemoteReader):
    daemon = "postfix"

    def values(self, names: list[str]) -> dict[str, str]:
        return self._values(names)

    def __init__(self, host: RemoteHost) -> None:
        super().__init__(host)
        self._services: dict[str, list[Service]] = {}

    def services_of(self, program: str) -> list[Service]:
        """The host's master.cf entries that log as ``program``, asked once per program (the local
        reader reads master.cf once, too); none when the host cannot say (``problem`` says why)."""
        if not program or not self.available:
            return []
        if program not in self._services:
            found = self._call("services_of", program=program)
            if found is None:
                return []  # not connected, or refused: asked again next time
            self._services[program] = _services(found)
        return self._services[program]


def _services(found: Any) -> list[Service]:
    """The agent's answer, checked: strings only, bounded counts, sanitised."""
    out: list[Service] = []
    for d in found[:MAX_SERVICES] if isinstance(found, list) else []:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not isinstance(d.get("overrides"), dict):
            continue
        overrides = {
            clean(k[:128]): clean(v[:4096])
            for k, v in list(d["overrides"].items())[:MAX_OVERRIDES]
            if isinstance(k, str) and isinstance(v, str)
        }
        out.append(
            Service(
                clean(text(d.get("name"), 256)),
                clean(text(d.get("command"), 256)),
                clean(text(d.get("program"), 256)),
                overrides,
            )
        )
    return out


class RemoteDovecot(_RemoteReader):
    daemon = "dovecot"

    def __init__(self, host: RemoteHost) -> None:
        super().__init__(host)
        self._version: tuple[int, int] | None = None

    def values(self, names: list[str], protocol: str = "") -> dict[str, str]:
        return self._values(names, protocol=protocol)

    def is_24(self) -> bool:
        if self._version is None:
            found = self._call("dovecot_version")
            ok = isinstance(found, list) and len(found) == 2 and all(isinstance(x, int) for x in found)
            self._version = (found[0], found[1]) if ok else (0, 0)
        return self._version >= (2, 4)
