#!/usr/bin/env bash
# Install mailtui with its test extras (and the fast scan engine's Polars) into .venv and run the
# whole test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -k config).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,fast]'
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
