"""The code-health checks of the test command: import contracts, types, lint (pyproject.toml says how).

* ``lint-imports``: the layer contract and "only mailtui.ui imports Textual or Rich"
  (``[tool.importlinter]``, drawn in docs/architecture.md);
* ``mypy``: strict on everything but mailtui.ui, whose bodies are still checked (``[tool.mypy]``);
* ``ruff check``: the lint rules of ``[tool.ruff.lint]`` over the whole tree;
* ``ruff format --check``: every file as the formatter writes it (``[tool.ruff.format]``).

Each must report zero problems. The tools come with the test extras (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    """The tool installed beside this interpreter (the venv's), else the one on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extras (pip install -e '.[test]')")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    proc = _run(_tool("lint-imports"), "--no-cache")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_mypy_finds_no_errors() -> None:
    proc = _run(_tool("mypy"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.stdout.startswith("Success"), proc.stdout[-2000:]


def test_ruff_finds_no_lint_errors() -> None:
    proc = _run(_tool("ruff"), "check", "--output-format", "concise", ".")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    proc = _run(_tool("ruff"), "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
