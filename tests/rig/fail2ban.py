"""fail2ban-server with its own config dir, socket, pid file, database and log.

Jails: postfix (mode=more) and postfix-sasl (mode=auth) on the rig's syslog mail log,
dovecot on Dovecot's own log file, recidive on fail2ban's own log. Every jail uses
``backend = polling`` and the ``dummy`` action writing to a file in the rig directory,
so bans are real inside fail2ban and no firewall is touched. The stock filters are used
read-only from /etc/fail2ban/filter.d.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.rig.base import file_size, need, need_daemon, run, start_daemonizing, wait_for
from tests.rig.namespace import in_rig_namespace, resolv_conf

STOCK = Path("/etc/fail2ban")
MAXRETRY = 3

FAIL2BAN_CONF = """\
[Definition]
loglevel = INFO
logtarget = {dir}/fail2ban.log
syslogsocket = auto
allowipv6 = auto
socket = {dir}/fail2ban.sock
pidfile = {dir}/fail2ban.pid
dbfile = {dir}/fail2ban.sqlite3
dbpurgeage = 1d
"""

JAIL_CONF = """\
[DEFAULT]
backend = polling
usedns = no
ignoreself = false
ignoreip =
maxretry = {maxretry}
findtime = 10m
bantime = 10m
banaction = dummy
action = dummy[target="{dir}/dummy-bans"]

[postfix]
enabled = true
filter = postfix[mode=more]
logpath = {mail_log}
backend = polling

[postfix-sasl]
enabled = true
filter = postfix[mode=auth]
logpath = {mail_log}
backend = polling

[dovecot]
enabled = true
filter = dovecot
logpath = {dovecot_log}
backend = polling

[recidive]
enabled = true
filter = recidive
logpath = {dir}/fail2ban.log
backend = polling
bantime = 1w
findtime = 1d
maxretry = 5
"""

JAILS = ("postfix", "postfix-sasl", "dovecot", "recidive")


@dataclass
class Fail2ban:
    dir: Path
    conf_dir: Path
    client: str

    @property
    def socket(self) -> Path:
        return self.dir / "fail2ban.sock"

    @property
    def log(self) -> Path:
        return self.dir / "fail2ban.log"

    @property
    def db(self) -> Path:
        return self.dir / "fail2ban.sqlite3"

    def log_offset(self) -> int:
        return file_size(self.log)

    def cli(self, *args: str, check: bool = True) -> str:
        return run([self.client, "-c", str(self.conf_dir), *args], check=check, timeout=30).stdout

    def status(self, jail: str) -> dict[str, str]:
        """``fail2ban-client status JAIL`` as {field: value} (the peer mailtui must agree with)."""
        fields: dict[str, str] = {}
        for line in self.cli("status", jail).splitlines():
            line = line.lstrip("|`- ")
            if ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
        return fields

    def banned(self, jail: str) -> list[str]:
        return self.status(jail).get("Banned IP list", "").split()

    def start(self) -> None:
        argv = in_rig_namespace([self.client, "-c", str(self.conf_dir), "-x", "start"], resolv_conf(self.dir))
        start_daemonizing(argv, self.dir / "start.err")
        wait_for(lambda: "pong" in self.cli("ping", check=False), 30, what="fail2ban ping")

    def stop(self) -> None:
        self.cli("stop", check=False)


def start_fail2ban(dir: Path, mail_log: Path, dovecot_log: Path, jail_conf: str = JAIL_CONF) -> Fail2ban:
    """``jail_conf`` replaces the rig's jails (the benchmark's 20 jails); placeholders as in JAIL_CONF."""
    client = need_daemon("fail2ban-client")
    need("fail2ban-server")
    conf_dir = dir / "etc"
    conf_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("filter.d", "action.d"):
        link = conf_dir / sub
        if not link.exists():
            link.symlink_to(STOCK / sub)
    (conf_dir / "fail2ban.conf").write_text(FAIL2BAN_CONF.format(dir=dir))
    (conf_dir / "jail.conf").write_text(
        jail_conf.format(dir=dir, maxretry=MAXRETRY, mail_log=mail_log, dovecot_log=dovecot_log)
    )
    for log in (mail_log, dovecot_log, dir / "fail2ban.log"):
        log.touch(exist_ok=True)
    f2b = Fail2ban(dir, conf_dir, client)
    f2b.start()
    return f2b


def many_jails_conf(count: int) -> str:
    """``count`` jails named bench01.. with no action (bans are only recorded inside fail2ban)."""
    head = (
        "[DEFAULT]\nbackend = polling\nusedns = no\nignoreself = false\nignoreip =\nmaxretry = 3\n"
        "findtime = 10m\nbantime = 1h\nbanaction =\naction =\n"
    )
    return head + "".join(
        f"\n[bench{i:02d}]\nenabled = true\nfilter = postfix\nlogpath = {{mail_log}}\n" for i in range(1, count + 1)
    )
