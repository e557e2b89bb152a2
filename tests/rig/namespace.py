"""Run a daemon in a private mount namespace whose /etc/resolv.conf points at the rig's NSD.

Postfix resolves HELO names and client addresses through the C library, which reads
/etc/resolv.conf. Bind-mounting a rig resolv.conf over it inside ``unshare --mount``
sends those queries to 127.0.0.153:53 (NSD) without touching the machine's own file,
so no query of the rig leaves loopback.
"""

from __future__ import annotations

from pathlib import Path

from tests.rig.base import need
from tests.rig.nsd import RESOLVER_IP


def resolv_conf(dir: Path) -> Path:
    path = dir / "resolv.conf"
    path.write_text(f"nameserver {RESOLVER_IP}\noptions timeout:1 attempts:1\n")
    return path


def in_rig_namespace(argv: list[str], resolv: Path) -> list[str]:
    """Wrap ``argv`` so it runs with the rig resolver; the daemon it forks keeps the namespace."""
    unshare = need("unshare")
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, str(resolv), *argv]
