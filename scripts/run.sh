#!/usr/bin/env bash
# Install mailtui into .venv (first run only) and start it; arguments go to mailtui.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/mailtui ] || { "$PY" -m venv .venv && .venv/bin/python -m pip install -q --disable-pip-version-check -e .; }
exec .venv/bin/mailtui "$@"
