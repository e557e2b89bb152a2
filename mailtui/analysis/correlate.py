"""Tie log lines together: Postfix queue-ID life cycles, smtpd connections, Dovecot sessions.

Each record gets the keys of the conversations it belongs to:
* ``qid:<id>@<host>``: client= -> cleanup -> qmgr -> delivery -> removed, all carry the queue ID;
* ``smtpd:<host>/<program>/<pid>#<n>``: an smtpd process serves one client at a time, so every line
  of that pid between "connect from" and "disconnect from" belongs to the connection
  (this is how NOQUEUE rejects are tied to their client's later lines);
* ``dovecot:<session>@<host>``: Dovecot's session=<…> / <pid><session> id, also on the auth
  process's ``passwd-file(user,ip,<session>)`` lines.
Queue IDs, pids and sessions are unique per host only, so every key names the record's host
(a record without one, ``""``, has keys without ``@``: one unnamed host). A message one of our
hosts relays to another (``relay=mx2.example.org[…]`` … ``queued as 4XyZ``, where mx2 is a host
seen in these logs) links the two queue IDs: :meth:`Correlator.root` says which keys are one
conversation, which ``analysis.who`` follows so the message's whole path is one timeline.
The correlator also remembers facts used for context diagnoses: which connections
authenticated, which client addresses logged in successfully to IMAP/POP3, and which Dovecot
sessions the auth process failed (a password was checked) or refused as cleartext.

A context diagnosis (``recognizers.context.Context``) is what a line means given the others —
and sometimes given the live configuration too, which this module does not read: a context that ``needs``
a condition (:data:`CONDITIONS`) is settled by whoever has the settings
(``recognizers.explain.Explainer.settle``). The classic case is Dovecot's
``Disconnected: Aborted login (auth failed, 2 attempts …)``: read alone it says "wrong
password", but on a connection without TLS whose password never reached the auth process
(no ``method=``, no auth line for the session) while ``disable_plaintext_auth = yes`` is in
force, it is a refused cleartext login — a mail client set to 110/143 without SSL/TLS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mailtui.core.record import LogRecord
from mailtui.recognizers.context import CONDITIONS, Context, refuses_cleartext
from mailtui.recognizers.recognition import Recognition

__all__ = ["CONDITIONS", "CORRELATED_FAMILIES", "Context", "Correlator", "context", "refuses_cleartext", "secured"]

MAX_OPEN = 50_000  # open smtpd connections / facts kept; old ones are forgotten first
PLAINTEXT_REFUSED = "dovecot.login.plaintext_refused"
LOGIN_AUTH_FAILED = "dovecot.login.auth_failed"
#: the auth process checked a password (or user) and said no
AUTH_FAILURES = (
    "dovecot.auth.password_mismatch",
    "dovecot.auth.unknown_user",
    "dovecot.auth.pam_failed",
    "dovecot.auth.invalid_credentials",
)
_AUTH_SESSION = re.compile(r"\([^()]*,<([A-Za-z0-9+/=]+)>\)")
_ANGLED = re.compile(r"<[^>]*>")
_SECURED = re.compile(r"(?:^|, )(?:TLS|secured)(?:,|$| )")
_RELAY = re.compile(r"\brelay=(?P<name>[^\s\[,]+)\[")
_QUEUED_AS = re.compile(r"\bqueued as (?P<qid>[0-9A-Za-z]{5,20})\)")
MAX_LINKS = 100_000  # queue IDs linked across hosts before the links start over


def scoped(name: str, host: str) -> str:
    """A per-host id as a key part: ``name@host`` (``name`` alone for a record without a host)."""
    return f"{name}@{host}" if host else name


#: the families of the records :meth:`Correlator.keys` learns from: a parallel scan replays only
#: these (and recognized lines) through one Correlator, in file order (cli/scan_parallel.py)
CORRELATED_FAMILIES = frozenset({"postfix", "dovecot"})


@dataclass
class Correlator:
    _open: dict[str, str] = field(default_factory=dict)  # host/pid -> connection key
    _seq: int = 0
    authenticated: set[str] = field(default_factory=set)  # connection keys that did SMTP AUTH
    mailbox_logins: dict[str, str] = field(default_factory=dict)  # client ip -> user
    auth_failed: dict[str, str] = field(default_factory=dict)  # Dovecot session -> auth's verdict
    cleartext_refused: dict[str, bool] = field(default_factory=dict)  # Dovecot sessions refused
    #: every host seen, by its name and by its first label (relay= names a host fully qualified)
    hosts: dict[str, str] = field(default_factory=dict)
    _links: dict[str, str] = field(default_factory=dict)  # key -> a key of the same conversation
    #: relays to a name no host had yet (its lines may come later: files read one after the other)
    _pending: list[tuple[str, str, str]] = field(default_factory=list)

    def keys(self, record: LogRecord, match: Recognition | None) -> list[str]:
        keys: list[str] = []
        fields = match.fields if match is not None else {}
        host = record.host
        if host not in self.hosts:
            self._seen(host)
        if record.family == "postfix":
            qid = fields.get("queue_id")
            if qid and qid != "NOQUEUE":
                keys.append(f"qid:{scoped(qid, host)}")
                if "queued as " in record.message:
                    self._relayed(record.message, keys[-1], keys)
            if record.daemon in ("smtpd", "postscreen") and record.pid is not None:
                who = f"{record.host}/{record.program}/{record.pid}"
                message = record.message
                if message.startswith("connect from "):
                    self._seq += 1
                    self._open[who] = f"smtpd:{who}#{self._seq}"
                    if len(self._open) > MAX_OPEN:
                        self._open.pop(next(iter(self._open)))
                conn = self._open.get(who)
                if conn is not None:
                    keys.append(conn)
                    if "sasl_username=" in message:
                        self.authenticated.add(conn)
                    if message.startswith("disconnect from "):
                        # a connection key is never reused: what it did can be forgotten
                        del self._open[who]
                        self.authenticated.discard(conn)
        elif record.family == "dovecot":
            session = fields.get("session")
            rid = match.recognizer.id if match is not None else ""
            if not session and record.daemon.startswith("auth"):
                m = _AUTH_SESSION.search(record.message)
                session = m.group(1) if m is not None else ""
            if session:
                session = scoped(session, host)
                keys.append(f"dovecot:{session}")
                if rid in AUTH_FAILURES:
                    _remember(self.auth_failed, session, match.recognizer.title if match else "")
                elif rid == PLAINTEXT_REFUSED:
                    _remember(self.cleartext_refused, session, True)
            if rid == "dovecot.login.success":
                ip, user = fields.get("client_ip"), fields.get("user")
                if ip and user:
                    _remember(self.mailbox_logins, ip, user)
        return keys

    def connection_of(self, record: LogRecord) -> str | None:
        who = f"{record.host}/{record.program}/{record.pid}"
        return self._open.get(who)

    def _seen(self, host: str) -> None:
        if len(self.hosts) > MAX_OPEN:  # a flood of forged host names: forget them
            self.hosts.clear()
        self.hosts[host] = host
        lower = host.lower()
        self.hosts.setdefault(lower, host)
        if host and not _looks_like_address(lower):
            self.hosts.setdefault(lower.split(".", 1)[0], host)

    def _our_host(self, name: str) -> str:
        """The host of ours a relay= name means ("" when none): the name, or its first label."""
        there = self.hosts.get(name)
        if there is None and not _looks_like_address(name):
            there = self.hosts.get(name.split(".", 1)[0])
        return there or ""

    def _relayed(self, message: str, own: str, keys: list[str]) -> None:
        """``relay=<one of our hosts>[…] … queued as <ID>``: the ID there is this message too."""
        relay, queued = _RELAY.search(message), _QUEUED_AS.search(message)
        if relay is None or queued is None:
            return
        name, qid = relay.group("name").lower().rstrip("."), queued.group("qid")
        there = self._our_host(name)
        if not there:
            # not a host of ours, or not yet seen: resolve_links() tries again at the end
            if len(self._pending) < MAX_LINKS:
                self._pending.append((own, name, qid))
            return
        other = f"qid:{scoped(qid, there)}"
        if other != own:
            keys.append(other)
            self._link(own, other)

    def resolve_links(self) -> None:
        """Relays to hosts whose lines came after the relay's (each file read in turn)."""
        pending, self._pending = self._pending, []
        for own, name, qid in pending:
            there = self._our_host(name)
            if there and f"qid:{scoped(qid, there)}" != own:
                self._link(own, f"qid:{scoped(qid, there)}")

    def _link(self, a: str, b: str) -> None:
        if len(self._links) >= MAX_LINKS:
            self._links.clear()
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self._links[rb] = ra

    def root(self, key: str) -> str:
        """The key that stands for ``key``'s whole conversation (itself unless a relay linked it)."""
        links = self._links
        if key not in links:
            return key
        path = []
        while key in links:
            path.append(key)
            key = links[key]
        for k in path:  # shorten the chain for the next question
            links[k] = key
        return key


