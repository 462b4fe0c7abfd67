#!/usr/bin/env bash
# Quick start, command 2: install vlmeval-steps with its test extras and run the test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install --quiet "torch==2.13.0"
"$PY" -m pip install --quiet -e ".[test]"
# The SLURM profile is tested on a real single-node cluster. As root with apt-get (CI), start one
# (about 15 s the first time, 3 s after; `bash scripts/setup_slurm.sh stop` stops it) and make its
# test mandatory; anywhere else that test skips itself. VLMEVAL_STEPS_SLURM=0 skips the set-up.
if [ "${VLMEVAL_STEPS_SLURM:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  bash scripts/setup_slurm.sh
  export VLMEVAL_STEPS_REQUIRE_SLURM=1
fi
# The HTML report is checked in a real headless browser. As root with apt-get (CI), install Debian's
# chromium once (skipped when present) and make that test mandatory; elsewhere it skips itself.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! command -v chromium >/dev/null; then
    echo "installing chromium for the report's browser test (once)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core; } >/tmp/vlmeval-steps-chromium-install.log 2>&1 \
      || { echo "chromium install failed; see /tmp/vlmeval-steps-chromium-install.log" >&2; exit 1; }
  fi
  export VLMEVAL_STEPS_REQUIRE_CHROMIUM=1
fi
"$PY" -m pytest -ra "$@"
