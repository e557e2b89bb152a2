"""Layered configuration: built-in defaults, /etc, the user's XDG file, --config, then CLI flags.

Every effective value remembers where it came from so ``mailtui config`` can show it.
The schema is a flat table of dotted keys; a TOML file uses the sections (``[logs]``
``backfill = 200``). Unknown keys and wrong types are reported with the file name,
never silently ignored.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration file is unreadable or holds an invalid value."""


@dataclass(frozen=True)
class Setting:
    default: Any
    kind: type
    help: str


SCHEMA: dict[str, Setting] = {
    "logs.files": Setting([], list, "log files to watch instead of the auto-detected ones"),
    "logs.mail": Setting("", str, "the syslog mail log (auto: /var/log/mail.log, /var/log/maillog, ...)"),
    "logs.dovecot": Setting("", str, "Dovecot's own log_path file (auto: doveconf -h log_path)"),
    "logs.fail2ban": Setting("", str, "fail2ban's log (auto: its logtarget)"),
    "logs.journald": Setting("auto", str, "read journald: auto (when no mail log file exists), yes, no"),
    "logs.backfill": Setting(500, int, "lines read back from each file when starting"),
    "logs.max_lines": Setting(20000, int, "lines kept in the Logs pane"),
    "fail2ban.socket": Setting("", str, "fail2ban-server socket (auto: fail2ban.local/.conf, else default)"),
    "postfix.config_dir": Setting("", str, "Postfix configuration directory passed to postconf -c"),
    "dovecot.config": Setting("", str, "dovecot.conf passed to doveconf -c"),
    "dns.domain": Setting("", str, "domain checked by the DNS pane (auto: postconf mydomain)"),
    "dns.nameserver": Setting("", str, "resolver HOST[:PORT] for every DNS lookup (auto: system)"),
    "dns.ca_file": Setting("", str, "extra CA bundle trusted by the HTTPS and TLS checks (a private CA)"),
    "dns.blocklists": Setting([], list, "DNS blocklists our sending addresses are looked up in (zone, or "
                                        "domain:zone for domain lists); empty: not checked"),
    "alerts.deferred_max": Setting(100, int, "alert when the deferred queue holds more messages"),
    "alerts.deferred_age_hours": Setting(24.0, float, "alert when a deferred message is older (hours)"),
    "alerts.cert_days": Setting(14, int, "alert when a configured certificate expires within (days)"),
    "alerts.disk_percent": Setting(90.0, float, "alert when the queue or mail store disk is fuller (%)"),
    "ui.read_only": Setting(False, bool, "disable every action that changes the server"),
    "ui.refresh_seconds": Setting(5.0, float, "seconds between polls of fail2ban and services"),
    "containers.mode": Setting("auto", str, "read a mail appliance in containers: auto (when its containers "
                                            "run), yes, no"),
    "containers.socket": Setting("", str, "container engine API socket (auto: DOCKER_HOST, /var/run/docker.sock, "
                                          "/run/podman/podman.sock)"),
    "containers.postfix": Setting("", str, "the Postfix container's name (auto: by compose service or image)"),
    "containers.dovecot": Setting("", str, "the Dovecot container's name (auto: by compose service or image)"),
    "containers.mailcow_url": Setting("", str, "mailcow's web address for its API (bans), e.g. https://127.0.0.1"),
    "containers.mailcow_api_key": Setting("", str, "mailcow read-only API key (bans, why)"),
    "containers.mailcow_api_key_rw": Setting("", str, "mailcow read-write API key (only for unban)"),
    "containers.mailcow_verify_tls": Setting(True, bool, "check the mailcow API's certificate"),
}

SYSTEM_CONFIG = Path("/etc/mailtui/config.toml")


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mailtui"


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    files_read: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def set(self, key: str, value: Any, source: str) -> None:
        self.values[key] = _coerce(key, value, source)
        self.sources[key] = source

    def as_rows(self) -> list[dict[str, Any]]:
        return [
            {"key": k, "value": self.values[k], "source": self.sources[k], "help": SCHEMA[k].help}
            for k in SCHEMA
        ]


def _coerce(key: str, value: Any, source: str) -> Any:
    setting = SCHEMA.get(key)
    if setting is None:
        raise ConfigError(f"{source}: unknown setting {key!r}")
    kind = setting.kind
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{source}: {key} must be {kind.__name__}, got {type(value).__name__}")


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
        with path.open("rb") as fh:
            return _flatten(tomllib.load(fh))
    except PermissionError:
        raise ConfigError(f"{path}: permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None


def load(explicit: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build the effective configuration. ``overrides`` are CLI flags (highest priority)."""
    cfg = Config()
    for key, setting in SCHEMA.items():
        cfg.set(key, setting.default, "default")
    layers: list[Path] = [SYSTEM_CONFIG, user_config_dir() / "config.toml"]
    for path in layers:
        if path.is_file():
            _apply_file(cfg, path)
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such config file")
        _apply_file(cfg, explicit)
    for key, value in (overrides or {}).items():
        cfg.set(key, value, "command line")
    return cfg


def _apply_file(cfg: Config, path: Path) -> None:
    for key, value in read_toml(path).items():
        cfg.set(key, value, str(path))
    cfg.files_read.append(str(path))