def _looks_like_address(name: str) -> bool:
    return name.replace(".", "").isdigit() or ":" in name


def _remember(facts: dict[str, Any], key: str, value: object) -> None:
    facts[key] = value
    if len(facts) > MAX_OPEN:
        facts.pop(next(iter(facts)))


def secured(message: str) -> bool:
    """Does a Dovecot login line say its connection was TLS (or trusted: "secured")?
    User names are in <…> and are left out, so a user called "TLS" cannot say so."""
    return _SECURED.search(_ANGLED.sub("<>", message.partition(": user=")[2] or message)) is not None


def context(record: LogRecord, match: Recognition, keys: list[str], corr: Correlator) -> Context | None:
    """What else the logs say about this line's client or session, as a context diagnosis."""
    rid = match.recognizer.id
    fields = match.fields
    conn = next((k for k in keys if k.startswith("smtpd:")), None)
    if (
        rid in ("postfix.relay.deferred", "postfix.relay.denied")
        and record.service == ""
        and (conn is None or conn not in corr.authenticated)
    ):
        return Context(
            "This client never authenticated and is on the port-25 service: a mail client set "
            "to port 25 without SMTP AUTH. Use 587 (STARTTLS) or 465 (SSL/TLS) with a password."
        )
    if rid.startswith(("postfix.helo.", "postfix.client.")):
        user = corr.mailbox_logins.get(fields.get("client_ip", ""))
        if user:
            return Context(
                f"This address logged in to IMAP/POP3 as {user}: it is your own user's mail client, "
                "sending on port 25. Set it to 587/465 with authentication."
            )
    if rid == LOGIN_AUTH_FAILED:
        return _login_failed(record, fields, corr)
    return None


