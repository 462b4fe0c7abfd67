"""A message that says "see <log>" points at a log that holds the error (issue 25): the leaderboard written
after a failed run, and any stage whose error is not one it foresaw (logged with its traceback)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from vlmeval_steps.leaderboard import write_after_failure

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_an_unforeseen_error_of_a_stage_is_in_its_log(tmp_path):
    script = textwrap.dedent("""
        import click
        from vlmeval_steps.cli import stage

        @click.command()
        @stage
        def some_stage():
            {}["missing key"]

        some_stage()
    """)
    log = tmp_path / "logs" / "some.log"
    proc = subprocess.run([sys.executable, "-c", script, "--log", str(log)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 1
    text = log.read_text()
    assert "vlmeval-steps some-stage failed: KeyError: 'missing key'" in text and "Traceback" in text
    assert "in some_stage" in text  # where it happened


def _work_dir(tmp_path):
    scored = tmp_path / "results" / "TinyLLaVA-Demo"
    scored.mkdir(parents=True)
    (scored / "DemoShapes_acc.csv").write_text("")  # emptied (a full disk, an editor): not a table
    (scored / "DemoShapes_provenance.json").write_text('{"dataset": "DemoShapes", "dataset_type": "MCQ"}')
    return {"models": ["TinyLLaVA-Demo"], "datasets": ["DemoShapes"]}


def test_the_leaderboard_after_a_failure_points_at_the_log_that_holds_its_error(tmp_path, capsys):
    config = _work_dir(tmp_path)
    assert write_after_failure(config, cwd=tmp_path) is False
    message = capsys.readouterr().err
    log = tmp_path / "logs" / "summary.log"
    assert f"the whole error is at the end of {log}" in message
    assert "DemoShapes_acc.csv: not a score table" in message  # its last line, on the terminal too
    text = log.read_text()
    assert "DemoShapes_acc.csv: not a score table" in text and "Delete it and run again" in text


def test_a_command_that_fails_before_logging_leaves_its_output_in_the_log(tmp_path, capsys, monkeypatch):
    config = _work_dir(tmp_path)
    fake = tmp_path / "python"  # an interpreter that does not start
    fake.write_text("#!/bin/sh\necho 'error while loading shared libraries: libpython3.11.so' >&2\nexit 127\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    assert write_after_failure(config, cwd=tmp_path) is False
    log = tmp_path / "logs" / "summary.log"
    assert f"the end of {log}" in capsys.readouterr().err
    assert "error while loading shared libraries" in log.read_text()
