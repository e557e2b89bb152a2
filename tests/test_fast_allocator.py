"""The fast scan's allocator options (analysis/fast/load.py): Polars' jemalloc reads them when it is
imported, they are the ones load.py sets when the user set none, the user's own win, and no
process started afterwards inherits ours. Each case runs in a fresh interpreter (the options are
read once per process, at the first allocation).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

if os.environ.get("MAILTUI_REQUIRE_FAST") != "1":
    pytest.importorskip("polars", reason="the fast engine needs Polars: pip install 'mailtui[fast]'")

from mailtui.analysis.fast import load as scan_fast  # (the loader; cli/scan_fast re-exports its names)

REPO = Path(__file__).resolve().parent.parent
# after the import: what this process's environment holds and what a child process sees
PROBE = (
    "import os, subprocess, sys; import mailtui.analysis.fast.scan;"
    "print(os.environ.get('_RJEM_MALLOC_CONF', 'unset'));"
    "print(subprocess.run(['/bin/sh', '-c', 'echo ${_RJEM_MALLOC_CONF:-unset}'],"
    " capture_output=True, text=True).stdout.strip())"
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != scan_fast.JEMALLOC_VAR}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env={**base, **env}, check=True
    )


def test_our_options_do_not_reach_the_environment_or_children() -> None:
    assert _python(PROBE).stdout.split() == ["unset", "unset"]


def test_the_users_own_options_are_kept() -> None:
    mine = "narenas:2"
    assert _python(PROBE, _RJEM_MALLOC_CONF=mine).stdout.split() == [mine, mine]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Polars links jemalloc on Linux")
def test_jemalloc_reads_the_options_set_for_the_import() -> None:
    # load.py's own code with stats_print added to its options: jemalloc prints the options it
    # runs with when the process ends, so this shows they were read at the import (not too late)
    source = Path(scan_fast.__file__).read_text()
    probe = source.replace(
        repr(scan_fast.JEMALLOC_CONF).replace("'", '"'), repr(scan_fast.JEMALLOC_CONF + ",stats_print:true")
    )
    assert probe != source
    code = (
        "import sys, types; m = types.ModuleType('probe'); m.__file__ = 'probe';"
        f"exec(compile({probe!r}, 'probe', 'exec'), m.__dict__);"
        "pl = m.polars_module(); pl.Series(range(100_000)).sum()"
    )
    err = _python(code).stderr
    for option in scan_fast.JEMALLOC_CONF.split(","):
        name, value = option.split(":")
        assert f"opt.{name}: {value} " in err, option


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_keeps_freed_memory_unless_the_user_tuned_it() -> None:
    # glibc answers 1 for a parameter it took, 0 for one it refused (an M_MMAP_THRESHOLD over
    # its 32 MiB cap, say): all of ours are taken
    code = "from mailtui.analysis.fast import load; print(load._keep_freed_pages())"
    assert _python(code).stdout.split() == ["True"]
    mine = {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000", "MALLOC_TRIM_THRESHOLD_": "1000000"}
    for name, value in mine.items():
        assert _python(code, **{name: value}).stdout.split() == ["False"], name
