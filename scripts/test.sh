#!/usr/bin/env bash
# Quick start, command 2: install vlmeval-steps with its test extras and run the test suite.
# It installs into ./.venv (or the active venv, or $PYTHON) the locked versions: see scripts/python-env.sh.
# VLMEVAL_STEPS_DEPS=newest runs it on the newest versions pyproject.toml allows instead (in ./.venv-newest).
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not slow"`).
#
# As root on a machine with apt-get (CI), it also changes the system, and says so before doing it:
#   - a single-node SLURM cluster (Debian's slurmctld, slurmd, slurm-client, munge; scripts/setup_slurm.sh)
#     for the SLURM profile's test; the daemons it starts are stopped when the tests end
#     (VLMEVAL_STEPS_SLURM=0 skips this, and that test then skips itself);
#   - Debian's chromium (and fonts-dejavu-core) for the report's browser test, installed once
#     (VLMEVAL_STEPS_CHROMIUM=0 skips this, and that test then skips itself).
# Anywhere else it installs Python packages only.
set -euo pipefail
cd "$(dirname "$0")/.."
SLURM_STATE=${SLURM_BASE:-/tmp/vlmeval-slurm}/state
say() { echo "scripts/test.sh: $*"; }

as_root_with_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
want_slurm() { as_root_with_apt && [ "${VLMEVAL_STEPS_SLURM:-1}" != 0 ]; }
want_chromium() { as_root_with_apt && [ "${VLMEVAL_STEPS_CHROMIUM:-1}" != 0 ]; }
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

source scripts/python-env.sh
if want_slurm; then
  missing=""
  for p in slurmctld slurmd slurm-client munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  say "as root: ${missing:+installing Debian packages$missing (apt-get), then }starting a single-node SLURM cluster" \
      "(munged, slurmctld, slurmd) for the SLURM test; the daemons this starts are stopped when the tests end." \
      "VLMEVAL_STEPS_SLURM=0 skips this."
fi
if want_chromium && ! command -v chromium >/dev/null; then
  say "as root: installing Debian's chromium and fonts-dejavu-core (apt-get, once) for the report's browser test." \
      "VLMEVAL_STEPS_CHROMIUM=0 skips this."
fi

install_project ".[test]"

if want_slurm; then
  # stop afterwards only what this run started: a cluster that was already up stays up
  started=""
  running /run/munge/munged.pid || started="$started munged"
  running "$SLURM_STATE/slurmctld.pid" || started="$started slurmctld"
  running "$SLURM_STATE/slurmd.pid" || started="$started slurmd"
  if [ -n "$started" ]; then
    trap 'say "stopping what it started:$started"; bash scripts/setup_slurm.sh stop >/dev/null || true' EXIT
  fi
  bash scripts/setup_slurm.sh
  export VLMEVAL_STEPS_REQUIRE_SLURM=1
fi
if want_chromium; then
  if ! command -v chromium >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core; } >/tmp/vlmeval-steps-chromium-install.log 2>&1 \
      || { echo "chromium install failed; see /tmp/vlmeval-steps-chromium-install.log" >&2; exit 1; }
  fi
  export VLMEVAL_STEPS_REQUIRE_CHROMIUM=1
fi
"$PY" -m pytest -ra "$@"
