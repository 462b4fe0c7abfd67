"""`vlmeval-steps run`: VLMEvalKit's run.py options (or an EvalScope task file) as Snakemake targets.

The options become a config file in the work dir (`.vlmeval-steps/config.yaml`, no secrets in
it) and a list of targets, and Snakemake runs them with this package's Snakefile, so a run is
incremental like any other: what is up to date is not computed again.
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .config import (SECRET_KEYS, configured_pairs, load_plan, load_yaml, pair_prediction_files, prediction_files,
                     sanitise_spec, withheld_pairs)
from .errors import InputError
from .evalscope import MODES, Task, from_native, load_task, safe_name, set_nproc

GENERATED = Path(".vlmeval-steps") / "config.yaml"
SUMMARY_TARGETS = ["results/summary.csv", "results/report.html"]
#: --mode eval: the rules that score existing predictions; every other rule's files are taken as they are
EVAL_RULES = ("judge", "judge_llm", "score", "score_group", "summary", "report")


def repo_dir() -> Path:
    """The folder holding the Snakefile: the checkout this package runs from ($VLMEVAL_STEPS_WORKFLOW
    overrides it, e.g. for a non-editable install)."""
    folder = Path(os.environ.get("VLMEVAL_STEPS_WORKFLOW") or Path(__file__).resolve().parent.parent)
    if not (folder / "Snakefile").is_file():
        raise InputError(f"no Snakefile in {folder}. Install vlmeval-steps from its checkout (`pip install -e .`) "
                         "or set VLMEVAL_STEPS_WORKFLOW to the folder holding its Snakefile.")
    return folder


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vlmeval-steps run",
        description="Evaluate models on benchmarks as VLMEvalKit's run.py does, through the Snakemake workflow "
                    "(incremental: only what is missing or out of date runs). Arguments after `--` go to Snakemake, "
                    "e.g. `vlmeval-steps run --data MMStar --model M -- --resources gpu=1 --keep-going`.")
    p.add_argument("--data", nargs="+", metavar="DATASET", help="Dataset names (vlmeval-steps list datasets).")
    p.add_argument("--model", nargs="+", metavar="MODEL", help="Model names (vlmeval-steps list models).")
    p.add_argument("--config", metavar="FILE",
                   help="An EvalScope task file, a VLMEvalKit run.py --config JSON, or a vlmeval-steps config.")
    p.add_argument("--mode", choices=MODES, default=None,
                   help="all: infer and score (default); infer: stop after the merged predictions; eval: score "
                        "the predictions already in the work dir and infer nothing (pairs without them are "
                        "skipped, as run.py does).")
    p.add_argument("--work-dir", metavar="DIR", default=None,
                   help="Where results/, logs/ and work/ go (default: the task file's work_dir, else '.').")
    p.add_argument("--limit", type=int, metavar="N", help="Evaluate only the first N rows of each dataset.")
    p.add_argument("--nproc", "--api-nproc", type=int, metavar="N", dest="nproc",
                   help="Parallel requests for API models and the judge.")
    p.add_argument("--retry", type=int, metavar="N", help="Retries for API models and the judge.")
    p.add_argument("--nframe", type=int, metavar="N",
                   help="Video benchmarks: frames per video (default 8); outputs are named {dataset}_{N}frame.")
    p.add_argument("--fps", type=float, metavar="F",
                   help="Video benchmarks: frames per second of video (> 0 takes precedence over --nframe, as "
                        "upstream); outputs are named {dataset}_{F}fps.")
    p.add_argument("--use-subtitle", action="store_true", default=None,
                   help="Video benchmarks with subtitles (Video-MME): subtitles in the prompt; outputs get _subs.")
    p.add_argument("--video-llm", action="store_true", default=None,
                   help="Video benchmarks: send the video file instead of frames.")
    p.add_argument("--judge", metavar="MODEL",
                   help="Judge model: exact_matching = rules only, auto = upstream's default per dataset, "
                        "or a model name (e.g. gpt-4o-mini).")
    p.add_argument("--judge-args", metavar="JSON", help="More judge settings, as a JSON object.")
    p.add_argument("--judge-base-url", metavar="URL",
                   help="The judge's OpenAI-compatible endpoint (e.g. http://localhost:8000/v1); its key from "
                        "--judge-key-env (default OPENAI_API_KEY), never from the command line.")
    p.add_argument("--judge-key-env", metavar="VAR", help="Environment variable holding the judge's API key.")
    p.add_argument("--judge-api-nproc", type=int, metavar="N", help="Parallel judge requests (default: --api-nproc).")
    p.add_argument("--judge-retry", type=int, metavar="N", help="Retries of judge requests (default: --retry).")
    p.add_argument("--judge-timeout", type=int, metavar="S", help="Seconds per judge request (upstream's default 600).")
    base = p.add_argument_group(
        "a served model without a config entry (run.py's --base-url)",
        "--base-url URL makes the one --model name the served model id at that OpenAI-compatible endpoint (vLLM, "
        "SGLang, LMDeploy, Ollama, `transformers serve`); the settings below apply to it, with run.py's defaults.")
    base.add_argument("--base-url", metavar="URL", help="The endpoint, e.g. http://localhost:8000/v1.")
    base.add_argument("--key-env", metavar="VAR",
                      help="Environment variable holding its API key (default OPENAI_API_KEY; a local server "
                           "needs none). Keys are never taken on the command line.")
    # run.py takes keys on the command line; here they would reach shell history and `ps`: refused (build_task)
    p.add_argument("--key", "--judge-key", dest="key_on_command_line", help=argparse.SUPPRESS)
    base.add_argument("--max-tokens", type=int, metavar="N", default=2 ** 15, help="Max tokens per answer (32768).")
    base.add_argument("--temperature", type=float, metavar="T", help="Sampling temperature (default 0).")
    base.add_argument("--top-p", type=float, metavar="P")
    base.add_argument("--top-k", type=int, metavar="K")
    base.add_argument("--repetition-penalty", type=float, metavar="R")
    base.add_argument("--timeout", type=int, metavar="S", default=1800, help="Seconds per request (1800).")
    p.add_argument("--keep-failed", action="store_true", help="Do not ask again for answers that failed before.")
    p.add_argument("--reuse", action="store_true",
                   help="Accepted for compatibility: every run reuses what is up to date.")
    p.add_argument("--reuse-aux", nargs="?", const="all", choices=("all", "infer", "none"), metavar="{all,infer,none}",
                   help="Accepted for compatibility: answers and judge replies are cached per row under work/cache/ "
                        "and always reused.")
    p.add_argument("--verbose", action="store_true", help="Print every job's shell command.")
    p.add_argument("--profile", metavar="PROFILE",
                   help="Snakemake profile: a folder, or a name under workflow/profiles/ (e.g. slurm).")
    p.add_argument("--cores", metavar="N", help="CPU cores Snakemake may use (default: all, unless a profile says).")
    p.add_argument("-n", "--dry-run", action="store_true", help="Show what would run, run nothing.")
    p.add_argument("--models-per-plan", type=int, metavar="N",
                   help="Plan and run N models at a time, then the leaderboard (default: every model in one plan). "
                        "Snakemake plans every job of a run before the first starts: over a minute for 50 models x "
                        "90 benchmarks x 4 shards, seconds per model this way (docs/scale.md).")
    return p


def _check_positive(value, flag):
    if value is not None and value < 1:
        raise InputError(f"{flag} must be >= 1, not {value}.")


#: the judge: of the shipped config/config.yaml: rules only, so that a plain `snakemake` runs offline
SHIPPED_JUDGE = {"model": "exact_matching"}


def _drop_defaults_judge(task: Task, path: Path) -> None:
    """One rule wherever `run` is started: the judge: of a defaults file (config/config.yaml, the work
    dir's or the workflow's) is for a plain `snakemake`; `run` takes its judge from --judge/--judge-args,
    a --config file, or else picks it as run.py does (announce_judges)."""
    judge = task.config.pop("judge", None)
    if judge and judge != SHIPPED_JUDGE:  # someone set it, expecting it to count: say it does not
        task.notes.append(f"the judge: in {path} is for a plain `snakemake`; `vlmeval-steps run` picks the judge "
                          "as run.py does unless given --judge/--judge-args (or a --config file with a judge:).")


def _base_task(args, repo: Path, named: dict) -> Task:
    path = repo / "config" / "config.yaml"
    task = from_native(load_yaml(path), path.resolve().parent, str(path))
    _drop_defaults_judge(task, path)
    if args.config:
        return load_task(args.config, task.config, named)
    # like `snakemake` in that folder: the work dir's own config/config.yaml, else the workflow's
    own = Path(args.work_dir or ".") / "config" / "config.yaml"
    if own.is_file():
        task = from_native(load_yaml(own), own.resolve().parent, str(own))
        _drop_defaults_judge(task, own)
    task.config.pop("models", None)
    task.config.pop("datasets", None)
    return task


def base_url_model(args, named) -> tuple[str, dict]:
    """run.py's --base-url: the one --model is the served model id at that endpoint (an OpenAIAPI entry with
    run.py's defaults: 32768 max tokens, 1800 s per request). Its results go under the id as a file name, as for
    an EvalScope task (`Qwen/Qwen2.5-VL-7B-Instruct` -> results/Qwen_Qwen2.5-VL-7B-Instruct/), with `-served`
    where that names a model evaluated in-process: a served checkpoint may answer differently, so its scores
    stay apart."""
    if not args.model or len(args.model) != 1:
        raise InputError("--base-url serves one model: give exactly one --model, the endpoint's model id (what its "
                         "/v1/models lists).")
    served = args.model[0]
    name = safe_name(served)
    if name in named:
        name += "-served"
    spec = dict({"class": "OpenAIAPI", "model": served, "api_base": args.base_url, "max_tokens": args.max_tokens,
                 "timeout": args.timeout, "temperature": args.temperature or 0},
                **{k: v for k, v in (("top_p", args.top_p), ("top_k", args.top_k),
                                     ("repetition_penalty", args.repetition_penalty), ("key_env", args.key_env))
                   if v is not None})
    return name, spec


def build_task(args, repo: Path) -> Task:
    """The Task for these arguments: the config file (if any), then the options over it."""
    for flag, value in (("--limit", args.limit), ("--nproc", args.nproc), ("--retry", args.retry),
                        ("--judge-api-nproc", args.judge_api_nproc), ("--judge-retry", args.judge_retry),
                        ("--judge-timeout", args.judge_timeout), ("--max-tokens", args.max_tokens),
                        ("--timeout", args.timeout)):
        _check_positive(value, flag)
    if args.key_on_command_line is not None:  # never echoed: it is a secret
        raise InputError("API keys are not taken on the command line (they would stay in the shell's history and "
                         "show in process lists): export OPENAI_API_KEY=... (or name another variable with "
                         "--key-env / --judge-key-env) and run again without --key / --judge-key.")
    if args.base_url is None and any(getattr(args, k) is not None for k in ("key_env", "temperature", "top_p", "top_k",
                                                                             "repetition_penalty")):
        raise InputError("--key-env, --temperature, --top-p, --top-k and --repetition-penalty apply to a --base-url "
                         "model; a named model's settings are in its config entry (vlmeval-steps list models).")
    plan_models = load_plan(load_yaml(repo / "config" / "config.yaml"), repo).models_file
    task = _base_task(args, repo, plan_models)
    config = task.config
    if args.model:
        config["models"] = list(dict.fromkeys(args.model))
    if args.base_url:
        name, spec = base_url_model(args, plan_models)
        config["models"] = [name]
        config.setdefault("custom_models", {})[name] = spec
        task.notes.append(f"--base-url: {spec['model']!r} served at {args.base_url}, as model {name} "
                          f"(results/{name}/).")
    if args.data:
        config["datasets"] = list(dict.fromkeys(args.data))
    for key, what in (("models", "--model"), ("datasets", "--data")):
        if not config.get(key):
            raise InputError(f"nothing to evaluate: give {what} (or a --config file that lists {key}).")
    if args.limit is not None:
        config["limit"] = args.limit
    if args.nframe is not None and args.nframe < 0:
        raise InputError(f"--nframe must be >= 0, not {args.nframe}.")
    for key in ("nframe", "fps", "use_subtitle", "video_llm"):  # video benchmarks (video/settings.py)
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    if args.fps is not None and args.fps > 0 and int(config.get("nframe") or 8) > 0:
        from .video.settings import precedence_note

        task.notes.append(precedence_note(int(config.get("nframe") or 8), args.fps))
    if args.mode:
        task.mode = args.mode
    task.mode = task.mode or "all"
    task.work_dir = args.work_dir or task.work_dir or "."
    judge = config.setdefault("judge", {})
    if args.judge:
        judge["model"] = args.judge
        task.judge_from = "--judge"
    elif judge.get("model"):
        task.judge_from = f"judge.model in {task.source}"
    if args.judge_args:
        try:
            extra = json.loads(args.judge_args)
        except json.JSONDecodeError as exc:
            raise InputError(f"--judge-args: not valid JSON ({exc}).") from None
        if not isinstance(extra, dict):
            raise InputError("--judge-args: expected a JSON object.")
        judge.update(extra)
        if extra.get("model") and not task.judge_from:
            task.judge_from = "--judge-args"
    if args.judge_base_url:
        judge["api_base"] = args.judge_base_url
    if args.judge_key_env:
        judge["key_env"] = args.judge_key_env
    named = load_plan(config, repo).models_file
    if args.nproc:
        set_nproc(config, named, args.nproc)
    for flag, key, value in (("--retry", "retry", args.retry), ("--keep-failed", "keep_failed", args.keep_failed)):
        if value:
            _set_on_models(config, named, key, value)
            if key == "retry":
                judge["retry"] = value
    # run.py: the judge's own settings, else those of the models (--api-nproc, --retry)
    for key, value in (("nproc", args.judge_api_nproc), ("retry", args.judge_retry), ("timeout", args.judge_timeout)):
        if value:
            judge[key] = value
    if args.reuse:
        task.notes.append("--reuse is implied: every run reuses what is up to date.")
    if args.reuse_aux == "none":
        task.notes.append("--reuse-aux none is not applied: answers and judge replies cached under work/cache/ are "
                          "always reused (delete work/cache/judge/ to ask the judge again).")
    elif args.reuse_aux:
        task.notes.append("--reuse-aux is implied: answers and judge replies are cached per row under work/cache/ "
                          "and reused by every run.")
    _scrub(config)
    _check_names(config, repo, task.source)
    return task


def _set_on_models(config: dict, named: dict, key: str, value) -> None:
    models = config.setdefault("custom_models", {})
    for name in config["models"]:
        if name not in models and name in named:
            models[name] = sanitise_spec(name, named[name])
        if name in models:
            models[name][key] = value


def _scrub(config: dict) -> None:
    """Every place a key could sit goes through sanitise_spec; then make sure none is left."""
    for name, spec in list((config.get("custom_models") or {}).items()):
        config["custom_models"][name] = sanitise_spec(name, spec)
    judge = config.get("judge") or {}
    if judge:
        config["judge"] = judge = sanitise_spec("judge", judge)
        for ds, override in list((judge.get("datasets") or {}).items()):
            judge["datasets"][ds] = sanitise_spec("judge", override)

    def walk(value, where):
        if isinstance(value, dict):
            for k, v in value.items():
                if k in SECRET_KEYS and v not in (None, ""):
                    raise InputError(f"{where}.{k}: a key may not be written to the run's config; use key_env.")
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(config, "config")


def _check_names(config: dict, repo: Path, source: str = "the run's config") -> None:
    """Unknown names (models, datasets, config keys, model settings) fail here, with the known or
    close ones listed, before Snakemake starts."""
    import jsonschema

    from .names_check import check_config_keys

    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())
    check_config_keys(config, schema, source)
    try:
        jsonschema.validate(config, schema)
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise InputError(f"the run's config is not valid at {where}: {exc.message}") from None
    plan = load_plan(config, repo)
    for name in config["models"]:
        plan.model(name)
    for name in config["datasets"]:
        plan.dataset(name)


def announce_judges(task: Task, repo: Path) -> list[str]:
    """Each benchmark's judge, one line each. Without --judge or a judge in the config, run.py's
    choice: upstream's default judge where one answers (probed once, now), else exact matching
    under the judge's file names; the choice is written into the run's config per dataset."""
    config = task.config
    plan = load_plan(config, repo)
    if task.judge_from:
        lines = []
        for name in config["datasets"]:
            spec = plan.judge(name)
            what = "rules only (exact matching)" if spec["model"] == "exact_matching" else spec["model"]
            lines.append(f"judge for {name}: {what} ({task.judge_from}).")
        return lines
    from .judge.select import choose

    judge = config.setdefault("judge", {})
    per_dataset = judge.setdefault("datasets", {})
    # a judge the config gives one dataset stays
    open_ = [name for name in config["datasets"] if not (per_dataset.get(name) or {}).get("model")]
    settings = {k: v for k, v in judge.items() if k != "datasets"}
    os.environ.update(task.env)  # a task file's OPENAI_API_BASE / LOCAL_LLM count for the probe
    lines = []
    for choice in choose([plan.dataset(name) for name in open_], settings):
        per_dataset[choice.dataset] = dict(per_dataset.get(choice.dataset) or {}, **choice.spec)
        lines.append(choice.line)
    if not per_dataset:
        judge.pop("datasets")
    return lines


def preflight_warnings(task: Task, repo: Path, work_dir: Path) -> list[str]:
    """What a real run checks before its first job starts (the Snakefile's onstart: local weights present
    and loadable, API keys present and not refused), checked now, one message per model or judge.

    A dry run plans without them (Snakemake calls no onstart in a dry run), so `run -n` prints these as
    warnings. The real run checks only the models and judges that have jobs left; this checks every one
    of the run's. From the work dir, as Snakemake runs, so a relative model_path means the same."""
    from .checkpoints import check_models
    from .keycheck import check

    plan = load_plan(task.config, repo)
    datasets = [] if task.mode == "infer" else sorted({d for _, d in configured_pairs(task.config)})
    models = [] if task.mode == "eval" else task.config["models"]  # eval runs no model
    todo = [((name,), ()) for name in models] + [((), (d,)) for d in datasets]
    messages = []
    here = Path.cwd()
    os.environ.update(task.env)  # keys a task file gave inline live in the run's environment
    os.chdir(work_dir)
    try:
        for checked, judged in todo:
            try:
                check_models(plan, checked)
                check(plan, checked, judged)
            except InputError as exc:
                messages.append(str(exc))
    finally:
        os.chdir(here)
    return list(dict.fromkeys(messages))


