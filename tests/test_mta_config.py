"""Live configuration readers: postconf and doveconf values, and every place a key is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.postconf import PostfixConfig
from tests.rig.base import need


def _dovecot_tree(tmp_path: Path) -> Path:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "dovecot.conf").write_text(
        "protocols = imap pop3\n"
        "ssl = required  # we want TLS everywhere\n"
        "!include conf.d/*.conf\n"
        "!include_try /nonexistent/*.conf\n"
        "protocol pop3 {\n"
        "  disable_plaintext_auth = no\n"
        "}\n"
    )
    (tmp_path / "conf.d" / "10-ssl.conf").write_text("# packaged default\nssl = yes\n")
    (tmp_path / "conf.d" / "20-auth.conf").write_text("disable_plaintext_auth = yes\n")
    return tmp_path / "dovecot.conf"


def test_dovecot_where_reports_every_assignment_and_the_winner(tmp_path: Path) -> None:
    conf = _dovecot_tree(tmp_path)
    where = DovecotConfig(str(conf)).where("ssl")
    assert [(Path(w.file).name, w.line, w.value, w.effective) for w in where] == [
        ("dovecot.conf", 2, "required", False),
        ("10-ssl.conf", 2, "yes", True),
    ]
    plain = DovecotConfig(str(conf)).where("disable_plaintext_auth")
    assert [(Path(w.file).name, w.section, w.effective) for w in plain] == [
        ("20-auth.conf", "", True),
        ("dovecot.conf", "protocol pop3", True),
    ]


def test_doveconf_agrees_with_the_winner(tmp_path: Path) -> None:
    need("doveconf")
    conf = _dovecot_tree(tmp_path)
    reader = DovecotConfig(str(conf))
    assert reader.values(["ssl", "no_such_setting_xyz"]) == {"ssl": "yes"}
    assert reader.version() >= (2, 2)


def test_postfix_where_reads_main_cf_and_master_cf_overrides(tmp_path: Path) -> None:
    (tmp_path / "main.cf").write_text(
        "# comment\nsmtpd_helo_restrictions = permit_mynetworks,\n"
        "    reject_non_fqdn_helo_hostname\nmynetworks = 127.0.0.0/8\n"
        "smtpd_helo_restrictions = permit_sasl_authenticated\n"
    )
    (tmp_path / "master.cf").write_text(
        "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n"
        "  -o syslog_name=postfix/submission\n  -o smtpd_helo_restrictions=\n"
    )
    where = PostfixConfig(str(tmp_path)).where("smtpd_helo_restrictions")
    assert [(Path(w.file).name, w.line, w.value, w.section, w.effective) for w in where] == [
        ("main.cf", 2, "permit_mynetworks, reject_non_fqdn_helo_hostname", "", False),
        ("main.cf", 5, "permit_sasl_authenticated", "", True),
        ("master.cf", 4, "", "submission/inet", True),
    ]


# master.cf entries as admins write them: Debian's submission/smtps, Postfix 3.5's submissions
# with $service_name, a { spaced } value, a custom port entry with its own syslog_name, and a
# second smtpd without one (it logs as postfix/smtpd, like smtp/inet)
MASTER_CF_SERVICES = """\
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
smtps     inet  n       -       y       -       -       smtpd
  -o syslog_name=postfix/$service_name
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
submissions inet n      -       y       -       -       smtpd
  -o syslog_name=postfix/$service_name
  -o { smtpd_sasl_auth_enable = yes }
127.0.0.1:10587 inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/mua
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:10026 inet n  -       n       -       -       smtpd
  -o smtpd_sasl_auth_enable=no
