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


def test_dry_run_makes_the_real_runs_checks_and_says_them_after_the_plan(tmp_path, no_judge):
    """`run -n` plans as before, then warns of what the real run refuses before its first job (Snakemake calls
    no onstart hook in a dry run): weights that are not there, an API key that is not set."""
    import os
    import subprocess
    import sys

    hf_cache = tmp_path / "hf"
    hf_cache.mkdir()  # nothing downloaded: the 7B checkpoint is missing
    env = {k: v for k, v in os.environ.items() if k not in NO_JUDGE_ENV}
    env.update(LMUData=str(tmp_path / "lmu"), HF_HUB_CACHE=str(hf_cache), HF_HUB_OFFLINE="1",
               VLMEVAL_STEPS_MODELS=str(tmp_path / "models"))
    argv = ["--data", "DemoShapes", "--model", "Qwen2-VL-7B-Instruct", "GPT4o", "--work-dir", str(tmp_path / "wd")]
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", *argv, "-n"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "Job stats:" in out and "This was a dry-run" in out  # the plan is still shown
    warnings = [ln for ln in out.splitlines() if ln.startswith("warning: the real run would stop")]
    assert len(warnings) == 2, out[-4000:]
    assert "model 'Qwen2-VL-7B-Instruct': model_path 'Qwen/Qwen2-VL-7B-Instruct'" in warnings[0]
    assert "not in the local Hugging Face cache" in warnings[0]
    assert "model 'GPT4o': no API key. Set the environment variable OPENAI_API_KEY" in warnings[1]
    assert out.rindex("warning: the real run") > out.index("This was a dry-run")  # after the plan: seen last

    # the real run refuses the same, before any job starts
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", *argv, "--cores", "1"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and warnings[0].split("first job: ", 1)[1] in proc.stdout + proc.stderr
    assert not (tmp_path / "wd" / "resources" / "data").exists()  # not even the download ran


def test_dry_run_checks_the_judge_too_and_not_in_infer_mode(tmp_path, monkeypatch, no_judge):
    monkeypatch.chdir(tmp_path)
    argv = ["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--judge", "gpt-4o-mini"]
    task, _ = run_task(argv)
    (message,) = runner.preflight_warnings(task, REPO, tmp_path)
    assert message.startswith("judge 'gpt-4o-mini") and "(for DemoShapes): no API key" in message
    task, _ = run_task(argv + ["--mode", "infer"])
    assert runner.preflight_warnings(task, REPO, tmp_path) == []  # the demo model is built by the workflow
    task, _ = run_task(["--data", "DemoShapes", "--model", "GPT4o", "--mode", "eval"])
    assert runner.preflight_warnings(task, REPO, tmp_path) == []  # eval runs no model: its key is not needed
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-used")
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")  # nothing listens: left to the jobs
    task, _ = run_task(argv)
    assert runner.preflight_warnings(task, REPO, tmp_path) == []


@pytest.mark.parametrize("typed, suggested", [
    ("MMstar", "'MMStar'? "),                # case alone: that name only
    ("mmstar", "'MMStar'? "),                # difflib alone would miss it (ratio 0.5)
    ("MMStr", "'MMStar' or "),               # the closest first
    ("DemoShape", "'DemoShapes'? "),         # a custom dataset too
])
def test_a_misspelt_dataset_gets_a_short_did_you_mean(typed, suggested, tmp_path, monkeypatch):
    from vlmeval_steps.errors import InputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        run_task(["--data", typed, "--model", "TinyLLaVA-Demo"])
    msg = str(err.value)
    assert msg.startswith(f"unknown dataset {typed!r}; did you mean {suggested}")
    assert "`vlmeval-steps list datasets`" in msg and "custom_datasets: DemoShapes" in msg
    assert len(msg) < 300 and "MMBench_DEV_EN" not in msg   # the ~90 registered names are left to `list`


def test_an_unknown_dataset_with_nothing_close_says_where_the_names_are(tmp_path, monkeypatch):
    from vlmeval_steps.errors import InputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^unknown dataset 'Zzyzx'\. `vlmeval-steps list datasets` shows the \d+ "
                                         r"registered ones \(and custom_datasets: DemoShapes\); or add your own TSV"):
        run_task(["--data", "Zzyzx", "--model", "TinyLLaVA-Demo"])