def eval_pairs(config: dict, work_dir: Path) -> tuple[list, list]:
    """--mode eval: (the pairs to score whose predictions are in the work dir, those without), as run.py's eval
    mode scores what was predicted and skips the rest."""
    have, missing = [], []
    for m, d in configured_pairs(config):
        present = all((work_dir / f).is_file() for f in pair_prediction_files(config, m, d, ".tsv"))
        (have if present else missing).append((m, d))
    return have, missing


def targets(config: dict, mode: str, models=None, work_dir: Path | None = None) -> list[str]:
    """The run's files; with `models`, only theirs and no leaderboard (one plan of --models-per-plan)."""
    keep = set(config["models"] if models is None else models)
    pairs = configured_pairs(config)  # benchmarks with answers withheld are inference only
    if mode == "infer":
        return [f for f in prediction_files(config) if f.split("/")[1] in keep]
    if mode == "eval":  # the leaderboard needs every pair's score
        have, missing = eval_pairs(config, Path(work_dir or "."))
        leaderboard = SUMMARY_TARGETS if have and not missing and models is None else []
        return [f"results/{m}/{d}_acc.csv" for m, d in have if m in keep] + leaderboard
    withheld = [f"results/{m}/{d}.xlsx" for m, d in withheld_pairs(config) if m in keep]
    leaderboard = SUMMARY_TARGETS if pairs and models is None else []
    return [f"results/{m}/{d}_acc.csv" for m, d in pairs if m in keep] + withheld + leaderboard


