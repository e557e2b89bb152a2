"""The top bar's stack line: installed is not running. Real fail2ban-server and the rig's
Postfix and Dovecot; the state comes from their pid files, as the Services pane reads them."""

from __future__ import annotations

import time

import pytest

from mailtui.system.versions import detect_versions
from tests.rig.fail2ban import Fail2ban
from tests.test_fail2ban_truth import f2b  # noqa: F401 - the fixture: a fail2ban-server of this test's own

pytestmark = pytest.mark.daemons


def test_fail2ban_installed_running_then_stopped(f2b: Fail2ban) -> None:  # noqa: F811
    pid = int((f2b.dir / "fail2ban.pid").read_text().split()[0])
    up = detect_versions(fail2ban_socket=str(f2b.socket))
    state = up.state("fail2ban")
    assert state.installed and state.running is True and state.pid == pid
    assert f"fail2ban {state.version}" in up.summary() and f"fail2ban {state.version} (stopped)" not in up.summary()
    f2b.stop()
    for _ in range(100):
        if not (f2b.dir / "fail2ban.pid").exists():
            break
        time.sleep(0.05)
    down = detect_versions(fail2ban_socket=str(f2b.socket))
    assert down.state("fail2ban").running is False and down.state("fail2ban").version == state.version
    assert f"fail2ban {state.version} (stopped)" in down.summary()
    assert down.to_dict()["daemons"][2] == {
        "key": "fail2ban",
        "label": "fail2ban",
        "version": state.version,
        "installed": True,
        "running": False,
        "pid": None,
    }


def test_rig_postfix_and_dovecot_run(rig) -> None:
    v = detect_versions(
        postfix_dir=str(rig.postfix.conf_dir),
        dovecot_config=str(rig.dovecot.conf),
        fail2ban_socket=str(rig.fail2ban.socket),
    )
    for key in ("postfix", "dovecot", "fail2ban"):
        assert v.state(key).installed and v.state(key).running is True, v.to_dict()
    assert "(stopped)" not in v.summary()
