"""Find the mail server's logs: config overrides first, then what the daemons say, then distro paths.

Facts behind the order: Debian/Ubuntu write /var/log/mail.log, RHEL and FreeBSD
/var/log/maillog, openSUSE /var/log/mail; Postfix >= 3.4 may write its own
``maillog_file``; Dovecot may write ``log_path``/``info_log_path``; fail2ban writes its
``logtarget``. Debian 12 installs no syslog daemon, so journald is the fallback.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from mailtui.config import Config
from mailtui.core.files import read_ini_files, special_kind
from mailtui.logs.reader import only_regular
from mailtui.logs.sources import Pattern, is_pattern
from mailtui.mta.run import find_tool, run_tool

DISTRO_MAIL_LOGS = ("/var/log/mail.log", "/var/log/maillog", "/var/log/mail")
FAIL2BAN_CONF_DIR = Path("/etc/fail2ban")


@dataclass(frozen=True)
class LogLocation:
    kind: str  # mail | dovecot | fail2ban | journald | file | pattern
    path: str  # empty for journald and for a pattern itself
    origin: str  # why this path was chosen
    problem: str = ""  # empty when readable
    host: str = ""  # the host of its lines that name none (from a pattern's %HOST% or * directory)
    pattern: str = ""  # the [logs] files pattern it came from (kind "pattern": the pattern itself)
    directory: str = ""  # journald: a journal directory (-D) instead of the system journal
    note: str = ""  # a warning that is no error: a pattern that matches no file yet

    @property
    def usable(self) -> bool:
        return not self.problem

    @property
    def shown(self) -> str:
        """The path as an admin recognizes it: the file, the pattern, the journal directory."""
        return self.path or self.pattern or self.directory or "(journal)"

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "path": self.path, "origin": self.origin, "problem": self.problem}
        for key in ("host", "pattern", "directory", "note"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


def access_problem(path: str, follow: bool = False) -> str:
    """Explain why ``path`` cannot be read, in the words an admin needs.

    Only regular files are opened to find out (without blocking): opening a named pipe waits
    for a writer, and a check must not. Directories and sockets are never logs; a named pipe
    or a device can be read once from start to end (``scan``), but not followed or read twice
    (``follow``: the live view, ``who``'s two passes, the fail2ban.log fall-back)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist"
    except PermissionError:
        return "permission denied: run as root or join group adm"
    except OSError as exc:
        return exc.strerror or str(exc)
    kind = special_kind(st.st_mode)
    if kind in ("a directory", "a socket"):
        return f"is {kind}, not a log file"
    if kind:
        if follow:
            return only_regular(path, kind)
        return "" if os.access(path, os.R_OK) else "permission denied: run as root or join group adm"
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    except PermissionError:
        return "permission denied: run as root or join group adm"
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def _located(kind: str, path: str, origin: str) -> LogLocation:
    return LogLocation(kind, path, origin, access_problem(path, follow=True))


def _postfix_maillog_file(cfg: Config) -> str:
    argv = ["postconf", "-h"]
    if cfg["postfix.config_dir"]:
        argv += ["-c", cfg["postfix.config_dir"]]
    res = run_tool([*argv, "maillog_file"])
    value = res.stdout.strip() if res.ok else ""
    return value if value.startswith("/") and not value.startswith("/dev/") else ""


def _dovecot_log_paths(cfg: Config) -> list[str]:
    argv = ["doveconf"]
    if cfg["dovecot.config"]:
        argv += ["-c", cfg["dovecot.config"]]
    res = run_tool([*argv, "-h", "log_path", "info_log_path"])
    if not res.ok:
        return []
    seen: list[str] = []
    for value in res.stdout.split():
        if value.startswith("/") and not value.startswith("/dev/") and value not in seen:
            seen.append(value)
    return seen


def fail2ban_setting(name: str, conf_dir: Path = FAIL2BAN_CONF_DIR) -> str:
    """Read ``[Definition] name`` from fail2ban.conf, overridden by fail2ban.local and fail2ban.d/*."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    files = [conf_dir / "fail2ban.conf", conf_dir / "fail2ban.local"]
    dropins = conf_dir / "fail2ban.d"
    if dropins.is_dir():
        files += sorted(p for p in dropins.iterdir() if p.suffix in (".conf", ".local"))
    try:
        read_ini_files(parser, files)  # a FIFO planted as fail2ban.local blocks nothing
    except (configparser.Error, UnicodeDecodeError, OSError):
        return ""
    return parser.get("Definition", name, fallback="").strip()


def configured_files(entries: list[str], origin: str) -> list[LogLocation]:
    """``[logs] files``: plain paths as they are; a pattern as one "pattern" location (with its
    note when it matches nothing) followed by a "file" location per matching file."""
    found: list[LogLocation] = []
    for entry in entries:
        if not is_pattern(entry):
            found.append(_located("file", entry, origin))
            continue
        pattern = Pattern(entry)
        matches, total = pattern.expand()
        found.append(LogLocation("pattern", "", origin, pattern=entry, note=pattern.note(total)))
        for path, host in matches:
            loc = _located("file", path, origin)
            found.append(LogLocation("file", path, origin, loc.problem, host=host, pattern=entry))
    return found


def journal_dir_location(directory: str, origin: str) -> LogLocation:
    """``[logs] journal_dir``: a directory of journal files (systemd-journal-remote's), read with -D."""
    problem = "" if find_tool("journalctl") else "journalctl is not installed"
    if not problem:
        if not os.path.isdir(directory):
            problem = "does not exist" if not os.path.exists(directory) else "is not a directory"
        elif not os.access(directory, os.R_OK | os.X_OK):
            problem = "permission denied: run as root or join group systemd-journal or adm"
    return LogLocation("journald", "", origin, problem, directory=directory)


def locate_logs(cfg: Config) -> list[LogLocation]:
    """Return every log mailtui should follow, each with its origin and any access problem."""
    central: list[LogLocation] = []
    if cfg["logs.journal_dir"]:
        central.append(journal_dir_location(cfg["logs.journal_dir"], cfg.sources["logs.journal_dir"]))
    if cfg["logs.files"]:
        return configured_files(cfg["logs.files"], cfg.sources["logs.files"]) + central
    if central:
        return central  # a central log box: its journal directory is the mail log
    found: list[LogLocation] = []
    if cfg["logs.mail"]:
        found.append(_located("mail", cfg["logs.mail"], cfg.sources["logs.mail"]))
    else:
        for path in DISTRO_MAIL_LOGS:
            if os.path.exists(path):
                found.append(_located("mail", path, "distribution default"))
                break
        maillog = _postfix_maillog_file(cfg)
        if maillog and all(loc.path != maillog for loc in found):
            found.append(_located("mail", maillog, "postconf maillog_file"))
    if cfg["logs.dovecot"]:
        found.append(_located("dovecot", cfg["logs.dovecot"], cfg.sources["logs.dovecot"]))
    else:
        for path in _dovecot_log_paths(cfg):
            found.append(_located("dovecot", path, "doveconf log_path"))
    f2b = cfg["logs.fail2ban"] or fail2ban_setting("logtarget")
    if f2b.startswith("/"):
        origin = cfg.sources["logs.fail2ban"] if cfg["logs.fail2ban"] else "fail2ban logtarget"
        found.append(_located("fail2ban", f2b, origin))
    journald = cfg["logs.journald"]
    has_mail_file = any(loc.kind == "mail" and loc.usable for loc in found)
    if journald == "yes" or (journald == "auto" and not has_mail_file):
        problem = "" if find_tool("journalctl") else "journalctl is not installed"
        origin = "config" if journald == "yes" else "no readable mail log file"
        found.append(LogLocation("journald", "", origin, problem))
    return found


FAIL2BAN_DEFAULT_SOCKET = "/var/run/fail2ban/fail2ban.sock"


def fail2ban_socket_path(configured: str = "") -> str:
    """fail2ban-server's socket: the configured one, else fail2ban.conf's ``socket``, else the default."""
    if configured:
        return configured
    return fail2ban_setting("socket") or FAIL2BAN_DEFAULT_SOCKET


def fail2ban_pid_file(socket_file: str) -> str:
    """fail2ban's pid file: beside a configured socket (as the rig and most setups have it),
    else fail2ban.conf's ``pidfile``."""
    configured = fail2ban_setting("pidfile")
    if configured and os.path.abspath(socket_file) == os.path.abspath(fail2ban_socket_path("")):
        return configured  # the server fail2ban.conf describes: its pidfile setting holds
    return os.path.join(os.path.dirname(socket_file), "fail2ban.pid")
