"""pytest fixtures of the rig (loaded from tests/conftest.py as a plugin)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.rig import netns
from tests.rig.base import need_root
from tests.rig.rig import Rig, start_rig

if TYPE_CHECKING:
    from tests.rig.dnslab import DnsLab


def pytest_configure(config: pytest.Config) -> None:
    # before any test or thread starts: the process leaves the machine's network and mount
    # namespaces, so the rig's fixed ports and /dev/log never meet the machine's daemons
    netns.enter()


def pytest_report_header(config: pytest.Config) -> str:
    return netns.header()


@contextlib.contextmanager
def _session_dir(prefix: str) -> Iterator[Path]:
    """A world-readable temporary directory for daemons, removed afterwards unless
    MAILTUI_RIG_KEEP is set (to look at what the daemons wrote)."""
    need_root()
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    try:
        yield base
    finally:
        if not os.environ.get("MAILTUI_RIG_KEEP"):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    """Every daemon of the rig, started once per test session (about 5 s)."""
    with _session_dir("mailtui-rig-") as base:
        started = start_rig(base)
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture(scope="session")
def dnslab() -> Iterator[DnsLab]:
    """NSD with the lab's test domains, an HTTPS server with a throwaway CA, and mail daemons
    with that CA's certificate on 127.0.0.25's standard ports (see tests/rig/dnslab.py)."""
    from tests.rig.dnslab import start_dnslab

    with _session_dir("mailtui-dnslab-") as base:
        lab = start_dnslab(base)
        try:
            yield lab
        finally:
            lab.stop()
