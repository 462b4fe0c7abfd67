#!/usr/bin/env bash
# Quick start, command 1: install vlmeval-steps and run the offline demo end to end.
# It installs into ./.venv (or the active venv, or $PYTHON) the locked versions: see scripts/python-env.sh.
# Extra arguments go to snakemake (e.g. `bash scripts/demo.sh -n` for a dry run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
install_project .
"$PY" -m snakemake --cores "${CORES:-2}" "$@"
echo
echo "Demo score (results/TinyLLaVA-Demo/DemoShapes_acc.csv):"
cat results/TinyLLaVA-Demo/DemoShapes_acc.csv
echo
echo "Leaderboard with 95% intervals (results/summary.md):"
sed -n '3,6p' results/summary.md
echo
echo "Which demo model is better, and where they differ (vlmeval-steps compare):"
"$PY" -m vlmeval_steps compare --model TinyLLaVA-Demo --model TinyLLaVA-Demo-Terse --dataset DemoShapes --show 3
echo
echo "Leaderboard: results/summary.md; report with charts: open $(pwd)/results/report.html in a browser"
[ -n "${VIRTUAL_ENV:-}" ] && echo "The environment: source ${VIRTUAL_ENV#$(pwd)/}/bin/activate, then vlmeval-steps --help"
