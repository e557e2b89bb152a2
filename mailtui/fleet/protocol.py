"""The agent's wire format, version 1 (revision 2): one JSON object a line, in both directions.

Agent -> dashboard (``type``):
  hello     {"v": 1, "rev": 2, "host", "mailtui", "read_only", "problems": [..]}   first line, once
  logs      {"src", "entries": [{"line", "rec", "sev", "fields"}], "pos": [dev, ino, off, head_crc]}
            ``pos`` is where this source resumes after the last entry of the batch
  summary   {"src", "routine": N, "entries": [...problem entries only], "pos"}   when the link is slow
  bans      {"result": {...}}        fail2ban as ``mailtui bans --json`` has it
  services  {"report": {...}}        as ``mailtui services --json`` (the queue's counts and reasons;
                                     its messages are asked for with ``queue_list``)
  reply     {"id", "ok", "result" | "error"}
  notice    {"text"}                 something the admin should read (a degraded link, a gap)
Dashboard -> agent:
  subscribe {"logs": {src: [dev, ino, off, head_crc] | null}}   which logs, and where to resume each
  request   {"id", "op": unban|ban|where|values|queue_list|queue|flush, ...}
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
from typing import Any

VERSION = 1
REVISION = 2  # 2: queue_list; the services report's queue without its messages
MAX_LINE = 1 << 20  # one message; a longer line is dropped whole, and said
MAX_ENTRIES = 5_000  # entries of one logs message


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


def text(value: Any, cap: int = 8192) -> str:
    return value[:cap] if isinstance(value, str) else ""
