"""The rig and the DNS lab run beside the machine's own Postfix and Dovecot listening on 0.0.0.0.

A mail admin runs the suite on their mail server: its Postfix holds 0.0.0.0:25/587, its Dovecot
0.0.0.0:110/143/993/995, which the DNS lab needs on 127.0.0.25. The test process runs in its own
network namespace (tests/rig/netns.py); this test stands in for the admin's daemons in the
machine's namespace (tests/rig/machine.py), then runs a second pytest from the machine's
namespace, exactly as an admin would, over the tests that need those ports and /dev/log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.rig import netns
from tests.rig.base import daemons_required, need_root
from tests.rig.machine import ALL_PORTS, host_listeners, machine_daemons

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.daemons

# what needs the standard ports (the lab's SRV records name them) and /dev/log (syslog Postfix)
INNER = [
    "tests/test_rig_isolation.py::test_the_test_process_has_its_own_network",
    "tests/test_dns_checks.py::test_good_domain_is_all_good",
    "tests/test_dns_checks.py::test_broken_domain_names_each_mistake",
    "tests/test_rig.py::test_rsyslog_writes_the_same_lines_with_rfc3339_stamps",
    "tests/test_rig.py::test_scenario_produces_its_lines[helo_non_fqdn-syslog]",
    "tests/test_rig.py::test_scenario_produces_its_lines[imap_auth_failed-syslog]",
    "tests/test_rig.py::test_scenario_produces_its_lines[sasl_auth_failed-maillog_file]",
]


def test_the_test_process_has_its_own_network() -> None:
    need_root()
    if not netns.STATE.active:
        message = f"the test process shares the machine's network: {netns.STATE.reason}"
        if daemons_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with open("/proc/net/dev") as fh:
        interfaces = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
    assert interfaces == ["lo"]  # nothing but loopback to reach


def test_rig_and_dnslab_pass_beside_the_machines_postfix_and_dovecot() -> None:
    need_root()
    if not netns.STATE.active:
        pytest.skip(f"no private namespace: {netns.STATE.reason}")
    base = Path(tempfile.mkdtemp(prefix="mailtui-machine-"))  # daemons' users must traverse it
    base.chmod(0o755)
    try:
        _run_beside_the_machine(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run_beside_the_machine(base: Path) -> None:
    with machine_daemons(base) as machine:
        if machine is not None:  # else the machine's real daemons hold (some of) these ports
            wildcard = {port for address, port in host_listeners() if address == "0.0.0.0"}
            assert ALL_PORTS.issubset(wildcard), sorted(ALL_PORTS - wildcard)
        env = {**os.environ, "MAILTUI_REQUIRE_DAEMONS": "1"}
        argv = netns.host_command([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *INNER])
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        report = proc.stdout[-3000:] + proc.stderr[-2000:]
        assert proc.returncode == 0, report
        assert f"{len(INNER)} passed" in proc.stdout, report
        if machine is not None:  # ours, not the machine's real ones: still up and still theirs
            assert ALL_PORTS.issubset({port for address, port in host_listeners() if address == "0.0.0.0"})
