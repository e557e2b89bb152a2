"""A real terminal for tests: the real ``mailtui`` started in tmux, read back as screen text.

Each :class:`Terminal` runs its own tmux server (``tmux -L <unique socket>``, no config file),
so tests never see the user's tmux nor each other; the server is killed when the terminal is
closed. Typical use::

    with Terminal(["--demo"], size=(120, 35)) as term:
        term.wait_for("Bans ·")            # the text, or a predicate on the screen
        term.press("Tab", "m")             # tmux key names: Tab BTab Escape Enter Up C-q F1 ...
        term.type("127.0.0.1")             # literal text
        term.resize(80, 24)
        assert "Problems" in term.screen()
        rows = term.box("Bans ·")              # the text inside a pane's border

or the ``terminal`` fixture (a factory; every terminal it made is closed after the test)::

    def test_x(terminal):
        term = terminal(["--demo"], size=(80, 24))

mailtui runs as ``python -m mailtui`` with this interpreter, from the repository, with its own
``XDG_CONFIG_HOME`` (the user's configuration is not read). A missing tmux skips the test, or
fails it in CI (``MAILTUI_REQUIRE_DAEMONS=1``; ``.ci/install-daemons.sh`` installs tmux).
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 20.0  # seconds: a loaded 2-core CI machine starts Textual in 2-4 s
POLL = 0.1
_counter = itertools.count()

Expect = str | Callable[[str], bool]


class TerminalError(AssertionError):
    """A wait timed out or the app died; the message holds the last screen."""


def tmux_available() -> bool:
    return shutil.which("tmux") is not None


def require_tmux() -> None:
    """Skip (or, in CI, fail) when tmux is missing."""
    if tmux_available():
        return
    message = "tmux is not installed (sudo bash .ci/install-daemons.sh)"
    if os.environ.get("MAILTUI_REQUIRE_DAEMONS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def box(screen: str, title: str) -> list[str]:
    """The rows inside the bordered box whose top border starts with ``title`` (a pane's
    ``Bans ·``, ``Logs``): what a person reads in that pane, without its borders. Empty when
    no such box is on the screen."""
    lines = screen.splitlines()
    for top, line in enumerate(lines):
        start = line.find(f"╭─ {title}")
        if start < 0:
            continue
        end = line.find("╮", start)
        end = len(line) if end < 0 else end
        inside = []
        for row in lines[top + 1 :]:
            if row[start : start + 1] == "╰":
                break
            inside.append(row[start + 1 : end].rstrip("│ ").rstrip())
        return inside
    return []


class Terminal:
    """One mailtui in one tmux window of a given size."""

    def __init__(
        self,
        args: Sequence[str] = ("--demo",),
        size: tuple[int, int] = (120, 35),
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        command: Sequence[str] | None = None,
        config_home: Path | None = None,
    ) -> None:
        self.width, self.height = size
        self.socket = f"mailtui-test-{os.getpid()}-{next(_counter)}-{time.monotonic_ns() % 10**9}"
        self._own_home = config_home is None
        self.config_home = config_home or Path(tempfile.mkdtemp(prefix="mailtui-term-"))
        self.command = list(command) if command is not None else [sys.executable, "-m", "mailtui", *args]
        self.env = {
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_STATE_HOME": str(self.config_home / "state"),
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        self.cwd = cwd or REPO
        self._status_file = self.config_home / f"exit-status-{self.socket}"
        self.started = False
        self._last = ""
        self._after_escape = False  # the last key sent was Escape, and nothing was waited for since

    # -- lifecycle -----------------------------------------------------------------------------
    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=10,
            env={**os.environ, **self.env},
        )

    def start(self) -> Terminal:
        require_tmux()
        # `env` inside the window: tmux gives a new window the server's environment, and a server
        # started by someone else's tmux client would not have ours
        # the exit status goes to a file: tmux's #{pane_dead_status} is not always filled in
        inner = (
            shlex.join(["env", *(f"{k}={v}" for k, v in self.env.items()), *self.command])
            + f"; echo $? > {shlex.quote(str(self._status_file))}"
        )
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height), "-c", str(self.cwd), inner
        )
        # keep the pane after the app exits, so its exit status and last screen can be read
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on", check=False)
        self._tmux("set-option", "-g", "status", "off", check=False)
        self._tmux("resize-window", "-t", "t", "-x", str(self.width), "-y", str(self.height), check=False)
        self.started = True
        return self

    def close(self) -> None:
        if self.started:
            self._tmux("kill-server", check=False)
            self.started = False
        if self._own_home:
            shutil.rmtree(self.config_home, ignore_errors=True)

    def __enter__(self) -> Terminal:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------
    def screen(self) -> str:
        """The visible screen, one line per row (trailing blanks trimmed by tmux)."""
        out = self._tmux("capture-pane", "-p", "-t", "t", check=False)
        if out.returncode == 0:
            self._last = out.stdout
        return self._last

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def box(self, title: str) -> list[str]:
        """The rows of the box titled ``title`` on the current screen (see :func:`box`)."""
        return box(self.screen(), title)

    def exit_status(self) -> int | None:
        """The app's exit status once it has exited, else None."""
        try:
            status = self._status_file.read_text().strip()
        except FileNotFoundError:
            out = self._tmux("display-message", "-p", "-t", "t", "#{pane_dead}", check=False)
            if out.returncode == 0 and out.stdout.strip() != "1":
                return None  # still running
            # the window is gone: its shell may have written the status between the two looks
            try:
                late = self._status_file.read_text().strip()
            except FileNotFoundError:
                return -1  # the shell died before writing it
            return int(late) if late.lstrip("-").isdigit() else -1
        return int(status) if status.lstrip("-").isdigit() else -1

    def wait_for(self, expect: Expect, timeout: float = DEFAULT_TIMEOUT, what: str = "") -> str:
        """Wait until the screen shows ``expect`` (a text, or a predicate on the screen); returns it."""
        test = (lambda s: expect in s) if isinstance(expect, str) else expect
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if test(text):
                self._after_escape = False
                return text
            status = self.exit_status()
            if status is not None:
                raise TerminalError(
                    f"mailtui exited with {status} while waiting for {what or expect!r}; last screen:\n{self.screen()}"
                )
            if time.monotonic() > deadline:
                raise TerminalError(
                    f"timed out after {timeout:.0f} s waiting for {what or expect!r} "
                    f"at {self.width}x{self.height}; last screen:\n{text}"
                )
            time.sleep(POLL)

    def wait_gone(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        return self.wait_for(lambda s: text not in s, timeout, what=f"{text!r} to disappear")

    def wait_exit(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exit_status()) is None:
            if time.monotonic() > deadline:
                raise TerminalError(f"mailtui still runs after {timeout:.0f} s; screen:\n{self.screen()}")
            time.sleep(POLL)
        return status

    def settle(self, quiet: float = 0.5, timeout: float = 5.0) -> str:
        """Wait until the screen has not changed for ``quiet`` seconds (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        last, since = self.screen(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(POLL)
            now = self.screen()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                self._after_escape = False
                break
        return last

    # -- writing -----------------------------------------------------------------------------------
    # A terminal sends Escape as the byte ESC, and Alt+d as ESC d: an app that reads ESC and the
    # next key at once (a busy machine, a slow link) sees Alt+key, as vim and every terminal app
    # does. Escape's effect is waited for (wait_for, wait_gone, settle) before the next key.
    def _keys_allowed(self, keys: Sequence[str]) -> None:
        if self._after_escape:
            raise TerminalError(
                f"{keys[0]!r} right after Escape: wait for what Escape does first (read at once, the two are Alt+key)"
            )
        if "Escape" in keys[:-1]:
            raise TerminalError("a key right after Escape in one call: wait for what Escape does first")

    def press(self, *keys: str, delay: float = 0.15) -> None:
        """Send tmux key names (``Tab``, ``BTab``, ``Escape``, ``Enter``, ``Up``, ``C-q``, ``m``, ``?``)."""
        self._keys_allowed(keys)
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)
            time.sleep(delay)
        self._after_escape = keys[-1:] == ("Escape",)

    def send_burst(self, *keys: str) -> None:
        """Send tmux key names all at once, as a fast typist (or a paste) does."""
        self._keys_allowed(keys)
        self._tmux("send-keys", "-t", "t", *keys)
        time.sleep(0.15)
        self._after_escape = keys[-1:] == ("Escape",)

    def type(self, text: str) -> None:
        """Send literal text."""
        self._keys_allowed([text])
        self._tmux("send-keys", "-t", "t", "-l", text)
        time.sleep(0.15)

    def resize(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))


@pytest.fixture
def terminal() -> Iterator[Callable[..., Terminal]]:
    """A factory of started terminals: ``terminal(["--demo"], size=(80, 24))``; all closed afterwards."""
    made: list[Terminal] = []

    def make(args: Sequence[str] = ("--demo",), size: tuple[int, int] = (120, 35), **kwargs: object) -> Terminal:
        term = Terminal(args, size, **kwargs)  # type: ignore[arg-type]
        made.append(term)
        return term.start()

    yield make
    for term in made:
        term.close()
