"""The rig itself: every daemon starts, every scenario produces the exact lines the daemons write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.rig.fail2ban import JAILS
from tests.rig.rig import Rig
from tests.rig.run import run_scenario
from tests.rig.scenarios import BY_NAME, SCENARIOS

CASES = [(s.name, "syslog") for s in SCENARIOS] + [
    (s.name, "maillog_file") for s in SCENARIOS if s.uses_postfix and s.maillog_file_variant
]

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d \S+ ")
TRADITIONAL = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ ")
MAILLOG_FILE = re.compile(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d mail ")  # zero-padded day, short host
DOVECOT = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [a-z0-9-]+(\(|:)")
ENVELOPES = {
    "syslog": TRADITIONAL,
    "maillog_file": MAILLOG_FILE,
    "dovecot": DOVECOT,
    "fail2ban": re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\."),
}


@pytest.mark.daemons
@pytest.mark.parametrize("name, postfix_log", CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_scenario_produces_its_lines(rig: Rig, name: str, postfix_log: str) -> None:
    scenario = BY_NAME[name]
    pf = rig.postfix if postfix_log == "syslog" else rig.postfix_file
    outcome = run_scenario(rig, scenario, pf)
    assert not outcome.missing, f"missing {outcome.missing}\nseen: {outcome.lines}"
    for expectation_index, line in outcome.matched.items():
        log = outcome.log_names[scenario.expect[expectation_index].log]
        assert ENVELOPES[log].match(line), f"{log} envelope not as expected: {line!r}"


@pytest.mark.daemons
def test_rsyslog_writes_the_same_lines_with_rfc3339_stamps(rig: Rig) -> None:
    offsets = rig.offsets()
    outcome = run_scenario(rig, BY_NAME["relay_denied"], rig.postfix)
    assert not outcome.missing
    line = outcome.matched[0]
    message = TRADITIONAL.sub("", line)
    rfc = [ln for ln in rig.new_text("syslog-rfc3339", offsets).splitlines() if message in ln]
    assert len(rfc) == 1 and RFC3339.match(rfc[0]), rfc


@pytest.mark.daemons
def test_fail2ban_runs_every_jail_with_the_polling_backend(rig: Rig) -> None:
    status = rig.fail2ban.cli("status")
    assert f"Number of jail:\t{len(JAILS)}" in status
    for jail in JAILS:
        assert rig.fail2ban.cli("get", jail, "actions").strip().endswith("dummy")
    assert rig.fail2ban.status("postfix")["File list"] == str(rig.rsyslog.traditional)


@pytest.mark.daemons
def test_fail2ban_ban_is_real_inside_fail2ban(rig: Rig) -> None:
    outcome = run_scenario(rig, BY_NAME["fail2ban_ban"], rig.postfix)
    assert not outcome.missing, outcome.lines
    assert outcome.ip in rig.fail2ban.banned("postfix-sasl")
    assert f"+{outcome.ip}" in (rig.fail2ban.dir / "dummy-bans").read_text()


@pytest.mark.daemons
def test_authenticated_submission_is_accepted(rig: Rig) -> None:
    from tests.rig import clients

    ip = rig.fresh_ip()
    with clients.smtp(rig.postfix.ports["submission"], ip, "client.rig.test", starttls=True) as c:
        code, _ = clients.smtp_auth_plain(c, "alice", "alice-secret")
        assert code == 235
        assert c.mail("alice@rig.test")[0] == 250
        assert c.rcpt("friend@example.com")[0] == 250  # relaying is allowed after AUTH


@pytest.mark.daemons
def test_rig_leaves_the_machine_configuration_alone(rig: Rig) -> None:
    resolv = Path("/etc/resolv.conf").read_text()
    assert "127.0.0.153" not in resolv
    assert not Path("/etc/postfix/main.cf").exists() or "mailtui" not in Path("/etc/postfix/main.cf").read_text()
    assert str(rig.dir) in rig.postfix.postconf("-h", "queue_directory")
