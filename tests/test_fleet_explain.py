"""A fleet host's line explained with the value in force for its master.cf service.

The host's Postfix configuration is the rig's (its main.cf says ``smtpd_sasl_auth_enable = no``,
its submission entry ``-o smtpd_sasl_auth_enable=yes``), read on the host by its agent through
the real sshd of the fleet lab. A ``postfix/submission/smtpd`` line (captured from the rig's real
Postfix) is explained with the submission entry's value and the master.cf file and line; a
``postfix/smtpd`` line of the same host with main.cf's. The remote explanation is the local one
over the same directory, place for place (only the file names carry the host's name).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from mailtui import config
from mailtui.fleet.link import HostSpec, RemoteHost
from mailtui.fleet.remoteconf import RemoteDovecot, RemotePostfix
from mailtui.logs.envelope import EnvelopeParser
from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.postconf import PostfixConfig
from mailtui.recognizers.engine import default_engine
from mailtui.recognizers.explain import Explainer, format_diagnosis
from tests.fleetlab import LabHost, dashboard_config
from tests.rig.base import need, wait_for
from tests.rig.postfix import MAIN_CF, MASTER_CF
from tests.sshlab import SshLab, start_sshd

pytestmark = pytest.mark.daemons

PORTS = {"smtp": 2525, "submission": 2587}
SERVICE = f"127.0.0.1:{PORTS['submission']}/inet"
SMTP = f"127.0.0.1:{PORTS['smtp']}/inet"
CAPTURED = Path(__file__).parent / "data" / "sasl_auth_failed" / "syslog.log"


def rig_postfix_config(root: Path) -> tuple[str, str]:
    """The rig's main.cf and master.cf (tests/rig/postfix.py) as it writes them for a host."""
    main_cf = MAIN_CF.format(
        dir=root / "spool-root",
        hostname="mx2.rig.test",
        local_maps="inline:{alice=ok}",
        size_limit=20000,
        cert=root / "cert.pem",
        key=root / "key.pem",
        sasl_path=root / "auth-client",
        dead_port=9,
        interfaces="127.0.0.1",
        maillog_file="",
    )
    return main_cf, MASTER_CF.format(host="127.0.0.1", **PORTS)


def sasl_line(program: str) -> str:
    """The rig's captured postfix/submission/smtpd SASL failure, as logged by ``program``."""
    line = next(ln for ln in CAPTURED.read_text().splitlines() if "SASL PLAIN authentication failed" in ln)
    return line.replace("postfix/submission/smtpd", program)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabHost, SshLab]]:
    need("postconf")
    root = tmp_path_factory.mktemp("fleet-explain")
    lab = start_sshd(root / "ssh")
    main_cf, master_cf = rig_postfix_config(root)
    try:
        yield LabHost(lab, root, "mx2", fail2ban=False, main_cf=main_cf, master_cf=master_cf), lab
    finally:
        lab.stop()


@pytest.fixture
def link(host: tuple[LabHost, SshLab]) -> Iterator[RemoteHost]:
    lab_host, lab = host
    remote = RemoteHost(HostSpec("mx2", "mx2", lab_host.command, ["-F", str(lab.config)]), stream=False)
    remote.start()
    wait_for(lambda: remote.state == "ok", 30, what="mx2's hello")
    yield remote
    remote.close()


def report_of(explainer: Explainer, line: str, name: str = "smtpd_sasl_auth_enable") -> tuple[Any, str]:
    rec = EnvelopeParser().parse(line)
    match = default_engine().recognize(rec)
    assert match is not None, line
    diagnosis = explainer.diagnose(rec, match)
    return next(s for s in diagnosis.settings if s.name == name), format_diagnosis(diagnosis)


