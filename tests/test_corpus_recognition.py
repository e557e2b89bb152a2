"""Recognition over real third-party logs (../shared/corpus) and the rig's captured daemon logs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers.engine import default_engine
from mailtui.recognizers.fields import common_fields

DATA = Path(__file__).parent / "data"
ENGINE = default_engine()


def _fail_json_cases(corpus: Path, name: str) -> list[tuple[int, str, str]]:
    cases, pending = [], None
    lines = (corpus / "fail2ban" / name).read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, 1):
        m = re.match(r"#\s*failJSON:\s*(\{.*\})", line)
        if m:
            try:
                pending = json.loads(m.group(1))
            except json.JSONDecodeError:
                pending = None
            continue
        if line.startswith("#") or not line.strip():
            continue
        if pending is not None and pending.get("match") and pending.get("host"):
            cases.append((number, line, pending["host"]))
        pending = None
    return cases


@pytest.mark.parametrize("name", ["postfix.log", "dovecot.log"])
def test_every_fail2ban_failure_is_recognized_with_its_client(corpus: Path, name: str) -> None:
    cases = _fail_json_cases(corpus, name)
    assert len(cases) > 50
    parser = EnvelopeParser()
    misses = []
    for number, line, host in cases:
        match = ENGINE.recognize(parser.parse(line))
        if match is None or match.recognizer.rank < 1 or match.fields.get("client_ip") != host:
            misses.append((number, match and match.recognizer.id, line[:120]))
    assert not misses, misses


GROK_FIELDS = {
    "postfix_queueid": "queue_id",
    "postfix_client_ip": "client_ip",
    "postfix_client_hostname": "client_host",
    "postfix_from": "sender",
    "postfix_status_code_enhanced": "dsn",
}


def test_postfix_grok_cases_parse_with_their_fields(corpus: Path) -> None:
    files = sorted((corpus / "postfix-grok-patterns" / "test").glob("*.yaml"))
    assert len(files) > 180
    parser = EnvelopeParser()
    wrong, recognized = [], 0
    for path in files:
        case = yaml.safe_load(path.read_text())
        m = re.search(r"POSTFIX_(\w+)", case["pattern"])
        daemon = (m.group(1).lower() if m else "smtpd").replace("_", "-")
        rec = parser.parse(f"Jan  1 00:00:00 mx postfix/{daemon}[1]: {case['data']}")
        assert rec.family == "postfix" and rec.program == f"postfix/{daemon}"
        match = ENGINE.recognize(rec)
        recognized += match is not None
        fields = match.fields if match else common_fields(rec.family, rec.message)
        for grok, ours in GROK_FIELDS.items():
            want = (case.get("results") or {}).get(grok)
            if want is not None and fields.get(ours) != str(want):
                wrong.append((path.name, grok, want, fields.get(ours)))
    assert not wrong, wrong
    assert recognized > len(files) // 2


# Which recognizers each rig scenario's real lines must hit.
SCENARIO_RECOGNIZERS = {
    "pop3_user_pass_plaintext": {"dovecot.login.plaintext_refused", "dovecot.login.auth_failed"},
    "pop3_auth_plain_plaintext": {"dovecot.login.plaintext_refused"},
    "imap_login_plaintext": {"dovecot.login.plaintext_refused", "dovecot.login.auth_failed"},
    "imap_authenticate_plain_plaintext": {"dovecot.login.plaintext_refused"},
    "helo_non_fqdn": {"postfix.helo.non_fqdn", "postfix.session.connect", "postfix.session.disconnect"},
    "helo_unknown": {"postfix.helo.unknown"},
    "relay_denied": {"postfix.relay.deferred"},
    "sasl_auth_failed": {
        "postfix.sasl.auth_failed",
        "dovecot.auth.password_mismatch",
        "postfix.session.disconnect_auth_failed",
    },
    "unknown_recipient": {"postfix.rcpt.unknown_local"},
    "message_too_large": {"postfix.size.limit"},
    "non_smtp_command": {"postfix.session.non_smtp"},
    "improper_pipelining": {"postfix.session.pipelining"},
    "too_many_errors": {"postfix.session.too_many_errors"},
    "lost_connection_after_auth": {"postfix.session.lost_after_auth"},
    "imap_auth_failed": {"dovecot.auth.password_mismatch", "dovecot.login.auth_failed"},
    "pop3_auth_failed": {"dovecot.auth.password_mismatch", "dovecot.login.auth_failed"},
    "imaps_tls_failure": {"dovecot.login.tls_failed"},
    "smtp_tls_failure": {"tls.accept_error", "postfix.session.lost_after_starttls"},
    "fail2ban_ban": {"postfix.sasl.auth_failed", "fail2ban.found", "fail2ban.ban"},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_RECOGNIZERS))
def test_rig_captured_lines_are_recognized(scenario: str) -> None:
    folder = DATA / scenario
    assert folder.is_dir(), f"no captured data: run python -m tests.rig.capture ({folder})"
    seen: set[str] = set()
    for log in sorted(folder.glob("*.log")):
        parser = EnvelopeParser(source=log.name, year_reference=log.stat().st_mtime)
        for lineno, line in enumerate(log.read_text().splitlines(), 1):
            rec = parser.parse(line, lineno)
            assert rec.fmt != "unknown", (log.name, line)
            match = ENGINE.recognize(rec)
            assert match is not None, (log.name, line)
            seen.add(match.recognizer.id)
    missing = SCENARIO_RECOGNIZERS[scenario] - seen
    assert not missing, (missing, seen)


def test_captured_data_records_the_daemon_versions() -> None:
    versions = json.loads((DATA / "VERSIONS").read_text())
    assert versions["postfix"] and versions["dovecot"] and versions["fail2ban"]