def write_config(config: dict, work_dir: Path, source: str) -> Path:
    from .fileio import atomic_write_text

    path = work_dir / GENERATED
    header = (f"# Written by `vlmeval-steps run` from {source}; rewritten on every run.\n"
              "# Holds no keys: models name the environment variable that carries theirs (key_env).\n")
    atomic_write_text(path, header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


def _profile(value: str, repo: Path) -> str:
    for candidate in (Path(value), repo / "workflow" / "profiles" / value, repo / "profiles" / value):
        if candidate.is_dir():
            return str(candidate.resolve())
    return value  # Snakemake also looks in ~/.config/snakemake and /etc/xdg/snakemake


def snakemake_command(repo: Path, work_dir: Path, configfile: Path, goals: list[str], args,
                      extra: list[str]) -> list[str]:
    # the targets come first: flags after them (ours, then the user's after `--`) may take several
    # values (--resources, --configfile), and would swallow targets that followed them
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(work_dir), *goals,
           "--configfile", str(configfile), "--replace-workflow-config"]
    # Snakemake finds a workflow profile beside the Snakefile only under profiles/, not workflow/profiles/
    default_profile = repo / "workflow" / "profiles" / "default"
    if default_profile.is_dir() and not (repo / "profiles" / "default").is_dir():
        cmd += ["--workflow-profile", str(default_profile)]
    if args.profile:
        cmd += ["--profile", _profile(args.profile, repo)]
    if args.cores:
        cmd += ["--cores", str(args.cores)]
    elif not args.profile:
        cmd += ["--cores", "all"]
    if args.verbose:
        cmd += ["--printshellcmds"]
    if args.dry_run:
        cmd += ["--dry-run"]
    return cmd + list(extra)


