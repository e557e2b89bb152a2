"""Pilot tests of the DNS pane against the DNS lab (real NSD, HTTPS server and mail daemons)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from mailtui.ui.panes.dns import DnsPane
from tests.helpers import settle, wait_done
from tests.ui_apps import make_app


@pytest.mark.daemons
async def test_typed_domain_is_checked_and_explained(dnslab, isolated_config) -> None:
    for key, value in (
        ("dns.nameserver", dnslab.nameserver),
        ("dns.ca_file", str(dnslab.ca_file)),
        ("postfix.config_dir", str(dnslab.postfix.conf_dir)),
        ("dovecot.config", str(dnslab.dovecot.conf)),
    ):
        isolated_config.set(key, value, "test")
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        pane = app.query_one(DnsPane)
        assert pane.table.has_focus  # the findings take the keys; the input opens with d
        await pilot.press("d")
        assert pane.domain_input.has_focus
        await pilot.press(*"broken.test", "enter")
        status = await wait_done(pilot, pane)
        await pilot.press("m")  # the table has the focus now, so keys are commands again
        assert pane.is_maximized
        assert status.startswith("broken.test: ") and "fail" in status
        await pilot.pause(0.3)
        table = app.query_one("#dns-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        # worst first (fail, then what could not be checked, warn, ok, info), each in group order
        marks = [r[0] for r in rows]
        order = {"✗": 0, "⌛": 1, "?": 1, "!": 2, "∅": 3, "✓": 4, "·": 5}
        assert marks == sorted(marks, key=order.__getitem__) and marks[0] == "✗"
        assert rows[0][2] == "Mail routing"
        row = next(i for i, r in enumerate(rows) if "but the port speaks starttls" in r[1])
        table.focus()
        table.move_cursor(row=row)
        await pilot.pause(0.2)
        detail = str(pane.detail.render())
        assert detail.startswith("FAIL consistency:") and "Clients configured from" in detail
        # a bad domain is refused with a one-line reason before anything is queried
        before = str(pane.status.render())
        await pilot.press("d")
        pane.domain_input.value = ""
        await pilot.press(*"bad..name", "enter")
        await pilot.pause(0.2)
        assert any("empty label" in str(n.message) for n in app._notifications)
        assert pane.domain_input.has_focus and str(pane.status.render()) == before
        await pilot.press("escape")  # leaves the input and puts the checked domain back
        assert pane.domain_input.value == "broken.test" and pane.table.has_focus
