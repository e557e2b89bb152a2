"""Refresh tests/data with the lines the real daemons write for every scenario.

    sudo .venv/bin/python -m tests.rig.capture

For each scenario and each log format it writes ``tests/data/<scenario>/<log>.log``
(only the lines that mention the scenario's source address), and ``tests/data/VERSIONS``
with the daemon versions that produced them. Fast unit tests and the demo read these
files instead of starting daemons.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.rig.base import run
from tests.rig.rig import start_rig
from tests.rig.run import run_scenario
from tests.rig.scenarios import SCENARIOS

DATA = Path(__file__).resolve().parent.parent / "data"


def versions() -> dict[str, str]:
    def first(argv: list[str]) -> str:
        proc = run(argv, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else ""

    return {
        "postfix": first(["postconf", "-d", "-h", "mail_version"]),
        "dovecot": first(["dovecot", "--version"]),
        "fail2ban": first(["fail2ban-server", "--version"]),
        "rsyslog": first(["rsyslogd", "-v"]),
    }


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="mailtui-capture-"))
    base.chmod(0o755)
    rig = start_rig(base)
    failures = 0
    try:
        for scenario in SCENARIOS:
            out = DATA / scenario.name
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for pf in scenario.postfix_instances(rig):
                offsets = rig.offsets()
                outcome = run_scenario(rig, scenario, pf)
                if outcome.missing:
                    failures += 1
                    print(f"{scenario.name}: missing {outcome.missing}", file=sys.stderr)
                for name in rig.logs:
                    lines = [ln for ln in rig.new_text(name, offsets).splitlines()
                             if outcome.ip in ln]
                    if lines:
                        (out / f"{name}.log").write_text("\n".join(lines) + "\n")
            print(f"captured {scenario.name}")
    finally:
        rig.stop()
        shutil.rmtree(base, ignore_errors=True)
    (DATA / "VERSIONS").write_text(json.dumps(versions(), indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
