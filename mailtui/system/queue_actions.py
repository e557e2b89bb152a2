"""Queue actions: flush, hold, release, delete — validated, never through a shell.

The UI and the CLI ask for confirmation and honour ``--read-only`` before calling these.
"""

from __future__ import annotations

import re

from mailtui.mta.run import run_tool

# short (hex) and long (enable_long_queue_ids) Postfix queue IDs; never "ALL", never an option
_QUEUE_ID = re.compile(r"[0-9A-Za-z]{5,32}")

#: action -> (postsuper flag, past tense for the result message)
POSTSUPER = {
    "hold": ("-h", "put on hold"),
    "release": ("-H", "released from hold"),
    "delete": ("-d", "deleted"),
    "requeue": ("-r", "requeued"),
}


class QueueActionError(Exception):
    """The action was refused or failed; the message says why."""


def valid_queue_id(text: str) -> str:
    if not _QUEUE_ID.fullmatch(text) or text == "ALL":
        raise QueueActionError(f"{text!r} is not a Postfix queue ID")
    return text


def flush(config_dir: str = "") -> str:
    conf = ["-c", config_dir] if config_dir else []
    res = run_tool(["postqueue", *conf, "-f"], timeout=30)
    if not res.ok:
        raise QueueActionError(f"postqueue -f failed: {res.error}")
    return "queue flushed: Postfix is retrying every deferred message now"


def change(action: str, queue_id: str, config_dir: str = "") -> str:
    """hold / release / delete / requeue one message with postsuper (needs root)."""
    if action not in POSTSUPER:
        raise QueueActionError(f"unknown queue action {action!r}")
    flag, done = POSTSUPER[action]
    qid = valid_queue_id(queue_id)
    conf = ["-c", config_dir] if config_dir else []
    res = run_tool(["postsuper", *conf, flag, qid], timeout=30)
    if not res.ok:
        raise QueueActionError(f"postsuper {flag} {qid} failed: {res.error}")
    # postsuper reports "postsuper: Placed on hold: 1 message" (count 0 when the ID is gone)
    counts = re.findall(r":\s*(\d+) messages?", res.stderr)
    if counts and int(counts[-1]) == 0:
        raise QueueActionError(f"{qid} is not in the queue (already delivered or removed?)")
    return f"{qid} {done}"