def eval_mode(task: Task, work_dir: Path) -> tuple[list[str], list[str]]:
    """--mode eval: notes for the pairs skipped; the Snakemake flags that keep every rule but the scoring ones
    out of the plan, so the predictions in the work dir are scored as they are (never inferred again, also
    where a setting or the code changed since: `--mode all` reruns those); the models with something to score."""
    have, missing = eval_pairs(task.config, work_dir)
    if not have:
        example = f" (e.g. {pair_prediction_files(task.config, *missing[0], '.tsv')[0]})" if missing else ""
        raise InputError(f"--mode eval: none of the run's pairs has predictions in {work_dir / 'results'}{example}. "
                         "Make them with --mode infer or --mode all, or give the --work-dir that holds them.")
    for m, d in missing:
        task.notes.append(f"--mode eval: {m} / {d} has no predictions "
                          f"({pair_prediction_files(task.config, m, d, '.tsv')[0]}): skipped, as run.py skips it.")
    if missing:
        task.notes.append("--mode eval: the leaderboard (results/summary.csv, report.html) needs every pair's score: "
                          "left as it was.")
    return ["--allowed-rules", *EVAL_RULES], [m for m in task.config["models"] if m in {p[0] for p in have}]


def split_snakemake_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our options, and Snakemake's: everything after the first `--` (a second `--` is tolerated,
    so `run ... -- -- --resources gpu=1` means the same as `run ... -- --resources gpu=1`)."""
    if "--" not in argv:
        return list(argv), []
    i = argv.index("--")
    extra = list(argv[i + 1:])
    while extra[:1] == ["--"]:
        extra.pop(0)
    return list(argv[:i]), extra


def main(argv: list[str]) -> int:
    argv, extra = split_snakemake_args(argv)
    args = parser().parse_args(argv)
    repo = repo_dir()
    task = build_task(args, repo)
    work_dir = Path(task.work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    judge_lines = announce_judges(task, repo) if task.mode != "infer" else []
    configfile = write_config(task.config, work_dir, task.source)
    models = task.config["models"]
    if task.mode == "eval":
        flags, models = eval_mode(task, work_dir)  # a plan of models with nothing to score would have no target
        extra = flags + extra
    _check_positive(args.models_per_plan, "--models-per-plan")
    per_plan = min(args.models_per_plan or len(models), len(models))
    batches = [models[i:i + per_plan] for i in range(0, len(models), per_plan)]
    goals = targets(task.config, task.mode, models=None if len(batches) == 1 else batches[0], work_dir=work_dir)
    cmd = snakemake_command(repo, work_dir, configfile, goals, args, extra)
    for note in task.notes:
        print(f"note: {note}", file=sys.stderr)
    for line in judge_lines:
        print(line, file=sys.stderr)
    plans = f", {len(batches)} plans of up to {per_plan} model(s)" if len(batches) > 1 else ""
    print(f"vlmeval-steps run: {len(models)} model(s) x {len(task.config['datasets'])} dataset(s), "
          f"mode {task.mode}{plans}, work dir {work_dir}\n  config: {configfile}\n  {shlex.join(cmd)}",
          file=sys.stderr, flush=True)
    # a dry run plans without the real run's checks (Snakemake skips onstart): make them here, say them last
    warnings = preflight_warnings(task, repo, work_dir) if args.dry_run else []
    # secrets travel in the environment only (sanitise_spec put inline keys into os.environ)
    env = dict(os.environ, **task.env)
    if len(batches) == 1:
        code = run_until_quiet(cmd, work_dir, env)
    else:
        code = run_plans(task, batches, cmd, repo, work_dir, configfile, args, extra, env)
    for message in warnings:
        print(f"warning: the real run would stop before its first job: {message}", file=sys.stderr)
    return code


def run_plans(task: Task, batches: list[list[str]], first: list[str], repo: Path, work_dir: Path, configfile: Path,
              args, extra: list[str], env: dict) -> int:
    """--models-per-plan: one Snakemake run per batch of models, in turn, then one for the leaderboard.

    Snakemake plans every job of a run before the first one starts, about 2.3 ms of CPU per job
    (docs/scale.md); a batch's plan holds only its models' jobs. In turn, not together: runs of one
    work dir at once would lock each other's shared inputs (download, prompts), and each would
    submit up to the profile's `jobs` to SLURM. The leaderboard's own plan is two jobs: its rules
    are the only ones allowed, so every pair's result is a plain input, not a job to plan."""
    failed = 0
    for i, models in enumerate(batches):
        cmd = first if i == 0 else snakemake_command(repo, work_dir, configfile,
                                                     targets(task.config, task.mode, models, work_dir), args, extra)
        print(f"vlmeval-steps run: plan {i + 1} of {len(batches)}: {', '.join(models)}", file=sys.stderr, flush=True)
        code = run_until_quiet(cmd, work_dir, env)
        if code >= 128:  # interrupted (Ctrl-C, SIGTERM): stop here
            return code
        failed = failed or code
    if task.mode == "infer" or not configured_pairs(task.config):
        return failed
    if task.mode == "eval" and eval_pairs(task.config, work_dir)[1]:
        return failed  # a pair was skipped: the leaderboard is left as it was (eval_mode said so)
    if args.dry_run:
        print(f"vlmeval-steps run: then the leaderboard, {' and '.join(SUMMARY_TARGETS)}.", file=sys.stderr)
        return failed
    if failed:  # a pair has no result: the summary rule cannot run, so write what exists
        from .leaderboard import write_after_failure

        write_after_failure(task.config, cwd=work_dir)
        return failed
    print("vlmeval-steps run: the leaderboard", file=sys.stderr, flush=True)
    # the targets first (see snakemake_command), then the rule list, then the user's flags
    cmd = snakemake_command(repo, work_dir, configfile, SUMMARY_TARGETS, args,
                            ["--allowed-rules", "summary", "report", *extra])
    return run_until_quiet(cmd, work_dir, env)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WATCHDOG = Path(__file__).with_name("watchdog.py")
