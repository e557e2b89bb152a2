"""The four seed lines from a real server: right recognizer, settings with live values, the fix."""

from __future__ import annotations

import pytest

from mailtui.logs.envelope import EnvelopeParser
from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.postconf import PostfixConfig
from mailtui.recognizers.engine import default_engine
from mailtui.recognizers.explain import Explainer, format_diagnosis

SEEDS = {
    "plaintext": "Feb 19 10:35:59 oflex-1096-1 dovecot: pop3-login: Disconnected (tried to use disallowed plaintext auth): user=<osakana@example.net>, rip=xxx.xxx.xxx.xxx, lip=xxx.xx.x.xxx, session=<brxUt4ZlTfPbavEx>",
    "non_fqdn": "Feb 19 10:41:49 mailserver.osakana.net postfix/smtpd[8343]: NOQUEUE: reject: RCPT from clienthostname.osakana.net[xxx.xxx.xxx.xxx]: 504 5.5.2 <clienthostname>: Helo command rejected: need fully-qualified hostname; from=<osakana@osakana.net> to=<osakana@example.com> proto=ESMTP helo=<clienthostname>",
    "unknown_helo": "Feb 19 11:04:48 mailserver.osakana.net postfix/smtpd[11966]: NOQUEUE: reject: RCPT from clienthostname.osakana.net[xxx.xxx.xxx.xxx]: 450 4.7.1 <clienthostname>: Helo command rejected: Host not found; from=<osakana@osakana.net> to=<osakana@example.com> proto=ESMTP helo=<clienthostname>",
    "relay": "Feb 19 11:07:08 mailserver.osakana.net postfix/smtpd[12710]: NOQUEUE: reject: RCPT from clienthostname.osakana.net[xxx.xxx.xxx.xxx]: 454 4.7.1 <osakana@example.com>: Relay access denied; from=<osakana@osakana.net> to=<osakana@example.com> proto=ESMTP helo=<clienthostname>",
}

EXPECTED = {
    "plaintext": (
        "dovecot.login.plaintext_refused",
        {"disable_plaintext_auth", "ssl"},
        {"user": "osakana@example.net", "client_ip": "xxx.xxx.xxx.xxx", "session": "brxUt4ZlTfPbavEx"},
    ),
    "non_fqdn": (
        "postfix.helo.non_fqdn",
        {"smtpd_helo_restrictions"},
        {
            "helo": "clienthostname",
            "client_ip": "xxx.xxx.xxx.xxx",
            "sender": "osakana@osakana.net",
            "recipient": "osakana@example.com",
            "queue_id": "NOQUEUE",
            "dsn": "5.5.2",
        },
    ),
    "unknown_helo": (
        "postfix.helo.unknown",
        {"smtpd_helo_restrictions"},
        {"helo": "clienthostname", "client_host": "clienthostname.osakana.net"},
    ),
    "relay": (
        "postfix.relay.deferred",
        {"smtpd_relay_restrictions", "mynetworks"},
        {"recipient": "osakana@example.com", "client_ip": "xxx.xxx.xxx.xxx"},
    ),
}


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_line_is_recognized_with_fields(seed: str) -> None:
    match = default_engine().recognize(EnvelopeParser().parse(SEEDS[seed]))
    ident, settings, fields = EXPECTED[seed]
    assert match is not None and match.recognizer.id == ident
    assert settings <= {s.name for s in match.recognizer.settings}
    for key, value in fields.items():
        assert match.fields.get(key) == value, (key, match.fields)


def test_plaintext_fix_puts_the_client_first_and_warns_about_the_server_side() -> None:
    match = default_engine().recognize(EnvelopeParser().parse(SEEDS["plaintext"]))
    r = match.recognizer
    assert "995" in r.fix and "SSL" in r.fix and "Windows Live Mail" in r.fix
    assert r.weakens_security == "yes" and "disable_plaintext_auth = no" in r.server_fix
    assert {(s.name, s.name_24) for s in r.settings} >= {("disable_plaintext_auth", "auth_allow_cleartext")}


def test_relay_fix_points_to_submission_with_auth() -> None:
    r = default_engine().recognize(EnvelopeParser().parse(SEEDS["relay"])).recognizer
    assert "587" in r.fix and "authentication" in r.fix and "mynetworks" in r.server_fix


@pytest.mark.daemons
def test_seed_diagnoses_show_the_rig_servers_live_settings(rig) -> None:
    explainer = Explainer(PostfixConfig(str(rig.postfix.conf_dir)), DovecotConfig(str(rig.dovecot.conf)))
    parser = EnvelopeParser()
    engine = default_engine()

    def diagnose(seed: str):
        rec = parser.parse(SEEDS[seed])
        return explainer.diagnose(rec, engine.recognize(rec))

    helo = {s.name: s for s in diagnose("non_fqdn").settings}["smtpd_helo_restrictions"]
    assert "reject_non_fqdn_helo_hostname" in helo.value
    main_cf = str(rig.postfix.conf_dir / "main.cf")
    assert [(loc.file, loc.effective) for loc in helo.locations] == [(main_cf, True)]
    wanted_line = next(
        i
        for i, ln in enumerate((rig.postfix.conf_dir / "main.cf").read_text().splitlines(), 1)
        if ln.startswith("smtpd_helo_restrictions")
    )
    assert helo.locations[0].line == wanted_line

    relay = {s.name: s for s in diagnose("relay").settings}["smtpd_relay_restrictions"]
    assert relay.value.endswith("defer_unauth_destination")

    plain = {s.name: s for s in diagnose("plaintext").settings}
    assert plain["disable_plaintext_auth"].value == "yes"
    assert plain["disable_plaintext_auth"].locations[0].file == str(rig.dovecot.conf)
    assert plain["ssl"].value == "yes"
    text = format_diagnosis(diagnose("plaintext"))
    assert "disable_plaintext_auth = yes (Dovecot 2.4: auth_allow_cleartext)" in text
    assert f"set in {rig.dovecot.conf}:" in text
