"""Postfix in its own config and queue directory, on 127.0.0.1 high ports.

``smtp`` (port 25's role): the restrictions the scenarios trip (non-FQDN and unknown HELO,
relay denied, unknown recipient, size limit). ``submission`` (587's role): STARTTLS
required, SMTP AUTH through the rig Dovecot's SASL socket. Logging goes either through
syslog (the rig's rsyslogd) or through Postfix's own ``maillog_file`` (postlogd).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

from tests.rig.base import (
    file_size,
    free_port,
    make_world_dir,
    need,
    need_daemon,
    run,
    start_daemonizing,
    wait_for_port,
)
from tests.rig.namespace import in_rig_namespace, resolv_conf
from tests.rig.tls import RIG_HOSTNAME, make_cert

LOCAL_USERS = ("alice", "bob", "osakana")
MESSAGE_SIZE_LIMIT = 20000

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/spool
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {hostname}
mydomain = rig.test
myorigin = $mydomain
mydestination = $myhostname, localhost, rig.test
inet_interfaces = {interfaces}
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
local_recipient_maps = {local_maps}
local_transport = discard:delivered by the mailtui rig
relayhost = [127.0.0.1]:{dead_port}
smtp_connect_timeout = 2s
message_size_limit = {size_limit}
smtpd_helo_required = yes
smtpd_helo_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination
smtpd_soft_error_limit = 3
smtpd_hard_error_limit = 5
smtpd_error_sleep_time = 0
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = {sasl_path}
smtpd_sasl_auth_enable = no
smtpd_forbid_unauth_pipelining = no
maillog_file = {maillog_file}
maillog_file_prefixes = {dir}
"""

MASTER_CF = """\
{host}:{smtp} inet n - n - - smtpd
{host}:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


@dataclass
class Postfix:
    dir: Path
    conf_dir: Path
    ports: dict[str, int]
    exe: str
    log_to: str  # "syslog" or "file"
    resolv: Path
    host: str = "127.0.0.1"
    #: bound, never listening: the relayhost's port refuses every connection for the rig's life
    #: (a port merely found free could be taken by a later test's server, which would then get
    #: Postfix's relay attempts and keep "deferred" mail active)
    dead_relay: socket.socket | None = None

    @property
    def maillog_file(self) -> Path:
        return self.dir / "postfix.log"

    def postconf(self, *args: str) -> str:
        return run([need("postconf"), "-c", str(self.conf_dir), *args]).stdout

    def postfix(self, *args: str) -> None:
        start_daemonizing([self.exe, "-c", str(self.conf_dir), *args], self.dir / "postfix.err")

    def start(self) -> None:
        argv = [self.exe, "-c", str(self.conf_dir), "start"]
        start_daemonizing(in_rig_namespace(argv, self.resolv), self.dir / "postfix.err")
        for port in self.ports.values():
            wait_for_port(port, self.host)

    def stop(self) -> None:
        try:
            self.postfix("stop")
        except RuntimeError:
            pass
        pidfile = self.dir / "spool" / "pid" / "master.pid"
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text().split()[0]), 9)
            except (ProcessLookupError, ValueError, IndexError):
                pass
        if self.dead_relay is not None:
            self.dead_relay.close()

    def queue_ids(self) -> list[str]:
        out = run([need("postqueue"), "-c", str(self.conf_dir), "-j"], check=False).stdout
        import json

        return [json.loads(line)["queue_id"] for line in out.splitlines() if line.strip()]

    def log_offset(self, syslog_file: Path | None = None) -> int:
        return file_size(self.maillog_file if self.log_to == "file" else syslog_file)


def _uid(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_uid


def start_postfix(
    dir: Path, sasl_socket: Path, log_to: str = "syslog", host: str = "127.0.0.1", ports: dict[str, int] | None = None
) -> Postfix:
    """``ports`` (smtp, submission) default to free high ports on ``host``."""
    exe = need_daemon("postfix")
    make_world_dir(dir)
    conf_dir = make_world_dir(dir / "etc")
    make_world_dir(dir / "spool")
    make_world_dir(dir / "data")
    os.chown(dir / "data", _uid("postfix"), -1)
    cert, key = make_cert(dir, RIG_HOSTNAME)
    ports = ports or {"smtp": free_port(), "submission": free_port()}
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))
    inline = "inline:{" + ", ".join(f"{u}=ok" for u in LOCAL_USERS) + "}"
    (conf_dir / "main.cf").write_text(
        MAIN_CF.format(
            dir=dir,
            hostname=RIG_HOSTNAME,
            local_maps=inline,
            size_limit=MESSAGE_SIZE_LIMIT,
            cert=cert,
            key=key,
            sasl_path=sasl_socket,
            dead_port=dead.getsockname()[1],
            # Postfix only accepts inet_interfaces that are interface addresses; 127.0.0.25 is not
            # (lo has 127.0.0.1/8), so other loopback hosts are named in master.cf only
            interfaces=host if host == "127.0.0.1" else "all",
            maillog_file=(dir / "postfix.log") if log_to == "file" else "",
        )
    )
    (conf_dir / "master.cf").write_text(MASTER_CF.format(host=host, **ports))
    pf = Postfix(dir, conf_dir, ports, exe, log_to, resolv_conf(dir), host, dead)
    pf.start()
    return pf