RUN_MARK = "VLMEVAL_STEPS_RUN"  # in the environment of Snakemake and every local job: the work dir


def run_until_quiet(cmd: list[str], cwd: Path, env: dict) -> int:
    """Run Snakemake in a session of its own and turn Ctrl-C (or SIGTERM, SIGHUP) into one Ctrl-C for
    the whole session group, Snakemake and its local jobs, as a terminal would; then wait until every
    one of them has exited, so that a command typed after the prompt returns starts from a quiet
    directory. A second signal kills them at once (the next run clears what they leave, see
    runlock.py). If this process dies without that (SIGKILL), the watchdog kills the group.
    An interrupted run ends with one line saying so, not with Snakemake's report of failed jobs."""
    received: list[int] = []
    proc = None

    def forward(signum, frame):
        received.append(signum)
        if proc is None:  # not started yet: stopped as soon as it is
            return
        if len(received) == 1:
            _say("\nvlmeval-steps run: stopping Snakemake and its jobs; answers already received are kept. "
                 "Press Ctrl-C again to kill them now.")
            # SIGINT whatever came: Snakemake's SIGTERM means "finish the running jobs first" (hours on
            # SLURM), its SIGINT cancels them; SIGHUP would kill it before it can cancel anything
            _signal_group(proc.pid, signal.SIGINT)
        else:
            _say("vlmeval-steps run: killing Snakemake and its jobs.")
            _signal_group(proc.pid, signal.SIGKILL)

    # A handler, unlike an ignored signal, is reset to the default in Snakemake: a run started with SIGINT
    # ignored (`... &` in a script) still stops on it. Under nohup SIGHUP stays ignored, here and in
    # Snakemake: the run is meant to outlive the terminal.
    handled = [s for s in STOP_SIGNALS if not (s == signal.SIGHUP and signal.getsignal(s) == signal.SIG_IGN)]
    previous = {s: signal.signal(s, forward) for s in handled}
    watchdog = subprocess.Popen([sys.executable, "-I", "-S", str(WATCHDOG), str(cwd)], stdin=subprocess.PIPE,
                                start_new_session=True)  # outside our group: a kill of the group spares it
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=dict(env, **{RUN_MARK: str(cwd)}), start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _tell(watchdog, f"{proc.pid}\n")
        if received:
            forward(received.pop(), None)
        _relay(proc, muted=lambda: bool(received))
        code = proc.wait()  # a handled signal does not interrupt the wait (PEP 475)
        if code < 0:  # Snakemake itself was killed: its jobs have nobody to wait for them
            _signal_group(proc.pid, signal.SIGKILL)
        while (received or code < 0) and _signal_group(proc.pid, 0):  # jobs may outlive Snakemake by a moment
            time.sleep(0.1)
    finally:
        # the group has ended: nothing for the watchdog to do; else (an exception here, a process Snakemake
        # left behind) closing the pipe without "done" has the watchdog kill what is left
        if proc is None or not _signal_group(proc.pid, 0):
            _tell(watchdog, "done\n")
        _tell(watchdog, None)
        watchdog.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if not received:
        return code
    from .cache import count_answers

    n = count_answers(cwd / "work" / "cache")
    _say(f"vlmeval-steps run: interrupted; {n} answer{'s' * (n != 1)} cached, rerun the same command to resume.")
    return 128 + received[0]


