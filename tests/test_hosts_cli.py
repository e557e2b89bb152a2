"""``mailtui scan`` and ``mailtui who`` over the logs of several hosts (issue 19): per host as
well as in total, in text and ``--json``; one host's report stays as it was."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# mx1 relays a message to mx2, which delivers it; mx2 also rejects an unknown recipient (the rig's
# captured shape) and imap1's Dovecot refuses a password; imap1's own dovecot.log names no host
MX1 = """\
Nov 29 10:00:00 mx1 postfix/smtpd[4100]: connect from mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1 postfix/smtpd[4100]: 4B80DE08044: client=mail.sender.test[127.0.0.77]
Nov 29 10:00:00 mx1 postfix/cleanup[4101]: 4B80DE08044: message-id=<m1@sender.test>
Nov 29 10:00:00 mx1 postfix/qmgr[900]: 4B80DE08044: from=<ann@sender.test>, size=1793, nrcpt=1 (queue active)
Nov 29 10:00:01 mx1 postfix/smtpd[4100]: disconnect from mail.sender.test[127.0.0.77] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 29 10:00:02 mx1 postfix/smtp[4102]: 4B80DE08044: to=<bob@example.org>, relay=mx2.example.org[127.0.0.2]:25, delay=2, delays=0.05/0/0.14/1.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 73635C808F)
Nov 29 10:00:02 mx1 postfix/qmgr[900]: 4B80DE08044: removed
"""
MX2 = """\
Nov 29 10:00:01 mx2 postfix/smtpd[4100]: connect from mx1.example.org[127.0.0.1]
Nov 29 10:00:01 mx2 postfix/smtpd[4100]: 73635C808F: client=mx1.example.org[127.0.0.1]
Nov 29 10:00:01 mx2 postfix/cleanup[5101]: 73635C808F: message-id=<m1@sender.test>
Nov 29 10:00:02 mx2 postfix/qmgr[901]: 73635C808F: from=<ann@sender.test>, size=2101, nrcpt=1 (queue active)
Nov 29 10:00:02 mx2 postfix/smtpd[4100]: disconnect from mx1.example.org[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 29 10:00:03 mx2 postfix/local[5102]: 73635C808F: to=<bob@example.org>, relay=local, delay=1.1, delays=0.04/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 29 10:00:03 mx2 postfix/qmgr[901]: 73635C808F: removed
Nov 29 10:00:05 mx2 postfix/smtpd[4100]: connect from unknown[127.0.0.115]
Nov 29 10:00:05 mx2 postfix/smtpd[4100]: NOQUEUE: reject: RCPT from unknown[127.0.0.115]: 550 5.1.1 <nosuchuser@rig.test>: Recipient address rejected: User unknown in local recipient table; from=<bob@example.org> to=<nosuchuser@rig.test> proto=ESMTP helo=<client.rig.test>
Nov 29 10:00:05 mx2 postfix/smtpd[4100]: disconnect from unknown[127.0.0.115] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
"""
IMAP1 = """\
Nov 29 10:01:00 imap1 dovecot: auth: passwd-file(bob@example.org,127.0.0.9,<IySyoWBhEJt/AAAB>): Password mismatch
Nov 29 10:01:02 imap1 dovecot: imap-login: Disconnected: Aborted login (auth failed, 1 attempts in 2 secs): user=<bob@example.org>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, TLS, session=<IySyoWBhEJt/AAAB>
"""


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args], capture_output=True, text=True, timeout=60, env=env, cwd=REPO
    )


def _logs(tmp_path: Path, **texts: str) -> list[str]:
    stamp = datetime(2026, 11, 29, 12, 0).timestamp()  # the year of the syslog stamps
    names = []
    for name, text in texts.items():
        log = tmp_path / f"{name}.log"
        log.write_text(text)
        os.utime(log, (stamp, stamp))
        names.append(str(log))
    return names


@pytest.fixture
def fleet_logs(tmp_path: Path) -> list[str]:
    return _logs(tmp_path, mx1=MX1, mx2=MX2, imap1=IMAP1)


def test_scan_reports_each_host_and_the_total(tmp_path: Path, fleet_logs: list[str]) -> None:
    proc = run("scan", *fleet_logs, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "  19 lines, " in out  # the total first, as for one host
    assert "  received 2  delivered 2  deferred 0  bounced 0  rejected 1  expired 0" in out
    assert "  by host (3):\n" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("    ") and "recognized;" in line}
    assert set(rows) == {"mx1", "mx2", "imap1"}
    assert "10 lines" in rows["mx2"] and "rejected 1" in rows["mx2"] and "1 problem" in rows["mx2"]
    assert "7 lines" in rows["mx1"] and "delivered 1" in rows["mx1"] and "0 problems" in rows["mx1"]
    assert "2 lines" in rows["imap1"]
    # each problem says on which hosts it was seen
    assert "on mx2 ×1" in out and "on imap1 ×" in out


def test_scan_json_has_hosts_that_add_up_to_the_total(tmp_path: Path, fleet_logs: list[str]) -> None:
    data = json.loads(run("scan", "--json", *fleet_logs, home=tmp_path).stdout)
    hosts = {h["host"]: h for h in data["hosts"]}
    assert list(hosts) == ["mx2", "mx1", "imap1"]  # most lines first
    for key in ("lines", "recognized", "unparsed"):
        assert sum(h[key] for h in hosts.values()) == data[key]
    for severity, n in data["severity"].items():
        assert sum(h["severity"][severity] for h in hosts.values()) == n
    for total, n in data["delivery"].items():
        assert sum(h["delivery"].get(total, 0) for h in hosts.values()) == n
    assert min(h["first"] for h in hosts.values()) == data["first"]
    assert max(h["last"] for h in hosts.values()) == data["last"]
    assert hosts["mx2"]["delivery"] == {"received": 1, "delivered": 1, "rejected": 1}
    assert hosts["imap1"]["first"] == datetime(2026, 11, 29, 10, 1).timestamp()
    unknown = next(r for r in data["recognizers"] if r["recognizer"] == "postfix.rcpt.unknown_local")
    assert unknown["hosts"] == {"mx2": 1}
    queued = next(r for r in data["recognizers"] if r["recognizer"] == "postfix.qmgr.queued")
    assert queued["hosts"] == {"mx1": 1, "mx2": 1}


def test_one_host_and_its_hostless_logs_report_as_before(tmp_path: Path) -> None:
    # one machine: its syslog names it, its own Dovecot log and fail2ban.log name no host
    logs = _logs(
        tmp_path,
        mail=MX2,
        dovecot="Nov 29 10:01:02 imap-login: Info: Disconnected: Aborted login (auth failed, 1 attempts in 2 secs): "
        "user=<bob@example.org>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, TLS, session=<IySyoWBhEJt/AAAB>\n",
        fail2ban="2026-11-29 10:02:00,388 fail2ban.actions        [1234]: NOTICE  [postfix-sasl] Ban 127.0.0.9\n",
    )
    text = run("scan", *logs, home=tmp_path).stdout
    assert "by host" not in text and "\n                   on " not in text
    data = json.loads(run("scan", "--json", *logs, home=tmp_path).stdout)
    assert "hosts" not in data and all("hosts" not in r for r in data["recognizers"])
    assert data["lines"] == 12
    who = json.loads(run("who", "--json", "bob@example.org", *logs, home=tmp_path).stdout)
    assert "hosts" not in who["summary"] and all("host" not in line for line in who["lines"])
    timeline = run("who", "bob@example.org", *logs, home=tmp_path).stdout
    assert "hosts:" not in timeline and "  Nov 29 10:00:01 postfix/smtpd " in timeline


def test_who_shows_the_hosts_and_the_relayed_path_in_order(tmp_path: Path, fleet_logs: list[str]) -> None:
    proc = run("who", "bob@example.org", *fleet_logs, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "  hosts: mx2 ×" in out and "imap1 ×2 (2 problems)" in out and "mx1 ×5" in out
    hosts = re.findall(r"(?m)^. Nov 29 \d\d:\d\d:\d\d (\S+) +(?:postfix|dovecot)", out)
    assert len(hosts) == 15
    # mx1's part of the relayed message, mx2's, mx2's reject of bob's other message, imap1's login
    assert hosts[:3] == ["mx1"] * 3 and hosts[3] == "mx2" and hosts[-2:] == ["imap1", "imap1"]
    assert set(hosts) == {"mx1", "mx2", "imap1"}
    data = json.loads(run("who", "--json", "bob@example.org", *fleet_logs, home=tmp_path).stdout)
    assert [h["host"] for h in data["summary"]["hosts"]] == ["mx2", "mx1", "imap1"]
    assert {line["host"] for line in data["lines"]} == {"mx1", "mx2", "imap1"}
    stamps = [line["timestamp"] for line in data["lines"]]
    assert stamps == sorted(stamps)
    relay = next(line for line in data["lines"] if "queued as 73635C808F" in line["line"])
    assert relay["conversations"] == ["qid:4B80DE08044@mx1", "qid:73635C808F@mx2"]


def test_the_summary_per_host_adds_up_and_pieces_merge_key_by_key() -> None:
    from mailtui.logs.envelope import EnvelopeParser
    from mailtui.recognizers.engine import default_engine
    from mailtui.recognizers.summary import HostStats, ScanSummary

    engine, parser = default_engine(), EnvelopeParser()
    one, both = ScanSummary(), ScanSummary()
    for line in MX2.splitlines():
        rec = parser.parse(line)
        one.add(rec, engine.recognize(rec))
    assert not one.several_hosts and list(one.hosts) == ["mx2"] and one.hosts["mx2"].lines == one.lines == 10
    assert one.to_dict().get("hosts") is None
    # mx2's lines first, then mx1's, which are earlier in time: the span per host and in total holds
    for line in (MX2 + MX1 + MX2).splitlines():
        rec = parser.parse(line)
        both.add(rec, engine.recognize(rec))
    assert both.several_hosts and both.hosts["mx2"].lines == 20 and both.hosts["mx1"].lines == 7
    assert both.first == both.hosts["mx1"].first == datetime(2026, 11, 29, 10, 0).timestamp()
    assert both.hosts["mx2"].first == datetime(2026, 11, 29, 10, 0, 1).timestamp()
    assert both.host_delivery("mx2") == {"received": 2, "delivered": 2, "rejected": 2}
    assert sum(both.host_delivery(h)["delivered"] for h in both.hosts) == both.delivery["delivered"] == 3
    merged = HostStats()
    for stats in both.hosts.values():
        merged.merge(stats)
    assert (merged.lines, merged.recognized, merged.first, merged.last) == (
        both.lines,
        both.recognized,
        both.first,
        both.last,
    )
    assert sum(merged.by_recognizer.values()) == both.recognized
    # a scan cut into pieces (one per file here, each of one host): the pieces' hosts merge key by
    # key into what one summary of every line holds
    pieces = []
    for text in (MX2, MX1, MX2):
        piece = ScanSummary()
        for line in text.splitlines():
            rec = parser.parse(line)
            piece.add(rec, engine.recognize(rec))
        assert list(piece.hosts) == [rec.host]
        pieces.append(piece.hosts)
    folded: dict[str, HostStats] = {}
    for hosts in pieces:
        for name, stats in hosts.items():
            if name in folded:
                folded[name].merge(stats)
            else:
                folded[name] = stats
    assert folded == both.hosts
