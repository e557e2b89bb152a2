"""Tie log lines together: Postfix queue-ID life cycles, smtpd connections, Dovecot sessions.

Each record gets the keys of the conversations it belongs to:
* ``qid:<id>``: client= -> cleanup -> qmgr -> delivery -> removed, all carry the queue ID;
* ``smtpd:<host>/<pid>#<n>``: an smtpd process serves one client at a time, so every line
  of that pid between "connect from" and "disconnect from" belongs to the connection
  (this is how NOQUEUE rejects are tied to their client's later lines);
* ``dovecot:<session>``: Dovecot's session=<…> / <pid><session> id.
The correlator also remembers facts used for context diagnoses: which connections
authenticated, and which client addresses logged in successfully to IMAP/POP3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailtui.core.record import LogRecord
from mailtui.recognizers.recognition import Recognition

MAX_OPEN = 50_000  # open smtpd connections / facts kept; old ones are forgotten first


@dataclass
class Correlator:
    _open: dict[str, str] = field(default_factory=dict)  # host/pid -> connection key
    _seq: int = 0
    authenticated: set[str] = field(default_factory=set)  # connection keys that did SMTP AUTH
    mailbox_logins: dict[str, str] = field(default_factory=dict)  # client ip -> user

    def keys(self, record: LogRecord, match: Recognition | None) -> list[str]:
        keys: list[str] = []
        fields = match.fields if match is not None else {}
        if record.family == "postfix":
            qid = fields.get("queue_id")
            if qid and qid != "NOQUEUE":
                keys.append(f"qid:{qid}")
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
            if session:
                keys.append(f"dovecot:{session}")
            if match is not None and match.recognizer.id == "dovecot.login.success":
                ip, user = fields.get("client_ip"), fields.get("user")
                if ip and user:
                    self.mailbox_logins[ip] = user
                    if len(self.mailbox_logins) > MAX_OPEN:
                        self.mailbox_logins.pop(next(iter(self.mailbox_logins)))
        return keys

    def connection_of(self, record: LogRecord) -> str | None:
        who = f"{record.host}/{record.program}/{record.pid}"
        return self._open.get(who)


def context_note(record: LogRecord, match: Recognition, keys: list[str], corr: Correlator) -> str:
    """A sentence that sharpens the diagnosis with what else the logs say about this client."""
    rid = match.recognizer.id
    fields = match.fields
    conn = next((k for k in keys if k.startswith("smtpd:")), None)
    if rid in ("postfix.relay.deferred", "postfix.relay.denied"):
        if record.service == "" and (conn is None or conn not in corr.authenticated):
            return ("This client never authenticated and is on the port-25 service: a mail client set to "
                    "port 25 without SMTP AUTH. Use 587 (STARTTLS) or 465 (SSL/TLS) with a password.")
    if rid.startswith(("postfix.helo.", "postfix.client.")):
        user = corr.mailbox_logins.get(fields.get("client_ip", ""))
        if user:
            return (f"This address logged in to IMAP/POP3 as {user}: it is your own user's mail client, "
                    "sending on port 25. Set it to 587/465 with authentication.")
    return ""
