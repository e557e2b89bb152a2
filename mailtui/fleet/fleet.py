"""The dashboard's view of every host: the links, their states, and what they last reported.

``Fleet`` holds one ``RemoteHost`` per ``[[hosts]]`` entry and turns what they report into what
the panes and the CLI read: the header line (``mx1 ok · mx2 reconnecting (12 s)``), one
``BansResult`` with every host's jails (named ``host/jail``, split again by ``split_jail``), a
row list for the Services pane, and whether an action may go to a host (the dashboard's
``--read-only``, the host's ``read_only`` in the config, the agent's own ``--read-only``, the link).
Everything that came from a host was checked by the link and is sanitised here before it is
shown; nothing is markup, nothing reaches a shell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mailtui.config import HostEntry
from mailtui.fail2ban.source import BansResult
from mailtui.fail2ban.status import BannedIP, Fail2banSnapshot, JailStatus
from mailtui.fleet.link import HostSpec, RemoteError, RemoteHost, spec_of
from mailtui.fleet.protocol import text
from mailtui.logs.sanitize import clean
from mailtui.system.alerts import Alert
from mailtui.system.queue import LIST_MESSAGES, QueuedMessage, Recipient
from mailtui.system.queue_actions import POSTSUPER, QueueActionError, valid_queue_id

SEP = "/"  # host names are [A-Za-z0-9._-]: "mx1/sshd" splits at the first slash
SEVERITIES = ("warn", "error", "crit")
MAX_JAILS = 500
MAX_BANS = 20_000


def split_jail(name: str) -> tuple[str, str]:
    """ "mx1/postfix-sasl" -> ("mx1", "postfix-sasl"); a name without a host -> ("", name)."""
    host, sep, jail = name.partition(SEP)
    return (host, jail) if sep else ("", name)


def _num(value: Any, kind: type = int) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return kind(value)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int:
    n = _num(value)
    return max(0, n) if n is not None else 0


def snapshot_of(host: str, data: Any) -> Fail2banSnapshot | None:
    """A host's fail2ban snapshot as its agent sent it (``mailtui bans --json``'s shape), checked."""
    if not isinstance(data, dict) or not isinstance(data.get("jails"), list):
        return None
    jails: list[JailStatus] = []
    budget = MAX_BANS
    for j in data["jails"][:MAX_JAILS]:
        if not isinstance(j, dict) or not isinstance(j.get("name"), str):
            continue
        banned: list[BannedIP] = []
        for b in j.get("banned", []) if isinstance(j.get("banned"), list) else []:
            if budget <= 0:
                break
            if isinstance(b, dict) and isinstance(b.get("ip"), str):
                budget -= 1
                # the entry itself stays as sent (BannedIP.shown() makes it safe): unban needs it exact
                banned.append(
                    BannedIP(
                        b["ip"][:256],
                        _num(b.get("ban_start"), float),
                        _num(b.get("ban_time")),
                        _num(b.get("ends"), float),
                    )
                )
        jails.append(
            JailStatus(
                f"{host}{SEP}{clean(j['name'][:128])}",
                _count(j.get("currently_failed")),
                _count(j.get("total_failed")),
                _count(j.get("currently_banned")),
                _count(j.get("total_banned")),
                [clean(text(f, 4096)) for f in j.get("files", []) if isinstance(f, str)][:20]
                if isinstance(j.get("files"), list)
                else [],
                banned,
            )
        )
    return Fail2banSnapshot(jails, "socket", clean(text(data.get("version"), 32)))


@dataclass
class ServiceRow:
    host: str
    what: str
    state: str
    detail: str
    style: str = ""  # "ok" | "bad" | "warn" | "" (the pane picks colours)
    key: str = ""
    reason: str = ""  # a deferral reason's row: the reason, as sent back to list its messages


@dataclass
class HostQueue:
    """A host's queued messages as its agent listed them (``queue_list``), checked and sanitised:
    what the queue dialog shows and acts on."""

    host: str
    messages: list[QueuedMessage] = field(default_factory=list)
    total: int = 0  # matching messages there; more than ``messages`` when the listing was capped
    truncated: bool = False
    taken: float = 0.0  # the host's clock: ages are taken against it
    skipped: int = 0  # members that were not a message (a queue ID Postfix never makes, no ID)


def queue_of(host: str, data: Any) -> HostQueue:
    """A ``queue_list`` result, checked: every string sanitised, every number a number, queue IDs
    only as Postfix makes them (they go back in a request: kept exact, never "ALL" or an option)."""
    if not isinstance(data, dict):
        raise RemoteError(f"{host}: the queue listing is not an object")
    error = clean(text(data.get("error"), 500))
    if error:
        raise RemoteError(f"{host}: {error}")
    out = HostQueue(host, truncated=data.get("truncated") is True)
    taken = _num(data.get("taken"), float)
    out.taken = taken if taken is not None else time.time()
    for m in _list(data.get("messages"))[:LIST_MESSAGES]:
        qid = m.get("queue_id") if isinstance(m, dict) else None
        try:
            valid_queue_id(qid if isinstance(qid, str) else "")
        except QueueActionError:
            out.skipped += 1
            continue
        assert isinstance(m, dict) and isinstance(qid, str)
        recipients = [
            Recipient(clean(text(r.get("address"), 1000)), clean(text(r.get("delay_reason"), 1000)))
            for r in _list(m.get("recipients"))[:50]
            if isinstance(r, dict)
        ]
        more = _count(m.get("more_recipients"))
        if more:
            recipients.append(Recipient(f"… {more} more", ""))
        arrival = _num(m.get("arrival_time"), float)
        out.messages.append(
            QueuedMessage(
                qid,
                clean(text(m.get("queue_name"), 16)) or "?",
                arrival if arrival is not None else out.taken,
                _count(m.get("message_size")),
                clean(text(m.get("sender"), 1000)),
                recipients,
            )
        )
    out.total = max(_count(data.get("total")), len(out.messages))
    out.truncated = out.truncated or out.total > len(out.messages)
    return out


class Fleet:
    def __init__(self, specs: list[HostSpec], read_only: bool = False, stream: bool = True) -> None:
        self.read_only = read_only  # the dashboard's --read-only: nothing goes to any host
        self.hosts: dict[str, RemoteHost] = {s.name: RemoteHost(s, stream) for s in specs}

    @classmethod
    def from_entries(cls, entries: list[HostEntry], read_only: bool = False, stream: bool = True) -> Fleet:
        return cls([spec_of(e) for e in entries], read_only, stream)

    def wait_connected(self, timeout: float) -> None:
        """Until every host said hello, or failed its first attempt (its problem says why)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(h.state in ("ok", "reconnecting") for h in self.hosts.values()):
                return
            time.sleep(0.05)

    def start(self) -> None:
        for host in self.hosts.values():
            host.start()

    def close(self) -> None:
        for host in self.hosts.values():
            host.close()

    def host(self, name: str) -> RemoteHost:
        found = self.hosts.get(name)
        if found is None:
            raise KeyError(f"no host named {name!r} in [[hosts]] (hosts: {', '.join(self.hosts) or 'none'})")
        return found

    def states(self, now: float | None = None) -> list[tuple[str, str, str]]:
        """(host, "ok" / "reconnecting (12 s)" / "connecting", state) for the header line."""
        now = time.monotonic() if now is None else now
        out = []
        for h in self.hosts.values():
            shown = f"reconnecting ({max(0, round(h.retry_at - now))} s)" if h.state == "reconnecting" else h.state
            out.append((h.name, shown, h.state))
        return out

    def status_line(self, now: float | None = None) -> str:
        """``mx1 ok · mx2 reconnecting (12 s) · imap1 ok``: why a host is down is in its rows."""
        return " · ".join(f"{name} {shown}" for name, shown, _ in self.states(now))

    def refusal(self, name: str, op: str) -> str:
        """Why ``op`` (ban, unban, flush) cannot go to host ``name`` now; "" when it can."""
        host = self.hosts.get(name)
        if host is None:
            return f"{op}: no host named {name!r}"
        if self.read_only:
            return f"read-only mode: {op} is disabled"
        if host.spec.read_only:
            return f"{name} is read-only in the config: {op} is disabled there"
        if host.hello.get("read_only"):
            return f"the agent on {name} runs --read-only: {op} is refused there"
        if host.state != "ok":
            return f"{name} is not connected ({host.state})"
        return ""

    # -- the queue -------------------------------------------------------------------------------
    def queue(self, name: str, reason: str = "", timeout: float = 30.0) -> HostQueue:
        """Host ``name``'s queued messages (those deferred for ``reason`` when given), asked of its
        agent: RemoteError / ConnectionError / TimeoutError / KeyError with one line otherwise."""
        host = self.host(name)
        if host.state == "ok" and host.hello.get("rev", 1) < 2:
            raise RemoteError(f"{name}: its agent cannot list the queue (an older mailtui there: update it)")
        return queue_of(name, host.call("queue_list", timeout=timeout, reason=reason, limit=LIST_MESSAGES))

    def queue_action(self, name: str, action: str, queue_id: str, timeout: float = 30.0) -> str:
        """hold / release / delete / requeue one message on host ``name``: the refusal (read-only,
        not connected) is checked again here, the agent checks its own ``--read-only``."""
        if action not in POSTSUPER:
            raise RemoteError(f"unknown queue action {action!r}")
        refused = self.refusal(name, action)
        if refused:
            raise RemoteError(refused)
        qid = valid_queue_id(queue_id)
        result = self.host(name).call("queue", timeout=timeout, action=action, queue_id=qid)
        return clean(text(result, 300)) or f"{qid}: done"

    # -- bans ------------------------------------------------------------------------------------
    def bans(self) -> BansResult:
        """Every connected host's jails in one snapshot (``host/jail``); hosts without one are said."""
        jails: list[JailStatus] = []
        missing: list[str] = []
        versions: set[str] = set()
        for h in self.hosts.values():
            msg = h.latest.get("bans")
            result = msg.get("result") if msg else None
            snap = snapshot_of(h.name, result.get("snapshot")) if isinstance(result, dict) else None
            if snap is None:
                why = clean(text(result.get("reason"), 200)) if isinstance(result, dict) else h.state
                missing.append(f"{h.name}: {why or 'no fail2ban'}")
                continue
            if isinstance(result, dict) and result.get("mode") == "log":
                missing.append(f"{h.name}: from its fail2ban.log")  # why: `mailtui bans --host NAME`
            jails.extend(snap.jails)
            if snap.version:
                versions.add(snap.version)
        note = "fleet: " + (" · ".join(missing) if missing else f"{len(self.hosts)} hosts")
        version = versions.pop() if len(versions) == 1 else ""
        return BansResult(Fail2banSnapshot(jails, "socket", version), "socket", note)

    # -- services --------------------------------------------------------------------------------
    def service_rows(self) -> list[ServiceRow]:
        rows: list[ServiceRow] = []
        for h in self.hosts.values():
            msg = h.latest.get("services")
            report = msg.get("report") if msg else None
            if h.state != "ok" or not isinstance(report, dict):
                rows.append(
                    ServiceRow(
                        h.name, "agent", h.state, h.problem or "waiting for its report", "warn", f"{h.name}:agent"
                    )
                )
                if not isinstance(report, dict):
                    continue
            rows.extend(_report_rows(h.name, report))
            for problem in h.hello.get("problems", [])[:5]:
                rows.append(ServiceRow(h.name, "access", "limited", problem, "warn", f"{h.name}:access:{problem[:40]}"))
        return rows

    def host_alerts(self) -> list[Alert]:
        """Every host's alerts for the app's alert bar: ids and messages prefixed by the host."""
        out = []
        for h in self.hosts.values():
            report = (h.latest.get("services") or {}).get("report")
            for a in _list(report.get("alerts") if isinstance(report, dict) else None)[:50]:
                if not isinstance(a, dict):
                    continue
                severity = text(a.get("severity"), 16)
                message = clean(text(a.get("message"), 300))
                ident = clean(text(a.get("id"), 200)) or message[:60]
                out.append(
                    Alert(f"{h.name}:{ident}", severity if severity in SEVERITIES else "warn", f"{h.name}: {message}")
                )
        return out

    def alerts(self) -> list[tuple[str, str, str]]:
        """(host, severity, message) of every host's last report."""
        out = []
        for h in self.hosts.values():
            report = (h.latest.get("services") or {}).get("report")
            for a in (
                report.get("alerts", []) if isinstance(report, dict) and isinstance(report.get("alerts"), list) else []
            ):
                if isinstance(a, dict):
                    out.append((h.name, clean(text(a.get("severity"), 16)), clean(text(a.get("message"), 300))))
        return out


