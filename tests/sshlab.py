"""A real OpenSSH server on loopback for the fleet tests, with throw-away host and user keys.

The client side is an ssh config file naming each test host (mx1, mx2, imap1: aliases of the
one sshd, each running its own agent command against its own log directory) with the lab's
``known_hosts`` and ``StrictHostKeyChecking yes``: the tests connect the way an admin's
``~/.ssh/config`` does, and host keys are checked as they must always be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig.base import REQUIRE_ENV, daemons_required, free_port, stop_process, wait_for_port

SSHD_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {dir}/host_ed25519
PidFile {dir}/sshd.pid
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
LogLevel ERROR
"""


def need_sshd() -> str:
    if os.geteuid() != 0:
        # an sshd started by a user can only log that user in, and the hosts log in as root
        message = "the ssh lab logs its hosts in as root: needs root"
        if daemons_required():
            pytest.fail(f"{message} ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
        pytest.skip(message)
    path = shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path and shutil.which("ssh") and shutil.which("ssh-keygen"):
        return path
    message = "OpenSSH (openssh-server, openssh-client) is not installed: sudo bash .ci/install-daemons.sh"
    if daemons_required():
        pytest.fail(f"{message} ({REQUIRE_ENV} is set, so this is a failure)", pytrace=False)
    pytest.skip(message)


@dataclass
class SshLab:
    dir: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def config(self) -> Path:
        return self.dir / "ssh_config"

    def add_host(self, alias: str) -> None:
        with self.config.open("a") as fh:
            fh.write(
                f"Host {alias}\n  HostName 127.0.0.1\n  Port {self.port}\n  User root\n"
                f"  IdentityFile {self.dir}/user_ed25519\n  IdentitiesOnly yes\n"
                f"  UserKnownHostsFile {self.dir}/known_hosts\n  StrictHostKeyChecking yes\n"
                f"  HostKeyAlias mailtui-lab\n"
            )

    def sessions(self) -> list[int]:
        """pids of the sshd processes serving a session (children of the listener)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        stop_process(self.proc)


def start_sshd(dir: Path) -> SshLab:
    sshd = need_sshd()
    dir.mkdir(parents=True, exist_ok=True)
    os.chmod(dir, 0o700)
    for name in ("host_ed25519", "user_ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(dir / name)], check=True)
    (dir / "authorized_keys").write_text((dir / "user_ed25519.pub").read_text())
    host_pub = (dir / "host_ed25519.pub").read_text().split()
    (dir / "known_hosts").write_text(f"mailtui-lab {host_pub[0]} {host_pub[1]}\n")
    port = free_port()
    (dir / "sshd_config").write_text(SSHD_CONFIG.format(port=port, dir=dir))
    (dir / "ssh_config").write_text("")
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    with open(dir / "sshd.err", "wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(dir / "sshd_config")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        wait_for_port(port, timeout=15)
    except TimeoutError:
        stop_process(proc)
        raise RuntimeError("sshd did not start: " + (dir / "sshd.err").read_text()[-800:]) from None
    time.sleep(0.1)
    return SshLab(dir, port, proc)