def test_a_model_differing_only_in_case_gets_that_one_name(tmp_path, monkeypatch):
    from vlmeval_steps.errors import InputError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^unknown model 'tinyllava-demo'; did you mean 'TinyLLaVA-Demo'\? "):
        run_task(["--data", "DemoShapes", "--model", "tinyllava-demo"])


def test_help_offers_what_run_accepts():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        runner.parser().parse_args(["--help"])
    text = " ".join(out.getvalue().split())
    assert "--mode {all,infer,eval}" in text and "--reuse-aux [{all,infer,none}]" in text
    readme = " ".join((REPO / "docs" / "user-guide.md").read_text().split())  # run.py's flags, side by side
    assert "| `--mode all` / `infer` / `eval` | `--mode all` / `infer` / `eval` |" in readme
    assert "| `--reuse-aux [all|infer|none]` |" in readme.replace("\\|", "|")


@pytest.mark.parametrize("flag, note", [
    (["--reuse-aux"], "--reuse-aux is implied"),            # v0.2's flag
    (["--reuse-aux", "all"], "--reuse-aux is implied"),     # run.py's default at e8e78f05
    (["--reuse-aux", "infer"], "--reuse-aux is implied"),
    (["--reuse-aux", "none"], "--reuse-aux none is not applied"),
])
def test_reuse_aux_is_accepted_with_a_note(flag, note, tmp_path, monkeypatch, no_judge):
    monkeypatch.chdir(tmp_path)
    task, _ = run_task(["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", *flag])
    assert [n for n in task.notes if n.startswith(note)] and "work/cache/" in " ".join(task.notes)


def test_an_evalscope_task_file_may_ask_for_eval(tmp_path):
    from vlmeval_steps import evalscope

    task = evalscope.from_evalscope({"eval_backend": "VLMEvalKit", "eval_config": {
        "model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"], "mode": "eval"}}, {}, {}, tmp_path)
    assert task.mode == "eval"


def predictions_of(dataset_tsv: Path, out: Path) -> None:
    """A prediction file as merge writes it (the TSV's columns but `image`, plus `prediction`): every fourth
    answer wrong, so the score is 0.75."""
    from vlmeval_steps.datasets.tsv import read_meta
    from vlmeval_steps.predictions import write_tsv

    meta = read_meta(dataset_tsv)
    meta["prediction"] = [a if i % 4 else "Z" for i, a in enumerate(meta["answer"])]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_tsv(meta, out)


def test_eval_mode_scores_the_predictions_there_are_and_infers_nothing(tmp_path, no_judge):
    """run.py's --mode eval: the predictions in the work dir are scored as they are; a pair without them is
    skipped, and no model runs (here none could: nothing is downloaded, the demo model is not built)."""
    import csv
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in NO_JUDGE_ENV}
    env.update(LMUData=str(tmp_path / "lmu"), VLMEVAL_STEPS_MODELS=str(tmp_path / "models"))
    wd = tmp_path / "wd"

    def run(*models, extra=()):
        proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", "--data", "DemoShapes", "--model",
                               *models, "--mode", "eval", "--work-dir", str(wd), "--cores", "1", *extra],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stdout + proc.stderr

    code, out = run("TinyLLaVA-Demo")
    assert code == 2 and "--mode eval: none of the run's pairs has predictions" in out and "--mode infer" in out

    predictions_of(REPO / "demo" / "DemoShapes.tsv", wd / "results/TinyLLaVA-Demo/DemoShapes.tsv")
    code, out = run("TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse")
    assert code == 0, out[-4000:]
    assert "note: --mode eval: TinyLLaVA-Demo-Terse / DemoShapes has no predictions" in out
    for rule in ("download", "build_prompts", "infer", "merge", "demo_model", "summary"):
        assert f"rule {rule}:" not in out, rule
    with open(wd / "results/TinyLLaVA-Demo/DemoShapes_acc.csv") as f:
        assert next(csv.DictReader(f))["Overall"] == "0.75"
    assert (wd / "results/TinyLLaVA-Demo/DemoShapes_gpt-4o-mini_result.xlsx").exists()  # run.py's names
    assert not (wd / "results/summary.csv").exists()   # a pair has no score: the leaderboard is left alone

    # one plan per model: only the models with predictions get one (a plan without targets would build `all`)
    code, out = run("TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse", extra=("--models-per-plan", "1", "-n"))
    assert code == 0 and "Nothing to be done" in out and "rule " not in out, out[-4000:]
    assert "1 model(s) x 1 dataset(s), mode eval" in out

    code, out = run("TinyLLaVA-Demo")   # every pair scored: the leaderboard too, and nothing scored twice
    assert code == 0 and "rule score:" not in out and (wd / "results/summary.csv").exists()


