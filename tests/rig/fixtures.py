"""pytest fixtures of the rig (loaded from tests/conftest.py as a plugin)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.rig.base import need_root
from tests.rig.rig import Rig, start_rig


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    """Every daemon of the rig, started once per test session (about 5 s)."""
    need_root()
    keep = os.environ.get("MAILTUI_RIG_KEEP")  # set to keep the rig's directory for debugging
    base = Path(tempfile.mkdtemp(prefix="mailtui-rig-"))
    base.chmod(0o755)
    started = start_rig(base)
    try:
        yield started
    finally:
        started.stop()
        if not keep:
            import shutil

            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def dnslab() -> Iterator["DnsLab"]:
    """NSD with the lab's test domains, an HTTPS server with a throwaway CA, and mail daemons
    with that CA's certificate on 127.0.0.25's standard ports (see tests/rig/dnslab.py)."""
    from tests.rig.dnslab import DnsLab, start_dnslab  # noqa: F401 - DnsLab for the annotation

    need_root()
    base = Path(tempfile.mkdtemp(prefix="mailtui-dnslab-"))
    base.chmod(0o755)
    lab = start_dnslab(base)
    try:
        yield lab
    finally:
        lab.stop()
        if not os.environ.get("MAILTUI_RIG_KEEP"):
            import shutil

            shutil.rmtree(base, ignore_errors=True)
