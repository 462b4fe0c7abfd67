"""Task files users already have (EvalScope, VLMEvalKit's --config, ours) -> a vlmeval-steps config, and
`vlmeval-steps run`'s options -> the generated config, targets and Snakemake command."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from vlmeval_steps import evalscope, runner
from vlmeval_steps.errors import InputError

REPO = Path(__file__).resolve().parent.parent
BASE = {"judge": {"model": "exact_matching"}, "custom_datasets": {"DemoShapes": {"url": "demo/DemoShapes.tsv"}}}
NAMED = {"TinyLLaVA-Demo": {"class": "TransformersVLM", "model_path": "resources/models/tiny-llava-demo",
                            "build": "demo_model", "device": "cpu", "max_new_tokens": 8}}
SECRET = "sk-test-never-in-a-file-8d1f"

# the API example of the seed (EvalScope's VLMEvalKit backend docs), with a recognisable key
SEED_API = {
    "work_dir": "outputs",
    "eval_backend": "VLMEvalKit",
    "eval_config": {
        "model": [{"type": "qwen-vl-chat", "name": "CustomAPIModel",
                   "api_base": "http://localhost:8000/v1/chat/completions", "key": SECRET, "temperature": 0.0,
                   "img_size": -1}],
        "data": ["SEEDBench_IMG", "ChartQA_TEST"],
        "mode": "all", "limit": 20, "reuse": False, "nproc": 16,
    },
}
# the local-model example of the seed
SEED_LOCAL = {
    "work_dir": "outputs", "eval_backend": "VLMEvalKit",
    "eval_config": {"model": [{"name": "qwen_chat", "model_path": "models/Qwen-VL-Chat"}],
                    "data": ["SEEDBench_IMG", "ChartQA_TEST"], "mode": "all", "limit": 20, "reuse": False,
                    "work_dir": "outputs", "nproc": 16},
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # sanitise_spec puts keys into os.environ; keep each test's to itself
    for var in list(os.environ):
        if var.startswith("VLMEVAL_STEPS_KEY_") or var in evalscope.JUDGE_ENV:
            monkeypatch.delenv(var)
    yield
    for var in list(os.environ):
        if var.startswith("VLMEVAL_STEPS_KEY_"):
            del os.environ[var]


def translate(doc, where=Path(".")):
    return evalscope.from_evalscope(doc, BASE, NAMED, Path(where), "task.yaml")


def test_the_seed_api_task_becomes_an_openai_model_without_its_key():
    task = translate(SEED_API)
    cfg = task.config
    assert cfg["models"] == ["qwen-vl-chat"]
    assert cfg["datasets"] == ["SEEDBench_IMG", "ChartQA_TEST"]
    assert cfg["limit"] == 20 and task.mode == "all" and task.work_dir == "outputs"
    spec = cfg["custom_models"]["qwen-vl-chat"]
    assert spec == {"class": "OpenAIAPI", "model": "qwen-vl-chat",
                    "api_base": "http://localhost:8000/v1/chat/completions",
                    "temperature": 0.0, "img_size": -1, "key_env": "VLMEVAL_STEPS_KEY_QWEN_VL_CHAT", "nproc": 16}
    assert task.env == {"VLMEVAL_STEPS_KEY_QWEN_VL_CHAT": SECRET}
    assert SECRET not in yaml.safe_dump(cfg)
    assert cfg["judge"] == {"model": "exact_matching", "nproc": 16}
    assert cfg["custom_datasets"] == BASE["custom_datasets"]  # the base config is kept, not changed in place
    assert "custom_models" not in BASE


def test_the_seed_local_task_becomes_a_transformers_model(tmp_path):
    (tmp_path / "models" / "Qwen-VL-Chat").mkdir(parents=True)
    task = translate(SEED_LOCAL, tmp_path)
    assert task.config["models"] == ["qwen_chat"]
    assert task.config["custom_models"]["qwen_chat"] == {
        "class": "TransformersVLM", "model_path": str(tmp_path / "models" / "Qwen-VL-Chat"), "nproc": 16}
    # a path that exists nowhere is kept as written (a hub id, or relative to the work dir)
    task = translate(SEED_LOCAL, tmp_path / "other" / "place")
    assert task.config["custom_models"]["qwen_chat"]["model_path"] == "models/Qwen-VL-Chat"


def test_named_models_plain_and_with_settings_changed(tmp_path):
    doc = {"eval_config": {"model": ["TinyLLaVA-Demo", {"name": "TinyLLaVA-Demo", "max_new_tokens": 4}],
                           "data": "DemoShapes"}}
    task = translate(doc)
    assert task.config["models"] == ["TinyLLaVA-Demo"]
    assert task.config["custom_models"]["TinyLLaVA-Demo"]["max_new_tokens"] == 4
    assert task.config["custom_models"]["TinyLLaVA-Demo"]["build"] == "demo_model"
    assert task.config["limit"] is None and task.mode == "all"
    # a named model pointed at another checkpoint keeps its settings but is no longer built by the demo rule
    (tmp_path / "ckpt").mkdir()
    doc = {"eval_config": {"model": [{"name": "TinyLLaVA-Demo", "model_path": "ckpt"}], "data": ["DemoShapes"]}}
    spec = translate(doc, tmp_path).config["custom_models"]["TinyLLaVA-Demo"]
    assert spec["model_path"] == str(tmp_path / "ckpt") and "build" not in spec and spec["max_new_tokens"] == 8


def test_model_ids_become_file_names_and_clashes_are_refused():
    doc = {"eval_config": {"data": ["DemoShapes"], "model": [
        {"name": "CustomAPIModel", "type": "Qwen/Qwen2-VL-7B-Instruct", "api_base": "http://a:8000/v1"}]}}
    assert translate(doc).config["models"] == ["Qwen_Qwen2-VL-7B-Instruct"]
    doc["eval_config"]["model"].append({"name": "CustomAPIModel", "type": "Qwen/Qwen2-VL-7B-Instruct",
                                        "api_base": "http://b:8000/v1"})
    with pytest.raises(InputError, match="both named"):
        translate(doc)


def test_judge_variables_go_to_the_environment():
    doc = json.loads(json.dumps(SEED_API))
    doc.update(OPENAI_API_KEY=SECRET, OPENAI_API_BASE="http://127.0.0.1:8866/v1/chat/completions",
               LOCAL_LLM="qwen2-7b-instruct")
    task = translate(doc)
    assert task.env["OPENAI_API_KEY"] == SECRET and task.env["LOCAL_LLM"] == "qwen2-7b-instruct"
    # the judge itself is picked per dataset when the run starts, as run.py picks it (tests/test_judge_choice.py)
    assert task.config["judge"]["model"] == BASE["judge"]["model"]
    assert SECRET not in yaml.safe_dump(task.config)
    assert any("qwen2-7b-instruct" in n for n in task.notes)


def test_options_that_change_nothing_here_are_noted():
    doc = json.loads(json.dumps(SEED_API))
    doc["eval_config"].update(reuse=True)
    notes = " ".join(translate(doc).notes)
    assert "reuse is ignored" in notes


def test_video_settings_reach_the_config_and_fps_wins_with_a_note():
    doc = json.loads(json.dumps(SEED_API))
    doc["eval_config"].update(nframe=16, fps=0.5, use_subtitle=True, video_llm=False)
    task = translate(doc)
    assert {k: task.config[k] for k in ("nframe", "fps", "use_subtitle", "video_llm")} == dict(
        nframe=16, fps=0.5, use_subtitle=True, video_llm=False)
    assert any("fps takes precedence" in n for n in task.notes)


@pytest.mark.parametrize("change, message", [
    ({"eval_backend": "OpenCompass"}, "eval_backend 'OpenCompass' is not supported"),
    ({"datasets": ["x"]}, "unknown top-level keys \\['datasets'\\]"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"]}}, "eval_config needs `data`"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"], "mode": "score"}},
     "mode must be one of all, infer, eval, not 'score'"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"], "limit": -3}}, "limit must be"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"], "data": []}}, "non-empty list"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"], "nproc": 0}}, "nproc"),
    ({"eval_config": {"model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"], "batch": 2}}, "unknown keys \\['batch'\\]"),
    ({"eval_config": {"model": [{"name": "CustomAPIModel", "api_base": "http://x/v1"}], "data": ["DemoShapes"]}},
     "needs `type`"),
    ({"eval_config": {"model": [{"name": "NotNamed", "temperature": 1}], "data": ["DemoShapes"]}},
     "not a named model"),
])
def test_bad_task_files_say_what_is_wrong(change, message):
    doc = {"eval_backend": "VLMEvalKit", "eval_config": {"model": ["TinyLLaVA-Demo"], "data": ["DemoShapes"]}}
    doc.update(change)
    with pytest.raises(InputError, match=message):
        translate(doc)


def test_vlmevalkit_run_py_config(tmp_path):
    doc = {"model": {"GPT4o_low": {"class": "GPT4V", "model": "gpt-4o-2024-08-06", "temperature": 0,
                                   "img_detail": "low", "key": SECRET},
                     "TinyLLaVA-Demo": {}},
           "data": {"MMBench_DEV_EN": {"class": "ImageMCQDataset", "dataset": "MMBench_DEV_EN"}, "DemoShapes": {}}}
    assert evalscope.detect(doc) == "vlmevalkit"
    task = evalscope.from_vlmevalkit(doc, BASE, NAMED, tmp_path)
    assert task.config["models"] == ["GPT4o_low", "TinyLLaVA-Demo"]
    assert task.config["datasets"] == ["MMBench_DEV_EN", "DemoShapes"]
    assert task.config["custom_models"]["GPT4o_low"]["key_env"] == "VLMEVAL_STEPS_KEY_GPT4O_LOW"
    assert SECRET not in yaml.safe_dump(task.config)


def test_our_own_config_gets_absolute_paths(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "Mine.tsv").write_text("index\n")
    (tmp_path / "ckpt").mkdir()
    doc = {"models": ["M"], "datasets": ["Mine"],
           "custom_datasets": {"Mine": {"url": "data/Mine.tsv"}, "Web": {"url": "https://x.org/Web.tsv"}},
           "custom_models": {"M": {"class": "TransformersVLM", "model_path": "ckpt", "api_key": SECRET},
                             "Built": {"class": "TransformersVLM", "model_path": "resources/m", "build": "demo_model"}}}
    assert evalscope.detect(doc) == "native"
    cfg = evalscope.from_native(doc, tmp_path / "config").config  # a project's config/config.yaml
    assert cfg["custom_datasets"]["Mine"]["url"] == str(tmp_path / "data" / "Mine.tsv")
    assert cfg["custom_datasets"]["Web"]["url"] == "https://x.org/Web.tsv"
    assert cfg["custom_models"]["M"]["model_path"] == str(tmp_path / "ckpt")
    assert cfg["custom_models"]["Built"]["model_path"] == "resources/m"  # made in the work dir by its rule
    assert SECRET not in yaml.safe_dump(cfg)


# ---- vlmeval-steps run: options -> config, targets, command ----------------------------------------------


def build(argv, tmp_path):
    args = runner.parser().parse_args(argv + ["--work-dir", str(tmp_path / "wd")])
    return args, runner.build_task(args, REPO)


def test_run_options_become_a_config_and_targets(tmp_path):
    args, task = build(["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--limit", "5", "--nproc", "3",
                        "--judge", "exact_matching", "--retry", "2"], tmp_path)
    cfg = task.config
    assert cfg["models"] == ["TinyLLaVA-Demo"] and cfg["datasets"] == ["DemoShapes"] and cfg["limit"] == 5
    assert cfg["custom_models"]["TinyLLaVA-Demo"]["nproc"] == 3
    assert cfg["custom_models"]["TinyLLaVA-Demo"]["retry"] == 2
    assert cfg["judge"] == {"model": "exact_matching", "nproc": 3, "retry": 2}
    assert runner.targets(cfg, "all") == ["results/TinyLLaVA-Demo/DemoShapes_limit5_acc.csv",
                                          "results/summary.csv", "results/report.html"]
    assert runner.targets(cfg, "infer") == ["results/TinyLLaVA-Demo/DemoShapes_limit5.xlsx"]
    # the demo TSV resolves against the workflow, wherever the run happens
    assert cfg["custom_datasets"]["DemoShapes"]["url"] == str(REPO / "demo" / "DemoShapes.tsv")


def test_run_writes_a_config_without_keys_and_a_snakemake_command(tmp_path):
    task_file = tmp_path / "task.yaml"
    task_file.write_text(yaml.safe_dump(SEED_API))
    args = runner.parser().parse_args(["--config", str(task_file), "--data", "DemoShapes", "--mode", "infer",
                                       "--profile", "slurm", "--verbose"])
    task = runner.build_task(args, REPO)
    assert task.work_dir == "outputs" and task.mode == "infer"
    path = runner.write_config(task.config, tmp_path / "wd", str(task_file))
    text = path.read_text()
    assert SECRET not in text and "key_env: VLMEVAL_STEPS_KEY_QWEN_VL_CHAT" in text
    cmd = runner.snakemake_command(REPO, tmp_path / "wd", path, ["results/a.xlsx"], args, ["--forceall"])
    assert cmd[1:5] == ["-m", "snakemake", "-s", str(REPO / "Snakefile")]
    assert "--replace-workflow-config" in cmd and "--printshellcmds" in cmd
    found = [str(p) for p in (REPO / "workflow/profiles/slurm", REPO / "profiles/slurm") if p.is_dir()]
    assert cmd[cmd.index("--profile") + 1] == (found[0] if found else "slurm")  # a name under the workflow's profiles
    assert "--cores" not in cmd  # a profile decides the jobs
    # the targets come before any flag that takes several values (ours and the user's after `--`)
    assert cmd.index("results/a.xlsx") < cmd.index("--configfile") and cmd[-1] == "--forceall"


@pytest.mark.parametrize("argv, message", [
    (["--model", "TinyLLaVA-Demo"], "give --data"),
    (["--data", "DemoShapes"], "give --model"),
    (["--data", "DemoShapes", "--model", "NoSuchModel"], "unknown model 'NoSuchModel'"),
    (["--data", "NoSuchData", "--model", "TinyLLaVA-Demo"], "unknown dataset 'NoSuchData'"),
    (["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--limit", "0"], "--limit must be >= 1"),
    (["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--judge-args", "[1]"], "JSON object"),
])
def test_bad_run_options_fail_before_snakemake(argv, message, tmp_path):
    with pytest.raises(InputError, match=message):
        build(argv, tmp_path)


def test_a_key_left_anywhere_in_the_config_is_refused():
    cfg = {"judge": {"model": "gpt-4o-mini", "datasets": {"MMVet": {"model": "gpt-4-turbo", "key": SECRET}}}}
    runner._scrub(cfg)  # moved to the environment
    assert SECRET not in yaml.safe_dump(cfg)
    with pytest.raises(InputError, match="may not be written"):
        runner._scrub({"custom_datasets": {"X": {"url": "u", "api_key": SECRET}}})


def test_run_video_flags_name_the_targets_and_fps_wins_with_a_note(tmp_path):
    _, task = build(["--data", "DemoVideo", "--model", "TinyLLaVA-Demo", "--nframe", "16", "--use-subtitle",
                     "--judge", "exact_matching"], tmp_path)
    assert task.config["nframe"] == 16 and task.config["use_subtitle"] is True
    # DemoVideo has no subtitles: no _subs in its name
    assert runner.targets(task.config, "infer") == ["results/TinyLLaVA-Demo/DemoVideo_16frame.xlsx"]
    _, task = build(["--data", "DemoVideo", "--model", "TinyLLaVA-Demo", "--fps", "0.5", "--judge", "exact_matching"],
                    tmp_path)
    assert runner.targets(task.config, "infer") == ["results/TinyLLaVA-Demo/DemoVideo_0.5fps.xlsx"]
    assert any("fps takes precedence" in n for n in task.notes)
