"""docs/architecture.md says what the code does: the layer diagram is the import contract, every
package and subcommand module is in the module map, and the figures it quotes are the constants.

A figure changed in the code (a cap, a deadline, a redraw rate) without the doc, or a package or
subcommand added without its line, fails here naming the claim.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
FLAT = " ".join(DOC.split())  # claims wrap over lines: compare with the whitespace collapsed


def _layer_contract() -> list[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = data["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [" | ".join(part.strip() for part in layer.split("|")) for layer in layers]


def test_the_layer_diagram_is_the_import_contract() -> None:
    block = DOC.split("## Layers", 1)[1].split("```", 2)[1]
    drawn = []
    for line in block.splitlines():
        # a layer's row starts with its name(s); rows starting with │ continue the one above
        found = re.match(r"\s*([a-z0-9_]+(?:\s*\|\s*[a-z0-9_]+)*)(?:\s{2,}|$)", line)
        if found and line.strip()[0] not in "│|":
            drawn.append(" | ".join(part.strip() for part in found.group(1).split("|")))
    assert drawn == _layer_contract(), "the diagram under '## Layers' is not pyproject.toml's layers contract"


def test_every_package_and_subcommand_module_is_in_the_module_map() -> None:
    from mailtui.cli import SUBCOMMANDS

    packages = sorted(p.name for p in (ROOT / "mailtui").iterdir() if (p / "__init__.py").exists())
    modules = sorted(p.name for p in (ROOT / "mailtui").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    missing = [f"{name}/" for name in packages if not re.search(rf"^  {name}/ ", DOC, re.M)]
    missing += [name for name in modules if not re.search(rf"^  {re.escape(name)} ", DOC, re.M)]
    missing += [m.rsplit(".", 1)[1] + ".py" for m in SUBCOMMANDS.values() if m.rsplit(".", 1)[1] + ".py" not in DOC]
    assert not missing, f"not in docs/architecture.md's module map: {missing}"


def _figures() -> list[tuple[str, str, list[float]]]:
    """(what, a pattern in the doc with one group per figure, the figures the code has)."""
    from mailtui.analysis import live
    from mailtui.dns import resolver
    from mailtui.fail2ban import client, protocol
    from mailtui.logs import sanitize, tail
    from mailtui.ui import app
    from mailtui.ui.panes import problems
    from mailtui.ui.widgets import log_lines

    mib = 1 << 20
    return [
        ("FileFollower's read per poll", r"at most (\d+) MiB per poll", [tail.POLL_BYTES / mib]),
        ("the tail's backlog read", r"read (\d+) MiB at a time", [tail.POLL_BYTES / mib]),
        ("the back-fill's reach", r"back-fill looks back (\d+) MiB at most", [tail.BACKFILL_BYTES / mib]),
        ("the line cap", r"a line is cut at (\d+) KiB", [sanitize.MAX_LINE_BYTES / 1024]),
        (
            "fail2ban reply caps",
            r"every reply capped \((\d+) MiB read, (\d+) MiB strings, (\d+) MiB text, ([\d.]+)M values, (\d+) deep",
            [
                protocol.MAX_REPLY / mib,
                protocol.MAX_TEXT / mib,
                protocol.MAX_TOTAL_TEXT / mib,
                protocol.MAX_VALUES / 1e6,
                protocol.MAX_DEPTH,
            ],
        ),
        (
            "fail2ban deadlines",
            r"a total deadline per call \((\d+) s\) and per conversation \((\d+) s\)",
            [client.TIMEOUT, client.CONVERSATION],
        ),
        ("LiveLogs' debounce", r"\((\d+) ms debounce\) and at least once a second", [live.DEBOUNCE_MS]),
        ("LiveLogs' fallback wake-up", r"(once) a second", [live.FALLBACK_MS / 1000]),
        ("aliases chased", r"CNAME/DNAME chasing \((\d+) aliases at most", [resolver.MAX_CNAME_HOPS]),
        ("the log batch slice", r"slices of ([\d,]+) entries", [app.BATCH_SLICE]),
        ("batches in flight", r"at most (two) slices are in flight", [app.MAX_BATCHES_IN_FLIGHT]),
        ("the log view's redraw", r"the view redraws at most every (\d+) ms", [log_lines.REDRAW_EVERY * 1000]),
        ("the Problems pane's redraw", r"redrawn <= (\d+)/s", [1 / problems.REDRAW_SECONDS]),
    ]


WORDS = {"once": 1, "two": 2}


@pytest.mark.parametrize("what, pattern, expected", _figures(), ids=lambda x: x if isinstance(x, str) else "")
def test_figures_quoted_in_the_architecture_are_the_code_s(what: str, pattern: str, expected: list[float]) -> None:
    found = re.search(pattern, FLAT)
    assert found, f"docs/architecture.md no longer says {pattern!r} ({what}): update this test with the doc"
    quoted = [float(WORDS.get(g) or g.replace(",", "")) for g in found.groups()]
    assert quoted == pytest.approx(expected), f"{what}: the doc says {found.group(0)!r}, the code has {expected}"


def test_help_loads_no_heavy_import_the_cli_entry_promises_to_keep_inside_run() -> None:
    """The cli/__init__.py entry: every subcommand module is imported to build the parser, and each
    keeps the engine, dnspython, psutil, httpx and Textual inside run()."""
    import subprocess

    code = (
        "import sys, contextlib, io\n"
        "from mailtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = ('textual', 'rich', 'dns', 'psutil', 'httpx', 'mailtui.recognizers.engine', 'mailtui.ui')\n"
        "print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"`mailtui --help` loaded {proc.stdout.strip()}"
