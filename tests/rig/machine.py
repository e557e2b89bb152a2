"""Stand-ins for a mail admin's own daemons: Postfix and Dovecot on 0.0.0.0's standard ports,
started in the machine's network namespace (tests/rig/netns.py), outside the test process's own.

tests/test_rig_isolation.py starts them and then runs the rig and the DNS lab beside them, which
is the situation every mail admin who runs the suite on their server is in. Their configuration
is the rig's (own directories, loopback-only relaying, nobody can log in): only the addresses
and ports are a real server's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.rig import netns
from tests.rig.base import free_port, make_world_dir, need, run, start_daemonizing
from tests.rig.dovecot import CONF as DOVECOT_CONF
from tests.rig.dovecot import NOBODY_UID, Dovecot
from tests.rig.postfix import MAIN_CF, MASTER_CF, Postfix, _uid
from tests.rig.tls import RIG_HOSTNAME, make_cert

DOVECOT_PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
POSTFIX_PORTS = {"smtp": 25, "submission": 587}
ALL_PORTS = frozenset([*DOVECOT_PORTS.values(), *POSTFIX_PORTS.values()])


@dataclass
class Machine:
    dovecot: Dovecot
    postfix: Postfix


def host_listeners() -> set[tuple[str, int]]:
    """(address, port) of every TCP socket listening in the machine's network namespace."""
    text = run(netns.host_command(["cat", "/proc/net/tcp"]), timeout=10).stdout
    out = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
            hexaddr, hexport = fields[1].split(":")
            octets = bytes.fromhex(hexaddr)[::-1]  # little-endian on every Linux this runs on
            out.add((".".join(str(b) for b in octets), int(hexport, 16)))
    return out


def _wait_listening(ports: frozenset[int], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        wild = {port for address, port in host_listeners() if address == "0.0.0.0"}
        if ports <= wild:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the machine's daemons do not listen on 0.0.0.0:{sorted(ports - wild)}")
        time.sleep(0.1)


def _start_dovecot(dir: Path) -> Dovecot:
    exe = need("dovecot")
    make_world_dir(dir)
    for sub in ("run", "state", "mail"):
        make_world_dir(dir / sub)
    cert, key = make_cert(dir)
    (dir / "users").write_text("")  # nobody can log in
    conf = dir / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(dir=dir, cert=cert, key=key, uid=NOBODY_UID, host="*", **DOVECOT_PORTS))
    dovecot = Dovecot(dir, dict(DOVECOT_PORTS), conf, exe, users={}, host="0.0.0.0")
    start_daemonizing(netns.host_command([exe, "-c", str(conf)]), dir / "start.err")
    return dovecot


def _start_postfix(dir: Path, sasl_socket: Path) -> Postfix:
    exe = need("postfix")
    conf_dir = make_world_dir(dir / "etc")
    for sub in ("spool", "data"):
        make_world_dir(dir / sub)
    import os

    os.chown(dir / "data", _uid("postfix"), -1)
    cert, key = make_cert(dir, RIG_HOSTNAME)
    (conf_dir / "main.cf").write_text(
        MAIN_CF.format(
            dir=dir,
            hostname="mail.machine.test",
            local_maps="",
            size_limit=10240000,
            cert=cert,
            key=key,
            sasl_path=sasl_socket,
            dead_port=free_port(),
            interfaces="all",
            maillog_file=dir / "postfix.log",
        )
    )
    # "25 inet ..." and "587 inet ...": every address, as a stock master.cf has it
    (conf_dir / "master.cf").write_text(MASTER_CF.format(host="ALL", **POSTFIX_PORTS).replace("ALL:", ""))
    postfix = Postfix(dir, conf_dir, dict(POSTFIX_PORTS), exe, "file", dir / "resolv.conf", "0.0.0.0")
    start_daemonizing(netns.host_command([exe, "-c", str(conf_dir), "start"]), dir / "postfix.err")
    return postfix


@contextmanager
def machine_daemons(dir: Path) -> Iterator[Machine | None]:
    """The machine's Postfix and Dovecot on 0.0.0.0:25/587/110/143/993/995, stopped afterwards;
    None when the machine's own daemons already hold those ports (then they are the proof)."""
    if not netns.STATE.active:
        raise RuntimeError("the machine's daemons need the test process in its own namespace: " + netns.STATE.reason)
    if ALL_PORTS & {port for _, port in host_listeners()}:
        yield None
        return
    dovecot = _start_dovecot(dir / "dovecot")
    try:
        postfix = _start_postfix(dir / "postfix", dovecot.auth_socket)
        try:
            _wait_listening(ALL_PORTS)
            yield Machine(dovecot, postfix)
        finally:
            postfix.stop()
    finally:
        dovecot.stop()
