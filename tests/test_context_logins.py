"""Context diagnoses of IMAP/POP3 logins: a refused cleartext login is not a wrong password.

Lines from real Dovecot 2.3 (tests/rig/logins.py: the rig's configuration, Debian's default
``auth_verbose = no``, and cleartext allowed), each case from its own address. Fast tests read
the captured lines (tests/data/context_logins); the daemon tests drive the same sessions against
three real Dovecots and check what ``who``, ``scan --events``, ``explain`` and the dashboard's
explanation say, with each Dovecot's own configuration read through doveconf.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtui.analysis.correlate import Context, Correlator, context, secured
from mailtui.logs.envelope import EnvelopeParser
from mailtui.mta.doveconf import DovecotConfig
from mailtui.mta.postconf import PostfixConfig
from mailtui.recognizers.engine import default_engine
from mailtui.recognizers.explain import Explainer, format_diagnosis
from tests.rig.base import need
from tests.rig.logins import BY_NAME, LOGINS, VARIANTS, Login

DATA = Path(__file__).parent / "data" / "context_logins"
CLEARTEXT = "dovecot.login.plaintext_refused"
WRONG = "dovecot.login.auth_failed"


def expected(variant: str, case: Login) -> str:
    """The recognizer that explains the case's login line on this Dovecot."""
    if case.cleartext and variant != "cleartext_allowed":
        return CLEARTEXT
    if case.cleartext and case.good_password:
        return "dovecot.login.cleartext_success"
    return WRONG


def case_of(line: str) -> Login:
    return next(c for c in LOGINS if f"rip={c.ip}," in line or f",{c.ip}," in line)


def contexts(text: str) -> Iterator[tuple[str, object, Context | None]]:
    """(line, match, context before settling) for every line, correlated in order."""
    engine, parser, corr = default_engine(), EnvelopeParser(), Correlator()
    for n, line in enumerate(text.splitlines(), 1):
        rec = parser.parse(line, n)
        match = engine.recognize(rec)
        keys = corr.keys(rec, match)
        yield line, match, (context(rec, match, keys, corr) if match is not None else None)


def test_every_captured_line_is_recognized_and_login_lines_are_the_cases() -> None:
    for variant in VARIANTS:
        text = (DATA / f"{variant}.log").read_text()
        seen = set()
        for line, match, _ in contexts(text):
            assert match is not None, line
            seen.add(case_of(line).name)
        assert seen == set(BY_NAME), variant


def test_the_tls_flag_is_read_from_the_login_fields_only() -> None:
    assert secured(
        "imap-login: Disconnected: x (auth failed, 1 attempts): user=<a>, method=PLAIN, rip=1, lip=2, TLS, session=<s>"
    )
    assert secured("imap-login: Login: user=<a>, method=PLAIN, rip=1, lip=1, mpid=5, secured, session=<s>")
    assert not secured("pop3-login: Disconnected: x (auth failed, 2 attempts): user=<a>, rip=1, lip=2, session=<s>")
    # a user name cannot claim TLS
    assert not secured(
        "pop3-login: Disconnected: x (auth failed, 2 attempts): user=<x, TLS, y>, rip=1, lip=2, session=<s>"
    )
    assert not secured("pop3-login: Disconnected: x (auth failed, 1 attempts): user=<TLS>, rip=1, lip=2")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_correlation_alone_tells_what_the_logs_can(variant: str) -> None:
    """Before the configuration is read: auth_verbose = yes logs say "refused" themselves (certain);
    Debian's quiet logs leave a condition on the configuration; TLS or method= rule it out."""
    for line, match, ctx in contexts((DATA / f"{variant}.log").read_text()):
        case = case_of(line)
        if match.recognizer.id != WRONG:
            assert ctx is None, line
            continue
        if variant == "rig" and case.cleartext:
            assert ctx is not None and ctx.means == CLEARTEXT and ctx.certain and not ctx.needs, line
            assert "Plaintext authentication disabled" in ctx.note
        elif variant == "debian" and case.cleartext:
            assert ctx is not None and ctx.means == CLEARTEXT and not ctx.certain, line
            assert ctx.needs == "cleartext_refused"
        else:  # over TLS, or the auth process was asked (method=PLAIN): it is what the line says
            assert ctx is None, line


def _dovecot_conf(tmp_path: Path, text: str) -> DovecotConfig:
    need("doveconf")
    conf = tmp_path / "dovecot.conf"
    conf.write_text(text)
    return DovecotConfig(str(conf))


