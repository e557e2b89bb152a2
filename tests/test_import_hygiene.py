"""Only mailtui.ui may import Textual or Rich: every other module must load without them."""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys

import mailtui

#: the fast scan engine's modules import Polars (mailtui[fast]); without it they are left out here
NEEDS_POLARS = ("mailtui.analysis.fast.scan", "mailtui.cli.scan_fast")
HEADLESS = sorted(
    m.name
    for m in pkgutil.walk_packages(mailtui.__path__, "mailtui.")
    if not m.name.startswith("mailtui.ui")
    and m.name != "mailtui.__main__"
    and (m.name not in NEEDS_POLARS or importlib.util.find_spec("polars") is not None)
)


def test_there_are_headless_modules_to_check() -> None:
    assert "mailtui.config" in HEADLESS and "mailtui.cli" in HEADLESS


def test_no_headless_module_imports_textual_or_rich() -> None:
    code = (
        "import importlib, sys\n"
        # httpx imports its optional command line (click + rich) when click is installed, and
        # import-linter in the test extras brings click: a user's install has neither
        "sys.modules['httpx._main'] = None\n"
        f"for name in {HEADLESS!r}:\n"
        "    importlib.import_module(name)\n"
        "    bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "    if bad:\n"
        "        print(name, bad[:3]); sys.exit(1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_help_does_not_load_textual() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from mailtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual','rich','dns','psutil')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
