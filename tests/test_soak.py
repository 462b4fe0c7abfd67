"""A long API run in short (issue 28): perf/bench_soak.py at 2,000 requests, 64 in flight, 5% of the
questions failing once or slow, SIGINT once half are cached, then the resume. Nothing is lost (every row
answered, its own answer), and no question is asked twice but those in flight at the interrupt. The
full-size figures (50,000 requests at 256 in flight, peak RSS at several N) are in docs/api.md."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_interrupt_and_resume_under_load_loses_nothing_and_repeats_only_what_was_in_flight(tmp_path):
    n, nproc = 2000, 64
    proc = subprocess.run([sys.executable, str(REPO / "perf" / "bench_soak.py"), "-n", str(n), "--nproc", str(nproc),
                           "--sizes", "--slow-seconds", "0.2", "--dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    run = json.loads(proc.stdout.strip().splitlines()[-1])["interrupt"]
    assert run["returncode_first"] == 130  # stopped by the SIGINT, not finished before it
    assert 0 < run["cached_at_interrupt"] < n
    assert run["asked_again_after_resume"] == n - run["cached_at_interrupt"]
    assert run["lost"] == 0 and run["cache_records"] == n  # and every prediction checked by the script
    assert run["in_flight_at_interrupt"] <= nproc
    assert run["asked_twice_beyond_in_flight"] == 0
    assert run["failed_first_attempts"] > 0 and run["slow_answers"] > 0  # the faults really happened
