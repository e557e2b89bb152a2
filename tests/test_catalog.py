"""The recognizer catalog: every entry is valid, matches its own samples, and stays linear-time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtui.core.record import LogRecord
from mailtui.logs.envelope import EnvelopeParser
from mailtui.recognizers import redos
from mailtui.recognizers.engine import Engine
from mailtui.recognizers.loader import CatalogError, load_catalog, parse_catalog
from mailtui.recognizers.model import CANONICAL_FIELDS, SEVERITIES

CATALOG = load_catalog(include_user=False)
ENGINE = Engine(CATALOG)


def test_catalog_is_large_and_covers_every_family() -> None:
    assert len(CATALOG) >= 120
    families = {r.family for r in CATALOG}
    assert {"postfix", "dovecot", "fail2ban", "opendkim", "opendmarc"} <= families
    prefixes = {r.id.split(".")[0] for r in CATALOG}
    assert {"postfix", "postscreen", "tls", "delivery", "queue", "config", "milter", "dovecot", "fail2ban"} <= prefixes


@pytest.mark.parametrize("recognizer", CATALOG, ids=[r.id for r in CATALOG])
def test_each_sample_is_recognized_by_its_own_entry(recognizer) -> None:
    parser = EnvelopeParser()
    for sample in recognizer.samples:
        match = ENGINE.recognize(parser.parse(sample))
        assert match is not None, sample
        assert match.recognizer.id == recognizer.id, f"{sample!r} went to {match.recognizer.id}"
        assert "?" not in match.summary.replace("(?)", ""), match.summary
        if "rip=" in sample or re.search(r" from [^\s\[]*\[[^\]]+\]", sample):
            assert match.fields.get("client_ip"), (sample, match.fields)


def test_problem_entries_explain_themselves() -> None:
    for r in CATALOG:
        assert r.severity in SEVERITIES
        assert r.cause and r.fix, r.id
        if r.rank >= 1:  # a problem: the cause must say something real
            assert len(r.cause) > 40 and r.title, r.id
        if r.rank >= 2:  # warn and worse: the admin needs a real fix, not "nothing to do"
            assert len(r.fix) > 30, r.id
        if r.weakens_security == "yes":
            assert r.server_fix, f"{r.id}: say what the security-weakening server-side change is"


def test_dovecot_settings_name_both_generations_where_renamed() -> None:
    plaintext = next(r for r in CATALOG if r.id == "dovecot.login.plaintext_refused")
    names = {(s.name, s.name_24) for s in plaintext.settings}
    assert ("disable_plaintext_auth", "auth_allow_cleartext") in names


def test_canonical_field_names_are_used() -> None:
    used = set()
    for r in CATALOG:
        used |= {g.rstrip("0123456789") for g in r.regex.groupindex}
    assert {"client_ip", "client_host", "user", "queue_id", "helo_arg", "jail"} & used
    assert not used & {"ip", "host", "username", "qid", "rip"}, used & {"ip", "host", "username"}
    assert "client_ip" in CANONICAL_FIELDS


BAD = [
    ("[[recognizer]]\nid='x'\n", "missing family"),
    (
        "[[recognizer]]\n"
        + "\n".join(f"{k}='v'" for k in ("id", "family", "match", "title", "summary", "cause", "fix"))
        + "\npattern='('\nseverity='info'\nsamples=['v']\n",
        "pattern does not compile",
    ),
    (
        "[[recognizer]]\n"
        + "\n".join(f"{k}='v'" for k in ("id", "family", "match", "pattern", "title", "summary", "cause", "fix"))
        + "\nseverity='loud'\nsamples=['v']\n",
        "severity must be one of",
    ),
    (
        "[[recognizer]]\n"
        + "\n".join(f"{k}='v'" for k in ("id", "family", "match", "title", "summary", "cause", "fix"))
        + "\npattern='@NOPE@'\nseverity='info'\nsamples=['v']\n",
        "unknown macro @NOPE@",
    ),
    (
        "[[recognizer]]\n"
        + "\n".join(f"{k}='v'" for k in ("id", "family", "match", "pattern", "title", "summary", "cause", "fix"))
        + "\nseverity='info'\nsamples=['v']\ncolour='red'\n",
        "unknown key(s) colour",
    ),
    (
        "[[recognizer]]\n"
        + "\n".join(f"{k}='v'" for k in ("id", "family", "match", "pattern", "title", "summary", "cause", "fix"))
        + "\nseverity='info'\nsamples=['v']\nsettings=['exim:x']\n",
        "postfix:NAME",
    ),
    ("[recognizer\n", "invalid TOML"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_invalid_entries_are_reported_with_file_and_id(text: str, message: str) -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog(text, "my.toml")
    assert str(err.value).startswith("my.toml") and message in str(err.value)


def test_user_catalog_adds_and_replaces(tmp_path: Path) -> None:
    (tmp_path / "local.toml").write_text("""
[[recognizer]]
id = "local.greylist_note"
family = "postfix"
match = "custom-thing"
pattern = 'custom-thing from @CLIENT@'
severity = "warn"
title = "Our custom thing"
summary = "custom thing from {client_ip}"
cause = "A message our own policy daemon writes when it sees the custom thing."
fix = "Call the on-call admin."
samples = ["Jan  1 00:00:00 mx postfix/smtpd[1]: custom-thing from a[192.0.2.7]"]

[[recognizer]]
id = "postfix.session.connect"
family = "postfix"
match = "connect from "
pattern = '^connect from @CLIENT@'
severity = "notice"
title = "Connection (we watch these)"
summary = "{client_ip} connected"
cause = "This site wants to see every connection as a notice for its own reasons."
fix = "Nothing."
samples = ["Jan  1 00:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.8]"]
""")
    catalog = load_catalog(user_dir=tmp_path)
    engine = Engine(catalog)
    parser = EnvelopeParser()
    custom = engine.recognize(parser.parse("Jan  1 00:00:00 mx postfix/smtpd[1]: custom-thing from a[192.0.2.7]"))
    assert custom is not None and custom.recognizer.id == "local.greylist_note"
    assert custom.summary == "custom thing from 192.0.2.7"
    replaced = engine.recognize(parser.parse("Jan  1 00:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.8]"))
    assert replaced.recognizer.severity == "notice" and replaced.recognizer.origin.endswith("local.toml")
    assert len(catalog) == len(CATALOG) + 1


def test_user_catalog_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[[recognizer]]\nid = 'Bad Id'\n")
    with pytest.raises(CatalogError, match=r"broken\.toml: recognizer 'Bad Id'"):
        load_catalog(user_dir=tmp_path)


@pytest.mark.parametrize("recognizer", CATALOG, ids=[r.id for r in CATALOG])
def test_patterns_stay_linear_on_adversarial_input(recognizer) -> None:
    # Not a speed test: catastrophic backtracking shows as time exploding when the input grows.
    # The same check (recognizers/redos.py) refuses a user's pattern when its catalog is loaded.
    assert redos.structural_problem(recognizer.regex.pattern) is None, recognizer.id
    assert redos.probe(recognizer.regex, recognizer.match) is None, recognizer.id


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["postfix", "dovecot", "fail2ban", "opendkim", ""]), st.text(max_size=400))
def test_engine_never_crashes(family: str, message: str) -> None:
    rec = LogRecord(line=message, message=message, family=family, daemon="smtpd")
    match = ENGINE.recognize(rec)
    if match is not None:
        assert isinstance(match.summary, str)