def _report_rows(host: str, report: dict[str, Any]) -> list[ServiceRow]:
    from mailtui.system.units import human_age, human_bytes, plural

    rows: list[ServiceRow] = []
    daemons = _list(report.get("daemons"))
    for d in daemons[:40]:
        if not isinstance(d, dict):
            continue
        label = clean(text(d.get("label"), 64)) or "?"
        key = f"{host}:daemon:{clean(text(d.get('key'), 64))}"
        if d.get("running") is True:
            uptime = _num(d.get("uptime"), float)
            rss = _num(d.get("rss"))
            cpu = _num(d.get("cpu_percent"), float)
            detail = " · ".join(
                x
                for x in (
                    f"pid {_num(d.get('pid'))}" if _num(d.get("pid")) is not None else "",
                    f"{cpu:.1f}% cpu" if cpu is not None else "",
                    human_bytes(rss) if rss is not None else "",
                    f"restarted {_count(d.get('restarts'))}×" if _count(d.get("restarts")) else "",
                )
                if x
            )
            state = f"up {human_age(uptime)}" if uptime is not None else "up"
            rows.append(ServiceRow(host, label, state, detail, "ok", key))
        else:
            rows.append(ServiceRow(host, label, "DOWN", clean(text(d.get("note"), 200)) or "not running", "bad", key))
    queue = report.get("queue")
    if isinstance(queue, dict):
        if queue.get("error"):
            rows.append(
                ServiceRow(host, "queue", "unreadable", clean(text(queue.get("error"), 200)), "warn", f"{host}:queue")
            )
        else:
            total = _count(queue.get("total"))
            raw = queue.get("counts")
            counts: dict[Any, Any] = raw if isinstance(raw, dict) else {}
            shown = " · ".join(f"{clean(str(q))[:16]} {_count(n)}" for q, n in list(counts.items())[:8] if _count(n))
            oldest = _num(queue.get("oldest_age"), float)
            detail = (shown or "empty") + (f"  oldest {human_age(oldest)}" if oldest is not None else "")
            rows.append(
                ServiceRow(host, "queue", plural(total, "msg"), detail, "warn" if total else "ok", f"{host}:queue")
            )
            # the reasons mail waits for, each a row (Enter lists that reason's messages there)
            for i, g in enumerate(_list(queue.get("reasons"))[:10]):
                if not isinstance(g, dict) or not isinstance(g.get("reason"), str):
                    continue
                reason = clean(text(g["reason"], 1000))
                title = clean(text(g.get("title"), 200))
                rows.append(
                    ServiceRow(
                        host,
                        f"  {_count(g.get('count'))}×",
                        "deferred",
                        f"{title}: {reason}" if title else reason,
                        "warn",
                        f"{host}:reason:{i}",
                        reason,
                    )
                )
    ports = _list(report.get("ports"))
    for p in ports[:60]:
        if isinstance(p, dict) and p.get("state") not in ("ok", "not configured"):
            where = f"{clean(text(p.get('address'), 64))}:{_num(p.get('port'))}"
            rows.append(
                ServiceRow(
                    host,
                    f":{_num(p.get('port'))}",
                    clean(text(p.get("state"), 32)),
                    where,
                    "warn",
                    f"{host}:port:{where}",
                )
            )
    return rows
