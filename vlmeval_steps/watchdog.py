"""Kill Snakemake's process group when `vlmeval-steps run` dies (issue 28).

The runner starts Snakemake in a session of its own, so that a Ctrl-C reaches Snakemake and its
local jobs once, through the runner. A runner killed outright (SIGKILL of it or of its group, a
crash) would leave that group running on its own, writing results nobody waits for. This process,
in a session of its own too, reads a pipe whose write end only the runner holds; the kernel closes
it however the runner ends. The runner writes Snakemake's group id, then "done" once the group has
ended; an end of file before "done" means the runner is gone, and the group is killed.

Run as a script (`python -I -S watchdog.py LABEL`): no site packages and nothing of this package
imported, so it starts in milliseconds. LABEL (the work dir) only names the run in `ps`.
"""
import os
import signal
import sys


def main() -> int:
    pgid = None
    for line in sys.stdin:
        word = line.strip()
        if word == "done":
            return 0
        if word.isdigit():
            pgid = int(word)
    if pgid:
        try:  # SIGKILL: a run killed at any moment resumes from its answer cache (docs/user-guide.md, "Interrupting and resuming a run")
            os.killpg(pgid, signal.SIGKILL)
        except OSError:  # already gone
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
