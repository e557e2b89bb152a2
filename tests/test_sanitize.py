"""Untrusted log text is neutralised at ingestion: no control sequence survives, length is capped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailtui.logs.sanitize import MAX_LINE_CHARS, clean, decode


def test_escape_sequences_become_visible_symbols() -> None:
    out = clean("HELO \x1b]0;PWNED\x07 \x1b[2J evil\x9b31m")
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert out == "HELO ␛]0;PWNED␇ ␛[2J evil\ufffd31m"


def test_tab_kept_and_bidi_overrides_replaced() -> None:
    assert clean("a\tb") == "a\tb"
    assert clean("user\u202egnp.exe") == "user\ufffdgnp.exe"


def test_invalid_utf8_and_nul() -> None:
    assert decode(b"user=<\xff\xfe>\x00 done\r") == "user=<\ufffd\ufffd>␀ done"


def test_long_lines_are_capped_and_say_so() -> None:
    out = clean("x" * (MAX_LINE_CHARS + 50))
    assert out.startswith("x" * MAX_LINE_CHARS)
    assert out.endswith("… [50 more characters]")


@given(st.binary(max_size=600))
def test_no_control_character_survives_any_input(raw: bytes) -> None:
    out = decode(raw)
    assert not any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in out)


@given(
    st.lists(
        st.binary(max_size=300)
        | st.sampled_from(
            [
                b"\r",
                b"\r\r",
                b"\xff\xfe",
                b"\x1b[2J",
                "é".encode(),
                b"x" * (MAX_LINE_CHARS * 4 + 3),
                "é".encode() * 9000,
            ]
        ),
        max_size=8,
    )
)
def test_file_reader_fast_path_equals_decode(chunks: list[bytes]) -> None:
    """iter_lines decodes common lines inline; every line must come out as decode() makes it."""
    import tempfile

    from mailtui.logs.reader import iter_lines

    data = b"".join(chunks)
    with tempfile.NamedTemporaryFile(suffix=".log") as fh:
        fh.write(data)
        fh.flush()
        got = [text for _, text in iter_lines(fh.name)]
    expected = [decode(raw) for raw in data.split(b"\n")]
    if data.endswith(b"\n") or not data:
        expected.pop()  # no line after the last newline
    assert got == expected


_ascii_heavy = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=80) | st.text(max_size=40)


@given(_ascii_heavy)
def test_output_and_json_fast_paths_agree_with_the_regexes(text: str) -> None:
    """clean_output and escape_json skip their regex scan for ASCII text (a 2 MB report); the
    result must be the regex's on every input, controls, DEL and non-ASCII included."""
    from mailtui.logs.sanitize import _UNSAFE_IN_JSON, UNSAFE_IN_OUTPUT, _visible, clean_output, escape_json

    assert clean_output(text) == UNSAFE_IN_OUTPUT.sub(_visible, text)
    assert escape_json(text) == _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def test_output_fast_path_finds_each_ascii_control() -> None:
    from mailtui.logs.sanitize import clean_output

    for code in [*range(0x09), *range(0x0B, 0x20), 0x7F]:
        assert chr(code) not in clean_output(f"report line\n{chr(code)}\tend"), hex(code)
    assert clean_output("a\tb\nc ~") == "a\tb\nc ~"
