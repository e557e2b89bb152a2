"""The whole rig as one object: every daemon started, and the logs each of them writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.base import file_size
from tests.rig.dovecot import Dovecot, start_dovecot
from tests.rig.fail2ban import Fail2ban, start_fail2ban
from tests.rig.nsd import Nsd, start_nsd
from tests.rig.postfix import Postfix, start_postfix
from tests.rig.rsyslog import Rsyslog, start_rsyslog


@dataclass
class Rig:
    dir: Path
    rsyslog: Rsyslog
    nsd: Nsd
    dovecot: Dovecot
    postfix: Postfix  # logs through syslog
    postfix_file: Postfix  # logs through maillog_file (postlogd)
    fail2ban: Fail2ban
    _next_ip: list[int] = field(default_factory=lambda: [100])

    @property
    def logs(self) -> dict[str, Path]:
        """Every log the rig's daemons write, by format name."""
        return {
            "syslog": self.rsyslog.traditional,
            "syslog-rfc3339": self.rsyslog.rfc3339,
            "maillog_file": self.postfix_file.maillog_file,
            "dovecot": self.dovecot.log,
            "fail2ban": self.fail2ban.log,
        }

    def offsets(self) -> dict[str, int]:
        return {name: file_size(path) for name, path in self.logs.items()}

    def new_text(self, name: str, offsets: dict[str, int]) -> str:
        data = self.logs[name].read_bytes()[offsets.get(name, 0) :]
        return data.decode("utf-8", "replace")

    def fresh_ip(self) -> str:
        """A loopback source address no earlier session of this rig used (no PTR record)."""
        self._next_ip[0] += 1
        n = self._next_ip[0]
        return f"127.0.{n // 250}.{n % 250 + 2}"

    def stop(self) -> None:
        for stop in (
            self.fail2ban.stop,
            self.postfix.stop,
            self.postfix_file.stop,
            self.dovecot.stop,
            self.nsd.stop,
            self.rsyslog.stop,
        ):
            try:
                stop()
            except Exception:  # noqa: BLE001 - tear down as much as possible
                pass


def start_rig(dir: Path) -> Rig:
    started: list = []
    try:
        rsyslog = start_rsyslog(dir / "rsyslog")
        started.append(rsyslog)
        nsd = start_nsd(dir / "nsd")
        started.append(nsd)
        dovecot = start_dovecot(dir / "dovecot")
        started.append(dovecot)
        postfix = start_postfix(dir / "postfix", dovecot.auth_socket, log_to="syslog")
        started.append(postfix)
        postfix_file = start_postfix(dir / "postfix-file", dovecot.auth_socket, log_to="file")
        started.append(postfix_file)
        fail2ban = start_fail2ban(dir / "fail2ban", rsyslog.traditional, dovecot.log)
    except BaseException:
        for daemon in reversed(started):
            daemon.stop()
        raise
    return Rig(dir, rsyslog, nsd, dovecot, postfix, postfix_file, fail2ban)
