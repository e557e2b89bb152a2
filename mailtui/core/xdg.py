"""Where the XDG base directories are: one rule for the config, state and cache directories.

``$XDG_CONFIG_HOME``, ``$XDG_STATE_HOME`` and ``$XDG_CACHE_HOME`` when set and not empty, else
``~/.config``, ``~/.local/state`` and ``~/.cache`` (the XDG Base Directory rule). A process with
no home at all (no ``$HOME`` and no passwd entry: a service account in a container) has none.
"""

from __future__ import annotations

import os
from pathlib import Path


def xdg_base(variable: str, fallback: str) -> Path | None:
    """``$variable``, or ``fallback`` under the home directory; None where there is no home."""
    base = os.environ.get(variable)
    if base:
        return Path(base)
    try:
        return Path.home() / fallback
    except RuntimeError:  # no $HOME and no passwd entry
        return None
