"""A small client for the Docker Engine API on a Unix socket (podman's compatible service too).

Only what mailtui needs: list containers, inspect one, read or follow its logs, run a command
in it. Every request has a total deadline (a peer trickling bytes cannot hold it) and every
body a size cap; the socket is checked before connecting so "no such socket", "permission
denied" and "nothing listening" are told apart in one line each. Container names, labels and
output are untrusted: callers sanitise before showing them.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from mailtui.containers.frames import FrameDecoder

DEFAULT_SOCKETS = ("/var/run/docker.sock", "/run/podman/podman.sock")
MAX_JSON = 8 << 20  # a container list of a few hundred containers is well under 1 MiB
MAX_EXEC_OUTPUT = 4 << 20
TIMEOUT = 10.0  # seconds for one whole request (not per read)


class EngineError(Exception):
    """The engine cannot be reached or refused a request; the text is one line for the user."""


class EngineTimeout(EngineError):
    """No byte within the read timeout: for a followed log, only a quiet container."""


def socket_from_env(configured: str = "") -> str:
    """The socket to use: the configured one, DOCKER_HOST=unix://..., else the first that exists."""
    if configured:
        return configured.removeprefix("unix://")
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return host[len("unix://") :]
    for path in DEFAULT_SOCKETS:
        if os.path.exists(path):
            return path
    return DEFAULT_SOCKETS[0]


