"""Pilot tests of the Services pane: report rendering, alert bar, queue screen and its actions."""

from __future__ import annotations

import smtplib

import pytest
from textual.widgets import DataTable, Static

from mailtui.system.queue import read_queue
from mailtui.system.queue_actions import change
from mailtui.ui.app import MailTuiApp
from mailtui.ui.panes.services import ServicesPane
from mailtui.ui.screens.confirm import ConfirmScreen
from mailtui.ui.screens.queue import QueueScreen
from tests.helpers import settle, until
from tests.rig.base import wait_for
from tests.ui_apps import FIXED_SUMMARY, make_app


def cells(table: DataTable) -> list[str]:
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_report_rows_and_alert_bar(isolated_config) -> None:
    app = make_app(isolated_config)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        pane = app.query_one(ServicesPane)
        # the rows come with the poll's Collected message, the alert bar with the AlertsChanged
        # message the pane posts then: both handled after the worker settle waited for
        bar = app.query_one("#alertbar", Static)
        await until(
            pilot,
            lambda: pane.report is not None and bar.display and "2 alerts" in str(bar.render()),
            what="the alerts",
        )
        rows = cells(pane.table)
        assert any(r.startswith("Postfix | up 2h30m | pid 812 · 5 children") for r in rows)
        assert any(r.startswith("Dovecot | DOWN") for r in rows)
        assert any(r.startswith(":993 | missing") for r in rows)
        assert any(r.startswith("queue | 3 msgs | deferred 3") for r in rows)
        assert any(r.startswith("  to |  | example.org 3") for r in rows)
        # three messages stuck behind the same cause are one group, titled by the recognizer
        assert any(
            r.startswith("  3× | deferred | Cannot connect to the destination: connect to mx.example.org") for r in rows
        )
        assert bar.display and bar.has_class("-bad")
        text = str(bar.render())
        assert "2 alerts" in text and "Dovecot is not running" in text and "*:993" in text


async def test_queue_screen_lists_a_reason_and_read_only_refuses(isolated_config) -> None:
    isolated_config.set("ui.read_only", True, "test")
    app = make_app(isolated_config)
    app.read_only = True
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        pane = app.query_one(ServicesPane)
        # the rows come with the poll's Collected message, handled after settle's pause
        await until(pilot, lambda: any(r.startswith("  3×") for r in cells(pane.table)), what="the deferred reason")
        row = next(i for i, r in enumerate(cells(pane.table)) if r.startswith("  3×"))
        pane.table.focus()
        pane.table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert list(screen.messages) == ["4B7C51A0F1", "4B7C51A0F2", "4B7C51A0F3"]
        assert "Connection timed out" in str(screen.reason.render())
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)  # no confirmation: refused outright
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)


@pytest.mark.daemons
async def test_hold_from_the_queue_screen_changes_the_real_queue(rig, isolated_config) -> None:
    conf = str(rig.postfix.conf_dir)
    with smtplib.SMTP("127.0.0.1", rig.postfix.ports["smtp"], timeout=10) as client:
        client.ehlo("client.rig.test")
        client.sendmail("bob@rig.test", ["held@example.net"], b"Subject: hold me\r\n\r\nbody\r\n")
    found = wait_for(
        lambda: [
            m
            for m in read_queue(conf).messages
            if m.queue == "deferred" and m.recipients[0].address == "held@example.net"
        ],
        30,
        0.2,
        "a deferred message",
    )
    qid = found[-1].queue_id
    isolated_config.set("postfix.config_dir", conf, "test")
    isolated_config.set("dovecot.config", str(rig.dovecot.conf), "test")
    app = MailTuiApp(isolated_config, watch_tty=False, stack_summary=lambda: FIXED_SUMMARY)
    try:
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            pane = app.query_one(ServicesPane)
            # the report comes with the poll's Collected message, handled after settle's pause
            await until(pilot, lambda: pane.report is not None, what="the Services report")
            assert pane.report is not None and pane.report.queue.find(qid) is not None
            app._open_queue()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            screen.table.move_cursor(row=list(screen.messages).index(qid))
            await pilot.press("h")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert qid in str(app.screen.question)
            await pilot.press("y")
            wait_for(lambda: read_queue(conf).find(qid).queue == "hold", 10, 0.1, "the hold")
            # the dialog re-reads the queue after the action's worker: wait for its row to say so
            await until(
                pilot,
                lambda: str(screen.table.get_row_at(list(screen.messages).index(qid))[1]) == "hold",
                what="the held message's row in the queue dialog",
            )
    finally:
        if read_queue(conf).find(qid) is not None:
            change("delete", qid, conf)
