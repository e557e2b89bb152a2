"""One parsed log line: the envelope (time, host, program, pid) and the message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: a record without a host (Dovecot's own log, fail2ban.log of the machine itself) beside records
#: that have one; such a record is not counted as another host
NO_HOST = "-"


def host_label(host: str) -> str:
    return host or NO_HOST


def several_hosts(hosts: Iterable[str]) -> bool:
    """More than one named host: the host is worth a column (records without one do not count,
    so one machine's syslog beside its own Dovecot log is still one host)."""
    first = ""
    for host in hosts:
        if host and host != first:
            if first:
                return True
            first = host
    return False


@dataclass(slots=True)
class LogRecord:
    line: str  # the whole line, already sanitised
    message: str  # the text after the envelope (Dovecot's level prefix removed)
    timestamp: float | None = None  # seconds since the epoch; None when the line had none
    host: str = ""  # the syslog hostname, journald's _HOSTNAME, else the source's (or "")
    program: str = ""  # syslog tag without pid: "postfix/submission/smtpd", "dovecot"
    pid: int | None = None
    family: str = ""  # postfix | dovecot | fail2ban | opendkim | ... | "" when unknown
    daemon: str = ""  # smtpd, qmgr, pop3-login, imap, auth, filter, actions, ...
    level: str = ""  # Dovecot's "Info"/"Error", fail2ban's "NOTICE", Postfix's "warning"
    fmt: str = ""  # which envelope format matched
    source: str = ""  # file name or "journald" / "stdin"
    lineno: int = 0
    cursor: str = ""  # journald's cursor of this entry (resume point)

    @property
    def service(self) -> str:
        """Postfix service name from syslog_name: "submission" for postfix/submission/smtpd."""
        if self.family != "postfix":
            return ""
        parts = self.program.split("/")
        return parts[1] if len(parts) == 3 else ""
