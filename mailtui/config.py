"""Layered configuration: built-in defaults, /etc, the user's XDG file, --config, then CLI flags.

Every effective value remembers where it came from so ``mailtui config`` can show it.
The schema is a flat table of dotted keys; a TOML file uses the sections (``[logs]``
``backfill = 200``). Unknown keys, wrong types and values out of range (negative, NaN,
huge, not one of the choices) are reported with the key, the file and what is allowed,
never silently ignored. A file of the automatic layers (/etc, XDG) that cannot be read is
named in a warning and skipped; the file given with ``--config`` must be readable.
"""

from __future__ import annotations

import ipaddress
import math
import sys
from pathlib import Path
from typing import Any

from mailtui.core.files import NotRegularFile, read_capped
from mailtui.core.lazyre import LazyRegex
from mailtui.core.plain import FrozenRecord, Record
from mailtui.core.xdg import xdg_base


class ConfigError(Exception):
    """A configuration file is unreadable or holds an invalid value."""


class Setting(FrozenRecord):
    """One key of the schema (frozen; a plain record, not a dataclass: see mailtui.core.plain)."""

    FIELDS = ("default", "kind", "help", "low", "high", "choices")
    default: Any
    kind: type
    help: str
    low: float | None  # numbers: the allowed range, inclusive
    high: float | None
    choices: tuple[str, ...]

    def __init__(
        self,
        default: Any,
        kind: type,
        help: str,
        low: float | None = None,
        high: float | None = None,
        choices: tuple[str, ...] = (),
    ) -> None:
        self.__dict__.update(default=default, kind=kind, help=help, low=low, high=high, choices=choices)

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is not None and self.high is not None:
            low, high = (f"{int(x):,}" if self.kind is int else f"{x:g}" for x in (self.low, self.high))
            return f"{self.kind.__name__} from {low} to {high}"
        return {list: "a list of strings", bool: "true or false"}.get(self.kind, self.kind.__name__)


SCHEMA: dict[str, Setting] = {
    "logs.files": Setting(
        [],
        list,
        "log files to watch instead of the auto-detected ones; patterns such as /var/log/remote/*/mail.log "
        "or /var/log/hosts/%HOST%/mail.log follow every host's file (the directory names the host)",
    ),
    "logs.mail": Setting("", str, "the syslog mail log (auto: /var/log/mail.log, /var/log/maillog, ...)"),
    "logs.dovecot": Setting("", str, "Dovecot's own log_path file (auto: doveconf -h log_path)"),
    "logs.fail2ban": Setting("", str, "fail2ban's log (auto: its logtarget)"),
    "logs.journal_dir": Setting(
        "", str, "a journal directory read with journalctl -D (systemd-journal-remote's output), each entry's host"
    ),
    "logs.journald": Setting(
        "auto", str, "read journald: auto (when no mail log file exists), yes, no", choices=("auto", "yes", "no")
    ),
    "logs.backfill": Setting(500, int, "lines read back from each file when starting", 0, 1_000_000),
    "logs.max_lines": Setting(20000, int, "lines kept in the Logs pane", 1, 5_000_000),
    "fail2ban.socket": Setting("", str, "fail2ban-server socket (auto: fail2ban.local/.conf, else default)"),
    "postfix.config_dir": Setting("", str, "Postfix configuration directory passed to postconf -c"),
    "dovecot.config": Setting("", str, "dovecot.conf passed to doveconf -c"),
    "dns.domain": Setting("", str, "domain checked by the DNS pane (auto: postconf mydomain)"),
    "dns.nameserver": Setting("", str, "resolver HOST[:PORT] for every DNS lookup (auto: system)"),
    "dns.ca_file": Setting("", str, "extra CA bundle trusted by the HTTPS and TLS checks (a private CA)"),
    "dns.blocklists": Setting(
        [],
        list,
        "DNS blocklists our sending addresses are looked up in (zone, or "
        "domain:zone for domain lists); empty: not checked",
    ),
    "alerts.deferred_max": Setting(100, int, "alert when the deferred queue holds more messages", 0, 100_000_000),
    "alerts.deferred_age_hours": Setting(24.0, float, "alert when a deferred message is older (hours)", 0, 87_600),
    "alerts.cert_days": Setting(14, int, "alert when a configured certificate expires within (days)", 0, 3650),
    "alerts.disk_percent": Setting(90.0, float, "alert when the queue or mail store disk is fuller (%)", 0, 100),
    "ui.read_only": Setting(False, bool, "disable every action that changes the server"),
    "ui.refresh_seconds": Setting(5.0, float, "seconds between polls of fail2ban and services", 0.5, 3600),
    "containers.mode": Setting(
        "auto",
        str,
        "read a mail appliance in containers: auto (when its containers run), yes, no",
        choices=("auto", "yes", "no"),
    ),
    "containers.socket": Setting(
        "", str, "container engine API socket (auto: DOCKER_HOST, /var/run/docker.sock, /run/podman/podman.sock)"
    ),
    "containers.postfix": Setting("", str, "the Postfix container's name (auto: by compose service or image)"),
    "containers.dovecot": Setting("", str, "the Dovecot container's name (auto: by compose service or image)"),
    "containers.mailcow_url": Setting("", str, "mailcow's web address for its API (bans), e.g. https://127.0.0.1"),
    "containers.mailcow_api_key": Setting("", str, "mailcow read-only API key (bans, why)"),
    "containers.mailcow_api_key_rw": Setting("", str, "mailcow read-write API key (only for unban)"),
    "containers.mailcow_verify_tls": Setting(True, bool, "check the mailcow API's certificate"),
}

