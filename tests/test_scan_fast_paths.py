"""The scan's fast paths give what the general paths give, on every input.

The differential proof (tests/test_scan_engines.py) compares engines with each other; these
compare each shortcut inside the reference engine with the code it stands in for, so a speedup
cannot change a result unnoticed: the reader's whole-chunk decode with a line-by-line decode,
the envelope parser's one-match path with its general path (a fresh parser, which knows no
program yet, takes the general path for every line), the engine's key-word index with trying
every candidate in catalog order, the three fields a scan counts with all the fields.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtui.logs import envelope, reader
from mailtui.logs.envelope import EnvelopeParser
from mailtui.logs.sanitize import MAX_LINE_BYTES, cut, decode
from mailtui.recognizers.engine import Engine, default_engine
from mailtui.recognizers.fields import who, who_of_match
from mailtui.recognizers.model import match_fields

STAMP = 1_796_000_000.0  # 2026-11-30: the year of traditional stamps

# -- the reader: a whole chunk at once == line by line -----------------------------------------


def _line_by_line(data: bytes) -> list[str]:
    """What reading ``data`` must give: each line decoded alone (cut past MAX_LINE_BYTES)."""
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return [cut(raw[:MAX_LINE_BYTES], len(raw)) if len(raw) > MAX_LINE_BYTES else decode(raw) for raw in parts]


_pieces = st.sampled_from(
    [
        b"Mar  1 00:00:00 mx postfix/smtpd[1]: connect from unknown[192.0.2.1]",
        b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",  # valid UTF-8, 2 to 4 bytes a character
        b"\xc3",  # a sequence cut short
        b"\xe2\x82",
        b"\xff\xfe\xed\xa0\x80",  # invalid bytes, an encoded surrogate
        b"\x1b[31m",
        b"\x00",
        b"\x7f\xc2\x9b",  # DEL, C1
        b"\xe2\x80\xae",  # a bidi override
        b"\r",
        b"\t",
        b" ",
        b"\n",
        b"\n\n",
        b"x",
    ]
)
_data = st.one_of(
    st.lists(_pieces, max_size=60).map(b"".join),
    st.binary(max_size=400),
    st.tuples(st.integers(8_000, 40_000), st.sampled_from([b"a", b"\xc3\xa9", b"\xc3"])).map(
        lambda t: b"start\n" + t[1] * (t[0] // len(t[1])) + b"\nend"
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_data, chunk=st.integers(1, 300))
def test_reading_a_chunk_whole_is_reading_it_line_by_line(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, data: bytes, chunk: int
) -> None:
    path = tmp_path_factory.mktemp("read") / "mail.log"
    path.write_bytes(data)
    monkeypatch.setattr(reader, "CHUNK", chunk)  # lines that begin in one chunk and end in another
    want = _line_by_line(data)
    assert [text for _, text in reader.iter_lines(str(path))] == want
    assert [text for block in reader.iter_blocks(str(path)) for text in block] == want


@pytest.mark.parametrize(
    ("chunk", "whole"),
    [
        (b"Mar  1 00:00:00 mx postfix/qmgr[9]: 1A2B: removed\nnext\tline\npartial", True),
        ("Mar  1 00:00:00 mx dovecot: imap(jörg): Logged out\n".encode(), True),
        (b"invalid \xff utf-8\n", True),
        (b"escape \x1b[31m\n", False),
        (b"carriage return\r\n", False),
        (b"bidi \xe2\x80\xae\n", False),
        (b"a" * (reader.CAP_BYTES + 1) + b"\n", False),
    ],
)
def test_the_whole_chunk_path_is_taken_for_plain_text(chunk: bytes, whole: bool) -> None:
    """The fast path is taken where it can be (a lost speedup shows here) and not elsewhere."""
    lines, _ = reader.LineSplitter().feed(chunk)
    texts = reader._whole(chunk, lines, True)
    assert (texts is not None) == whole
    if texts is not None:
        assert texts == [decode(raw) for raw in lines]


# -- the envelope: one match == the general path ------------------------------------------------


def _general(line: str) -> envelope.LogRecord:
    return EnvelopeParser(source="mail.log", year_reference=STAMP).parse(line, 7, sanitized=True)


def _fast(line: str, before: str | None = None) -> envelope.LogRecord:
    """``line`` parsed by a parser that knows its program (and its stamp, or ``before``'s)."""
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    parser.parse(line, 1, sanitized=True)
    if before is not None:
        parser.parse(before, 2, sanitized=True)
    return parser.parse(line, 7, sanitized=True)


_stamps = st.sampled_from(
    [
        "Mar  1 00:00:00",
        "Nov 29 23:59:59",
        "Feb 29 10:00:00",  # not in every year
        "Mar 00 10:00:00",  # day 0: no time
        "Mar 01 25:61:61",
        "Foo  1 10:00:00",
        "Mar +1 10:00:00",
        "Mar  1 1０:00:00",  # a full-width digit
    ]
)
_hosts = st.sampled_from(["mx", "mx.example.org", "", "mx:", "a\tb", "::1", "h[1]"])
_tags = st.sampled_from(
    [
        "postfix/smtpd[123]",
        "postfix/submission/smtpd[9]",
        "postfix/qmgr",
        "postfix/smtpd[１２]",  # full-width digits: \d takes them
        "postfix/smtpd[12x]",
        "postfix/smtpd[000000000000000042]",  # pids of 18, 19 and 5,000 digits: ascii_int's cap
        "postfix/smtpd[9999999999999999999]",
        "postfix/smtpd[" + "7" * 5000 + "]",
        "postfix/smtpd[]",
        "dovecot",
        "dovecot[442]",
        "deliver(ann)",
        "fail2ban.actions[3]",
        "opendkim[5]",
        "prog",
        "a b",
        "",
    ]
)
_colons = st.sampled_from([": ", ":", ":  ", " ", ""])
_messages = st.one_of(
    st.sampled_from(
        [
            "connect from unknown[192.0.2.1]",
            "warning: hostname does not resolve",
            "fatal: no",
            "1A2B3C: removed",
            "[ID 197553 mail.info] connect from x",
            "imap-login: Info: Login: user=<ann>",
            "auth: Error: passwd-file(ann,192.0.2.1): unknown user",
            "Warning: something",
            "fail2ban.actions [3]: NOTICE [sshd] Ban 192.0.2.1",
            "fail2ban.filter",
            "",
            " leading space",
        ]
    ),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ")),
)


@settings(max_examples=1000, deadline=None)
@given(stamp=_stamps, sep=st.sampled_from([" ", "  "]), host=_hosts, tag=_tags, colon=_colons, msg=_messages)
def test_the_one_match_envelope_is_the_general_one(
    stamp: str, sep: str, host: str, tag: str, colon: str, msg: str
) -> None:
    line = f"{stamp}{sep}{host} {tag}{colon}{msg}"
    want = _general(line)
    assert _fast(line) == want
    assert _fast(line, before=f"Mar  2 00:00:00 mx {tag}{colon}x") == want  # another stamp came between


def _corpus_lines(corpus: Path) -> list[str]:
    """Every line of the corpus logs, then the first column of the realworld tables."""
    lines = [
        line
        for path in sorted(corpus.rglob("*.log"))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    for tsv in sorted((corpus / "realworld").glob("*.tsv")):
        text = tsv.read_text(encoding="utf-8", errors="replace")
        lines += [row.split("\t", 1)[0] for row in text.splitlines() if row and not row.startswith("#")]
    return lines


def test_the_one_match_envelope_on_the_corpus(corpus: Path) -> None:
    lines = _corpus_lines(corpus)
    assert len(lines) > 1000, "the corpus logs are missing"
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)  # warm: the fast path
    for line in lines:
        assert parser.parse(line, 7) == EnvelopeParser(source="mail.log", year_reference=STAMP).parse(line, 7)


def test_a_known_program_takes_the_one_match_path(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    parser.parse("Mar  1 00:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]", 1, sanitized=True)
    calls: list[str] = []
    monkeypatch.setattr(parser, "_after_stamp", lambda rec, rest, fmt: calls.append(rest))
    rec = parser.parse("Mar  1 00:00:01 mx postfix/smtpd[2]: warning: x", 2, sanitized=True)
    assert calls == [] and (rec.program, rec.pid, rec.daemon, rec.level) == ("postfix/smtpd", 2, "smtpd", "warning")


# -- recognition: the key-word index tries what catalog order tries ------------------------------


def _first_match(engine: Engine, record: envelope.LogRecord) -> tuple[str, dict[str, str | None]] | None:
    """What recognize() must give: every candidate in catalog order, literal then pattern."""
    for literal, regex, rec in engine._candidates(record.family, record.daemon):
        if literal in record.message:
            m = regex.search(record.message)
            if m is not None:
                return rec.id, m.groupdict()
    match = engine._unexplained(record) if record.level else None
    return (match.recognizer.id, match.groups) if match is not None else None


def _recognized(engine: Engine, record: envelope.LogRecord) -> tuple[str, dict[str, str | None]] | None:
    match = engine.recognize(record)
    return (match.recognizer.id, match.groups) if match is not None else None


def test_the_key_word_index_recognizes_the_corpus_as_catalog_order(corpus: Path) -> None:
    engine = default_engine()
    lines = _corpus_lines(corpus)
    lines += [s for r in engine.recognizers for s in r.samples]
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    recognized = 0
    for line in lines:
        record = parser.parse(line)
        want = _first_match(engine, record)
        assert _recognized(engine, record) == want, line
        recognized += want is not None
    assert recognized > len(lines) // 2


def _pairs() -> list[tuple[str, str]]:
    return sorted({(r.family, d) for r in default_engine().recognizers for d in (r.daemons or {""})})


def _words() -> list[str]:
    """Pieces of the catalog's literals: whole ones, and cut at and between their spaces."""
    out = set()
    for r in default_engine().recognizers:
        lit = r.match
        out.add(lit)
        parts = lit.split(" ")
        out.update(parts)
        out.update(" ".join(parts[i:]) for i in range(1, len(parts)))
        out.update(lit[: len(lit) // 2], lit[len(lit) // 2 :])
    return sorted(out)


@settings(max_examples=1500, deadline=None)
@given(
    pair=st.sampled_from(_pairs()),
    level=st.sampled_from(["", "warning", "Error", "Info"]),
    pieces=st.lists(
        st.one_of(
            st.sampled_from(_words()),
            st.sampled_from(
                [" ", "  ", "\t", ": ", "x", "1.2.3.4", "[192.0.2.1]", "1A2B3C4D5E:", "NOQUEUE:", "connect"]
            ),
        ),
        max_size=8,
    ),
)
def test_the_key_word_index_recognizes_made_up_messages_as_catalog_order(
    pair: tuple[str, str], level: str, pieces: list[str]
) -> None:
    engine = default_engine()
    record = envelope.LogRecord(line="", message="".join(pieces), family=pair[0], daemon=pair[1], level=level)
    assert _recognized(engine, record) == _first_match(engine, record)


_CATALOG = sorted((r.family, d, r.regex.pattern) for r in default_engine().recognizers for d in (r.daemons or {""}))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    data=st.data(),
    which=st.sampled_from(_CATALOG),
    level=st.sampled_from(["", "warning", "Error"]),
    before=st.sampled_from(["", "1A2B3C4D5E: ", "NOQUEUE: ", "warning: ", "connect ", " "]),
)
def test_the_index_recognizes_what_each_pattern_matches_as_catalog_order(
    data: st.DataObject, which: tuple[str, str, str], level: str, before: str
) -> None:
    """Messages a catalog pattern matches (Hypothesis makes them from the pattern, some with a
    first piece put in front): the index skips no candidate that catalog order would take."""
    family, daemon, pattern = which
    message = before + data.draw(st.from_regex(re.compile(pattern)))
    engine = default_engine()
    record = envelope.LogRecord(line="", message=message, family=family, daemon=daemon, level=level)
    assert _recognized(engine, record) == _first_match(engine, record)


def test_the_ascii_envelope_pattern_is_the_unicode_one_on_ascii() -> None:
    """The classes spelled out for ASCII lines take the very characters \\s and \\d take there."""
    for code in range(128):
        line = "Mar  1 00:00:00 mx " + f"p{chr(code)}q[1{chr(code)}]: x"
        a, u = envelope._HOST_TAG_ASCII.match(line, 16), envelope._HOST_TAG.match(line, 16)
        assert (a and a.groups()) == (u and u.groups()), code


# -- who is involved: three fields without the others -------------------------------------------


def _who_of_fields(family: str, message: str, groups: dict[str, str | None]) -> tuple[str | None, ...]:
    f = match_fields(family, message, groups)
    return f.get("client_ip"), f.get("user"), f.get("sender")


def test_who_is_what_the_fields_say_on_the_corpus(corpus: Path) -> None:
    engine = default_engine()
    lines = _corpus_lines(corpus)
    lines += [s for r in engine.recognizers for s in r.samples]
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    seen = 0
    for line in lines:
        record = parser.parse(line)
        match = engine.recognize(record)
        if match is not None:
            assert match.who() == _who_of_fields(record.family, record.message, match.groups), line
            seen += match.who() != (None, None, None)
    assert seen > 100


_kv = st.sampled_from(
    [
        "from=<a@example.org>",
        "from=<>",
        "from=",
        "sasl_username=ann",
        "sasl_username=<>",
        "helo=<from=x>",
        "to=x.from=y",
        "dsn=2.0.0",
        "=",
        "[",
        "from ",
        "client=",
        "from [192.0.2.3]",
        "to=<b@example.net>",
        "user=<ann>",
        "user=",
        "rip=192.0.2.1",
        "rip=<>",
        "lip=192.0.2.2",
        "session=<abc>",
        "imap(ann)<7><sess>: ",
        "imap()<7><sess>: ",
        "connect from host[192.0.2.1]",
        "client=h[2001:db8::1]:25",
        " [192.0.2.9]:25",
        "1A2B3C: ",
        "warning: ",
        ", ",
        " ",
        "x",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(
    family=st.sampled_from(["postfix", "dovecot", "fail2ban", "opendkim", ""]),
    pieces=st.lists(_kv, max_size=8),
    groups=st.dictionaries(
        st.sampled_from(["client_ip", "client_ip2", "user", "user2", "user3", "sender", "queue_id", "x1"]),
        st.none() | st.sampled_from(["", "192.0.2.7", "bob", "c@example.org"]),
        max_size=5,
    ),
)
def test_who_is_what_the_fields_say_on_made_up_messages(
    family: str, pieces: list[str], groups: dict[str, str | None]
) -> None:
    message = "".join(pieces)
    assert who(family, message, groups) == _who_of_fields(family, message, groups)


_WHO_PATTERNS = [
    r"(?P<client_ip>\d+)",
    r"(?P<user>u)?(?P<x>x)?(?P<user2>v)?",
    r"(?P<sender>s)|(?P<client_ip2>c)|(?P<user3>w)",
    r"(?P<queue_id>[A-F]+)?(?P<client_ip>)",
    r"nothing",
]


@settings(max_examples=800, deadline=None)
@given(
    family=st.sampled_from(["postfix", "dovecot", ""]),
    pieces=st.lists(_kv | st.sampled_from(["u", "v", "w", "s", "c", "12", "x"]), max_size=8),
    which=st.sampled_from(range(len(_WHO_PATTERNS))),
)
def test_who_of_a_fresh_match_is_who_of_its_groups(family: str, pieces: list[str], which: int) -> None:
    # Match.who() before its groups were read takes only the who-groups from the regex match
    message = "".join(pieces)
    m = re.compile(_WHO_PATTERNS[which]).search(message)
    if m is not None:
        assert who_of_match(family, message, m) == who(family, message, m.groupdict())


def test_who_of_a_fresh_match_on_every_catalog_sample() -> None:
    engine = default_engine()
    parser = EnvelopeParser(source="mail.log", year_reference=STAMP)
    for rec in engine.recognizers:
        for sample in rec.samples:
            record = parser.parse(sample)
            fresh, read = engine.recognize(record), engine.recognize(record)
            assert fresh is not None and read is not None
            assert fresh._regex_match is not None  # the path under test
            assert fresh.who() == who(record.family, record.message, read.groups), sample


@settings(max_examples=1500, deadline=None)
@given(
    family=st.sampled_from(["postfix", "dovecot", "fail2ban"]),
    pieces=st.lists(_kv, max_size=8),
    need=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_a_field_not_needed_changes_none_of_the_others(
    family: str, pieces: list[str], need: tuple[bool, bool, bool]
) -> None:
    """_common_who looks only for the fields the pattern did not give: each one it is asked for
    is what it finds when asked for all three."""
    from mailtui.recognizers.fields import _common_who

    message = "".join(pieces)
    every = _common_who(family, message)
    some = _common_who(family, message, *need)
    assert [s for s, n in zip(some, need) if n] == [e for e, n in zip(every, need) if n]
