"""A small real fail2ban-server for one test module: its own config, socket, log and database.

Unlike the rig's (tests/rig/fail2ban.py) it takes any jail.conf, can run with its clock set back
(libfaketime) and can be restarted, which the history and threshold tests need.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig.base import REQUIRE_ENV, daemons_required, need, wait_for

CONF = """\
[Definition]
loglevel = INFO
logtarget = {dir}/fail2ban.log
socket = {dir}/f2b.sock
pidfile = {dir}/f2b.pid
dbfile = {dir}/f2b.sqlite3
dbpurgeage = 60d
"""


def need_faketime() -> None:
    if shutil.which("faketime") is None:
        message = "faketime is not installed (sudo bash .ci/install-daemons.sh)"
        if daemons_required():
            pytest.fail(f"{message} ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
        pytest.skip(message)


@dataclass
class MiniFail2ban:
    dir: Path
    server: str
    client: str
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.dir / "etc"

    @property
    def socket(self) -> str:
        return str(self.dir / "f2b.sock")

    @property
    def log(self) -> Path:
        return self.dir / "fail2ban.log"

    @property
    def db(self) -> Path:
        return self.dir / "f2b.sqlite3"

    @property
    def mail_log(self) -> Path:
        return self.dir / "mail.log"

    def cli(self, *args: str) -> str:
        res = subprocess.run([self.client, "-c", str(self.conf), *args], capture_output=True, text=True, timeout=30)
        return res.stdout

    def start(self, days_back: int = 0) -> None:
        argv = [self.server, "-c", str(self.conf), "-f", "-x"]
        if days_back:
            argv = ["faketime", "-f", f"-{days_back}d", *argv]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(lambda: "pong" in self.cli("ping"), 30, what="fail2ban-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.cli("stop")
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def found(self, jail: str, count: int, timeout: float = 30) -> None:
        """Wait until fail2ban has logged ``count`` Found lines for ``jail``."""
        wait_for(
            lambda: self.log.read_text().count(f"[{jail}] Found ") >= count,
            timeout,
            what=f"{count} Found lines of {jail}",
        )


def start_mini(dir: Path, jails: str, days_back: int = 0) -> MiniFail2ban:
    f2b = MiniFail2ban(dir, need("fail2ban-server"), need("fail2ban-client"))
    f2b.conf.mkdir(parents=True, exist_ok=True)
    for sub in ("filter.d", "action.d"):
        link = f2b.conf / sub
        if not link.exists():
            link.symlink_to(Path("/etc/fail2ban") / sub)
    (f2b.conf / "fail2ban.conf").write_text(CONF.format(dir=dir))
    (f2b.conf / "jail.conf").write_text(jails.format(dir=dir))
    f2b.mail_log.touch()
    f2b.log.touch()  # a recidive jail needs its log to exist
    f2b.start(days_back)
    return f2b


def syslog_now(message: str, host: str = "mx", program: str = "postfix/smtpd[4242]") -> str:
    return f"{time.strftime('%b %e %H:%M:%S')} {host} {program}: {message}\n"