pickup    unix  n       -       n       60      1       pickup
"""
SERVICE_PROGRAMS = {
    "submission/inet": "postfix/submission/smtpd",
    "smtps/inet": "postfix/smtps/smtpd",
    "submissions/inet": "postfix/submissions/smtpd",
    "127.0.0.1:10587/inet": "postfix/mua/smtpd",
}
SASL_LINE = (
    "Nov 29 02:05:19 mx {program}[4242]: warning: unknown[192.0.2.9]: SASL PLAIN authentication "
    "failed: (reason unavailable), sasl_username=alice"
)


def _services_tree(tmp_path: Path) -> Path:
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nsmtpd_sasl_auth_enable = no\n")
    (tmp_path / "master.cf").write_text(MASTER_CF_SERVICES)
    return tmp_path


def test_postconf_services_map_program_names_to_master_cf_entries(tmp_path: Path) -> None:
    need("postconf")
    reader = PostfixConfig(str(_services_tree(tmp_path)))
    for service, program in SERVICE_PROGRAMS.items():
        assert [s.name for s in reader.services_of(program)] == [service]
        assert reader.services_of(program)[0].overrides["smtpd_sasl_auth_enable"] == "yes"
    # two entries without their own syslog_name both log as postfix/smtpd
    assert [s.name for s in reader.services_of("postfix/smtpd")] == ["smtp/inet", "127.0.0.1:10026/inet"]
    where = reader.where("smtpd_sasl_auth_enable")
    lines = MASTER_CF_SERVICES.splitlines()
    for loc in where:
        if loc.section:  # the -o's own line, braces included
            assert "smtpd_sasl_auth_enable" in lines[loc.line - 1], loc


def test_explanation_shows_the_value_in_force_for_the_lines_service(tmp_path: Path) -> None:
    need("postconf")
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.explain import Explainer, format_diagnosis

    explainer = Explainer(PostfixConfig(str(_services_tree(tmp_path))), DovecotConfig(str(tmp_path / "none")))
    engine = default_engine()

    def sasl(program: str):
        rec = EnvelopeParser().parse(SASL_LINE.format(program=program))
        match = engine.recognize(rec)
        assert match is not None and match.recognizer.id == "postfix.sasl.auth_failed"
        diagnosis = explainer.diagnose(rec, match)
        return diagnosis, next(s for s in diagnosis.settings if s.name == "smtpd_sasl_auth_enable")

    for service, program in SERVICE_PROGRAMS.items():
        diagnosis, report = sasl(program)
        assert (report.value, report.main_value, report.service) == ("yes", "no", service)
        in_force = [loc for loc in report.locations if loc.effective]
        assert [(Path(loc.file).name, loc.section) for loc in in_force] == [("master.cf", service)]
        text = format_diagnosis(diagnosis)
        assert f"smtpd_sasl_auth_enable = yes   (for {service}, from its master.cf -o override; main.cf: no)" in text
        assert "smtpd_sasl_auth_enable = no" not in text
    # port 25 (and the content-filter port, which logs alike and also says no): main.cf's no
    _, report = sasl("postfix/smtpd")
    assert report.value == "no" and report.main_value is None
    assert {loc.section for loc in report.locations if loc.effective} == {"", "127.0.0.1:10026/inet"}
    assert all(not loc.effective for loc in report.locations if loc.section in SERVICE_PROGRAMS)


def test_services_sharing_a_program_name_that_disagree_are_said(tmp_path: Path) -> None:
    need("postconf")
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.explain import Explainer

    tree = _services_tree(tmp_path)
    (tree / "master.cf").write_text(
        MASTER_CF_SERVICES.replace("smtpd_sasl_auth_enable=no", "smtpd_sasl_auth_enable=yes")
    )
    rec = EnvelopeParser().parse(SASL_LINE.format(program="postfix/smtpd"))
    diagnosis = Explainer(PostfixConfig(str(tree)), DovecotConfig(str(tmp_path / "none"))).diagnose(
        rec, default_engine().recognize(rec)
    )
    report = next(s for s in diagnosis.settings if s.name == "smtpd_sasl_auth_enable")
    assert "smtp/inet: no" in report.note and "127.0.0.1:10026/inet: yes" in report.note


def test_where_lists_the_value_in_force_per_service(tmp_path: Path) -> None:
    need("postconf")
    import json
    import os
    import subprocess
    import sys

    tree = _services_tree(tmp_path)
    conf = tmp_path / "mailtui.toml"
    conf.write_text(f'[postfix]\nconfig_dir = "{tree}"\n[dovecot]\nconfig = "{tmp_path}/none.conf"\n')
    argv = [sys.executable, "-m", "mailtui", "--config", str(conf), "where"]
    out = subprocess.run(
        [*argv, "--json", "smtpd_sasl_auth_enable"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    found = json.loads(out.stdout)["found"][0]
    assert found["value"] == "no"
    assert {(s["service"], s["program"], s["value"]) for s in found["services"]} == {
        *((svc, prog, "yes") for svc, prog in SERVICE_PROGRAMS.items()),
        ("127.0.0.1:10026/inet", "postfix/smtpd", "no"),
    }
    text = subprocess.run(
        [*argv, "smtpd_sasl_auth_enable"], check=False, capture_output=True, text=True, timeout=60
    ).stdout
    assert (
        "submission/inet (logs as postfix/submission/smtpd): smtpd_sasl_auth_enable = yes  <- in force for this service"
    ) in text
    assert "main.cf:2: smtpd_sasl_auth_enable = no  <- in force for the other services" in text


def test_postconf_values_from_a_config_dir(tmp_path: Path) -> None:
    need("postconf")
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nmynetworks = 192.0.2.0/24\n")
    values = PostfixConfig(str(tmp_path)).values(["mynetworks", "no_such_parameter_xyz"])
    assert values == {"mynetworks": "192.0.2.0/24"}


def test_missing_tools_are_said_not_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    from mailtui.mta import run

    monkeypatch.setattr(run, "TOOL_DIRS", "/nonexistent")
    monkeypatch.setattr("mailtui.mta.postconf.find_tool", run.find_tool)
    monkeypatch.setattr("mailtui.mta.doveconf.find_tool", run.find_tool)
    assert PostfixConfig().problem == "postconf is not installed (no Postfix here)"
    assert DovecotConfig().values(["ssl"]) == {}


@pytest.mark.daemons
def test_rig_submission_sasl_failure_shows_the_submission_value(rig) -> None:
    """The issue's case: a real postfix/submission/smtpd SASL failure on the rig, whose main.cf
    says smtpd_sasl_auth_enable = no and whose submission entry says -o ...=yes."""
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.explain import Explainer, format_diagnosis

    data = Path(__file__).parent / "data" / "sasl_auth_failed"
    explainer = Explainer(PostfixConfig(str(rig.postfix.conf_dir)), DovecotConfig(str(rig.dovecot.conf)))
    engine = default_engine()
    for log in ("syslog.log", "syslog-rfc3339.log", "maillog_file.log"):
        line = next(ln for ln in (data / log).read_text().splitlines() if "SASL PLAIN authentication failed" in ln)
        rec = EnvelopeParser().parse(line)
        assert rec.program == "postfix/submission/smtpd", log
        diagnosis = explainer.diagnose(rec, engine.recognize(rec))
        report = next(s for s in diagnosis.settings if s.name == "smtpd_sasl_auth_enable")
        service = f"127.0.0.1:{rig.postfix.ports['submission']}/inet"
        assert (report.value, report.main_value, report.service) == ("yes", "no", service), log
        text = format_diagnosis(diagnosis)
        assert "smtpd_sasl_auth_enable = no" not in text
        assert f"(in force for {service}, the service of this line): yes" in text
        assert "(not used by" in text and "master.cf overrides it): no" in text
