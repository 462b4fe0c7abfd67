"""The leaderboard (results/summary.* and results/report.html) written outside a Snakemake job.

After a run with failed pairs (the Snakefile's `onerror`, and `vlmeval-steps run --models-per-plan`
after a plan that failed), the `summary` and `report` rules cannot run: their inputs are every
configured pair's result. These write both from what exists, listing the pairs that have no score.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys

from .config import configured_pairs


def statistics_args(config: dict) -> str:
    """--resamples/--level/--seed of the summary and report, from the config's `statistics`."""
    st = config.get("statistics") or {}
    return (f"--resamples {int(st.get('resamples', 1000))} --level {float(st.get('level', 0.95))}"
            f" --seed {int(st.get('seed', 0))}")


def write_after_failure(config: dict, cwd=None) -> bool:
    """Write the summary and report of what exists in the work dir `cwd`; False (and a line on
    stderr naming the log) when that fails too."""
    pairs = shlex.quote(json.dumps(configured_pairs(config)))
    vs = f"{shlex.quote(sys.executable)} -m vlmeval_steps"
    for cmd in (f"{vs} summary --expected {pairs} {statistics_args(config)} --log logs/summary.log",
                f"{vs} report --expected {pairs} {statistics_args(config)} --log logs/report.log"):
        try:
            subprocess.run(cmd, shell=True, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            print(f"(the leaderboard could not be written after the failure either; see {cmd.split('--log ')[-1]})",
                  file=sys.stderr)
            return False
    print("Some jobs failed. results/summary.md and results/report.html show every pair that was scored and list "
          "the configured pairs that were not (their logs are under logs/).", file=sys.stderr)
    return True
