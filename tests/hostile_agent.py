"""A hostile host's "agent": speaks the fleet protocol over the lab's real sshd and sends what a
compromised or broken host could — control sequences in senders, reasons, addresses and alerts,
queue IDs Postfix never makes ("ALL", an option), numbers that are strings. A real Postfix cannot
be made to produce these (postqueue -j prints a control character as "?"), so this script plays
the host; everything else (ssh, the link, the dashboard) is real.

Run as ``python tests/hostile_agent.py [--rev1]``; ends when stdin closes.
"""

from __future__ import annotations

import json
import sys
import time

ESC = "\x1b"
EVIL = f"{ESC}[2J{ESC}]0;owned\x07"  # clear screen + set the terminal title
NOW = time.time()


def send(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def messages() -> list[dict]:
    good = {
        "queue_id": "4F2A1B3C5D",
        "queue_name": f"deferred{EVIL}",
        "arrival_time": NOW - 7200,
        "message_size": 1234,
        "sender": f"mallory{EVIL}@evil.test",
        "recipients": [{"address": f"victim{ESC}[31m@example.org", "delay_reason": f"451 try later{EVIL}"}],
        "more_recipients": 3,
    }
    return [
        good,
        {**good, "queue_id": "ALL"},  # postsuper -d ALL would empty the queue
        {**good, "queue_id": "-d"},  # an option, not an ID
        {**good, "queue_id": ["not", "a", "string"]},
        {**good, "queue_id": "7E8F9A0B1C", "arrival_time": "yesterday", "message_size": -5, "sender": 42},
    ]


REPORT = {
    "taken": NOW,
    "daemons": [{"key": "postfix", "label": "postfix", "running": True, "pid": 1, "uptime": 60.0}],
    "ports": [],
    "queue": {
        "total": 2,
        "counts": {"deferred": 2},
        "error": "",
        "oldest_age": 7200.0,
        "reasons": [{"reason": f"451 try later{EVIL}", "title": "", "recognizer": "", "count": 2}],
    },
    "disks": [],
    "certificates": [],
    "alerts": [{"id": "queue:deferred", "severity": "crit", "message": f"2 deferred{EVIL} messages"}],
    "notes": [],
}


def main() -> int:
    hello = {"type": "hello", "v": 1, "rev": 2, "host": f"evil{EVIL}", "mailtui": "0.1.0", "read_only": False}
    if "--rev1" in sys.argv:  # an agent from before revisions: no "rev", no queue_list
        del hello["rev"]
    send(hello)
    send({"type": "services", "report": REPORT})
    for raw in sys.stdin:
        try:
            msg = json.loads(raw)
        except ValueError:
            continue
        if msg.get("type") != "request":
            continue
        op = msg.get("op")
        if op == "queue_list":
            send(
                {
                    "type": "reply",
                    "id": msg.get("id"),
                    "ok": True,
                    "result": {"messages": messages(), "total": 5, "truncated": False, "taken": NOW, "error": ""},
                }
            )
        elif op == "queue":
            send({"type": "reply", "id": msg.get("id"), "ok": True, "result": f"{msg.get('queue_id')} held{EVIL}"})
        else:
            send({"type": "reply", "id": msg.get("id"), "ok": False, "error": f"unknown request{EVIL}"})
        send({"type": "services", "report": REPORT})
    return 0


if __name__ == "__main__":
    sys.exit(main())
