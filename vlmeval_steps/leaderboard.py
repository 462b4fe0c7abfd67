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
from pathlib import Path

from .config import configured_pairs


def statistics_args(config: dict) -> str:
    """--resamples/--level/--seed of the summary and report, from the config's `statistics`."""
    st = config.get("statistics") or {}
    return (f"--resamples {int(st.get('resamples', 1000))} --level {float(st.get('level', 0.95))}"
            f" --seed {int(st.get('seed', 0))}")


def write_after_failure(config: dict, cwd=None) -> bool:
    """Write the summary and report of what exists in the work dir `cwd`; False (and a line on
    stderr naming the log that holds the error) when that fails too."""
    pairs = shlex.quote(json.dumps(configured_pairs(config)))
    vs = f"{shlex.quote(sys.executable)} -m vlmeval_steps"
    for stage in ("summary", "report"):
        log_file = Path(cwd or ".") / "logs" / f"{stage}.log"
        cmd = f"{vs} {stage} --expected {pairs} {statistics_args(config)} --log logs/{stage}.log"
        before = log_file.stat().st_size if log_file.exists() else 0
        try:
            proc = subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, errors="replace")
            failed, error = proc.returncode != 0, proc.stderr
        except OSError as exc:
            failed, error = True, f"cannot run {cmd}: {exc}\n"
        if failed:
            _keep_in_log(log_file, before, stage, error)
            last = next((ln.strip() for ln in reversed(error.splitlines()) if ln.strip()), "no message")
            print(f"(the leaderboard could not be written after the failure either: {last}; the whole error is at "
                  f"the end of {log_file})", file=sys.stderr)
            return False
    print("Some jobs failed. results/summary.md and results/report.html show every pair that was scored and list "
          "the configured pairs that were not (their logs are under logs/).", file=sys.stderr)
    return True


def _keep_in_log(log_file: Path, size_before: int, stage: str, error: str) -> None:
    """The command logs its own errors (cli.stage); one that failed before its log was open (a bad
    argument, an interpreter that would not start) left nothing there: write what it printed."""
    if log_file.exists() and log_file.stat().st_size > size_before:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as fh:
        fh.write(f"vlmeval-steps {stage} (after a failed run) failed before it could log; what it printed:\n{error}")
