"""The test process's own network and mount namespaces, so the rig never meets the machine's daemons.

The rig and the DNS lab bind fixed addresses and ports: 127.0.0.153:53 for the daemons'
resolver, 127.0.0.25's standard mail ports (25/587/110/143/993/995, named by the lab's SRV
records), 127.0.0.80:80/443, and /dev/log. On a mail admin's machine, whose own Postfix and
Dovecot listen on 0.0.0.0 and whose journald owns /dev/log, each of those is taken.

So the pytest process, when it runs as root (the rig needs root anyway), leaves the machine's
namespaces before any test runs (``enter()``, called from pytest_configure):

* a new **network** namespace with only ``lo`` up: 127.0.0.0/8 and ::1 are all there is, so
  every port is free, the test process reaches the daemons it starts (they inherit the
  namespace) and no test can reach anything but loopback;
* a new **mount** namespace with private propagation: the rig's rsyslog socket can be
  bind-mounted over /dev/log for this process and its children only (tests/rig/rsyslog.py).

The machine's own namespaces stay reachable through ``host_command()`` (nsenter), which
tests/test_rig_isolation.py uses to start "the machine's" Postfix and Dovecot on 0.0.0.0.
``MAILTUI_RIG_NETNS=0`` keeps the machine's namespaces (to look at the daemons with ``ss``);
``nsenter --net=/proc/<pytest pid>/ns/net ss -ltn`` looks inside otherwise.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
ENV = "MAILTUI_RIG_NETNS"


@dataclass
class State:
    active: bool = False
    reason: str = "not entered"  # why the machine's namespaces are still in use
    host_net_fd: int = -1  # the machine's network namespace, kept open for nsenter


STATE = State()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def enter() -> State:
    """Leave the machine's network and mount namespaces (root only); idempotent."""
    if STATE.active:
        return STATE
    if os.environ.get(ENV, "") in ("0", "off", "no"):
        STATE.reason = f"{ENV}=0"
        return STATE
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        STATE.reason = "not root (the rig is skipped too)"
        return STATE
    host_net = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    libc = _libc()
    if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        os.close(host_net)
        STATE.reason = f"unshare failed: {os.strerror(err)}"
        return STATE
    # systemd mounts / shared: without this, the bind mounts below would reach the machine
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        STATE.reason = f"making / private failed: {os.strerror(ctypes.get_errno())}"
    _bring_up_loopback()
    STATE.active, STATE.host_net_fd = True, host_net
    STATE.reason = ""
    return STATE


def bind_mount(source: str, target: str) -> None:
    """Mount ``source`` over ``target`` in this process's private mount namespace."""
    if not STATE.active:
        raise RuntimeError("bind mounts need the private mount namespace: " + STATE.reason)
    if _libc().mount(source.encode(), target.encode(), None, 0x1000, None) != 0:  # MS_BIND
        raise OSError(ctypes.get_errno(), f"mount --bind {source} {target}: {os.strerror(ctypes.get_errno())}")


def unmount(target: str) -> None:
    if STATE.active:
        _libc().umount2(target.encode(), 2)  # MNT_DETACH


def host_command(argv: list[str]) -> list[str]:
    """``argv`` run in the machine's network namespace (this process keeps the descriptor open)."""
    if not STATE.active:
        return argv
    return ["nsenter", f"--net=/proc/{os.getpid()}/fd/{STATE.host_net_fd}", "--", *argv]


def header() -> str:
    if STATE.active:
        return "mailtui rig: own network namespace (loopback only) and mount namespace"
    return f"mailtui rig: the machine's network ({STATE.reason}); fixed rig ports may collide"
