"""Dovecot with its own base_dir, log file, self-signed certificate and passwd-file users.

Listens on loopback high ports: POP3 (STARTTLS-capable), POP3S, IMAP, IMAPS, plus a SASL
auth socket that the rig's Postfix uses for SMTP AUTH on submission.
``ssl = yes`` with ``disable_plaintext_auth = yes``: cleartext logins without TLS are
refused, which is what the plaintext-auth scenarios need.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.rig.base import (
    file_size,
    free_port,
    make_world_dir,
    need_daemon,
    pid_alive,
    run,
    start_daemonizing,
    wait_for,
    wait_for_port,
)
from tests.rig.namespace import in_rig_namespace, resolv_conf
from tests.rig.tls import make_cert

USERS = {"alice": "alice-secret", "bob": "bob-secret", "osakana@example.net": "fish-secret"}
NOBODY_UID = 65534

CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
log_timestamp = "%b %d %H:%M:%S "
protocols = imap pop3
listen = {host}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
login_trusted_networks =
mail_location = maildir:{dir}/mail/%n
first_valid_uid = 1
last_valid_uid = 0
default_internal_user = dovecot
default_login_user = dovenull
mail_privileged_group =
shutdown_clients = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={dir}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service auth {{
  unix_listener {dir}/auth-client {{
    mode = 0666
  }}
}}
"""


@dataclass
class Dovecot:
    dir: Path
    ports: dict[str, int]
    conf: Path
    exe: str
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    host: str = "127.0.0.1"

    @property
    def log(self) -> Path:
        return self.dir / "dovecot.log"

    @property
    def auth_socket(self) -> Path:
        return self.dir / "auth-client"

    def log_offset(self) -> int:
        return file_size(self.log)

    def start(self) -> None:
        argv = in_rig_namespace([self.exe, "-c", str(self.conf)], resolv_conf(self.dir))
        start_daemonizing(argv, self.dir / "start.err")
        for port in self.ports.values():
            wait_for_port(port, self.host)

    def stop(self) -> None:
        run([self.exe, "-c", str(self.conf), "stop"], check=False)
        pidfile = self.dir / "run" / "master.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return
        # "dovecot stop" is asynchronous: give the master 5 s, then kill it
        try:
            wait_for(lambda: not pid_alive(pid), 5, what="dovecot to stop")
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)


def start_dovecot(dir: Path, host: str = "127.0.0.1", ports: dict[str, int] | None = None, extra: str = "") -> Dovecot:
    """``ports`` (imap, imaps, pop3, pop3s) default to free high ports; the certificate is
    ``dir/cert.pem`` when the caller put one there (the DNS lab's CA-issued one); ``extra``
    is appended to the configuration (a later top-level setting wins: ``auth_verbose = no``)."""
    exe = need_daemon("dovecot")
    make_world_dir(dir)
    for sub in ("run", "state"):
        make_world_dir(dir / sub)
    mail = make_world_dir(dir / "mail")
    subprocess.run(["chown", f"{NOBODY_UID}:{NOBODY_UID}", str(mail)], check=True)
    cert, key = make_cert(dir)
    (dir / "users").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in USERS.items()))
    ports = ports or {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    conf = dir / "dovecot.conf"
    conf.write_text(CONF.format(dir=dir, cert=cert, key=key, uid=NOBODY_UID, host=host, **ports) + extra)
    dc = Dovecot(dir, ports, conf, exe, host=host)
    dc.start()
    return dc