SETTINGS = {
    "refused": "disable_plaintext_auth = yes\n",
    "ssl_required": "disable_plaintext_auth = no\nssl = required\n",
    "allowed": "disable_plaintext_auth = no\n",
    # refused for POP3 only: the line's protocol decides
    "pop3_only": "disable_plaintext_auth = no\nprotocol pop3 {\n  disable_plaintext_auth = yes\n}\n",
}


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_the_configuration_settles_debians_quiet_lines(tmp_path: Path, setting: str) -> None:
    explainer = Explainer(PostfixConfig(str(tmp_path / "nopostfix")), _dovecot_conf(tmp_path, SETTINGS[setting]))
    engine, parser = default_engine(), EnvelopeParser()
    checked = 0
    for n, line in enumerate((DATA / "debian.log").read_text().splitlines(), 1):
        rec = parser.parse(line, n)
        match = engine.recognize(rec)
        if match.recognizer.id != WRONG or not case_of(line).cleartext:
            continue
        checked += 1
        diagnosis = explainer.diagnose(rec, match, context(rec, match, [], Correlator()))
        refused = setting in ("refused", "ssl_required") or (setting == "pop3_only" and "pop3-login" in line)
        text = " ".join(format_diagnosis(diagnosis).split())
        if refused:
            assert diagnosis.headline.id == CLEARTEXT and diagnosis.context.certain, text
            decided = "ssl = required" if setting == "ssl_required" else "disable_plaintext_auth = yes"
            assert diagnosis.context.decided_by == decided
            assert text.startswith("Cleartext login refused") and f"{decided} is in force" in text
            assert "not a wrong password" in text and "995" in text
            assert "fix (server) ⚠ weakens security" in text
        else:  # cleartext allowed: the line means what it says, and the setting that decides is named
            assert diagnosis.headline.id == WRONG and diagnosis.meaning is None, text
            assert diagnosis.context.decided_by == "disable_plaintext_auth = no"
            assert "so Dovecot does not refuse cleartext logins" in text
            assert text.startswith("IMAP/POP3 login failed")
    assert checked == 4  # USER/PASS and LOGIN, good and wrong password


def test_a_line_alone_without_the_configuration_says_both_possibilities(tmp_path: Path) -> None:
    """``mailtui explain`` on Debian's quiet line where doveconf cannot read the configuration."""
    line = next(ln for ln in (DATA / "debian.log").read_text().splitlines() if "rip=127.0.9.11," in ln)
    conf = tmp_path / "mailtui.toml"
    conf.write_text(f'[dovecot]\nconfig = "{tmp_path}/missing/dovecot.conf"\n[postfix]\nconfig_dir = "{tmp_path}"\n')
    out = subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(conf), "explain", line],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    text = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stderr
    assert text.startswith("IMAP/POP3 login failed")  # the line's own reading stays the headline ...
    assert "Either Dovecot refused a cleartext login (disable_plaintext_auth = yes" in text  # ... not certain
    assert "or the password was wrong" in text and "Those settings decide" in text
    assert "other fix If it is 'Cleartext login refused" in text and "995" in text
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "mailtui", "--config", str(conf), "explain", "--json", line],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
    )
    assert data["recognizer"] == WRONG
    assert data["context"]["recognizer"] == CLEARTEXT and data["context"]["certain"] is False


# -- against real Dovecots ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecots() -> Iterator[dict[str, tuple[Path, Path]]]:
    """variant -> (dovecot.conf, the log of every case), each from its own running Dovecot
    (stopped once its cases ran: doveconf reads the configuration file, not the daemon)."""
    from tests.rig.fixtures import _session_dir
    from tests.rig.logins import run_logins, start_variant

    need("dovecot")
    with _session_dir("mailtui-logins-") as base:  # world-readable: Dovecot's users read it
        out = {}
        for variant in VARIANTS:
            dc = start_variant(base / variant, variant)
            try:
                log = base / f"{variant}.log"
                log.write_text(run_logins(dc))
                out[variant] = (dc.conf, log)
            finally:
                dc.stop()
        yield out


