"""The Bans data source: the socket when it can be used, else fail2ban.log (+ database), said plainly.

Besides the bans, a result says what the reader needs to trust them: whether fail2ban-server
runs at all (``ServerState``: stopped is not the same as "runs, but the socket is root-only"),
which file the bans were read from and as of when, and why actions (unban, ban) are off.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

from mailtui.core.files import open_regular
from mailtui.core.lazyre import LazyRegex
from mailtui.core.plain import FrozenRecord, Record
from mailtui.fail2ban.client import (
    Fail2banClient,
    SocketUnavailable,
    check_socket,
    socket_path,
)
from mailtui.fail2ban.protocol import ProtocolError, RemoteError
from mailtui.fail2ban.status import Fail2banSnapshot, JailStatus, collect

#: fail2ban.log is read from its end, at most this much (a busy server's log can be gigabytes)
LOG_READ_MAX = 32 * 1024 * 1024

# ServerState.state values
RUNNING = "running"  # the socket answered
STOPPED = "stopped"  # no socket, or nobody listens on it, and no live pid file
DENIED = "denied"  # the socket exists but this user may not use it (not root)
UNSAFE = "unsafe"  # the socket fails mailtui's ownership checks: not talked to
NOT_ANSWERING = "not-answering"  # something listens but did not answer properly

_STAMP = LazyRegex(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


class ServerState(FrozenRecord):
    """Whether fail2ban-server runs, as far as this process can tell, and how it knows (frozen; a
    plain record, see mailtui.core.plain)."""

    FIELDS = ("state", "running", "detail", "socket", "pid")
    state: str
    running: bool | None  # None: cannot tell (the socket is root-only and no pid file says)
    detail: str  # one sentence an admin can act on
    socket: str
    pid: int | None

    def __init__(self, state: str, running: bool | None, detail: str, socket: str = "", pid: int | None = None) -> None:
        self.__dict__.update(state=state, running=running, detail=detail, socket=socket, pid=pid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "running": self.running,
            "detail": self.detail,
            "socket": self.socket,
            "pid": self.pid,
        }


class BansResult(Record):
    """The bans and what the reader needs to trust them (a plain record, see mailtui.core.plain)."""

    FIELDS = ("snapshot", "mode", "reason", "server", "source_file", "as_of", "blocked")

    def __init__(
        self,
        snapshot: Fail2banSnapshot | None,
        mode: str,
        reason: str = "",
        server: ServerState | None = None,
        source_file: str = "",
        as_of: float | None = None,
        blocked: str = "",
    ) -> None:
        self.snapshot = snapshot
        self.mode = mode  # "socket", "log", or "" when nothing could be read
        self.reason = reason  # why the socket was not used / what went wrong
        self.server = ServerState(RUNNING, True, "") if server is None else server
        self.source_file = source_file  # the log the bans were read from ("" in socket mode); mailcow: its API
        self.as_of = as_of  # the time of that log's last line (else its mtime)
        self.blocked = blocked  # another source's reason actions are off (mailcow without a read-write key)

    @property
    def actions_disabled(self) -> str:
        """Why unban/ban cannot be done now ("" when they can): shown instead of the key's effect."""
        return self.blocked or actions_blocked(self.server)

    def headline(self) -> str:
        """One sentence for the top of the Bans pane and ``mailtui bans``; "" in socket mode."""
        if self.mode == "socket":
            return ""
        if self.mode == "mailcow":
            return f"mailcow: the bans of its netfilter container, from its API at {self.source_file}"
        where = f"from {self.source_file} as of {_when(self.as_of)}" if self.source_file else ""
        if self.server.state == STOPPED:
            head = "fail2ban is not running"
            tail = f" — bans below are {where}; they are not enforced while it is stopped" if where else ""
        elif self.server.state == DENIED:
            runs = f"fail2ban runs (pid {self.server.pid})" if self.server.pid else "fail2ban may be running"
            head = f"{runs} but its socket is root-only"
            tail = f" — bans below are {where}" if where else ""
        else:
            head = f"fail2ban's socket is not usable ({self.server.detail})"
            tail = f" — bans below are {where}" if where else ""
        return head + tail

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "server": self.server.to_dict(),
            "source_file": self.source_file,
            "as_of": self.as_of,
            "headline": self.headline(),
            "actions_disabled": self.actions_disabled,
            "note": self.reason,
        }


def _when(ts: float | None) -> str:
    from datetime import datetime  # the bans shown from the socket need none of it

    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "an unknown time"