def _login_failed(record: LogRecord, fields: dict[str, str], corr: Correlator) -> Context | None:
    """ "auth failed" on a Dovecot login: a wrong password, or a cleartext login refused?"""
    session = scoped(fields.get("session", ""), record.host) if fields.get("session") else ""
    if session and session in corr.auth_failed:
        return None  # the auth process checked the password and said no: it is what the line says
    if secured(record.message):
        return None
    if session and session in corr.cleartext_refused:
        return Context(
            "An earlier line of this session says Dovecot refused the login as cleartext "
            "(Plaintext authentication disabled): the password was never checked. The mail client "
            "logs in without SSL/TLS; it is not a wrong password.",
            PLAINTEXT_REFUSED,
        )
    method = fields.get("method", "")
    if method:
        # the auth process was asked with this mechanism: the password was checked (a non-cleartext
        # mechanism such as CRAM-MD5 is allowed without TLS; PLAIN without TLS means cleartext is allowed)
        return None
    return Context(
        "This connection had no TLS (the line has no TLS flag) and the password never reached "
        "the auth process (no method=, no auth line for the session).",
        PLAINTEXT_REFUSED,
        needs="cleartext_refused",
        certain=False,
    )


def context_note(record: LogRecord, match: Recognition, keys: list[str], corr: Correlator) -> str:
    """The context diagnosis's sentence, "" when there is none (settled or not)."""
    found = context(record, match, keys, corr)
    return found.note if found is not None else ""


def context_of(pairs: Iterable[tuple[LogRecord, Recognition | None]], target: LogRecord) -> Context | None:
    """The context of ``target`` (found by identity) given the lines before it in ``pairs``."""
    corr = Correlator()
    for rec, match in pairs:
        keys = corr.keys(rec, match)
        if rec is target:
            return context(rec, match, keys, corr) if match is not None else None
    return None
