"""Ban history, read from a database that a real fail2ban-server wrote over several days.

The days are made with libfaketime: the server is started four times, each time with its clock
set back (5, 3 and 1 days, then today), bans addresses, and is stopped; its database keeps the
bans across the restarts as it does on a real server.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.fail2ban.history import DAY, HistoryError, read_history, sparkline
from tests.minif2b import MiniFail2ban, need_faketime, start_mini

JAILS = """\
[DEFAULT]
backend = polling
usedns = no
ignoreself = false
maxretry = 3
findtime = 10m
bantime = 1h
banaction =
action =

[postfix-sasl]
enabled = true
filter = postfix[mode=auth]
logpath = {dir}/mail.log

[dovecot]
enabled = true
filter = dovecot
logpath = {dir}/mail.log

[recidive]
enabled = true
filter = recidive
logpath = {dir}/fail2ban.log
bantime = 1w
findtime = 1d
"""

# (days back, jail, address): 203.0.113.5 comes back every time (and lands in recidive),
# 198.51.100.7 is banned by two jails on one day, the rest once each
PLAN = [
    (5, "postfix-sasl", "203.0.113.5"),
    (5, "postfix-sasl", "192.0.2.1"),
    (3, "postfix-sasl", "203.0.113.5"),
    (3, "dovecot", "198.51.100.7"),
    (3, "postfix-sasl", "198.51.100.7"),
    (1, "postfix-sasl", "203.0.113.5"),
    (1, "recidive", "203.0.113.5"),
    (1, "dovecot", "192.0.2.2"),
    (0, "dovecot", "192.0.2.3"),
]


@pytest.fixture(scope="module")
def history_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    need_faketime()
    d = tmp_path_factory.mktemp("f2bhist")
    f2b: MiniFail2ban | None = None
    for back in sorted({p[0] for p in PLAN}, reverse=True):
        if f2b is None:
            f2b = start_mini(d, JAILS, days_back=back)
        else:
            f2b.start(days_back=back)
        try:
            for when, jail, ip in PLAN:
                if when == back:
                    f2b.cli("set", jail, "banip", ip)
        finally:
            f2b.stop()
    yield d / "f2b.sqlite3"


def test_bans_per_day_per_jail_from_a_database_fail2ban_wrote(history_db: Path) -> None:
    hist = read_history(str(history_db), days=30)
    assert set(hist.per_day) == {"postfix-sasl", "dovecot", "recidive"}
    sasl = hist.per_day["postfix-sasl"]
    assert len(sasl) == 30
    # the last slot is today; the bans of 5, 3 and 1 days back sit 5, 3 and 1 slots before it
    # (a slot is 24 h ending now, so a ban made "n days back" just before now falls in slot -1-n)
    assert sum(sasl) == 5 and sasl[-6] == 2 and sasl[-4] == 2 and sasl[-2] == 1
    assert hist.per_day["dovecot"][-1] == 1 and sum(hist.per_day["dovecot"]) == 3
    assert hist.totals == {"dovecot": 3, "postfix-sasl": 5, "recidive": 1}
    assert hist.note == ""


def test_a_ban_of_the_last_half_second_is_today_though_fail2ban_stored_the_next_second(history_db: Path) -> None:
    """fail2ban stores int(round(time of the ban)): a ban made at T-0.4 is stored as T. Read at
    T-0.4 (the moment of the ban), it is today's, not missing until the next read."""
    with sqlite3.connect(f"file:{history_db}?mode=ro", uri=True) as conn:
        stored = conn.execute("SELECT timeofban FROM bans WHERE ip = '192.0.2.3'").fetchone()[0]
    hist = read_history(str(history_db), days=30, now=stored - 0.4)
    # a second earlier the ban was not made yet: nothing later than fail2ban's rounding counts
    early = read_history(str(history_db), days=30, now=stored - 1.5)
    assert hist.totals["dovecot"] == 3 and early.totals["dovecot"] == 2  # totals: the sum of the 30 slots


def test_repeat_offenders_and_the_recidive_view(history_db: Path) -> None:
    hist = read_history(str(history_db), days=30)
    by_ip = {o.ip: o for o in hist.offenders}
    assert list(by_ip) == ["203.0.113.5", "198.51.100.7"]  # most bans first; single bans are no repeat
    repeat = by_ip["203.0.113.5"]
    assert repeat.bans == 4 and repeat.jails == ["postfix-sasl", "recidive"] and repeat.recidive
    assert repeat.again_after_expiry == 2  # 5 -> 3 -> 1 days back; the recidive ban came while banned
    assert 4 * DAY < repeat.last - repeat.first < 6 * DAY
    two = by_ip["198.51.100.7"]
    assert two.jails == ["dovecot", "postfix-sasl"] and two.again_after_expiry == 0
    assert [o.ip for o in hist.recidive] == ["203.0.113.5"]


def test_days_outside_the_window_and_a_short_purge_age(history_db: Path) -> None:
    later = read_history(str(history_db), days=30, now=time.time() + 40 * DAY)
    assert later.per_day == {} and later.oldest is not None  # the bans are older than the window
    short = read_history(str(history_db), days=30, purge_age=DAY)
    assert short.note.startswith("fail2ban keeps bans for 24 hours only (dbpurgeage)")
    assert "dbpurgeage = 30d" in short.note
    assert read_history(str(history_db), days=30, purge_age=60 * DAY).note == ""


def test_unreadable_and_wrong_databases_say_why(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot open fail2ban's database"):
        read_history(str(tmp_path / "missing.sqlite3"))
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE x(a)").connection.commit()
    with pytest.raises(HistoryError, match="not a fail2ban database"):
        read_history(str(other))
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(HistoryError, match="not a database"):
        read_history(str(junk))


def test_sparkline_scales_to_the_busiest_day() -> None:
    assert sparkline([0, 1, 8, 4]) == " ▁█▄"
    assert sparkline([0, 0]) == "  "


def test_cli_history_text_and_json(history_db: Path, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--history", "--db", str(history_db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["totals"] == {"dovecot": 3, "postfix-sasl": 5, "recidive": 1} and len(data["per_day"]["dovecot"]) == 30
    text = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--history", "--days", "7", "--db", str(history_db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert "repeat offender" in text.stdout and "203.0.113.5" in text.stdout and text.returncode == 0
    bad = subprocess.run(
        [sys.executable, "-m", "mailtui", "bans", "--history", "--days", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "mailtui: --days must be from 1 to 366"