def _relay(proc: subprocess.Popen, muted) -> None:
    """Copy Snakemake's output (and its jobs') to ours as it comes, until they close it; from an
    interrupt on, drop it: Snakemake reports every job the interrupt stopped as failed ("Error in
    rule", "WorkflowError"), noise after a stop that was asked for (.snakemake/log/ keeps it all)."""
    sel = selectors.DefaultSelector()
    for pipe, ours in ((proc.stdout, sys.stdout), (proc.stderr, sys.stderr)):
        ours.flush()  # our own lines before Snakemake's
        sel.register(pipe, selectors.EVENT_READ, ours.fileno())
    broken: set[int] = set()
    ended = None
    while sel.get_map():
        for key, _ in sel.select(timeout=0.2):
            data = os.read(key.fd, 1 << 16)
            if not data:
                sel.unregister(key.fileobj)
            elif not muted() and key.data not in broken:
                try:
                    while data:
                        data = data[os.write(key.data, data):]
                except OSError:  # our terminal is gone (SIGHUP): keep reading, so Snakemake never blocks
                    broken.add(key.data)
        if proc.poll() is not None:
            ended = ended or time.monotonic()
            if time.monotonic() - ended > 1:  # a process Snakemake left behind holds the pipe: not waited for
                break
    sel.close()
    proc.stdout.close()
    proc.stderr.close()


def _tell(watchdog: subprocess.Popen, line: str | None) -> None:
    """A line to the watchdog (None: close the pipe)."""
    try:
        if line is None:
            watchdog.stdin.close()
        else:
            watchdog.stdin.write(line.encode())
            watchdog.stdin.flush()
    except OSError:  # it has died (killed by hand): nothing to tell
        pass


def _say(text: str) -> None:
    # os.write, not print: a signal handler may run while the main thread is inside a print to stderr
    try:
        os.write(sys.stderr.fileno(), (text + "\n").encode())
    except (OSError, ValueError):  # the terminal is gone (SIGHUP), or stderr is closed
        pass


def _signal_group(pgid: int, signum: int) -> bool:
    """Send signum to the process group; False when no process of it is left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: still alive
        return True
    return True
