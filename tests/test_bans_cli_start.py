"""What ``mailtui bans --json --socket`` has loaded when it talks to fail2ban, and the pieces that
let it load less (issue 20: the command is timed as a whole process against a shell alias, and its
work before the requests are sent does not overlap fail2ban-server's).

Each module or compiled pattern named here was measured (callgrind, instructions before the
batch is sent: 270 M -> 122 M in all) and is needed only later, or on another path: the typed
settings (nine dataclasses) without ``--socket``, json and datetime once answers arrive, shutil
only for help text, the regexes at their first use.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailtui.core.lazyre import LazyRegex

ROOT = Path(__file__).resolve().parent.parent

#: not loaded before the first request: (module, why it is not needed yet)
DEFERRED = {
    "mailtui.settings": "with --socket only logs.fail2ban is read (the typed view's dataclasses)",
    "mailtui.containers.bans": "no appliance is looked for when the socket is named",
    "shutil": "argparse's formatter asks it for the width; mailtui.cli.terminal_columns does",
    "json": "written at the end, encoded per jail as answers arrive",
    "datetime": "ban stamps are parsed once answers arrive",
    "pickle": "the C _pickle is what the protocol uses",
    "socket": "the C _socket is what the client uses (socket.py: enums, selectors)",
    "dataclasses": "the records made before it asks are plain (mailtui.core.plain)",
    "shlex": "only a config with [[hosts]] splits an agent command",
}

#: module -> its LazyRegex globals, none compiled before the first request
LAZY = {
    "mailtui.logs.sanitize": ["_UNSAFE", "UNSAFE_IN_OUTPUT", "_UNSAFE_IN_JSON"],
    "mailtui.config": ["WILD", "_HOST_NAME", "_SSH_TARGET"],
    "mailtui.fail2ban.status": ["_WITH_TIME", "_WITH_TIME_LINES"],
    "mailtui.fail2ban.source": ["_STAMP"],
}

PROBE = """
import sys
from mailtui.fail2ban import client
seen = {}

def connect(self):
    # the first thing done on the socket: record what is loaded, then let it fail as a stopped server
    seen["modules"] = sorted(sys.modules)
    seen["compiled"] = [
        f"{module}.{name}" for module, names in LAZY.items() for name in names
        if "search" in dir(getattr(sys.modules[module], name)) and _filled(getattr(sys.modules[module], name))
    ]
    raise client.SocketUnavailable("probe: not connected")

def _filled(lazy):
    try:
        object.__getattribute__(lazy, "search")
    except AttributeError:
        return False
    return True

LAZY = eval(sys.argv[1])  # a dict literal, not json: json must not be loaded by the probe
client.Fail2banClient.connect = connect
from mailtui.cli import main
code = main(["bans", "--json", "--socket", sys.argv[2]])
print(repr(seen), file=sys.__stderr__)
"""


def test_bans_json_with_a_socket_loads_nothing_it_does_not_need_before_it_connects(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}  # no user config: the defaults
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, repr(LAZY), str(tmp_path / "f2b.sock")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    seen = ast.literal_eval(proc.stderr.strip().splitlines()[-1])
    loaded = set(seen["modules"])
    assert "mailtui.fail2ban.client" in loaded and "mailtui.cli.bans_cmd" in loaded  # it got that far
    early = {m: why for m, why in DEFERRED.items() if m in loaded}
    assert not early, f"loaded before the first request to fail2ban: {early}"
    assert seen["compiled"] == [], f"compiled before the first request: {seen['compiled']}"


def _all_lazy() -> list[tuple[str, LazyRegex]]:
    import importlib

    return [(f"{m}.{n}", getattr(importlib.import_module(m), n)) for m, names in LAZY.items() for n in names]


SAMPLES = [
    "",
    "plain ascii text",
    "a\x1b[31mred\x1b[0m line\n",
    "tab\there, DEL \x7f, C1 \x85, bidi \u202e and \u2066",
    "lone \ud800 surrogate",
    "*.log /var/log/[ab]?.log %HOST%",
    "host-1.example root@mx.example.org [2001:db8::1] -oProxyCommand",
    "10.0.0.1      2026-11-29 03:40:01 + 3600 = 2026-11-29 04:40:01\n192.0.2.7 2026-11-29 03:40:01 + -1 = permanent",
    "2026-11-29 03:40:01,123 fail2ban.actions [1]: NOTICE [sshd] Ban 192.0.2.1",
]


@pytest.mark.parametrize("name, lazy", _all_lazy(), ids=[n for n, _ in _all_lazy()])
def test_a_lazy_regex_answers_as_its_compiled_pattern(name: str, lazy: LazyRegex) -> None:
    real = re.compile(lazy.pattern, lazy.flags)
    for text in SAMPLES:
        for method in ("search", "match", "fullmatch"):
            got, want = getattr(lazy, method)(text), getattr(real, method)(text)
            assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups())), (name, method)
        assert lazy.findall(text) == real.findall(text), name
        assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)], name
        assert lazy.sub("#", text) == real.sub("#", text), name
    # once used, each method is the compiled pattern's own (no Python frame per call)
    assert lazy.search.__self__ is real  # re caches the compiled pattern: the same object


def test_a_fresh_lazy_regex_compiles_on_its_first_call_only() -> None:
    lazy = LazyRegex(r"(?P<n>\d+)-x", re.IGNORECASE)
    with pytest.raises(AttributeError):
        object.__getattribute__(lazy, "findall")
    assert lazy.findall("1-X 22-x") == ["1", "22"]
    assert object.__getattribute__(lazy, "sub").__self__.pattern == r"(?P<n>\d+)-x"  # every slot filled
    with pytest.raises(AttributeError):
        lazy.groupindex  # noqa: B018 - not one of the methods offered


PTY_PROBE = """
import fcntl, os, struct, sys, termios
import shutil
from mailtui.cli import terminal_columns
print(terminal_columns(), shutil.get_terminal_size().columns, file=sys.stderr)
"""


@pytest.mark.parametrize("columns", [None, "", "0", "-4", "abc", "57", "300"])
@pytest.mark.parametrize("tty", [False, True])
def test_terminal_columns_is_shutils_width(columns: str | None, tty: bool) -> None:
    """argparse's help is formatted at the width it had with argparse's own formatter."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    stdout: int | None = subprocess.DEVNULL
    master = slave = -1
    if tty:
        import fcntl
        import struct
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 123, 0, 0))
        stdout = slave
    try:
        proc = subprocess.run(
            [sys.executable, "-c", PTY_PROBE], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)
    ours, theirs = proc.stderr.split()
    assert ours == theirs
    if tty and columns not in ("57", "300"):
        assert ours == "123"  # the pty's width was read, not the fallback


@pytest.mark.parametrize("columns", ["50", "100", "250"])
def test_help_is_the_text_argparse_s_own_formatter_writes(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailtui.cli import build_parser

    monkeypatch.setenv("COLUMNS", columns)
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for p in [parser, *commands.choices.values()]:
        ours = p.format_help()
        p.formatter_class = argparse.HelpFormatter  # what shutil.get_terminal_size() gives
        assert p.format_help() == ours, p.prog
    assert shutil.get_terminal_size().columns == int(columns)