def _cli(conf: Path, tmp: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp / "mailtui.toml"
    cfg.write_text(f'[dovecot]\nconfig = "{conf}"\n[postfix]\nconfig_dir = "{tmp}"\n')
    return subprocess.run(
        [sys.executable, "-m", "mailtui", "--config", str(cfg), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ.copy(),
    )


def _headline(entry: dict) -> str:
    ctx = entry.get("context") or {}
    return ctx["recognizer"] if ctx.get("recognizer") and ctx.get("certain") else entry["recognizer"]


@pytest.mark.daemons
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_who_and_scan_events_diagnose_each_login(dovecots, tmp_path: Path, variant: str) -> None:
    conf, log = dovecots[variant]
    events = [json.loads(ln) for ln in _cli(conf, tmp_path, "scan", "--json", "--events", str(log)).stdout.splitlines()]
    for case in LOGINS:
        want = expected(variant, case)
        who = _cli(conf, tmp_path, "who", "--json", case.ip, str(log))
        data = json.loads(who.stdout)
        login_lines = [t for t in data["lines"] if t.get("recognizer", "").startswith("dovecot.login.")]
        assert login_lines, (variant, case.name, who.stdout)
        # the line that ends the session is diagnosed as it really was
        assert _headline(login_lines[-1]) == want, (variant, case.name, login_lines[-1])
        if want == CLEARTEXT:
            assert all(_headline(t) == CLEARTEXT for t in login_lines), (variant, case.name)
            assert data["summary"]["problems"][0]["recognizer"] == CLEARTEXT
            assert [p["recognizer"] for p in data["summary"]["problems"]] == [CLEARTEXT]
        if want != "dovecot.login.cleartext_success":
            assert data["summary"]["logins"] == {"ok": 0, "failed": 1}, (variant, case.name)
        else:
            assert data["summary"]["logins"] == {"ok": 1, "failed": 0}
        assert data["summary"]["addresses"] == {
            case.ip: len([t for t in data["lines"] if "client_ip" in t.get("fields", {})])
        }
        mine = [e for e in events if e.get("client_ip") == case.ip and e["recognizer"].startswith("dovecot.login.")]
        assert mine and _headline(mine[-1]) == want, (variant, case.name, mine)
        if want == WRONG:
            assert not any((e.get("context") or {}).get("recognizer") for e in mine)
        if want == CLEARTEXT and mine[-1]["recognizer"] == WRONG:
            ctx = mine[-1]["context"]
            assert ctx["weakens_security"] == "yes" and "995" in ctx["fix"] and ctx["certain"] is True


@pytest.mark.daemons
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_explain_alone_and_in_order(dovecots, tmp_path: Path, variant: str) -> None:
    conf, log = dovecots[variant]
    lines = log.read_text().splitlines()
    whole = _cli(conf, tmp_path, "explain", "--json")
    whole = subprocess.run(
        whole.args, input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, check=False
    )
    in_order = json.loads(whole.stdout)
    for case in LOGINS:
        want = expected(variant, case)
        last = [d for d, ln in zip(in_order, lines) if case_of(ln) is case and d.get("recognizer")][-1]
        assert _headline(last) == want, (variant, case.name)
        alone = json.loads(
            _cli(
                conf,
                tmp_path,
                "explain",
                "--json",
                next(ln for ln in reversed(lines) if case_of(ln) is case and "-login:" in ln),
            ).stdout
        )
        # alone, the quiet Debian line is settled by the configuration; the rig's auth_verbose lines
        # need the session (alone, "auth failed" without method= is still settled by doveconf)
        assert _headline(alone) == want, (variant, case.name, alone)


@pytest.mark.daemons
async def test_dashboard_explanation_says_cleartext_refused(dovecots, tmp_path: Path, monkeypatch) -> None:
    from textual.widgets import Static

    from mailtui import config
    from mailtui.ui.screens.explain import ExplainScreen
    from mailtui.ui.screens.who import WhoScreen
    from mailtui.ui.widgets.log_lines import LogLines
    from tests.ui_apps import make_app

    conf, log = dovecots["debian"]
    case = BY_NAME["pop3_user_pass_clear"]
    mine = tmp_path / "dovecot.log"
    mine.write_text("".join(ln + "\n" for ln in log.read_text().splitlines() if f"rip={case.ip}," in ln))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(config, "SYSTEM_CONFIG", tmp_path / "none.toml")
    cfg = config.load(
        None, {"logs.files": [str(mine)], "dovecot.config": str(conf), "postfix.config_dir": str(tmp_path)}
    )
    app = make_app(cfg)
    async with app.run_test(size=(120, 35)) as pilot:
        lines = app.query_one(LogLines)
        for _ in range(100):
            if len(lines.view) >= 1:
                break
            await pilot.pause(0.05)
        lines.focus()
        await pilot.press("enter")
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        for _ in range(100):
            if screen.diagnosis is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.05)
        text = " ".join(str(screen.query_one(Static).render()).split())
        assert "The line says IMAP/POP3 login failed: wrong user name or password — which it is not here" in text
        assert "disable_plaintext_auth = yes is in force for pop3" in text
        assert "Fix (client) Fix the client first: use POP3 on 995" in text
        assert "Fix (server) ⚠ weakens security" in text
        assert "Cleartext login refused" in str(screen.query_one("VerticalScroll").border_title)
        await pilot.press("escape")
        await pilot.press("w")
        await pilot.pause(0.1)
        assert isinstance(app.screen, WhoScreen)
        app.screen.query_one("#who-query").value = case.ip
        await pilot.press("enter")
        for _ in range(100):
            if app.screen.result is not None:
                break
            await pilot.pause(0.05)
        shown = " ".join(str(app.screen.body.render()).split())
        assert "logins: 0 ok, 1 failed" in shown
        assert "problems: Cleartext login refused: the client does not use SSL/TLS ×1" in shown
        assert "→ Cleartext login refused: the client does not use SSL/TLS: pop3 login failed" in shown
