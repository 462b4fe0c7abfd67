#!/usr/bin/env bash
# Quick start, command 2: install vlmeval-steps with its test extras and run the test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install --quiet "torch==2.13.0"
"$PY" -m pip install --quiet -e ".[test]"
"$PY" -m pytest -ra "$@"