# ---- the docs a new user reads first say what the code does ----

README = (REPO / "README.md").read_text()
#: the README and the documentation it links to (docs/)
DOCS = README + "".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
CONFIG_README = (REPO / "config" / "README.md").read_text()


def test_the_data_root_default_is_the_home_folder_wherever_one_runs(tmp_path, monkeypatch):
    from vlmeval_steps.store import data_root

    monkeypatch.delenv("LMUData", raising=False)
    monkeypatch.chdir(tmp_path)
    assert data_root(None) == str(Path.home() / "LMUData")
    monkeypatch.setenv("LMUData", str(tmp_path / "mine"))
    assert data_root(None) == str(tmp_path / "mine") and data_root("/data/x") == "/data/x"
    assert "| data root (TSVs, LMUData-style) | `$LMUData`, else `~/LMUData` (as upstream) |" in DOCS
    assert "null: `$LMUData` if set, else `~/LMUData` in your home folder" in CONFIG_README
    assert "in the working directory" not in CONFIG_README.split("`data_root`", 1)[1].split("\n", 1)[0]


def test_the_quick_start_names_the_virtual_environment():
    quick = README.split("## Quick start", 1)[1].split("## User guide", 1)[0]
    assert "source .venv/bin/activate" in quick and "./.venv" in quick
    assert "./.venv is created once" in (REPO / "scripts" / "python-env.sh").read_text()  # what the script does


def test_the_evalscope_table_says_video_keys_work():
    from vlmeval_steps.datasets.registry import REGISTERED
    from vlmeval_steps.evalscope import VIDEO_KEYS
    from vlmeval_steps.video.benchmark import is_video

    row = next(ln for ln in DOCS.splitlines() if ln.startswith("| `nframe`, `fps`"))
    assert "not supported" not in row and "ignored" not in row
    assert all(f"`{k}`" in row for k in VIDEO_KEYS)
    assert all(name in row for name, info in REGISTERED.items() if is_video(info))


def test_run_py_judge_flags_fall_back_to_the_model_flags_as_upstream(tmp_path, monkeypatch):
    """--judge-api-nproc / --judge-retry / --judge-timeout set the judge's own; without them --api-nproc and --retry
    serve both (run.py's get_judge_kwargs)."""
    monkeypatch.chdir(tmp_path)
    base = ["--model", "TinyLLaVA-Demo", "--data", "DemoShapes", "--judge", "gpt-4o-mini"]
    task = runner.build_task(runner.parser().parse_args(base + ["--api-nproc", "7", "--retry", "2"]), REPO)
    assert (task.config["judge"]["nproc"], task.config["judge"]["retry"]) == (7, 2)
    task = runner.build_task(runner.parser().parse_args(
        base + ["--api-nproc", "7", "--retry", "2", "--judge-api-nproc", "3", "--judge-retry", "4",
                "--judge-timeout", "60", "--judge-base-url", "http://127.0.0.1:9/v1", "--judge-key-env", "MY_JUDGE_KEY"]),
        REPO)
    assert {k: task.config["judge"][k] for k in ("nproc", "retry", "timeout", "api_base", "key_env")} == dict(
        nproc=3, retry=4, timeout=60, api_base="http://127.0.0.1:9/v1", key_env="MY_JUDGE_KEY")


def test_sampling_flags_belong_to_a_base_url_model():
    with pytest.raises(runner.InputError, match="apply to a --base-url model"):
        runner.build_task(runner.parser().parse_args(["--model", "TinyLLaVA-Demo", "--data", "DemoShapes",
                                                      "--temperature", "0.7"]), REPO)
    with pytest.raises(runner.InputError, match="exactly one --model"):
        runner.build_task(runner.parser().parse_args(["--model", "a", "b", "--data", "DemoShapes",
                                                      "--base-url", "http://127.0.0.1:9/v1"]), REPO)