SYSTEM_CONFIG = Path("/etc/mailtui/config.toml")


def user_config_dir() -> Path:
    # (no home: there is no user layer)
    return (xdg_base("XDG_CONFIG_HOME", ".config") or Path("/nonexistent")) / "mailtui"


def parse_nameserver(text: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[V6]:PORT`` or a bare IPv6 address, checked; ValueError says why."""
    raw = text.strip()
    host, port_text, has_port = raw, "", False
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: expected [IPV6]:PORT")
        port_text, has_port = rest[1:], bool(rest)
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        has_port = True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{text!r}: the name server must be an IP address, optionally with a port "
            "(127.0.0.1, 127.0.0.1:5353, [::1]:5353)"
        ) from None
    port = 53
    if has_port:
        if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text[:6]) <= 65535:
            raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
        port = int(port_text)
    return str(address), port


def _nameserver(value: str) -> str:
    if value:
        parse_nameserver(value)
    return value


HOST = "%HOST%"  # in a [logs] files pattern: the path part that names the host
WILD = LazyRegex(r"[*?\[]")  # compiled on first use, as the two below: most commands use none


def log_pattern_problem(text: str) -> str:
    """Why a ``[logs] files`` entry is not a usable pattern ("" when it is, or is a plain path)."""
    if text.count(HOST) > 1:
        return f"{text!r}: %HOST% may stand only once in a path"
    parts = text.split("/")
    for part in parts:
        if HOST in part:
            prefix, suffix = part.split(HOST)
            if WILD.search(prefix) or WILD.search(suffix):
                return f"{text!r}: the path part with %HOST% must hold no other wildcard"
    if (HOST in text or WILD.search(text)) and parts[-1] in (HOST, ""):
        return f"{text!r}: a pattern must end in a file name (such as %HOST%/mail.log)"
    if "**" in text:
        return f"{text!r}: ** (any depth) is not supported; use one * per directory level"
    return ""


def _log_file(value: str) -> str:
    problem = log_pattern_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# extra checks on string settings (and on each string of a list): raise ValueError with the reason
CHECKS = {"dns.nameserver": _nameserver, "logs.files": _log_file}


class Config(Record):
    """The effective configuration: every key's value and where it came from (a plain record)."""

    FIELDS = ("values", "sources", "files_read", "warnings", "hosts")

    def __init__(
        self,
        values: dict[str, Any] | None = None,
        sources: dict[str, str] | None = None,
        files_read: list[str] | None = None,
        warnings: list[str] | None = None,
        hosts: list[HostEntry] | None = None,
    ) -> None:
        self.values: dict[str, Any] = {} if values is None else values
        self.sources: dict[str, str] = {} if sources is None else sources
        self.files_read: list[str] = [] if files_read is None else files_read
        self.warnings: list[str] = [] if warnings is None else warnings  # files skipped, said once by the caller
        self.hosts: list[HostEntry] = [] if hosts is None else hosts  # [[hosts]]: the fleet over SSH (below)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def set(self, key: str, value: Any, source: str) -> None:
        self.values[key] = _coerce(key, value, source)
        self.sources[key] = source

    def as_rows(self) -> list[dict[str, Any]]:
        return [{"key": k, "value": self.values[k], "source": self.sources[k], "help": SCHEMA[k].help} for k in SCHEMA]


def _coerce(key: str, value: Any, source: str) -> Any:
    setting = SCHEMA.get(key)
    if setting is None:
        raise ConfigError(f"{source}: unknown setting {key!r}")
    kind = setting.kind
    where = f"{source}: {key}"
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list:
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{where} must be a list of strings, got {_shown(value)}")
        check = CHECKS.get(key)
        for v in value:
            _check_text(where, v)
            if check is not None:
                try:
                    check(v)
                except ValueError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
        return list(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {setting.allowed()}, got {type(value).__name__}")
    return _in_range(key, setting, where, value)


def _in_range(key: str, setting: Setting, where: str, value: Any) -> Any:
    kind = setting.kind
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"{where} must be {setting.allowed()}, got {value}")
    if setting.low is not None and setting.high is not None and not setting.low <= value <= setting.high:
        raise ConfigError(f"{where} must be {setting.allowed()}, got {_shown(value)}")
    if kind is str:
        _check_text(where, value)
        if setting.choices and value not in setting.choices:
            raise ConfigError(f"{where} must be {setting.allowed()}, got {_shown(value)}")
        check = CHECKS.get(key)
        if check is not None:
            try:
                check(value)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_text(where: str, value: str) -> None:
    if "\x00" in value:
        raise ConfigError(f"{where} must not contain a NUL character")
    if len(value) > 4096:
        raise ConfigError(f"{where} is longer than 4096 characters")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = read_capped(path, MAX_CONFIG_BYTES + 1)  # a FIFO planted as the config blocks nothing
    except PermissionError:
        raise ConfigError(f"{path}: permission denied") from None
    except NotRegularFile as exc:
        raise ConfigError(f"{path}: is {exc.kind}, not a config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB: not a config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    # loaded here, where a config file exists: a machine without one does not pay for it
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return _flatten(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


MAX_CONFIG_BYTES = 1 << 20


def _present(path: Path, warnings: list[str]) -> bool:
    """Is there a file to read at an automatic layer? Unreadable places are warned about."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except PermissionError:
        warnings.append(f"{path}: cannot be read (permission denied on it or a directory above); skipped")
        return False
    except OSError as exc:
        warnings.append(f"{path}: cannot be read ({exc.strerror or exc}); skipped")
        return False
    import stat

    if stat.S_ISDIR(st.st_mode):
        warnings.append(f"{path}: is a directory, not a config file; skipped")
        return False
    return True


def load(explicit: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build the effective configuration. ``overrides`` are CLI flags (highest priority)."""
    cfg = Config()
    for key, setting in SCHEMA.items():
        cfg.set(key, setting.default, "default")
    layers: list[Path] = [SYSTEM_CONFIG, user_config_dir() / "config.toml"]
    for path in layers:
        if _present(path, cfg.warnings):
            try:
                values = read_toml(path)
            except ConfigError as exc:
                if "permission denied" not in str(exc):
                    raise
                cfg.warnings.append(f"{exc}; skipped")
                continue
            _apply(cfg, path, values)
    if explicit is not None:
        try:
            explicit.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ConfigError(f"{explicit}: no such config file") from None
        except OSError:
            pass  # read_toml says what is wrong with it
        _apply(cfg, explicit, read_toml(explicit))
    for key, value in (overrides or {}).items():
        cfg.set(key, value, "command line")
    return cfg


def _apply(cfg: Config, path: Path, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key == "hosts":  # an array of tables, not a dotted setting: the fleet (below)
            cfg.hosts = parse_hosts(value, str(path))
            continue
        cfg.set(key, value, str(path))
    cfg.files_read.append(str(path))


# -- [[hosts]]: the mail hosts one dashboard reads over SSH (docs/fleet.md) ---------------------
# Kept apart from SCHEMA: an array of tables, each a host. A layer that has [[hosts]] replaces
# the list of the layers below (as every list setting does); each host remembers its file.

HOST_KEYS = {
    "name": "what the dashboard calls the host (letters, digits, . _ -)",
    "ssh": "the ssh target: user@host, host, or a Host alias of ~/.ssh/config",
    "command": "the agent's command on the host (default: mailtui agent --stdio)",
    "read_only": "true: no ban, unban or queue change is sent to this host",
    "ssh_config": "an ssh config file for this host (ssh -F), instead of ~/.ssh/config",
}
DEFAULT_AGENT_COMMAND = "mailtui agent --stdio"
MAX_HOSTS = 200
_HOST_NAME = LazyRegex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# [user@]host: a name, an IPv4 address or [IPv6]; never starting with "-" (ssh would take it for an option)
_SSH_TARGET = LazyRegex(
    r"(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,63}@)?(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,252}|\[[0-9A-Fa-f:.]+\])"
)


class HostEntry(FrozenRecord):
    """One ``[[hosts]]`` table, checked (frozen; a plain record, see mailtui.core.plain)."""

    FIELDS = ("name", "ssh", "command", "read_only", "ssh_config", "source")
    name: str
    ssh: str
    command: str
    read_only: bool
    ssh_config: str
    source: str  # the file it came from, for ``mailtui config``

    def __init__(
        self,
        name: str,
        ssh: str,
        command: str = DEFAULT_AGENT_COMMAND,
        read_only: bool = False,
        ssh_config: str = "",
        source: str = "",
    ) -> None:
        self.__dict__.update(
            name=name, ssh=ssh, command=command, read_only=read_only, ssh_config=ssh_config, source=source
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ssh": self.ssh,
            "command": self.command,
            "read_only": self.read_only,
            "ssh_config": self.ssh_config,
            "source": self.source,
        }


def parse_hosts(value: Any, source: str) -> list[HostEntry]:
    """``[[hosts]]`` tables, checked: one line naming the file, the host and what is wrong."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: hosts must be [[hosts]] tables (name, ssh, ...), got {_shown(value)}")
    if len(value) > MAX_HOSTS:
        raise ConfigError(f"{source}: {len(value)} [[hosts]]: at most {MAX_HOSTS}")
    out: list[HostEntry] = []
    seen: set[str] = set()
    for i, table in enumerate(value, 1):
        name = table.get("name")
        where = f"{source}: [[hosts]] {name!r}" if isinstance(name, str) and name else f"{source}: [[hosts]] #{i}"
        unknown = sorted(set(table) - set(HOST_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(HOST_KEYS)})")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: needs a name (letters, digits, . _ -)")
        if not _HOST_NAME.fullmatch(name):
            raise ConfigError(
                f"{where}: the name must be 1-64 letters, digits, . _ - (starting with a letter or digit)"
            )
        if name in seen:
            raise ConfigError(f"{where}: a second host named {name!r} (names must be unique)")
        seen.add(name)
        target = table.get("ssh")
        if not isinstance(target, str) or not target:
            raise ConfigError(f'{where}: needs ssh = "user@host" (or a Host alias of ~/.ssh/config)')
        if not _SSH_TARGET.fullmatch(target):
            raise ConfigError(
                f"{where}: ssh = {_shown(target)} is not an ssh target (user@host, host, or [IPv6]; "
                "no spaces, no leading -; options belong in ~/.ssh/config)"
            )
        command = table.get("command", DEFAULT_AGENT_COMMAND)
        if not isinstance(command, str) or not command.strip():
            raise ConfigError(f"{where}: command must be a non-empty string")
        _check_text(f"{where}: command", command)
        import shlex  # only for a config with [[hosts]]

        try:
            shlex.split(command)
        except ValueError as exc:
            raise ConfigError(f"{where}: command cannot be split into words ({exc})") from None
        read_only = table.get("read_only", False)
        if not isinstance(read_only, bool):
            raise ConfigError(f"{where}: read_only must be true or false, got {type(read_only).__name__}")
        ssh_config = table.get("ssh_config", "")
        if not isinstance(ssh_config, str):
            raise ConfigError(f"{where}: ssh_config must be a path (a string)")
        _check_text(f"{where}: ssh_config", ssh_config)
        out.append(HostEntry(name, target, command, read_only, ssh_config, source))
    return out
