#!/usr/bin/env bash
# Refresh requirements/lock.txt, the tested dependency set that scripts/demo.sh, scripts/test.sh and CI install.
# Do it on purpose, after the suite passed on the newest allowed packages:
#   VLMEVAL_STEPS_DEPS=newest bash scripts/test.sh && bash scripts/lock.sh && bash scripts/test.sh
# It resolves pyproject.toml's dependencies with every extra (test, serve, slurm) to the newest versions its ranges
# allow, for this machine's Python, with pip-tools (pip's own resolver, so pip's configuration applies). torch is
# left out of the lock (scripts install torch==2.13.0, the CPU build, first); the packages torch needs are in it.
#
# `bash scripts/lock.sh --keep` only adds what pyproject.toml newly asks for (a new dependency) and keeps every
# existing pin: no refresh.
set -euo pipefail
upgrade=--upgrade; [ "${1:-}" = --keep ] && upgrade=
cd "$(dirname "$0")/.."
tools=${PIP_TOOLS_VENV:-/tmp/vlmeval-steps-pip-tools}
[ -x "$tools/bin/pip-compile" ] || { python3 -m venv "$tools" && "$tools/bin/pip" install --quiet "pip-tools>=7.5"; }
"$tools/bin/pip-compile" --quiet $upgrade --strip-extras --extra test --extra serve --extra slurm \
  --unsafe-package torch --no-emit-index-url --no-emit-find-links \
  --output-file requirements/lock.txt pyproject.toml requirements/torch.in
echo "requirements/lock.txt: $(grep -c '==' requirements/lock.txt) packages pinned (torch excluded)"
