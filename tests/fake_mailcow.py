"""A stand-in for mailcow's API (mailcow itself cannot run here: it is a dozen containers pulled
from a registry this machine cannot reach). It answers the three endpoints mailtui uses with the
shapes mailcow's ``json_api.php`` / ``functions.fail2ban.inc.php`` produce, checks ``X-API-Key``
(a read-only and a read-write key), and applies a queued unban on the next read, as mailcow's
netfilter container does within seconds. ``hostile`` switches it to misbehaving answers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RO_KEY = "ro-0123456789"
RW_KEY = "rw-9876543210"


class FakeMailcow:
    def __init__(self) -> None:
        now = time.time()
        self.active: dict[str, float] = {"203.0.113.7/32": now + 1752, "2001:db8::/64": now + 600}
        self.queue_unban: set[str] = set()
        self.shown_queued: set[str] = set()
        self.perm = ["198.51.100.0/24"]
        self.options: dict[str, Any] = {
            "ban_time": 1800,
            "max_attempts": 10,
            "retry_window": 600,
            "netban_ipv4": 32,
            "netban_ipv6": 64,
        }
        self.whitelist = "192.0.2.0/24\nmail.example.org"
        self.blacklist = "198.51.100.0/24"
        self.log = [
            {
                "time": int(now) - 30,
                "priority": "crit",
                "message": "203.0.113.7 matched rule id 3 "
                "(warning: unknown[203.0.113.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6)",
            },
            {"time": int(now) - 20, "priority": "crit", "message": "Banning 203.0.113.7/32 for 30 minutes"},
            {"time": int(now) - 10, "priority": "info", "message": "203.0.113.70 matched rule id 1 (something)"},
        ]
        self.hostile = ""  # "", "huge", "notjson", "trickle", "shape", "error"
        self.requests: list[tuple[str, str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _route(self, method: str) -> None:
                key = self.headers.get("X-API-Key", "")
                fake.requests.append((method, self.path, key))
                if key not in (RO_KEY, RW_KEY):
                    self._send(401, {"type": "error", "msg": "authentication failed"})
                    return
                if fake.hostile == "huge":
                    self._send(200, b"[" + b"0," * (3 << 20) + b"0]")
                    return
                if fake.hostile == "notjson":
                    self._send(200, b"<html>maintenance</html>")
                    return
                if fake.hostile == "shape":
                    self._send(200, {"active_bans": [5, {"ip": 7}, {"network": "\x1b]0;x\x07"}], "ban_time": "x"})
                    return
                if fake.hostile == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    for _ in range(100):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.3)
                    return
                if method == "GET" and self.path == "/api/v1/get/fail2ban":
                    self._send(200, fake.state())
                elif method == "GET" and self.path.startswith("/api/v1/get/logs/netfilter/"):
                    n = int(self.path.rsplit("/", 1)[1])
                    self._send(200, list(reversed(fake.log))[:n])
                elif method == "POST" and self.path == "/api/v1/edit/fail2ban":
                    if key != RW_KEY:
                        self._send(200, {"type": "error", "msg": "API read-only"})
                        return
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                    for net in body.get("items", []):
                        if body.get("attr", {}).get("action") == "unban":
                            fake.queue_unban.add(net)
                    self._send(
                        200,
                        [
                            {"type": "success", "log": ["fail2ban", "edit", body], "msg": ["object_modified", n]}
                            for n in body.get("items", [])
                        ],
                    )
                else:
                    self._send(404, {"type": "error", "msg": "route not found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def state(self) -> dict[str, Any]:
        # netfilter applies a queued unban within seconds: here, by the read after the one that
        # showed it queued
        for net in self.shown_queued:
            self.active.pop(net, None)
            self.queue_unban.discard(net)
        self.shown_queued = self.queue_unban & set(self.active)
        now = time.time()
        bans = []
        for net, until in self.active.items():
            d = int(until - now)
            bans.append(
                {
                    "queued_for_unban": 1 if net in self.queue_unban else 0,
                    "network": net,
                    "ip": net.split("/")[0],
                    "banned_until": f"{d // 3600:02d}h {d // 60 % 60:02d}m {d % 60:02d}s",
                }
            )
        return {
            **self.options,
            "regex": {"1": "warning: .*SASL"},
            "whitelist": self.whitelist,
            "blacklist": self.blacklist,
            "perm_bans": [{"network": p, "ip": p.split("/")[0]} for p in self.perm],
            "active_bans": bans,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
