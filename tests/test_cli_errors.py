"""The CLI's error paths (issue 17): one clear line for bad input, never a traceback or exit 70.

Each test tries a family of variants of the case the issue quotes: hostile text from a
fail2ban server in every output format, every numeric option, every closed standard stream,
every broken output pipe, every kind of bad user catalog, every kind of broken .gz.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import FakeDns, FakeFail2ban, jails_answer

REPO = Path(__file__).resolve().parent.parent
CONNECT = "Jan  1 00:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.7]"
UNSAFE = [chr(c) for c in (*range(9), *range(11, 32), *range(0x7F, 0xA0), 0x202E, 0x2066)]


def env_for(tmp: Path) -> dict[str, str]:
    """No file of this machine's: an empty XDG dir and HOME, absent fail2ban paths."""
    (tmp / "xdg").mkdir(exist_ok=True)
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp / "xdg"), "HOME": str(tmp), "PYTHONPATH": str(REPO)}


def mailtui(tmp: Path, *args: str, stdin: bytes = b"", timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mailtui", *args],
        input=stdin,
        check=False,
        capture_output=True,
        timeout=timeout,
        env=kw.pop("env", None) or env_for(tmp),
        cwd=tmp,
        **kw,
    )


def one_line_error(proc: subprocess.CompletedProcess, code: int | None = None) -> str:
    err = proc.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    assert proc.returncode != 70
    if code is not None:
        assert proc.returncode == code, (proc.returncode, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mailtui"), err
    return lines[0]


def assert_no_controls(data: bytes) -> None:
    text = data.decode("utf-8")
    bad = sorted({f"U+{ord(c):04X}" for c in text if c in UNSAFE})
    assert not bad, bad


# -- 7: every text from a server goes through the sanitizer, text and JSON --------------------

HOSTILE_NAMES = ["sshd\x1b]0;PWN\x07\x1b[2J", "a\x9b31mred", "evil\u202egnp", "nul\x00bel\x07\x08", "del\x7fcsi\x1b[6n"]


def test_bans_prints_hostile_jail_names_and_ips_sanitized(tmp_path: Path) -> None:
    jails = {name: [f"192.0.2.{i}", f"198.51.100.1{name[-1]}\x1b[31m"] for i, name in enumerate(HOSTILE_NAMES, 1)}
    with FakeFail2ban(tmp_path / "run", jails_answer(jails)) as server:
        text = mailtui(tmp_path, "bans", "--socket", str(server.path))
        data = mailtui(tmp_path, "bans", "--json", "--socket", str(server.path))
    assert text.returncode == 0, text.stderr
    assert_no_controls(text.stdout)
    assert "sshd␛]0;PWN␇␛[2J" in text.stdout.decode()  # shown, as visible symbols
    assert_no_controls(data.stdout)
    got = json.loads(data.stdout)  # JSON keeps the exact value, escaped
    assert [j["name"] for j in got["jails"]] == HOSTILE_NAMES
    assert {b["ip"] for j in got["jails"] for b in j["banned"]} >= {"198.51.100.1d\x1b[31m"}


def test_safe_stream_and_json_on_every_unsafe_character() -> None:
    code = (
        "import sys, json; from mailtui.cli.output import guard_streams, print_json; guard_streams();"
        f"s = {''.join(UNSAFE)!r}; print('x' + s + 'y\\tz'); print_json({{'v': s}}); "
        "print(s, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, timeout=30, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert_no_controls(proc.stdout)
    assert_no_controls(proc.stderr)
    first, rest = proc.stdout.decode().split("\n", 1)
    assert first.startswith("x") and first.endswith("y\tz")  # tab and newline are kept
    assert json.loads(rest)["v"] == "".join(UNSAFE)


# -- 13, 16: closed standard streams and broken pipes ------------------------------------------


def _commands(tmp: Path) -> list[tuple[str, ...]]:
    log = tmp / "mail.log"
    log.write_text(
        CONNECT + "\n" + "Jan  1 00:00:01 mx postfix/smtpd[1]: lost connection after AUTH from a[192.0.2.7]\n"
    )
    sock = str(tmp / "nosuch.sock")
    return [
        ("scan", str(log)),
        ("scan", "--json", str(log)),
        ("who", "192.0.2.7", str(log)),
        ("explain", CONNECT),
        ("explain", "garbage"),
        ("unban", "192.0.2.7", "--yes", "--socket", sock),
        ("queue", "flush", "--yes"),
        ("bans", "--socket", sock),
        ("where", "nonexistent_setting_x"),
        ("config", "--no-logs"),
        ("services",),
        ("--help",),
        ("check", "--no-probes", "--deadline", "1", "--nameserver", "127.0.0.1:9", "example.org"),
    ]


# (every command under closed stdin/stdout/stderr: tests/test_chaos.py)


def test_commands_reading_stdin_say_it_is_closed(tmp_path: Path) -> None:
    for args in (("explain",), ("scan", "-")):
        proc = subprocess.run(
            ["sh", "-c", f"exec {sys.executable} -m mailtui {' '.join(args)} <&-"],
            check=False,
            capture_output=True,
            timeout=60,
            env=env_for(tmp_path),
            cwd=tmp_path,
        )
        assert "standard input is closed" in one_line_error(proc, 2)


@pytest.mark.parametrize("stdin", ["<&-", "</dev/null", "<<< x"])
def test_dashboard_needs_a_terminal_on_stdin(tmp_path: Path, stdin: str) -> None:
    # stdout is a terminal (script gives one), stdin is not
    inner = f"{sys.executable} -m mailtui --demo {stdin}"
    proc = subprocess.run(
        ["script", "-qec", f"bash -c '{inner}'", "/dev/null"],
        check=False,
        capture_output=True,
        timeout=60,
        env={**env_for(tmp_path), "TERM": "xterm"},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout.decode("utf-8", "replace")
    assert "needs a terminal on stdin" in out and "Traceback" not in out, out[-500:]


def _exit_with_closed_pipe(tmp: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reader is already gone: every write is EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "mailtui", *args],
            stdout=write,
            check=False,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=60,
            env=env_for(tmp),
            cwd=tmp,
        )
    finally:
        os.close(write)


def test_a_closed_pipe_keeps_the_exit_code_and_says_nothing(tmp_path: Path) -> None:
    codes = set()
    for args in _commands(tmp_path):
        normal = mailtui(tmp_path, *args)
        piped = _exit_with_closed_pipe(tmp_path, args)
        assert piped.returncode == normal.returncode, (args, piped.returncode, normal.returncode)
        assert piped.stderr == normal.stderr.replace(b"\r", b""), (args, piped.stderr)  # nothing about the pipe
        codes.add(normal.returncode)
    assert {0, 1, 2, 4} <= codes, codes  # failures are kept, not only success


def test_scan_events_stop_at_a_closed_pipe(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text((CONNECT + "\n") * 200_000)
    proc = _exit_with_closed_pipe(tmp_path, ("scan", "--json", "--events", str(log)))
    assert proc.returncode == 141 and proc.stderr == b""


def test_a_full_disk_is_an_error_not_success(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "mailtui", "config", "--no-logs"],
            stdout=full,
            check=False,
            stderr=subprocess.PIPE,
            timeout=60,
            env=env_for(tmp_path),
        )
    assert "cannot write the output" in one_line_error(proc, 74)


# -- 14, 15: options validated up front ---------------------------------------------------------


@pytest.mark.parametrize("deadline", ["0", "-1", "nan", "inf", "-inf", "1e9", "abc", ""])
def test_check_deadline_is_validated(tmp_path: Path, deadline: str) -> None:
    proc = mailtui(tmp_path, "check", "--deadline", deadline, "example.org")
    assert "--deadline" in one_line_error(proc, 2)


@pytest.mark.parametrize(
    "server",
    [
        "127.0.0.1:99999",
        "127.0.0.1:0",
        "127.0.0.1:",
        "localhost",
        "999.1.1.1",
        "bogus host:xx",
        "[::1",
        "[::1]x",
        "1.2.3.4:-5",
        "1.2.3.4:5:6x",
    ],
)
def test_nameserver_is_validated(tmp_path: Path, server: str) -> None:
    proc = mailtui(tmp_path, "check", "--nameserver", server, "example.org")
    line = one_line_error(proc, 2)
    assert "--nameserver" in line and "invalid literal" not in line and not line.endswith("ValueError: ")


def test_nameserver_in_the_config_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[dns]\nnameserver = 'localhost:53'\n")
    proc = mailtui(tmp_path, "--config", str(cfg), "config")
    assert "dns.nameserver" in one_line_error(proc, 2)


@pytest.mark.parametrize("limit", ["-1", "nan", "1e3", "99999999999"])
def test_scan_limit_is_validated(tmp_path: Path, limit: str) -> None:
    assert "--limit" in one_line_error(mailtui(tmp_path, "scan", "--limit", limit, "x"), 2)


@pytest.mark.parametrize(
    "domain", ["xn--zz.com", "xn--.com", "a..b", "bad host.com", "x" * 64 + ".com", "ex$ample.com", "."]
)
def test_check_refuses_invalid_domains(tmp_path: Path, domain: str) -> None:
    proc = mailtui(tmp_path, "check", "--no-probes", "--nameserver", "127.0.0.1:9", domain)
    assert "domain" in one_line_error(proc, 2) or "host name" in proc.stderr.decode()


# -- 19: DNS wording ------------------------------------------------------------------------


def test_nothing_listening_is_connection_refused_not_timeout(tmp_path: Path) -> None:
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # now nothing listens there: the kernel answers ICMP port unreachable
    proc = mailtui(
        tmp_path,
        "check",
        "--json",
        "--no-probes",
        "--deadline",
        "10",
        "--nameserver",
        f"127.0.0.1:{port}",
        "example.org",
    )
    data = json.loads(proc.stdout)
    summaries = " ".join(c["summary"] for c in data["checks"])
    assert "connection refused" in summaries and "timeout" not in summaries
    assert data["elapsed"] < 5  # refused is known at once, not after the timeouts


@pytest.mark.parametrize("tc", [True, False])
def test_random_dns_bytes_are_garbage_not_truncation(tmp_path: Path, tc: bool) -> None:
    rng = random.Random(17)

    def garbage(query: bytes) -> bytes:
        data = bytearray(rng.randbytes(rng.randint(12, 300)))
        data[2] = (data[2] | 0x82) if tc else (data[2] & ~0x02 | 0x80)  # QR, and TC or not
        return bytes(data)

    with FakeDns(garbage) as server:
        proc = mailtui(
            tmp_path,
            "check",
            "--json",
            "--no-probes",
            "--deadline",
            "10",
            "--nameserver",
            server.address,
            "example.org",
        )
    data = json.loads(proc.stdout)
    summaries = " ".join(c["summary"] for c in data["checks"])
    assert "truncated, TC" not in summaries
    assert proc.returncode == 4 and "Traceback" not in proc.stderr.decode()


# -- 19, 20: bans and unban -------------------------------------------------------------------


def test_bans_ip_with_unreadable_log_names_it(tmp_path: Path) -> None:
    with FakeFail2ban(tmp_path / "run", jails_answer({"sshd": ["192.0.2.1"]})) as server:
        for log in ("/nonexistent/mail.log", str(tmp_path)):
            proc = mailtui(tmp_path, "bans", "--socket", str(server.path), "--ip", "192.0.2.1", "--log", log)
            assert one_line_error(proc, 2).startswith(f"mailtui: {log}:")


@pytest.mark.parametrize("status_reply", [5, "garbage", [("x", 1)], None, [[1, 2, 3]], {"Jail list": 1}])
def test_oddly_shaped_status_reply_is_said(tmp_path: Path, status_reply: object) -> None:
    base = jails_answer({})

    def answer(cmd: list[str]) -> object:
        return status_reply if cmd == ["status"] else base(cmd)

    with FakeFail2ban(tmp_path / "run", answer) as server:
        data = mailtui(tmp_path, "bans", "--json", "--socket", str(server.path))
        text = mailtui(tmp_path, "bans", "--socket", str(server.path))
    assert "Traceback" not in data.stderr.decode() and data.returncode != 70
    if data.returncode == 0:
        got = json.loads(data.stdout)
        assert got["jails"] == [] and "not in the shape" in got["note"]
        assert "not in the shape" in text.stdout.decode()
    else:  # refused as a protocol error: one line
        one_line_error(data)


@pytest.mark.parametrize("jail", ["", " ", "\t"])
def test_unban_refuses_an_empty_jail_before_sending_anything(tmp_path: Path, jail: str) -> None:
    with FakeFail2ban(tmp_path / "run", jails_answer({"sshd": ["192.0.2.1"]})) as server:
        proc = mailtui(tmp_path, "unban", "192.0.2.1", "--jail", jail, "--yes", "--socket", str(server.path))
        assert "empty jail name" in one_line_error(proc, 2)
        assert server.commands == []


@pytest.mark.parametrize(
    "given, sent",
    [
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("::FFFF:192.0.2.1", "192.0.2.1"),
        ("::ffff:c000:201", "192.0.2.1"),
        ("2001:db8::1", "2001:db8::1"),
        (" 192.0.2.9 ", "192.0.2.9"),
    ],
)
def test_unban_sends_addresses_as_fail2ban_stores_them(tmp_path: Path, given: str, sent: str) -> None:
    with FakeFail2ban(tmp_path / "run", jails_answer({"sshd": [sent]})) as server:
        for extra in ((), ("--jail", "sshd")):
            proc = mailtui(tmp_path, "unban", given, "--yes", "--socket", str(server.path), *extra)
            assert proc.returncode == 0, proc.stderr
            assert sent in proc.stdout.decode()
        # (each unban first pings: a server that cannot be asked is said before the question)
        assert [c for c in server.commands if c != ["ping"]] == [
            ["unban", sent],
            ["set", "sshd", "unbanip", "--report-absent", sent],
        ]
        data = mailtui(tmp_path, "bans", "--json", "--socket", str(server.path), "--ip", given, "--log", os.devnull)
        assert [b["jail"] for b in json.loads(data.stdout)["ip"]["banned_in"]] == ["sshd"]


# -- 17: broken compressed logs -----------------------------------------------------------------


def _broken_gz(tmp: Path) -> dict[str, Path]:
    good = gzip.compress(("\n".join([CONNECT] * 3000) + "\n").encode())
    variants = {
        "truncated": good[: len(good) // 2],
        "header only": good[:10],
        "flipped": bytearray(good),
        "not gzip": b"plain text, not gzip\n" * 10,
        "empty": b"",
        "trailing junk": good + b"\x00junk",
    }
    variants["flipped"][len(good) // 2] ^= 0xFF
    paths = {}
    for name, data in variants.items():
        path = tmp / f"{name.replace(' ', '_')}.log.gz"
        path.write_bytes(bytes(data))
        paths[name] = path
    return paths


def test_broken_gz_is_one_line_per_file_not_exit_70(tmp_path: Path) -> None:
    for name, path in _broken_gz(tmp_path).items():
        for args in (("scan", str(path)), ("scan", "--json", str(path)), ("who", "192.0.2.7", str(path))):
            proc = mailtui(tmp_path, *args)
            err = proc.stderr.decode()
            assert proc.returncode != 70 and "Traceback" not in err and "internal error" not in err, (name, err)
            if proc.returncode == 2:
                assert str(path) in err, (name, err)  # the file is named
            if name in ("truncated", "flipped"):  # what came before the damage is still reported
                assert proc.returncode == 2 and proc.stdout, (name, args, err)


# -- 9, 6, 17, 18: user catalogs --------------------------------------------------------------

ENTRY = """
[[recognizer]]
id = "{id}"
family = "postfix"
match = "{match}"
pattern = '{pattern}'
severity = "warn"
title = "t"
summary = "s"
cause = "c"
fix = "f"
samples = ["{sample}"]
"""


def entry(pattern: str, ident: str = "local.x", match: str = "custom", sample: str = "") -> str:
    sample = sample or "Jan  1 00:00:00 mx postfix/smtpd[1]: custom aaaa"
    return ENTRY.format(id=ident, match=match, pattern=pattern, sample=sample)


BAD_CATALOGS = {
    "nested quantifier": (entry("custom (a+)+$"), "backtrack"),
    "word and optional space": (entry(r"custom (\w+\s?)*$"), "backtrack"),
    "empty-matching repeat": (entry("custom (a*)*$"), "backtrack"),
    "doubled group": (entry("custom ((a+))+$"), "backtrack"),
    "polynomial": (entry("custom (.*a){12}$"), "backtrack"),
    "huge repeat": (entry("custom a{4294967296}"), "does not compile"),
    "deep nesting": (entry("custom " + "(" * 3000 + ")" * 3000), "does not compile"),
    "not a table": ("recognizer = [5]\n", "must be a [[recognizer]] table"),
    "sample does not match": (
        entry("custom b+", sample="Jan  1 00:00:00 mx postfix/smtpd[1]: custom aaaa"),
        "sample 1 is not matched",
    ),
    "sample lacks the literal": (entry("custom", match="zzz"), "does not contain the match text"),
    "duplicate in one file": (entry("custom", "local.dup") + entry("custom", "local.dup"), "duplicate id"),
    "invalid TOML": ("[[recognizer]\n", "invalid TOML"),
    "deep TOML": ("x = " + "[" * 3000 + "]" * 3000 + "\n", "invalid TOML"),
    "not UTF-8": (b"\xff\xfe[[recognizer]]\n", "not UTF-8"),
}


@pytest.mark.parametrize("name", list(BAD_CATALOGS))
def test_a_bad_user_catalog_is_said_once_and_skipped(tmp_path: Path, name: str) -> None:
    text, reason = BAD_CATALOGS[name]
    folder = tmp_path / "xdg" / "mailtui" / "recognizers"
    folder.mkdir(parents=True)
    bad = folder / "bad.toml"
    bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    log = tmp_path / "mail.log"
    log.write_text(CONNECT + "\n" + "Jan  1 00:00:00 mx postfix/smtpd[1]: custom " + "a" * 40 + "!\n")
    every = name in ("nested quantifier", "not a table", "sample does not match")
    for args in (("scan", "--json", str(log)), ("who", "192.0.2.7", str(log)), ("explain", CONNECT))[
        : 3 if every else 1
    ]:
        proc = mailtui(tmp_path, *args, timeout=90)
        err = proc.stderr.decode()
        assert proc.returncode == 0 and "Traceback" not in err, (args, err)
        warnings = [ln for ln in err.splitlines() if ln.startswith("mailtui: warning:")]
        assert len(warnings) == 1 and str(bad) in warnings[0] and reason in warnings[0], err
        if "[[recognizer]]" in str(text) and "local." in str(text):
            assert "local." in warnings[0]  # names the entry
        if args[0] == "scan":
            assert json.loads(proc.stdout)["recognized"] >= 1  # the built-in catalog kept working


def test_duplicate_ids_across_user_files_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "mailtui" / "recognizers"
    folder.mkdir(parents=True)
    (folder / "a.toml").write_text(entry("custom", "local.same"))
    (folder / "b.toml").write_text(entry("custom", "local.same"))
    proc = mailtui(tmp_path, "explain", "Jan  1 00:00:00 mx postfix/smtpd[1]: custom aaaa")
    assert proc.returncode == 0
    err = proc.stderr.decode()
    assert "b.toml: recognizer 'local.same': duplicate id (also in" in err and "a.toml" in err
    assert "local.same" in proc.stdout.decode()  # the first file still works


def test_good_user_patterns_are_accepted(tmp_path: Path) -> None:
    """No false refusals: typical hand-written patterns pass the backtracking check."""
    from mailtui.recognizers.loader import load_catalog

    patterns = [
        r"^custom from @CLIENT@",
        r"custom status=(?P<status>\w+)",
        r"custom user=<(?P<user>[^>]*)>",
        r"\bcustom\b.*\bthing\b",
        r"^custom(?: \S+){1,3}",
        r"custom (?:\w+\.)+\w+",
        r"custom (?:[^,]+,)*x",
        r"custom (\d{1,3}\.){3}\d{1,3}",
        r"custom (?P<n>\d+) times",
        r"custom(?:, \w+=[^,]*)*",
    ]
    samples = [
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom from a[192.0.2.1]",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom status=sent",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom user=<bob>",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom thing",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom a b",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom mx.example.org",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom a,b,x",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom 192.0.2.1",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom 5 times",
        "Jan  1 00:00:00 mx postfix/smtpd[1]: custom, a=b",
    ]
    folder = tmp_path / "recognizers"
    folder.mkdir()
    for i, (pattern, sample) in enumerate(zip(patterns, samples)):
        (folder / f"p{i}.toml").write_text(entry(pattern, f"local.p{i}", sample=sample))
    problems: list[str] = []
    catalog = load_catalog(user_dir=folder, problems=problems)
    assert problems == []
    assert {f"local.p{i}" for i in range(len(patterns))} <= {r.id for r in catalog}


def test_check_prints_hostile_dns_text_sanitized(tmp_path: Path) -> None:
    """TXT records are the DNS's free text: escape sequences in them reach no terminal."""
    import struct

    from tests.fakes import dns_reply

    texts = ["v=spf1 \x1b]0;PWN\x07 -all", "v=spf1 \x9b2J\u202e -all", "v=DMARC1; p=\x1b[6n"]

    def txt(value: str) -> bytes:
        raw = value.encode()
        rdata = bytes([len(raw)]) + raw
        return b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(rdata)) + rdata

    def answer(query: bytes) -> bytes:
        qtype = struct.unpack("!H", query[12:][query[12:].index(b"\x00") + 1 :][:2])[0]
        return dns_reply(query, [txt(t) for t in texts] if qtype == 16 else [])

    with FakeDns(answer) as server:
        args = ("--no-probes", "--deadline", "10", "--nameserver", server.address, "example.org")
        text = mailtui(tmp_path, "check", "-v", *args)
        data = mailtui(tmp_path, "check", "--json", *args)
    assert "Traceback" not in text.stderr.decode()
    assert_no_controls(text.stdout)
    assert "␛]0;PWN␇" in text.stdout.decode()  # the record is shown, made visible
    assert_no_controls(data.stdout)
    json.loads(data.stdout)
