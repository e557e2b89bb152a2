"""The Bans data source: the socket when it can be used, else fail2ban.log (+ database), said plainly."""

from __future__ import annotations

from dataclasses import dataclass

from mailtui.fail2ban.client import Fail2banClient, SocketUnavailable
from mailtui.fail2ban.protocol import ProtocolError, RemoteError
from mailtui.fail2ban.status import Fail2banSnapshot, collect


@dataclass
class BansResult:
    snapshot: Fail2banSnapshot | None
    mode: str  # "socket", "log", or "" when nothing could be read
    reason: str = ""  # why the socket was not used / what went wrong


def read_bans(socket_path: str = "", log_path: str = "", db_path: str = "",
              previous: Fail2banSnapshot | None = None) -> BansResult:
    """``previous``: the last socket snapshot, so unchanged jails' IP lists are not fetched again."""
    try:
        with Fail2banClient(socket_path) as client:
            return BansResult(collect(client, previous=previous), "socket")
    except (SocketUnavailable, ProtocolError, RemoteError, OSError) as exc:
        reason = str(exc)
    from mailtui.fail2ban.offline import add_database_times, from_log
    from mailtui.logs.locate import access_problem, fail2ban_setting

    log_path = log_path or fail2ban_setting("logtarget")
    if not log_path.startswith("/"):
        return BansResult(None, "", f"{reason}; fail2ban logs to {log_path or 'an unknown target'}, "
                                    "which mailtui cannot read without the socket")
    # follow=True: a named pipe or a device as the log would block or never end; refused
    problem = access_problem(log_path, follow=True)
    if problem:
        return BansResult(None, "", f"{reason}; {log_path}: {problem}")
    from mailtui.logs.reader import iter_lines

    # streamed, lines capped: a fail2ban.log of gigabytes is read, never held
    snapshot = from_log(line for _, line in iter_lines(log_path))
    db = db_path or fail2ban_setting("dbfile") or "/var/lib/fail2ban/fail2ban.sqlite3"
    with_db = add_database_times(snapshot, db)
    note = f"reading {log_path}" + (" and the ban database" if with_db else "")
    return BansResult(snapshot, "log", f"{reason}; {note} instead")
