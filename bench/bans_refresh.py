"""A full Bans refresh of 20 jails x 1,000 banned IPs, against the shell alias admins use.

Needs root and fail2ban (Debian package). Starts a fail2ban-server of its own (the rig's
helper, no action: bans are recorded inside fail2ban, nothing else runs), bans 1,000 addresses
in each of 20 jails, then times:

- mailtui: one ``read_bans()`` over the socket (every jail's counters and banned IPs with
  start, ban time and end), median of 20;
- the alias: ``fail2ban-client status | sed -n 's/,//g;s/.*Jail list://p' | xargs -n1
  fail2ban-client status``, median of 3.
"""

from __future__ import annotations

import ipaddress
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

JAILS = 20
PER_JAIL = 1000


def _jails() -> str:
    from tests.rig.fail2ban import many_jails_conf

    return many_jails_conf(JAILS)


def measure() -> dict[str, float]:
    from mailtui.fail2ban.client import Fail2banClient
    from mailtui.fail2ban.source import read_bans
    from tests.rig.fail2ban import start_fail2ban

    base = Path(tempfile.mkdtemp(prefix="mailtui-bench-f2b-"))
    base.chmod(0o755)
    (base / "mail.log").touch()
    f2b = start_fail2ban(base / "f2b", base / "mail.log", base / "dovecot.log", jail_conf=_jails())
    try:
        net = ipaddress.ip_network("10.77.0.0/16")
        addresses = [str(a) for a in net.hosts()]
        t0 = time.perf_counter()
        with Fail2banClient(str(f2b.socket), timeout=120) as client:
            for i in range(JAILS):
                chunk = addresses[i * PER_JAIL : (i + 1) * PER_JAIL]
                client.call("set", f"bench{i + 1:02d}", "banip", *chunk)
        setup = time.perf_counter() - t0
        from mailtui.fail2ban import status

        cold, steady = [], []
        for _ in range(10):
            status._ENTRIES.clear()
            status._STAMPS.clear()
            t0 = time.perf_counter()
            result = read_bans(str(f2b.socket))
            cold.append(time.perf_counter() - t0)
        for _ in range(20):
            t0 = time.perf_counter()
            result = read_bans(str(f2b.socket), previous=result.snapshot)
            steady.append(time.perf_counter() - t0)
        snap = result.snapshot
        assert snap is not None and len(snap.jails) == JAILS
        banned = sum(len(j.banned) for j in snap.jails)
        alias = (
            f"fail2ban-client -c {f2b.conf_dir} status | sed -n 's/,//g;s/.*Jail list://p' | "
            f"xargs -n1 fail2ban-client -c {f2b.conf_dir} status"
        )
        theirs = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run(["bash", "-c", alias], capture_output=True, text=True, timeout=600)
            theirs.append(time.perf_counter() - t0)
        alias_ips = sum(
            len(line.split(":", 1)[1].split()) for line in out.stdout.splitlines() if "Banned IP list:" in line
        )
    finally:
        f2b.stop()
    return {
        "cold": statistics.median(cold),
        "steady": statistics.median(steady),
        "alias": statistics.median(theirs),
        "banned": banned,
        "alias_banned": alias_ips,
        "setup": setup,
        "version": snap.version,
    }


def section(m: dict[str, float]) -> str:
    return f"""## Bans refresh: {JAILS} jails x {PER_JAIL:,} banned IPs

A fail2ban-server ({m["version"]}) of the benchmark's own with {JAILS} jails and {m["banned"]:,} banned
addresses (the alias counted {m["alias_banned"]:,}; banning them took {m["setup"]:.1f} s). mailtui reads every jail's
counters and every banned IP with ban start, ban time and end over the socket; the alias is
`fail2ban-client status | sed -n 's/,//g;s/.*Jail list://p' | xargs -n1 fail2ban-client status`
(one Python process per jail, IP lists without times).

| run | one refresh (median) | alias / mailtui |
|---|---|---|
| mailtui, first refresh (every list fetched and parsed, caches empty) | {m["cold"] * 1000:.1f} ms | {m["alias"] / m["cold"]:.0f} |
| mailtui, next refreshes (counters of all 20 jails; a list re-read only if its counters moved) | {m["steady"] * 1000:.1f} ms | {m["alias"] / m["steady"]:.0f} |
| shell alias (every time) | {m["alias"] * 1000:.0f} ms | 1 |

Of the first refresh, about 160 ms is fail2ban-server itself formatting `banip --with-time`
for 20,000 bans (measured by timing the socket calls alone); parsing them takes the rest once,
then entries already seen are not parsed again.
The Bans pane polls this way (and re-reads every list once a minute regardless); the state it
shows after a "next refresh" is complete: a ban raises a jail's total and an unban lowers its
current count, so unchanged counters mean an unchanged list.

Target (issue 6): at least 50x faster than the alias and under 20 ms per refresh.
"""


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(section(measure()))
