"""scan, explain and where from the command line, over the rig's captured logs and generated files."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"
SEED = (
    "Feb 19 10:41:49 mx postfix/smtpd[8343]: NOQUEUE: reject: RCPT from c.example.org[192.0.2.9]: "
    "504 5.5.2 <clienthostname>: Helo command rejected: need fully-qualified hostname; "
    "from=<a@example.org> to=<b@example.com> proto=ESMTP helo=<clienthostname>"
)


def mailtui(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def _captured(*names: str) -> str:
    return "".join((DATA / n / "syslog.log").read_text() for n in names)


def test_scan_text_report(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(_captured("relay_denied", "helo_non_fqdn", "sasl_auth_failed"))
    proc = mailtui("scan", str(log))
    assert proc.returncode == 0, proc.stderr
    assert "Relay access denied (4xx): client not authenticated  (postfix.relay.deferred)" in proc.stdout
    assert "HELO rejected: not a fully-qualified name" in proc.stdout
    assert "rejected 2" in proc.stdout


def test_scan_json_report_and_rotated_gz(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(_captured("relay_denied"))
    with gzip.open(tmp_path / "mail.log.2.gz", "wt") as fh:
        fh.write(_captured("helo_non_fqdn"))
    (tmp_path / "mail.log.1").write_text(_captured("unknown_recipient"))
    proc = mailtui("scan", "--rotated", "--json", str(log))
    report = json.loads(proc.stdout)
    assert report["files"] == [str(tmp_path / "mail.log.2.gz"), str(tmp_path / "mail.log.1"), str(log)]
    ids = {r["recognizer"]: r["count"] for r in report["recognizers"]}
    assert ids["postfix.helo.non_fqdn"] == 1 and ids["postfix.rcpt.unknown_local"] == 1
    assert ids["postfix.relay.deferred"] == 1
    assert report["severity"]["warn"] >= 1 and report["lines"] == 9


def test_scan_events_have_the_documented_keys(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(_captured("relay_denied"))
    proc = mailtui("scan", "--json", "--events", str(log))
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    reject = next(e for e in events if e["recognizer"] == "postfix.relay.deferred")
    for key in (
        "file",
        "lineno",
        "timestamp",
        "program",
        "recognizer",
        "severity",
        "settings",
        "summary",
        "fix",
        "client_ip",
        "recipient",
        "sender",
        "queue_id",
        "dsn",
    ):
        assert key in reject, key
    assert reject["lineno"] == 2 and reject["severity"] == "warn"
    assert "postfix:smtpd_relay_restrictions" in reject["settings"]


def test_scan_since_until_and_fail_on(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text(
        "2026-01-01T10:00:00+00:00 mx " + SEED.split(" mx ", 1)[1] + "\n"
        "2026-01-02T10:00:00+00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n"
    )
    first = json.loads(mailtui("scan", "--json", "--until", "2026-01-01T12:00:00+00:00", str(log)).stdout)
    second = json.loads(mailtui("scan", "--json", "--since", "2026-01-02T00:00:00+00:00", str(log)).stdout)
    assert (first["lines"], second["lines"]) == (1, 1)
    assert mailtui("scan", "--fail-on", "notice", str(log)).returncode == 1
    assert mailtui("scan", "--fail-on", "error", str(log)).returncode == 0
    bad = mailtui("scan", "--since", "yesterday-ish", str(log))
    assert bad.returncode == 2 and "cannot read time" in bad.stderr


def test_scan_stdin_and_unreadable_file(tmp_path: Path) -> None:
    proc = mailtui("scan", "-", stdin=SEED + "\n")
    assert "postfix.helo.non_fqdn" in proc.stdout
    missing = mailtui("scan", str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("nope.log: does not exist")
    assert "Traceback" not in missing.stderr


def test_scan_survives_hostile_bytes(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(b"\xff\xfe\x00garbage\x1b]0;x\x07\n" + SEED.encode() + b"\n" + b"A" * 3_000_000 + b"\n")
    proc = mailtui("scan", "--json", str(log))
    assert proc.returncode == 0 and json.loads(proc.stdout)["recognized"] == 1
    assert "\x1b" not in proc.stdout


def test_explain_argument_stdin_and_json() -> None:
    proc = mailtui("explain", SEED)
    assert proc.returncode == 0
    assert (
        "HELO rejected: not a fully-qualified name" in proc.stdout
        and "setting       smtpd_helo_restrictions" in proc.stdout
    )
    data = json.loads(mailtui("explain", "--json", SEED).stdout)
    assert data["recognizer"] == "postfix.helo.non_fqdn" and data["fields"]["helo"] == "clienthostname"
    assert {s["name"] for s in data["settings"]} >= {"smtpd_helo_restrictions"}
    many = json.loads(mailtui("explain", "--json", stdin=SEED + "\nnot a log line\n").stdout)
    assert [m["recognizer"] for m in many] == ["postfix.helo.non_fqdn", None]
    unknown = mailtui("explain", "hello world")
    assert unknown.returncode == 1 and "not recognized" in unknown.stdout


def test_where_finds_dovecot_settings(tmp_path: Path) -> None:
    conf = tmp_path / "dovecot.conf"
    conf.write_text("ssl = required\n!include extra.conf\n")
    (tmp_path / "extra.conf").write_text("ssl = yes\n")
    cfg = tmp_path / "mailtui.toml"
    cfg.write_text(f"[dovecot]\nconfig = '{conf}'\n")
    data = json.loads(mailtui("--config", str(cfg), "where", "--json", "ssl").stdout)
    dove = next(r for r in data["found"] if r["daemon"] == "dovecot")
    assert [(Path(s["file"]).name, s["effective"]) for s in dove["set_in"]] == [
        ("dovecot.conf", False),
        ("extra.conf", True),
    ]
    text = mailtui("--config", str(cfg), "where", "ssl").stdout
    assert "extra.conf:1: ssl = yes  <- in force" in text and "(overridden)" in text