def access_problem(path: str) -> str:
    """Why this socket cannot be used, or "" when it looks usable."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"no container engine socket at {path}"
    except PermissionError:
        return f"{path}: permission denied (its directory is not readable)"
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not stat.S_ISSOCK(st.st_mode):
        return f"{path} is not a socket"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"the container engine socket {path} is root-only (or group docker): run as root or join group docker"
    return ""


@dataclass
class Container:
    """One container as the list endpoint describes it (untrusted strings, not yet sanitised)."""

    id: str
    name: str
    image: str = ""
    state: str = ""  # running, exited, restarting, ...
    status: str = ""  # the engine's own words: "Up 3 hours (healthy)"
    labels: dict[str, str] = field(default_factory=dict)
    created: float = 0.0
    ports: list[tuple[str, int, int, str]] = field(default_factory=list)  # (host IP, host port, container port, proto)

    @property
    def service(self) -> str:
        return self.labels.get("com.docker.compose.service", "")

    @property
    def project(self) -> str:
        return self.labels.get("com.docker.compose.project", "")


@dataclass
class ContainerState:
    """What inspect adds: health, restarts, start time, TTY, mounts."""

    running: bool = False
    status: str = ""
    health: str = ""  # healthy, unhealthy, starting, "" when the image has no health check
    restarts: int = 0
    started_at: str = ""
    exit_code: int | None = None
    tty: bool = False
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (host source, container path)
    pid: int = 0  # its first process on this machine (0 when not running)


@dataclass
class ExecResult:
    code: int | None
    stdout: str
    stderr: str


def _text(value: Any, cap: int = 512) -> str:
    return value[:cap] if isinstance(value, str) else ""


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


class EngineClient:
    def __init__(self, socket: str, timeout: float = TIMEOUT) -> None:
        self.socket = socket
        self.timeout = timeout
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            problem = access_problem(self.socket)
            if problem:
                raise EngineError(problem)
            self._client = httpx.Client(
                transport=httpx.HTTPTransport(uds=self.socket),
                base_url="http://engine",
                trust_env=False,
                timeout=httpx.Timeout(self.timeout),
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _stream(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        read_timeout: float | None = None,
    ) -> Iterator[httpx.Response]:
        timeout = httpx.Timeout(self.timeout, read=read_timeout if read_timeout is not None else self.timeout)
        try:
            with self._http().stream(method, path, params=params, json=body, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    raise EngineError(self._error(resp, path))
                yield resp
        except httpx.ConnectError as exc:
            raise EngineError(f"cannot connect to the container engine at {self.socket}: {_reason(exc)}") from None
        except httpx.TimeoutException:
            raise EngineTimeout(f"the container engine at {self.socket} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise EngineError(f"container engine: {type(exc).__name__}: {_reason(exc)}") from None

    def _error(self, resp: httpx.Response, path: str) -> str:
        try:
            data = json.loads(resp.read()[:4096])
            message = _text(data.get("message"), 200) if isinstance(data, dict) else ""
        except (ValueError, httpx.HTTPError):
            message = ""
        return f"container engine: {path.split('?')[0]}: HTTP {resp.status_code}" + (f": {message}" if message else "")

    def _read(self, resp: httpx.Response, cap: int, deadline: float) -> bytes:
        out = bytearray()
        for chunk in resp.iter_raw():
            out += chunk
            if len(out) > cap:
                raise EngineError(f"container engine: answer larger than {cap >> 20} MiB")
            if time.monotonic() > deadline:
                raise EngineError("container engine: answer took too long")
        return bytes(out)

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, cap: int = MAX_JSON
    ) -> Any:
        """A JSON request; None for an empty answer (204)."""
        deadline = time.monotonic() + self.timeout
        with self._stream(method, path, params=params, body=body) as resp:
            raw = self._read(resp, cap, deadline)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise EngineError(f"container engine: {path}: the answer is not JSON") from None

    # -- what mailtui asks --------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        data = self.request("GET", "/version")
        return data if isinstance(data, dict) else {}

    def containers(self, all: bool = True) -> list[Container]:
        data = self.request("GET", "/containers/json", params={"all": "1" if all else "0"})
        out: list[Container] = []
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("Id"), str):
                continue
            names = _list(item, "Names")
            name = _text(names[0]).lstrip("/") if names else item["Id"][:12]
            labels = _dict(item, "Labels")
            ports: list[tuple[str, int, int, str]] = []
            for p in _list(item, "Ports"):
                public, private = (p.get("PublicPort"), p.get("PrivatePort")) if isinstance(p, dict) else (0, 0)
                if isinstance(p, dict) and isinstance(public, int) and isinstance(private, int):
                    ports.append((_text(p.get("IP"), 64), public, private, _text(p.get("Type"), 8)))
            out.append(
                Container(
                    id=item["Id"][:128],
                    name=name,
                    image=_text(item.get("Image")),
                    state=_text(item.get("State"), 32),
                    status=_text(item.get("Status"), 128),
                    labels={_text(k, 128): _text(v) for k, v in labels.items() if isinstance(k, str)},
                    created=float(item["Created"]) if isinstance(item.get("Created"), (int, float)) else 0.0,
                    ports=ports,
                )
            )
        return out

    def inspect(self, ident: str) -> ContainerState:
        data = self.request("GET", f"/containers/{quote(ident, safe='')}/json")
        if not isinstance(data, dict):
            raise EngineError("container engine: inspect answered no object")
        st = _dict(data, "State")
        health = _dict(st, "Health")
        cfg = _dict(data, "Config")
        mounts: list[tuple[str, str]] = []
        for m in _list(data, "Mounts"):
            if isinstance(m, dict) and isinstance(m.get("Source"), str) and isinstance(m.get("Destination"), str):
                mounts.append((m["Source"][:4096], m["Destination"][:4096]))
        restarts = data.get("RestartCount")
        code = st.get("ExitCode")
        pid = st.get("Pid")
        return ContainerState(
            running=st.get("Running") is True,
            status=_text(st.get("Status"), 32),
            health=_text(health.get("Status"), 32),
            restarts=restarts if isinstance(restarts, int) else 0,
            started_at=_text(st.get("StartedAt"), 64),
            exit_code=code if isinstance(code, int) else None,
            tty=cfg.get("Tty") is True,
            mounts=mounts,
            pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else 0,
        )

    @contextmanager
    def logs(
        self, ident: str, *, follow: bool, since: int = 0, tail: int | None = None, read_timeout: float = 30.0
    ) -> Iterator[Iterator[bytes]]:
        """The raw logs stream (frames; timestamps on). A quiet container ends the stream with a
        read timeout after ``read_timeout`` seconds, which the follower treats as "reconnect"."""
        params: dict[str, Any] = {"stdout": "1", "stderr": "1", "timestamps": "1", "follow": "1" if follow else "0"}
        if since:
            params["since"] = str(since)
        if tail is not None:
            params["tail"] = str(tail)
        with self._stream(
            "GET", f"/containers/{quote(ident, safe='')}/logs", params=params, read_timeout=read_timeout
        ) as resp:
            yield resp.iter_raw()

    def exec(
        self,
        ident: str,
        argv: list[str],
        *,
        timeout: float | None = None,
        cap: int = MAX_EXEC_OUTPUT,
        tty: bool = False,
    ) -> ExecResult:
        """Run argv in the container (no shell) and collect its output, within a deadline."""
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        created = self.request(
            "POST",
            f"/containers/{quote(ident, safe='')}/exec",
            body={"Cmd": argv, "AttachStdout": True, "AttachStderr": True, "Tty": tty},
        )
        exec_id = created.get("Id") if isinstance(created, dict) else None
        if not isinstance(exec_id, str):
            raise EngineError("container engine: exec was not created")
        decoder = FrameDecoder(raw=tty, split_lines=False)
        out: dict[int, list[bytes]] = {1: [], 2: []}
        size = 0
        with self._stream(
            "POST", f"/exec/{quote(exec_id, safe='')}/start", body={"Detach": False, "Tty": tty}, read_timeout=limit
        ) as resp:
            for chunk in resp.iter_raw():
                size += len(chunk)
                if size > cap:
                    raise EngineError(f"{argv[0]} in the container printed more than {cap >> 20} MiB")
                for stream, data in decoder.feed(chunk):
                    out.setdefault(stream, []).append(data)
                if time.monotonic() > deadline:
                    raise EngineError(f"{argv[0]} in the container did not finish within {limit:g} s")
        info = self.request("GET", f"/exec/{quote(exec_id, safe='')}/json")
        code = info.get("ExitCode") if isinstance(info, dict) else None
        return ExecResult(
            code if isinstance(code, int) else None,
            b"".join(out.get(1, [])).decode("utf-8", "replace"),
            b"".join(out.get(2, [])).decode("utf-8", "replace"),
        )


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    low = text.lower()
    if "refused" in low:
        return "connection refused (is the engine running?)"
    if "permission" in low:
        return "permission denied"
    return text.splitlines()[0][:200] if text else type(exc).__name__
