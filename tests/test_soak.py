"""Load and soak, sized for CI: the dashboard tails a log written fast and rotated every way.

The same driver as bench/ui_ingest.py (which runs it for a minute at 50,000 lines/s and
records the timings); here only what must hold at any size is asserted: every line reaches
the Logs pane exactly once and in order across rename, copytruncate and re-creation, and the
pane never holds more than its cap.
"""

from __future__ import annotations

import asyncio

from bench.ui_ingest import _run


def test_rotating_log_under_load_loses_and_repeats_nothing(isolated_config) -> None:
    # (isolated_config: the driver points XDG_CONFIG_HOME and the system config elsewhere; the
    # fixture puts both back afterwards)
    m = asyncio.run(_run(rate=20_000, seconds=6.0, max_lines=5_000, rotate_every=1.0, calm_probes=2))
    assert m["written"] == 120_000
    assert (m["in_order"], m["lost"], m["repeated"]) == (120_000, 0, 0)
    assert m["seen"] == 120_000  # held by the pane plus pushed out by its cap
    assert m["held_max"] == 5_000  # the cap was reached and never exceeded
    assert m["load_samples"] >= 500  # stamped lines arrived throughout, not in one lump at the end
