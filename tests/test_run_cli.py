"""What a new user of `vlmeval-steps run` trips on (issue 25): the judge and its file names wherever the command
is started, dry runs that say what the real run would refuse, misspelt dataset names, and run.py's --mode eval
and --reuse-aux. In-process, without Snakemake, except where a plan is the point."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from vlmeval_steps import runner
from vlmeval_steps.config import judge_name, load_plan

REPO = Path(__file__).resolve().parent.parent
NO_JUDGE_ENV = ("OPENAI_API_KEY", "OPENAI_API_BASE", "LOCAL_LLM")


@pytest.fixture
def no_judge(monkeypatch):
    for var in NO_JUDGE_ENV:
        monkeypatch.delenv(var, raising=False)


def run_task(argv, repo=REPO):
    args = runner.parser().parse_args(argv)
    task = runner.build_task(args, repo)
    return task, runner.announce_judges(task, repo)


@pytest.mark.parametrize("where", ["checkout", "elsewhere", "own config with a judge"])
def test_run_picks_and_names_the_judge_the_same_from_any_folder(where, tmp_path, monkeypatch, no_judge):
    """In the checkout `run` finds config/config.yaml (judge: exact_matching), elsewhere it does not; in a folder
    of one's own it finds that folder's. The judge is run.py's choice every time: without a key or server, rules
    only, with the files named after upstream's default judge (gpt-4o-mini for an MCQ benchmark)."""
    if where == "checkout":
        monkeypatch.chdir(REPO)
        assert (REPO / "config" / "config.yaml").is_file()
    else:
        monkeypatch.chdir(tmp_path)
    if where == "own config with a judge":
        shutil.copytree(REPO / "config", tmp_path / "config")
        shutil.copy(REPO / "demo" / "DemoShapes.tsv", tmp_path / "DemoShapes.tsv")
        cfg = yaml.safe_load((tmp_path / "config" / "config.yaml").read_text())
        cfg["judge"] = {"model": "gpt-4o", "api_base": "http://127.0.0.1:9/v1"}
        cfg["custom_datasets"]["DemoShapes"]["url"] = "DemoShapes.tsv"
        (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    task, lines = run_task(["--data", "DemoShapes", "--model", "TinyLLaVA-Demo"])
    assert len(lines) == 1 and lines[0].startswith(
        "judge for DemoShapes: rules only, files named _gpt-4o-mini_ as upstream names them; upstream's default "
        "gpt-4o-mini is not reachable (neither OPENAI_API_KEY nor OPENAI_API_BASE is set).")
    judge = load_plan(task.config, REPO).judge("DemoShapes")
    assert judge["model"] == "exact_matching" and judge_name(judge) == "gpt-4o-mini"
    ignored = [n for n in task.notes if "is for a plain `snakemake`" in n]
    assert len(ignored) == (where == "own config with a judge")  # said only where someone set a judge


def test_a_judge_given_on_the_command_line_or_in_a_config_file_is_used(tmp_path, monkeypatch, no_judge):
    monkeypatch.chdir(REPO)
    task, lines = run_task(["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--judge", "exact_matching"])
    assert lines == ["judge for DemoShapes: rules only (exact matching) (--judge)."]
    assert judge_name(load_plan(task.config, REPO).judge("DemoShapes")) == "exact_matching"

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["custom_datasets"]["DemoShapes"]["url"] = str(REPO / "demo" / "DemoShapes.tsv")
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(cfg))   # judge: exact_matching, given with --config
    _, lines = run_task(["--config", str(tmp_path / "mine.yaml"), "--work-dir", str(tmp_path / "wd")])
    assert lines == [f"judge for DemoShapes: rules only (exact matching) (judge.model in {tmp_path / 'mine.yaml'})."]
