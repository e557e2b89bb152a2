"""Results worth keeping between runs, on disk as JSON, keyed by the text they were computed from.

Every command that recognizes lines parses the recognizer catalog first: ~50 ms of pure-Python
TOML for the built-in catalog's 13 files, and ``scan --engine fast`` then translates its ~250
patterns for Rust (~40 ms). Both are pure functions of texts, so their results are kept in
``$XDG_CACHE_HOME/mailtui`` (``~/.cache/mailtui``) with those texts: a file is named by their
CRC-32 and used only when the texts it holds are the ones asked for, so an edited catalog is
computed again; nothing is ever stale, only unused. (No hashlib: its OpenSSL module costs ~7 ms
of every start that loads the catalog; a CRC collision costs a recomputation, never a wrong value.)

- JSON only (never pickle): a cache file holds data, not code; what does not turn into JSON
  is not kept. A file that does not read back (cut short, edited, another format) is computed
  again and replaced; each is written whole (a temporary file, then renamed).
- A cache is an optimization: a missing, unwritable or full cache directory changes nothing
  but the time (every OSError is ignored), and a read is capped in size.
- Each kind keeps its newest ``KEEP`` files (a user catalog edited a hundred times leaves no
  hundred files).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mailtui.core.xdg import xdg_base

T = TypeVar("T")

MAX_BYTES = 8 << 20  # a cache file larger than this is not read (the catalog's is ~0.3 MB)
KEEP = 64  # files of one kind (the built-in catalog is 13)


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/mailtui`` or ``~/.cache/mailtui``; None where there is no home."""
    base = xdg_base("XDG_CACHE_HOME", ".cache")
    return base / "mailtui" if base is not None else None


def cached(kind: str, key: str, compute: Callable[[], T], valid: Callable[[Any], bool]) -> T:
    """``compute()``'s value as it was for the same ``key`` (a text that decides it) in an
    earlier run, else ``compute()``, kept for the next run when it is JSON. The value read back
    is what JSON gives (lists for tuples): ``compute`` returns what JSON keeps as it is. A value
    read back that ``valid`` refuses (a file someone edited) is computed again."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = folder / kind / f"{zlib.crc32(key.encode('utf-8', 'surrogatepass')):08x}.json"
    got = _read(path, key)
    if got is not None and valid(got):
        return got  # type: ignore[no-any-return]
    value = compute()
    _write(path, key, value)
    return value


def _read(path: Path, key: str) -> Any:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    try:
        held = json.loads(data)
        return held["value"] if held["key"] == key else None
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def _write(path: Path, key: str, value: object) -> None:
    import tempfile  # (only when something is written: not on every start)

    try:
        text = json.dumps({"key": key, "value": value}, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # not JSON (a TOML date, say): not kept
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent)
    except OSError:
        return


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
