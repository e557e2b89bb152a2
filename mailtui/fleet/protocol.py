"""The agent's wire format, version 2 (revision 2): one JSON object a line, in both directions.

Agent -> dashboard (``type``):
  hello     {"v": 2, "rev": 2, "host", "mailtui", "read_only", "problems": [..]}   first line, once
  logs      {"src", "entries": [{"line", "rec", "sev", "fields"}], "pos": [dev, ino, off, head_crc] | cursor}
            ``pos`` is where this source resumes after the last entry of the batch: a file's
            offset, or journald's cursor (a string) for a journal source (src "journald", or
            "journal:DIR" for [logs] journal_dir); version 1 had file positions only
  summary   {"src", "routine": N, "entries": [...problem entries only], "pos"}   when the link is slow
  bans      {"result": {...}}        fail2ban as ``mailtui bans --json`` has it
  services  {"report": {...}}        as ``mailtui services --json`` (the queue's counts and reasons;
                                     its messages are asked for with ``queue_list``)
  reply     {"id", "ok", "result" | "error"}
  notice    {"text"}                 something the admin should read (a degraded link, a gap)
Dashboard -> agent:
  subscribe {"logs": {src: [dev, ino, off, head_crc] | cursor | null}}   which logs, and where to resume each
  request   {"id", "op": unban|ban|where|values|services_of|queue_list|queue|flush, ...}
            queue_list {"reason"?: a deferral reason, "limit"?: N} -> {"messages": [postqueue -j
            members, oldest first], "total", "truncated", "taken", "error"}: at most 1,000 messages,
            50 recipients each, 1,000 characters a field, 768 KiB in all; read-only agents answer it

Revisions add requests, never change one: 2 added ``queue_list`` (an agent without ``rev`` is 1
and answers it "unknown request"; the dashboard says which host to update).

Everything received is untrusted: lines are capped (``MAX_LINE``), every field is checked for
its type, strings are sanitised before they are shown, and nothing is ever markup or shell.
"""

from __future__ import annotations

import json
import re
from typing import Any

VERSION = 2  # 2: a journal source's pos is journald's cursor
REVISION = 2  # 2: queue_list; the services report's queue without its messages
MAX_LINE = 1 << 20  # one message; a longer line is dropped whole, and said
MAX_ENTRIES = 5_000  # entries of one logs message
MAX_CURSOR = 512
# journald's cursor: "s=<seqnum id>;i=<seqnum>;b=<boot id>;m=<monotonic>;t=<realtime>;x=<xor hash>"
_CURSOR = re.compile(r"[a-z]=[0-9a-f]{1,64}(?:;[a-z]=[0-9a-f]{1,64}){0,15}")


class ProtocolError(Exception):
    """A line that is not a message of this protocol; one line for the user."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_LINE:
        raise ProtocolError(f"a message of {len(raw):,} bytes (more than {MAX_LINE:,})")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError("a line that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("a JSON line without a type")
    return data


def position(value: Any) -> tuple[int, int, int, int] | None:
    """A resume position as sent (device, inode, offset, head checksum): four non-negative ints."""
    if (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 63 for x in value)
    ):
        return (value[0], value[1], value[2], value[3])
    return None


def cursor(value: Any) -> str | None:
    """A journald cursor as sent: short, and only the ``k=hex;`` pairs journald writes (it is
    passed to journalctl as one word after ``--after-cursor``, never through a shell)."""
    if isinstance(value, str) and len(value) <= MAX_CURSOR and _CURSOR.fullmatch(value):
        return value
    return None


def resume_point(value: Any) -> tuple[int, int, int, int] | str | None:
    """Where a source resumes: a file position or a journald cursor; None for anything else."""
    return position(value) or cursor(value)


def text(value: Any, cap: int = 8192) -> str:
    return value[:cap] if isinstance(value, str) else ""
