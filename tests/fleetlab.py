"""Rig-ish mail hosts behind the sshlab's sshd: each its own log directory, agent config and
(optionally) a real fail2ban-server watching its mail log; the dashboard's config names them
as ``[[hosts]]`` with the lab's ssh config, the way an admin's ``~/.ssh/config`` would."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import proc_stat
from tests.minif2b import MiniFail2ban, start_mini
from tests.sshlab import SshLab

REPO = Path(__file__).resolve().parent.parent

JAILS = """\
[DEFAULT]
backend = polling
usedns = no
ignoreself = false
banaction =
action =

[postfix-sasl]
enabled = true
filter = postfix[mode=auth]
logpath = {dir}/mail.log
maxretry = 3
findtime = 10m
bantime = 1h
"""


class LabHost:
    """One mail host: ``dir/mail.log`` (written by the test), ``dir/agent.toml`` (the agent's
    own config), a fail2ban-server when asked for, and the ``[[hosts]]`` entry for it."""

    def __init__(
        self,
        lab: SshLab,
        root: Path,
        name: str,
        *,
        fail2ban: bool,
        agent_read_only: bool = False,
        refresh: float = 0.5,
        main_cf: str = "",
        postfix_dir: str = "",
        extra: str = "",
        master_cf: str = "",
        journal_dir: str = "",
        system_journal: bool = False,
        backfill: int = 0,
        prefix: str = "",
    ) -> None:
        self.name = name
        self.dir = root / name
        (self.dir / "xdg").mkdir(parents=True)
        self.f2b: MiniFail2ban | None = start_mini(self.dir, JAILS) if fail2ban else None
        self.log = self.dir / "mail.log"
        self.log.touch()
        self.written: list[str] = []
        self.n = 0
        files = [str(self.log)] + ([str(self.f2b.log)] if self.f2b else [])
        socket = self.f2b.socket if self.f2b else str(self.dir / "no-fail2ban.sock")
        # postfix_dir: a real Postfix's config dir (its queue is this host's); else none, or main_cf's
        postfix_dir = postfix_dir or "/nonexistent/postfix"
        if main_cf:  # this host's own Postfix settings, read by postconf -c there
            (self.dir / "postfix").mkdir()
            (self.dir / "postfix" / "main.cf").write_text(main_cf)
            (self.dir / "postfix" / "master.cf").write_text(master_cf)
            postfix_dir = str(self.dir / "postfix")
        self.postfix_dir = postfix_dir
        journal = f"journal_dir = '{journal_dir}'\n" if journal_dir else ""  # followed by the agent too
        # the system journal (a host without rsyslog): no [logs] files, journald = yes beside mail.log
        sources = f"mail = '{self.log}'\njournald = 'yes'\n" if system_journal else f"files = {files!r}\n"
        (self.dir / "agent.toml").write_text(
            f"[logs]\n{sources}{journal}fail2ban = '{self.f2b.log if self.f2b else ''}'\n"
            f"backfill = {backfill}\n"
            f"[fail2ban]\nsocket = '{socket}'\n[postfix]\nconfig_dir = '{postfix_dir}'\n"
            f"[dovecot]\nconfig = '/nonexistent/dovecot.conf'\n[ui]\nrefresh_seconds = {refresh}\n"
            "[containers]\nmode = 'no'\n" + extra
        )
        lab.add_host(name)
        flags = "--read-only " if agent_read_only else ""
        self.command = (  # prefix: e.g. nsenter into a private journald's namespace
            f"{prefix + ' ' if prefix else ''}env XDG_CONFIG_HOME={self.dir}/xdg PYTHONPATH={REPO} {sys.executable} -m mailtui {flags}"
            f"--config {self.dir}/agent.toml agent --stdio"
        )
        self.lab = lab

    def hosts_table(self, read_only: bool = False) -> str:
        return (
            f'[[hosts]]\nname = "{self.name}"\nssh = "{self.name}"\ncommand = "{self.command}"\n'
            f'ssh_config = "{self.lab.config}"\n' + ("read_only = true\n" if read_only else "")
        )

    def write(self, count: int, ip: str = "") -> list[str]:
        lines = []
        with self.log.open("a") as fh:
            for _ in range(count):
                self.n += 1
                addr = ip or f"198.51.100.{self.n % 250 + 1}"
                line = (
                    f"{time.strftime('%b %e %H:%M:%S')} {self.name} postfix/smtpd[{self.n}]: "
                    f"warning: unknown[{addr}]: SASL LOGIN authentication failed: x{self.n}"
                )
                fh.write(line + "\n")
                lines.append(line)
        self.written += lines
        return lines

    def session(self) -> int:
        """The sshd process serving this host's agent (not our ssh client, which names the same file)."""
        found = subprocess.run(
            ["pgrep", "-f", "--", f"--config {self.dir}/agent.toml agent"], capture_output=True, text=True
        )
        for pid in found.stdout.split():
            try:
                parent = int(proc_stat(pid)[1])
                if Path(f"/proc/{parent}/comm").read_text().strip() == "sshd":
                    return parent
            except (OSError, ValueError, IndexError):
                continue
        raise AssertionError(f"no sshd session runs the agent of {self.name}")

    def banned(self, jail: str = "postfix-sasl") -> str:
        assert self.f2b is not None
        return self.f2b.cli("status", jail)

    def stop(self) -> None:
        if self.f2b is not None:
            self.f2b.stop()


def dashboard_config(
    root: Path, hosts: list[LabHost], read_only: frozenset[str] = frozenset(), refresh: float = 0.5
) -> Path:
    path = root / "dashboard.toml"
    path.write_text(
        f"[ui]\nrefresh_seconds = {refresh}\n[fail2ban]\nsocket = '/nonexistent/f2b.sock'\n"
        "[logs]\nfail2ban = '/nonexistent/f2b.log'\n[postfix]\nconfig_dir = '/nonexistent/postfix'\n"
        "[dovecot]\nconfig = '/nonexistent/dovecot.conf'\n[containers]\nmode = 'no'\n\n"
        + "\n".join(h.hosts_table(h.name in read_only) for h in hosts)
    )
    return path
