"""`vlmeval-steps run`: VLMEvalKit's run.py options (or an EvalScope task file) as Snakemake targets.

The options become a config file in the work dir (`.vlmeval-steps/config.yaml`, no secrets in
it) and a list of targets, and Snakemake runs them with this package's Snakefile, so a run is
incremental like any other: what is up to date is not computed again.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from .config import (SECRET_KEYS, configured_pairs, load_plan, load_yaml, prediction_files, sanitise_spec,
                     withheld_pairs)
from .errors import InputError
from .evalscope import MODES, Task, from_native, load_task, set_nproc

GENERATED = Path(".vlmeval-steps") / "config.yaml"
SUMMARY_TARGETS = ["results/summary.csv", "results/report.html"]


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
                    "(incremental: only what is missing or out of date runs). Arguments after `--` go to Snakemake.")
    p.add_argument("--data", nargs="+", metavar="DATASET", help="Dataset names (vlmeval-steps list datasets).")
    p.add_argument("--model", nargs="+", metavar="MODEL", help="Model names (vlmeval-steps list models).")
    p.add_argument("--config", metavar="FILE",
                   help="An EvalScope task file, a VLMEvalKit run.py --config JSON, or a vlmeval-steps config.")
    p.add_argument("--mode", choices=MODES + ("eval",), default=None,
                   help="all: infer and score (default); infer: stop after the merged predictions.")
    p.add_argument("--work-dir", metavar="DIR", default=None,
                   help="Where results/, logs/ and work/ go (default: the task file's work_dir, else '.').")
    p.add_argument("--limit", type=int, metavar="N", help="Evaluate only the first N rows of each dataset.")
    p.add_argument("--nproc", "--api-nproc", type=int, metavar="N", dest="nproc",
                   help="Parallel requests for API models and the judge.")
    p.add_argument("--retry", type=int, metavar="N", help="Retries for API models and the judge.")
    p.add_argument("--judge", metavar="MODEL",
                   help="Judge model: exact_matching = rules only, auto = upstream's default per dataset, "
                        "or a model name (e.g. gpt-4o-mini).")
    p.add_argument("--judge-args", metavar="JSON", help="More judge settings, as a JSON object.")
    p.add_argument("--keep-failed", action="store_true", help="Do not ask again for answers that failed before.")
    p.add_argument("--reuse", action="store_true",
                   help="Accepted for compatibility: every run reuses what is up to date.")
    p.add_argument("--verbose", action="store_true", help="Print every job's shell command.")
    p.add_argument("--profile", metavar="PROFILE",
                   help="Snakemake profile: a folder, or a name under workflow/profiles/ (e.g. slurm).")
    p.add_argument("--cores", metavar="N", help="CPU cores Snakemake may use (default: all, unless a profile says).")
    p.add_argument("-n", "--dry-run", action="store_true", help="Show what would run, run nothing.")
    return p


def _check_positive(value, flag):
    if value is not None and value < 1:
        raise InputError(f"{flag} must be >= 1, not {value}.")


def _base_task(args, repo: Path, named: dict) -> Task:
    if args.config:
        default = load_yaml(repo / "config" / "config.yaml")
        return load_task(args.config, from_native(default, repo / "config").config, named)
    # like `snakemake` in that folder: the work dir's own config/config.yaml, else the workflow's
    work = Path(args.work_dir or ".")
    own = work / "config" / "config.yaml"
    path = own if own.is_file() else repo / "config" / "config.yaml"
    task = from_native(load_yaml(path), path.resolve().parent, str(path))
    task.config.pop("models", None)
    task.config.pop("datasets", None)
    return task


def build_task(args, repo: Path) -> Task:
    """The Task for these arguments: the config file (if any), then the options over it."""
    for flag, value in (("--limit", args.limit), ("--nproc", args.nproc), ("--retry", args.retry)):
        _check_positive(value, flag)
    if args.mode == "eval":
        raise InputError("--mode eval is not needed: every run scores what changed and reuses the rest; "
                         "use --mode all.")
    plan_models = load_plan(load_yaml(repo / "config" / "config.yaml"), repo).models_file
    task = _base_task(args, repo, plan_models)
    config = task.config
    if args.model:
        config["models"] = list(dict.fromkeys(args.model))
    if args.data:
        config["datasets"] = list(dict.fromkeys(args.data))
    for key, what in (("models", "--model"), ("datasets", "--data")):
        if not config.get(key):
            raise InputError(f"nothing to evaluate: give {what} (or a --config file that lists {key}).")
    if args.limit is not None:
        config["limit"] = args.limit
    if args.mode:
        task.mode = args.mode
    task.mode = task.mode or "all"
    task.work_dir = args.work_dir or task.work_dir or "."
    judge = config.setdefault("judge", {"model": "exact_matching"})
    if args.judge:
        judge["model"] = args.judge
    if args.judge_args:
        try:
            extra = json.loads(args.judge_args)
        except json.JSONDecodeError as exc:
            raise InputError(f"--judge-args: not valid JSON ({exc}).") from None
        if not isinstance(extra, dict):
            raise InputError("--judge-args: expected a JSON object.")
        judge.update(extra)
    named = load_plan(config, repo).models_file
    if args.nproc:
        set_nproc(config, named, args.nproc)
    for flag, key, value in (("--retry", "retry", args.retry), ("--keep-failed", "keep_failed", args.keep_failed)):
        if value:
            _set_on_models(config, named, key, value)
            if key == "retry":
                judge["retry"] = value
    if args.reuse:
        task.notes.append("--reuse is implied: every run reuses what is up to date.")
    _scrub(config)
    _check_names(config, repo)
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


def _check_names(config: dict, repo: Path) -> None:
    """Unknown names fail here, with the known ones listed, before Snakemake starts."""
    import jsonschema

    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())
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


def targets(config: dict, mode: str) -> list[str]:
    pairs = configured_pairs(config)  # benchmarks with answers withheld are inference only
    if mode == "infer":
        return prediction_files(config)
    withheld = [f"results/{m}/{d}.xlsx" for m, d in withheld_pairs(config)]
    return [f"results/{m}/{d}_acc.csv" for m, d in pairs] + withheld + (SUMMARY_TARGETS if pairs else [])


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
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(work_dir),
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
    return cmd + list(extra) + goals


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    args = parser().parse_args(argv)
    repo = repo_dir()
    task = build_task(args, repo)
    work_dir = Path(task.work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    configfile = write_config(task.config, work_dir, task.source)
    goals = targets(task.config, task.mode)
    cmd = snakemake_command(repo, work_dir, configfile, goals, args, extra)
    for note in task.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"vlmeval-steps run: {len(task.config['models'])} model(s) x {len(task.config['datasets'])} dataset(s), "
          f"mode {task.mode}, work dir {work_dir}\n  config: {configfile}\n  {shlex.join(cmd)}",
          file=sys.stderr, flush=True)
    # secrets travel in the environment only (sanitise_spec put inline keys into os.environ)
    env = dict(os.environ, **task.env)
    return subprocess.run(cmd, cwd=work_dir, env=env).returncode
