"""``mailtui bans --json`` as a whole process against the shell alias, 20 jails x 1,000 bans.

    flock /tmp/mailtui-rig.lock .venv/bin/python bench/bans_cli.py [--rounds 7]

Needs root and fail2ban (Debian package). Starts a fail2ban-server of its own (the rig's
helper, no action), bans 1,000 addresses in each of 20 jails, then runs, interleaved in one
loop so both see the same machine load:

- ``mailtui bans --json --socket SOCK`` (pip's ``mailtui`` script, a new process: start-up, every jail's counters and
  banned IPs with times, the JSON written to a pipe);
- the alias admins use, ``fail2ban-client status | sed -n 's/,//g;s/.*Jail list://p' | xargs
  -n1 fail2ban-client status`` (one Python process per jail, IP lists without times).

It also reports the import time of the ``bans`` command (``python -X importtime``).
"""

from __future__ import annotations

import ipaddress
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
JAILS = 20
PER_JAIL = 1000


def _import_ms() -> float:
    """Cumulative import time (ms) of what ``mailtui bans`` imports before it talks to fail2ban."""
    code = "import mailtui.cli; import mailtui.cli.bans_cmd as b; import mailtui.fail2ban.source"
    err = subprocess.run([PYTHON, "-X", "importtime", "-c", code], capture_output=True, text=True).stderr
    total = 0
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() and not parts[2].startswith("  "):
            try:
                total += int(parts[1])  # top-level imports' cumulative times
            except ValueError:
                pass
    return total / 1000


def measure(rounds: int = 7) -> dict[str, float]:
    from bench.run import byte_compile
    from mailtui.fail2ban.client import Fail2banClient
    from tests.rig.fail2ban import many_jails_conf, start_fail2ban

    base = Path(tempfile.mkdtemp(prefix="mailtui-bench-bans-"))
    base.chmod(0o755)
    (base / "mail.log").touch()
    f2b = start_fail2ban(base / "f2b", base / "mail.log", base / "dovecot.log", jail_conf=many_jails_conf(JAILS))
    try:
        addresses = [str(a) for a in ipaddress.ip_network("10.77.0.0/16").hosts()]
        with Fail2banClient(str(f2b.socket), timeout=120) as client:
            for i in range(JAILS):
                client.call("set", f"bench{i + 1:02d}", "banip", *addresses[i * PER_JAIL : (i + 1) * PER_JAIL])
        # the command admins type: pip's console script beside the interpreter (no runpy)
        script = Path(PYTHON).parent / "mailtui"
        ours_argv = [*([str(script)] if script.exists() else [PYTHON, "-m", "mailtui"]), "bans", "--json"]
        ours_argv += ["--socket", str(f2b.socket)]
        alias = (
            f"fail2ban-client -c {f2b.conf_dir} status | sed -n 's/,//g;s/.*Jail list://p' | "
            f"xargs -n1 fail2ban-client -c {f2b.conf_dir} status"
        )
        byte_compile()
        ours, theirs = [], []
        out = ""
        for _ in range(rounds):
            t0 = time.perf_counter()
            out = subprocess.run(ours_argv, capture_output=True, text=True, timeout=120, check=True).stdout
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            alias_out = subprocess.run(["bash", "-c", alias], capture_output=True, text=True, timeout=600).stdout
            theirs.append(time.perf_counter() - t0)
        data = json.loads(out)
        banned = sum(len(j["banned"]) for j in data["jails"])
        alias_ips = sum(
            len(line.split(":", 1)[1].split()) for line in alias_out.splitlines() if "Banned IP list:" in line
        )
    finally:
        f2b.stop()
    return {
        "ours": statistics.median(ours),
        "alias": statistics.median(theirs),
        "banned": banned,
        "alias_banned": alias_ips,
        "rounds": rounds,
        "import_ms": _import_ms(),
        "bytes": len(out),
    }


def section(m: dict[str, float]) -> str:
    return f"""## `mailtui bans --json`, a whole process, 20 jails x 1,000 bans

`bench/bans_cli.py`: the command as admins run it (pip's `mailtui` script, a new process each time, its JSON read
from a pipe: {m["bytes"]:,} bytes, {m["banned"]:,} bans with start, ban time and end) against the alias
`fail2ban-client status | sed -n 's/,//g;s/.*Jail list://p' | xargs -n1 fail2ban-client status`
({m["alias_banned"]:,} addresses, no times), run alternately {m["rounds"]} times each in one loop (median).

| run | wall time (median) | alias / run |
|---|---|---|
| `mailtui bans --json` | {m["ours"] * 1000:.0f} ms | {m["alias"] / m["ours"]:.1f} |
| shell alias | {m["alias"] * 1000:.0f} ms | 1.0 |

Imports of the command before it talks to fail2ban (`python -X importtime`): {m["import_ms"]:.0f} ms.
Target (issue 20): at least 5x the alias.
"""


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    print(section(measure(ap.parse_args().rounds)))