def pid_file_for(socket_file: str) -> str:
    """fail2ban's pid file (see logs.locate.fail2ban_pid_file)."""
    from mailtui.logs.locate import fail2ban_pid_file

    return fail2ban_pid_file(socket_file)


def _is_server(cmdline: list[str]) -> bool:
    # argv[0] (an installed script) or argv[1] (python3 /usr/bin/fail2ban-server): not a shell
    # whose command line merely mentions the name
    return any(os.path.basename(a) == "fail2ban-server" for a in cmdline[:2])


def _serving(path: str) -> int | None:
    """The pid of a fail2ban-server whose command line names socket ``path`` (``-s PATH``),
    or of one naming no socket when ``path`` is the configured default; None if none runs."""
    import psutil

    default = os.path.abspath(path) == os.path.abspath(socket_path(""))
    for proc in psutil.process_iter(["cmdline"], ad_value=None):
        argv = proc.info["cmdline"] or []
        if not _is_server(argv):
            continue
        named = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-s"]
        if (named and os.path.abspath(named[-1]) == os.path.abspath(path)) or (not named and default):
            return int(proc.pid)
    return None


def _live_pid(pid_file: str, path: str) -> tuple[int | None, str]:
    """(pid, "") when the pid file names a live fail2ban-server; (None, why) otherwise. A pid
    file this user cannot read (fail2ban writes it 0600) gives way to the process table."""
    import psutil

    from mailtui.system.processes import read_pid_file

    pid, why = read_pid_file(pid_file)
    if pid is None:
        if why == "missing":
            return None, "no pid file"
        found = _serving(path)
        return (found, "") if found is not None else (None, f"{why}, and no fail2ban-server process serves it")
    try:
        argv = psutil.Process(pid).cmdline()
    except psutil.NoSuchProcess:
        return None, f"{pid_file} names pid {pid}, which is not running"
    except (psutil.AccessDenied, psutil.ZombieProcess):
        return pid, ""
    if not _is_server(argv):
        return None, f"{pid_file} names pid {pid}, which is not fail2ban-server"
    return pid, ""


def server_state(socket_file: str = "", failure: str = "") -> ServerState:
    """Tell apart: stopped (no socket / connection refused / no live pid) from denied (not root)
    from an unsafe socket from a server that listens but did not answer. ``failure`` is what
    the client said when it gave up, kept in the detail."""
    path = socket_path(socket_file)
    pid, pid_why = _live_pid(pid_file_for(path), path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if pid is not None:
            return ServerState(
                UNSAFE,
                True,
                f"fail2ban-server runs (pid {pid}) but {path} does not exist: "
                "it uses another socket (set [fail2ban] socket)",
                path,
                pid,
            )
        return ServerState(STOPPED, False, f"{path} does not exist and {pid_why}", path)
    except PermissionError:
        return _denied(path, pid)
    if not stat.S_ISSOCK(st.st_mode):
        return ServerState(UNSAFE, pid is not None, f"{path} is not a socket", path, pid)
    try:
        check_socket(path)
    except SocketUnavailable as exc:
        return ServerState(UNSAFE, True if pid else None, str(exc), path, pid)
    import socket  # only when the socket did not answer

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2.0)
    try:
        probe.connect(path)  # connect only: nothing is sent, fail2ban sees a client come and go
    except PermissionError:
        return _denied(path, pid)
    except (ConnectionRefusedError, FileNotFoundError):
        if pid is not None:  # restarting: the pid is there, the listener not yet
            return ServerState(
                NOT_ANSWERING,
                True,
                f"fail2ban-server (pid {pid}) does not accept connections on {path} (starting or stopping?)",
                path,
                pid,
            )
        return ServerState(STOPPED, False, f"nobody listens on {path} (a stale socket) and {pid_why}", path)
    except OSError as exc:
        return ServerState(NOT_ANSWERING, None, f"{path}: {exc.strerror or exc}", path, pid)
    finally:
        probe.close()
    return ServerState(NOT_ANSWERING, True, failure or f"fail2ban-server on {path} did not answer", path, pid)


def _denied(path: str, pid: int | None) -> ServerState:
    runs = f"fail2ban-server runs (pid {pid})" if pid else "fail2ban-server's pid file does not say whether it runs"
    return ServerState(
        DENIED,
        True if pid else None,
        f"{path}: permission denied ({runs}); run mailtui as root to use the socket",
        path,
        pid,
    )


def actions_blocked(server: ServerState) -> str:
    """Why unban/ban cannot be sent to this server ("" when it answered)."""
    if server.state == RUNNING:
        return ""
    if server.state == STOPPED:
        return f"fail2ban is not running ({server.detail}): start it to unban or ban"
    if server.state == DENIED:
        return f"no access to fail2ban's socket: {server.detail}"
    return f"fail2ban cannot be asked: {server.detail}"


