"""A real container engine for the tests: podman's Docker-compatible API service on a Unix socket.

Everything is private to one temporary directory: podman's storage (vfs), run root, its
configuration, and the API socket. No image registry can be reached, so the image is made
here from a tiny directory tree (``podman import``) and the host's ``/usr`` is bind-mounted
read-only into each container: the host's own Postfix binaries run inside it.

What this machine needs (found out the hard way, see docs/testing.md): ``default_ulimits = []``
(else setrlimit RLIMIT_NOFILE fails), a private cgroup namespace with the cgroupfs manager and
runc (the machine mounts cgroup v1; crun refuses the hybrid layout), and no network namespace
sharing (network "none": a container in the host's network namespace cannot mount sysfs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

IMAGE = "localhost/mailtui-base:test"

CONTAINERS_CONF = """\
[containers]
default_ulimits = []
cgroupns = "private"
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "{dir}/libpod-tmp"
"""

STORAGE_CONF = """\
[storage]
driver = "vfs"
graphroot = "{dir}/storage"
runroot = "{dir}/runroot"
"""


def missing() -> str:
    """Why the lab cannot run here ("" when it can)."""
    if shutil.which("podman") is None or shutil.which("runc") is None:
        return "podman and runc are not installed (sudo bash .ci/install-daemons.sh)"
    if os.geteuid() != 0:
        return "the container lab needs root"
    return ""


@dataclass
class ContainerLab:
    dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> str:
        return str(self.dir / "engine.sock")

    def start(self) -> None:
        (self.dir / "containers.conf").write_text(CONTAINERS_CONF.format(dir=self.dir))
        (self.dir / "storage.conf").write_text(STORAGE_CONF.format(dir=self.dir))
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(self.dir / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.dir / "storage.conf"),
            "XDG_RUNTIME_DIR": str(self.dir / "xdg-run"),
        }
        (self.dir / "xdg-run").mkdir(mode=0o700, exist_ok=True)
        with open(self.dir / "service.log", "wb") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(
                ["podman", "system", "service", "--time=0", f"unix://{self.socket}"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "podman system service did not start: " + (self.dir / "service.log").read_text()[-2000:]
                )
            time.sleep(0.05)
        self._image()

    def _image(self) -> None:
        root = self.dir / "rootfs"
        for sub in ("etc", "tmp", "var/tmp", "var/log", "var/spool", "run", "usr", "proc", "sys", "dev"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
            (root / link).symlink_to(target)
        for name in ("passwd", "group"):
            shutil.copy(f"/etc/{name}", root / "etc" / name)
        tar = self.dir / "rootfs.tar"
        with tarfile.open(tar, "w") as tf:
            tf.add(root, arcname=".")
        self.podman("import", str(tar), IMAGE)

    def podman(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        res = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: {res.stderr.strip()[-1000:]}")
        return res.stdout.strip()

    def tag(self, name: str) -> str:
        self.podman("tag", IMAGE, name)
        return name

    def run(
        self,
        name: str,
        script: str,
        *,
        labels: dict[str, str] | None = None,
        binds: list[str] | None = None,
        image: str = IMAGE,
        tty: bool = False,
    ) -> str:
        """Start a detached container running ``sh -c script``; returns its id."""
        args = ["run", "-d", "--name", name, "-v", "/usr:/usr:ro"]
        for k, v in (labels or {}).items():
            args += ["--label", f"{k}={v}"]
        for b in binds or []:
            args += ["-v", b]
        if tty:
            args.append("-t")
        return self.podman(*args, image, "/bin/sh", "-c", script)

    def stop(self) -> None:
        if self.proc is not None:
            self.podman("rm", "-af", "-t", "0", check=False)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        # vfs layers are plain directories owned by root
        shutil.rmtree(self.dir, ignore_errors=True)


def start_lab() -> ContainerLab:
    lab = ContainerLab(Path(tempfile.mkdtemp(prefix="mailtui-ctr-")))
    try:
        lab.start()
    except BaseException:
        lab.stop()
        raise
    return lab
