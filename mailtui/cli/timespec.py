"""Parse --since/--until: an absolute date/time (local) or a relative age like 30m, 2h, 7d."""

from __future__ import annotations

import re
import time
from datetime import datetime

from mailtui.cli.output import CliError

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now: float | None = None) -> float:
    now = time.time() if now is None else now
    m = _RELATIVE.fullmatch(text.strip())
    if m is not None:
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise CliError(f"cannot read time {text!r}: use 2026-02-19, '2026-02-19 10:35', or 30m/2h/7d") from None