def check_actions(socket_file: str = "") -> str:
    """Before asking for confirmation: "" when the server answers a ping, else why not."""
    try:
        with Fail2banClient(socket_file) as client:
            client.call("ping")
        return ""
    except (SocketUnavailable, ProtocolError, RemoteError, OSError) as exc:
        return actions_blocked(server_state(socket_file, str(exc)))


def _read_tail(path: str) -> tuple[list[str], bool]:
    """The file's lines, at most its last LOG_READ_MAX bytes (then the first, partial line is
    dropped); True when it was cut."""
    with open_regular(path) as fh:  # a FIFO as fail2ban's log blocks nothing
        size = os.fstat(fh.fileno()).st_size
        cut = size > LOG_READ_MAX
        if cut:
            fh.seek(size - LOG_READ_MAX)
        data = fh.read(LOG_READ_MAX)
    from mailtui.logs.reader import LineSplitter

    splitter = LineSplitter()  # each line capped, like every other read of a log
    parts, _cuts = splitter.feed(data)
    if splitter.head:
        parts.append(splitter.head)
    lines = [p.decode("utf-8", "replace") for p in parts]
    return (lines[1:] if cut else lines), cut


def log_as_of(lines: list[str], path: str) -> float | None:
    """The time of the log's last stamped line; the file's mtime when no line has a stamp."""
    from datetime import datetime

    for line in reversed(lines[-1000:]):
        m = _STAMP.match(line)
        if m:
            try:
                return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
            except ValueError:
                continue
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def read_bans(
    socket_path: str = "",
    log_path: str = "",
    db_path: str = "",
    previous: Fail2banSnapshot | None = None,
    conf_dir: str = "",
    each: Callable[[JailStatus], object] | None = None,
) -> BansResult:
    """``previous``: the last socket snapshot, so unchanged jails' IP lists are not fetched again.
    ``conf_dir``: fail2ban's configuration (default /etc/fail2ban), for ban times in log mode.
    ``each``: see :func:`collect` (socket mode only)."""
    try:
        with Fail2banClient(socket_path) as client:
            snapshot = collect(client, previous=previous, each=each)
            return BansResult(
                snapshot,
                "socket",
                server=ServerState(
                    RUNNING, True, f"fail2ban-server {snapshot.version} answered on {client.path}", client.path
                ),
            )
    except (SocketUnavailable, ProtocolError, RemoteError, OSError) as exc:
        reason = str(exc)
    from mailtui.fail2ban.offline import add_database_times, from_log, jail_bantimes
    from mailtui.logs.locate import FAIL2BAN_CONF_DIR, access_problem, fail2ban_setting

    server = server_state(socket_path, reason)
    log_path = log_path or fail2ban_setting("logtarget")
    if not log_path.startswith("/"):
        return BansResult(
            None,
            "",
            f"{reason}; fail2ban logs to {log_path or 'an unknown target'}, "
            "which mailtui cannot read without the socket",
            server,
        )
    # follow=True: a named pipe or a device as the log would block or never end; refused
    problem = access_problem(log_path, follow=True)
    if problem:
        return BansResult(None, "", f"{reason}; {log_path}: {problem}", server)
    try:
        lines, cut = _read_tail(log_path)
    except OSError as exc:
        return BansResult(None, "", f"{reason}; {log_path}: {exc.strerror or exc}", server)
    snapshot = from_log(lines, jail_bantimes(conf_dir or FAIL2BAN_CONF_DIR))
    db = db_path or fail2ban_setting("dbfile") or "/var/lib/fail2ban/fail2ban.sqlite3"
    if not db_path and socket_path:  # a configured socket's server keeps its database beside it
        beside = os.path.join(os.path.dirname(socket_path), "fail2ban.sqlite3")
        db = beside if os.path.exists(beside) else db
    with_db = add_database_times(snapshot, db)
    note = (
        f"reading {log_path}"
        + (f" (its last {LOG_READ_MAX // 2**20} MiB)" if cut else "")
        + (" and the ban database" if with_db else "")
    )
    return BansResult(snapshot, "log", f"{reason}; {note} instead", server, log_path, log_as_of(lines, log_path))


__all__ = [
    "DENIED",
    "NOT_ANSWERING",
    "RUNNING",
    "STOPPED",
    "UNSAFE",
    "BansResult",
    "ServerState",
    "actions_blocked",
    "check_actions",
    "read_bans",
    "server_state",
]