def test_a_submission_line_of_a_host_gets_its_master_cf_override(
    host: tuple[LabHost, SshLab], link: RemoteHost
) -> None:
    conf_dir = host[0].dir / "postfix"
    remote = Explainer(cast(PostfixConfig, RemotePostfix(link)), cast(DovecotConfig, RemoteDovecot(link)))
    local = Explainer(PostfixConfig(str(conf_dir)), DovecotConfig("/nonexistent/dovecot.conf"))
    master_lines = (conf_dir / "master.cf").read_text().splitlines()
    for program, expected in (
        ("postfix/submission/smtpd", ("yes", "no", SERVICE)),  # the -o override, main.cf's value beside it
        ("postfix/smtpd", ("no", None, SMTP)),  # the smtp entry has none: main.cf's
    ):
        line = sasl_line(program)
        there, text = report_of(remote, line)
        here, _ = report_of(local, line)
        assert (there.value, there.main_value, there.service) == expected, program
        # the same explanation as a local line's, place for place; the files named by their host
        mine = here.to_dict()
        for loc in mine["set_in"]:
            loc["file"] = f"mx2:{loc['file']}"
        assert there.to_dict() == mine, program
        override = next(loc for loc in there.locations if loc.section == SERVICE)
        assert override.file == f"mx2:{conf_dir}/master.cf"
        assert "smtpd_sasl_auth_enable=yes" in master_lines[override.line - 1]
        if program == "postfix/submission/smtpd":
            assert override.effective and f"(in force for {SERVICE}, the service of this line): yes" in text
            assert "master.cf overrides it): no" in text and "smtpd_sasl_auth_enable = no " not in text
        else:
            assert not override.effective and f"(for {SERVICE} only): yes" in text
            assert there.scope() == f"for {SMTP}: main.cf's value, no master.cf override"


def test_a_program_no_master_cf_entry_logs_as_is_main_cfs_value(link: RemoteHost) -> None:
    postfix = RemotePostfix(link)
    assert postfix.services_of("postfix/nosuch/smtpd") == [] and postfix.problem == ""
    (submission,) = postfix.services_of("postfix/submission/smtpd")
    assert (submission.name, submission.command) == (SERVICE, "smtpd")
    assert submission.overrides["smtpd_tls_security_level"] == "encrypt"


def test_a_host_without_postfix_says_so_instead_of_services(host: tuple[LabHost, SshLab], tmp_path: Path) -> None:
    lab = host[1]
    bare = LabHost(lab, tmp_path, "imap9", fail2ban=False)  # postfix config_dir /nonexistent/postfix
    remote = RemoteHost(HostSpec("imap9", "imap9", bare.command, ["-F", str(lab.config)]), stream=False)
    remote.start()
    try:
        wait_for(lambda: remote.state == "ok", 30, what="imap9's hello")
        postfix = RemotePostfix(remote)
        assert postfix.services_of("postfix/submission/smtpd") == []
        assert "imap9:" in postfix.problem and "/nonexistent/postfix" in postfix.problem
    finally:
        remote.close()


async def test_the_dashboards_explanation_of_a_hosts_submission_line(
    host: tuple[LabHost, SshLab], tmp_path: Path
) -> None:
    from textual.widgets import Static

    from mailtui.ui.app import MailTuiApp
    from mailtui.ui.panes.logs import LogsPane
    from mailtui.ui.screens.explain import ExplainScreen
    from tests.helpers import until
    from tests.ui_apps import FIXED_SUMMARY

    mx2 = host[0]
    app = MailTuiApp(
        config.load(dashboard_config(tmp_path, [mx2])), watch_tty=False, stack_summary=lambda: FIXED_SUMMARY
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: str(app.query_one("#fleetbar", Static).render()) == "mx2 ok", tries=300)
        with mx2.log.open("a") as fh:
            fh.write(sasl_line("postfix/submission/smtpd") + "\n")
        logs = app.query_one(LogsPane)
        await until(pilot, lambda: any(e.host == "mx2" and e.match for e in logs.lines.entries), tries=200)
        entry = next(e for e in logs.lines.entries if e.host == "mx2" and e.match is not None)
        screen = ExplainScreen(entry)
        app.push_screen(screen)
        await until(pilot, lambda: screen.diagnosis is not None, tries=200, what="the explanation")
        assert screen.diagnosis is not None
        report = next(s for s in screen.diagnosis.settings if s.name == "smtpd_sasl_auth_enable")
        assert (report.value, report.main_value, report.service) == ("yes", "no", SERVICE)
        assert any(loc.file == f"mx2:{mx2.dir}/postfix/master.cf" and loc.effective for loc in report.locations)
