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
        "}\n")
    (tmp_path / "conf.d" / "10-ssl.conf").write_text("# packaged default\nssl = yes\n")
    (tmp_path / "conf.d" / "20-auth.conf").write_text("disable_plaintext_auth = yes\n")
    return tmp_path / "dovecot.conf"


def test_dovecot_where_reports_every_assignment_and_the_winner(tmp_path: Path) -> None:
    conf = _dovecot_tree(tmp_path)
    where = DovecotConfig(str(conf)).where("ssl")
    assert [(Path(w.file).name, w.line, w.value, w.effective) for w in where] == [
        ("dovecot.conf", 2, "required", False), ("10-ssl.conf", 2, "yes", True)]
    plain = DovecotConfig(str(conf)).where("disable_plaintext_auth")
    assert [(Path(w.file).name, w.section, w.effective) for w in plain] == [
        ("20-auth.conf", "", True), ("dovecot.conf", "protocol pop3", True)]


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
        "smtpd_helo_restrictions = permit_sasl_authenticated\n")
    (tmp_path / "master.cf").write_text(
        "smtp inet n - y - - smtpd\nsubmission inet n - y - - smtpd\n"
        "  -o syslog_name=postfix/submission\n  -o smtpd_helo_restrictions=\n")
    where = PostfixConfig(str(tmp_path)).where("smtpd_helo_restrictions")
    assert [(Path(w.file).name, w.line, w.value, w.section, w.effective) for w in where] == [
        ("main.cf", 2, "permit_mynetworks, reject_non_fqdn_helo_hostname", "", False),
        ("main.cf", 5, "permit_sasl_authenticated", "", True),
        ("master.cf", 2, "", "submission/inet", True)]


def test_postconf_values_from_a_config_dir(tmp_path: Path) -> None:
    need("postconf")
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\nmynetworks = 192.0.2.0/24\n")
    values = PostfixConfig(str(tmp_path)).values(["mynetworks", "no_such_parameter_xyz"])
    assert values == {"mynetworks": "192.0.2.0/24"}


def test_missing_tools_are_said_not_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    import mailtui.mta.run as run

    monkeypatch.setattr(run, "TOOL_DIRS", "/nonexistent")
    monkeypatch.setattr("mailtui.mta.postconf.find_tool", run.find_tool)
    monkeypatch.setattr("mailtui.mta.doveconf.find_tool", run.find_tool)
    assert PostfixConfig().problem == "postconf is not installed (no Postfix here)"
    assert DovecotConfig().values(["ssl"]) == {}
