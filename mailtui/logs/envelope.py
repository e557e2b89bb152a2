"""Recognise a log line's envelope and split it into a :class:`LogRecord`.

Formats: traditional syslog (``Feb 19 10:35:59 host prog[pid]: msg``, also Postfix's
``maillog_file`` with its zero-padded day), RFC 3339 syslog (rsyslog's high-precision
format), Dovecot's own log file (no host, ``%b %d %H:%M:%S`` or ``%Y-%m-%d %H:%M:%S``
stamps, or TAI64N from multilog), and fail2ban.log. The format is found per line, so
merged or odd files still parse; a line no format fits keeps its text as the message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from mailtui.core.numbers import MAX_DIGITS, ascii_int, is_ascii_digits
from mailtui.core.record import LogRecord
from mailtui.logs.sanitize import clean

MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}

_TRAD = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:\.(?P<frac>\d{1,6}))? (?P<rest>.*)",
    re.S,
)
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)(?P<sep>[T ])(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:[.,](?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d\d:?\d\d)? (?P<rest>.*)",
    re.S,
)
_PRI = re.compile(r"<\d{1,3}>")
# RFC 5424 (rsyslog's RSYSLOG_SyslogProtocol23Format, syslog-ng's syslog-protocol): the stamp is RFC 3339
_RFC5424 = re.compile(
    r"<\d{1,3}>1 (?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)(?P<sep>T)(?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
    r"(?:[.,](?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d\d:?\d\d)? (?P<host>\S{1,255}) (?P<app>\S{1,48}) (?P<procid>\S{1,128}) "
    r'\S{1,32} (?:-|(?:\[(?:[^\]\\"]|\\.|"(?:[^"\\]|\\.)*")*\])+)(?: (?P<msg>.*)|$)',
    re.S,
)
_TAI = re.compile(r"@(?P<tai>[0-9a-f]{24}) (?P<rest>.*)", re.S)
_TAG = re.compile(r"(?P<prog>[^\s\[\]:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)", re.S)
_SOLARIS_ID = re.compile(r"\[ID \d+ [\w.]+\] ")
_DOVECOT_LEVEL = re.compile(
    r"(?P<proc>[\w-]+(?:\([^)]*\))?(?:<[^>]*>)*): (?P<level>Debug|Info|Warning|Error|Fatal|Panic): "
)
# Dovecot 1.x (and its own log_path format) put the level first: "dovecot: Fatal: auth(default): ..."
_DOVECOT_LEVEL_FIRST = re.compile(r"(?P<level>Debug|Info|Warning|Error|Fatal|Panic): ")
_DOVECOT_PROC = re.compile(r"(?:dovecot: )?(?P<name>[a-z][\w-]*)[(:<]")
_F2B = re.compile(r"(?P<logger>fail2ban(?:\.[\w.]+)?)\s*\[(?P<pid>\d+)\]: (?P<level>[A-Z]+)\s+(?P<msg>.*)", re.S)
_POSTFIX_LEVELS = ("warning: ", "error: ", "fatal: ", "panic: ")
# the host and tag after a traditional stamp, for parse's fast path: the host as _after_stamp
# takes it (up to the first space; one ending in ":" is Dovecot's own format) and then _TAG
_HOST_TAG = re.compile(r"([^ ]*[^ :]) " + _TAG.pattern, re.S)
# the same for a line of ASCII (str.isascii() costs nothing): \s and \d spelled out as what they
# match among ASCII characters, which sre tests faster than its Unicode classes
_HOST_TAG_ASCII = re.compile(
    r"([^ ]*[^ :]) " + _TAG.pattern.replace(r"[^\s", r"[^\t-\r\x1c-\x1f ").replace(r"\d", "[0-9]"), re.S
)

TAI64_EPOCH = 2**62 + 10  # TAI64 label of 1970-01-01 00:00:10 TAI (close enough for logs)

FAMILIES = (
    ("postfix", "postfix"),
    ("dovecot", "dovecot"),
    ("fail2ban", "fail2ban"),
    ("opendkim", "opendkim"),
    ("opendmarc", "opendmarc"),
    ("rspamd", "rspamd"),
    ("postgrey", "postgrey"),
    ("policyd-spf", "policyd-spf"),
    ("amavis", "amavis"),
    ("spamd", "spamassassin"),
    ("clamd", "clamav"),
    ("saslauthd", "saslauthd"),
    ("deliver(", "dovecot"),  # Dovecot 1.x LDA: "deliver(user): msgid=...: saved mail to INBOX"
)


class YearGuesser:
    """Traditional stamps carry no year: take the reference's, or the one before for later dates.

    With the file's mtime as the reference (the last line cannot be newer than the file),
    December lines in a file written in January get the previous year. Without a reference
    the clock is the reference, read again every second: the live view runs for days, and a
    reference fixed at start-up would put tomorrow's lines a year back.
    """

    def __init__(self, reference: float | None = None) -> None:
        self._follow_clock = reference is None
        self._recheck = 0.0
        self._hour_cache: dict[tuple[int, int, int, int], float] = {}
        self._set_reference(time.time() if reference is None else reference)

    def _set_reference(self, reference: float) -> None:
        ref = datetime.fromtimestamp(reference)
        self._year = ref.year
        self._limit = (ref.month, ref.day + 1)
        self._recheck = reference + 1.0

    def epoch(self, month: int, day: int, hour: int, minute: int, second: int) -> float:
        if self._follow_clock:
            now = time.time()
            if now >= self._recheck:
                self._set_reference(now)
        year = self._year if (month, day) <= self._limit else self._year - 1
        key = (year, month, day, hour)
        if not (0 <= minute < 60 and 0 <= second <= 60):  # 60: a leap second
            raise ValueError("minute or second out of range")
        base = self._hour_cache.get(key)
        if base is None:
            try:
                base = datetime(year, month, day, hour).timestamp()  # local time, DST-aware
            except ValueError:
                if (month, day) != (2, 29):  # Feb 29 guessed into a non-leap year; anything else is no time
                    raise
                base = datetime(year, month, 28, hour).timestamp() + 86400
            self._hour_cache[key] = base
        return base + minute * 60 + second


def _family(program: str) -> str:
    for prefix, family in FAMILIES:
        if program.startswith(prefix):
            return family
    return ""


class EnvelopeParser:
    """Parse lines of any supported format into records (stateful only for year guessing)."""

    def __init__(
        self,
        source: str = "",
        year_reference: float | None = None,
        record_type: type[LogRecord] = LogRecord,
        host: str = "",
    ) -> None:
        self.source = source
        # the host of lines that name none (Dovecot's own file, fail2ban.log): the source's, from
        # a per-host layout such as /var/log/hosts/%HOST%/dovecot.log (logs/sources.py)
        self.host = host
        self.record_type = record_type  # the live view's entries are records with a match slot
        self.years = YearGuesser(year_reference)
        self._last_stamp = ""
        self._last_epoch = 0.0
        self._programs: dict[str, tuple[str, str]] = {}

    def parse(self, line: str, lineno: int = 0, sanitized: bool = False) -> LogRecord:
        """``sanitized``: the line already went through sanitize (the file readers do that)."""
        if not sanitized:
            line = clean(line)
        # fast path for "Mmm dd hh:mm:ss " (most lines of a busy log share the second before)
        if len(line) > 16 and line[15] == " " and line[12] == ":" and line[9] == ":" and line[6] == " ":
            stamp = line[:15]
            read, ts = (True, self._last_epoch) if stamp == self._last_stamp else self._syslog_stamp(line, stamp)
            if read:
                # "host prog[pid]: msg" in one match: what _after_stamp finds (its regexes joined)
                ascii = line.isascii()
                m = (_HOST_TAG_ASCII if ascii else _HOST_TAG).match(line, 16)
                if m is not None:
                    host, program, pid, msg = m.groups()
                    known = self._programs.get(program)
                    if known is not None and not msg.startswith("[ID "):
                        family, daemon = known
                        level = ""
                        if family == "postfix" and msg.startswith(_POSTFIX_LEVELS):
                            level = msg[: msg.index(":")]
                        # ascii_int(pid): None for 5,000 digits, which int() refuses; the ASCII
                        # pattern's pid is ASCII digits already, only how many counts
                        if not pid:
                            number = None
                        elif ascii:
                            number = int(pid) if len(pid) <= MAX_DIGITS else None
                        else:
                            number = ascii_int(pid)
                        rec = self.record_type(
                            line,
                            msg,
                            ts,
                            host,
                            program,
                            number,
                            family,
                            daemon,
                            level,
                            "syslog",
                            self.source,
                            lineno,
                        )
                        if family != "postfix":
                            self._tagged(rec, program, msg)
                        return rec
                rec = self.record_type(line=line, message=line, source=self.source, lineno=lineno, host=self.host)
                rec.timestamp = ts
                self._after_stamp(rec, line[16:], "syslog")
                return rec
        rec = self.record_type(line=line, message=line, source=self.source, lineno=lineno, host=self.host)
        text = line
        if line.startswith("<"):
            m = _RFC5424.match(line)
            if m is not None:
                self._rfc5424(rec, m)
                return rec
            pri = _PRI.match(line)
            if pri is not None:  # a priority before a traditional or RFC 3339 stamp (network captures)
                text = line[pri.end() :]
        m = _TRAD.match(text)
        if m is not None:
            month = MONTHS.get(m.group("mon"))
            if month is not None:
                rec.timestamp = _real(
                    self.years.epoch,
                    month,
                    int(m.group("day")),
                    int(m.group("h")),
                    int(m.group("m")),
                    int(m.group("s")),
                )
                if m.group("frac") and rec.timestamp is not None:
                    rec.timestamp += float("0." + m.group("frac"))
                self._after_stamp(rec, m.group("rest"), "syslog")
                return rec
        m = _ISO.match(text)
        if m is not None:
            rec.timestamp = _real(_iso_epoch, m)
            rest = m.group("rest")
            if m.group("sep") == "T":
                self._after_stamp(rec, rest, "rfc3339")
            elif rest.startswith("fail2ban"):
                self._fail2ban(rec, rest)
            else:
                self._dovecot_own(rec, rest)
            return rec
        m = _TAI.match(text)
        if m is not None:
            rec.timestamp = int(m.group("tai")[:16], 16) - TAI64_EPOCH + int(m.group("tai")[16:], 16) / 1e9
            self._dovecot_own(rec, m.group("rest"))
            return rec
        rec.fmt = "unknown"
        return rec

    def _syslog_stamp(self, line: str, stamp: str) -> tuple[bool, float | None]:
        """Whether the fast path reads the stamp of a line starting "Mmm dd hh:mm:ss " (else the
        general path decides), and its time (None: no real time)."""
        month = MONTHS.get(line[:3])
        # ASCII digits ("²" is a digit to isdigit() and no number to int()); each slice is 2 long
        if month is not None and is_ascii_digits(line[7:9] + line[10:12] + line[13:15]):
            try:
                day = int(line[4:6])
            except ValueError:
                day = 0
            if day:
                ts = _real(self.years.epoch, month, day, int(line[7:9]), int(line[10:12]), int(line[13:15]))
                if ts is not None:
                    self._last_stamp, self._last_epoch = stamp, ts
                return True, ts
        return False, None

    def parse_journal(self, entry: dict[str, Any], lineno: int = 0) -> LogRecord:
        """A record from one ``journalctl -o json`` object (MESSAGE may be a list of byte values)."""
        message = entry.get("MESSAGE", "")
        if isinstance(message, list):
            message = bytes(b & 0xFF for b in message if isinstance(b, int)).decode("utf-8", "replace")
        elif not isinstance(message, str):
            message = str(message)
        # journald fields are strings, but a record is still untrusted input: take what is given
        program = clean(str(entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM") or ""))
        pid = str(entry.get("SYSLOG_PID") or entry.get("_PID") or "")
        host = clean(str(entry.get("_HOSTNAME") or ""))
        tag = f"{program}[{pid}]" if pid.isdigit() else program
        rec = self.record_type(
            line=clean(f"{host} {tag}: {message}"),
            message=clean(message),
            source=self.source or "journald",
            lineno=lineno,
        )
        try:
            rec.timestamp = int(str(entry.get("__REALTIME_TIMESTAMP", ""))) / 1e6
        except (ValueError, OverflowError):
            rec.timestamp = None
        rec.cursor = str(entry.get("__CURSOR", ""))
        self._after_stamp(rec, clean(f"{host or '-'} {tag}: {message}"), "journal")
        rec.host = host or self.host
        return rec

    # -- pieces ------------------------------------------------------------------------------------
    def _rfc5424(self, rec: LogRecord, m: re.Match[str]) -> None:
        """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG``: "-" is a field left out."""
        rec.timestamp = _real(_iso_epoch, m)
        host, app, procid, msg = m.group("host"), m.group("app"), m.group("procid"), m.group("msg") or ""
        if msg.startswith("\ufeff"):  # MSG may start with a BOM to say it is UTF-8
            msg = msg[1:]
        if msg.startswith(" "):  # rsyslog's %msg% keeps the space that followed the tag's colon
            msg = msg[1:]
        host = "" if host == "-" else host  # the nil value: the source's host
        if app == "-":  # no program: the message is all there is
            rec.host = host or self.host
            rec.message = msg
        else:
            self._after_stamp(rec, f"{host} {app}{f'[{procid}]' if procid.isdigit() else ''}: {msg}", "rfc5424")
        rec.fmt = "rfc5424"

    def _after_stamp(self, rec: LogRecord, rest: str, fmt: str) -> None:
        host, _, after = rest.partition(" ")
        if host.endswith(":") or not after:
            tag = _TAG.match(rest)
            if tag is None or not _family(tag.group("prog")):
                # Dovecot's own log has no host: "Nov 29 01:58:37 pop3-login: Info: ..."
                self._dovecot_own(rec, rest)
                return
            # a syslog line without its host ("Feb 19 10:35:59 postfix/smtpd[7]: ..."): a
            # central box's per-host file whose directory names the host (rec.host: the parser's)
            host, after = "", rest
        rec.host = host or self.host
        rec.fmt = fmt
        m = _TAG.match(after)
        if m is None:
            rec.message = after
            return
        program, pid, msg = m.groups()
        rec.program = program
        if pid:
            rec.pid = ascii_int(pid)  # None for a "pid" of 5,000 digits, which int() refuses
        if msg.startswith("[ID "):
            msg = _SOLARIS_ID.sub("", msg, count=1)
        known = self._programs.get(program)
        if known is None:
            family = _family(program)
            known = (family, program.rsplit("/", 1)[-1] if family == "postfix" else "")
            if len(self._programs) < 4096:
                self._programs[program] = known
        rec.family, rec.daemon = known
        self._tagged(rec, program, msg)

    def _tagged(self, rec: LogRecord, program: str, msg: str) -> None:
        """The message after a tag; ``rec.family`` and ``rec.daemon`` are the program's (the
        daemon of a Postfix program; the rest find theirs in the message)."""
        family = rec.family
        if family == "postfix":
            if msg.startswith(_POSTFIX_LEVELS):
                rec.level = msg[: msg.index(":")]
        elif family == "dovecot":
            if program.startswith("deliver("):  # Dovecot 1.x LDA logs under its own tag
                msg = f"{program}: {msg}"
            self._dovecot_message(rec, msg)
            return
        elif family == "fail2ban" and msg.startswith("fail2ban"):
            self._fail2ban(rec, msg, keep_program=True)
            return
        rec.message = msg

    def _dovecot_own(self, rec: LogRecord, rest: str) -> None:
        rec.fmt = rec.fmt or "dovecot"
        rec.program = "dovecot"
        rec.family = "dovecot"
        self._dovecot_message(rec, rest)

    def _dovecot_message(self, rec: LogRecord, msg: str) -> None:
        if msg.startswith("dovecot: "):  # "dovecot[442]: dovecot: auth(default): ..."
            msg = msg[9:]
        m = _DOVECOT_LEVEL.match(msg)
        if m is not None:
            rec.level = m.group("level")
            msg = f"{m.group('proc')}: {msg[m.end() :]}"
        else:
            first = _DOVECOT_LEVEL_FIRST.match(msg)
            if first is not None:
                rec.level = first.group("level")
                msg = msg[first.end() :]
        p = _DOVECOT_PROC.match(msg)
        rec.daemon = p.group("name") if p is not None else ""
        rec.message = msg

    def _fail2ban(self, rec: LogRecord, rest: str, keep_program: bool = False) -> None:
        rec.fmt = rec.fmt or "fail2ban"
        rec.family = "fail2ban"
        m = _F2B.match(rest)
        if m is None:
            rec.message = rest
            return
        if not keep_program:
            rec.program = m.group("logger")
            rec.pid = ascii_int(m.group("pid"))
        rec.daemon = m.group("logger").rsplit(".", 1)[-1]
        rec.level = m.group("level")
        rec.message = m.group("msg")


def _real(stamp: Callable[..., float], *parts: Any) -> float | None:
    """The time a stamp's fields give, or None for one that names no real time (month 13, Feb 30,
    hour 25, day 0): the line keeps its text and what it says, without a time."""
    try:
        return stamp(*parts)
    except (ValueError, OverflowError):
        return None


def _iso_epoch(m: re.Match[str]) -> float:
    frac = m.group("frac")
    dt = datetime(
        int(m.group("y")),
        int(m.group("mo")),
        int(m.group("d")),
        int(m.group("h")),
        int(m.group("m")),
        int(m.group("s")),
    )
    tz = m.group("tz")
    if tz:
        if tz == "Z":
            dt = dt.replace(tzinfo=timezone.utc)
        else:
            sign = 1 if tz[0] == "+" else -1
            hh, mm = int(tz[1:3]), int(tz[-2:])
            dt = dt.replace(tzinfo=timezone(sign * timedelta(hours=hh, minutes=mm)))
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)
