# Config validation, name resolution and the helpers the rules share.
import functools
import json
import re
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

try:
    from vlmeval_steps.config import (generation_settings, judge_name, judge_settings, load_plan, split_limit)
    from vlmeval_steps.errors import InputError
    from vlmeval_steps.fingerprint import fingerprint
    from vlmeval_steps.gpu import gpus_needed
    from vlmeval_steps.judge.llm import judge_identity
    from vlmeval_steps.models import is_local
    from vlmeval_steps.prompts import prompt_id_for
except ImportError as exc:
    raise WorkflowError(f"the vlmeval_steps package is not installed ({exc}); run `pip install -e .` first") from exc

validate(config, "../schemas/config.schema.yaml")

if workflow.is_main_process:
    from vlmeval_steps.runlock import hold_run_lock

    # held until this Snakemake process exits; lets the next run clear locks a killed run left
    _RUN_LOCK = hold_run_lock()
PLAN = load_plan(config, workflow.basedir)
# Planning asks for the same few names once per job (tens of thousands of times for 50 models x
# 40 datasets x 4 shards); resolve each once. Errors are not cached. (docs/scale.md)
PLAN.model = functools.lru_cache(maxsize=None)(PLAN.model)
PLAN.dataset = functools.lru_cache(maxsize=None)(PLAN.dataset)
DATA_ROOT = PLAN.data_root
# Every job runs the CLI with this very interpreter, so a venv or pyenv needs no PATH set-up.
VS = f"{sys.executable} -m vlmeval_steps"


class Untracked:
    """A param Snakemake passes to the command but leaves out of its rerun check (it only
    compares builtin values): full specs whose result-relevant part is tracked separately."""

    def __init__(self, value):
        self.value = value

    def __str__(self):
        return self.value


def _check(fn, *args):
    try:
        return fn(*args)
    except InputError as exc:
        raise WorkflowError(str(exc)) from None


for _m in config.get("models") or []:
    _check(PLAN.model, _m)
for _d in config.get("datasets") or []:
    _check(PLAN.dataset, _d)


def _alternatives(names):
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


wildcard_constraints:
    model=_alternatives(PLAN.model_names()),
    dataset=f"(?:{_alternatives(PLAN.dataset_names())})(?:_limit[1-9][0-9]*)?",
    shard=r"\d+",
    nshards=r"[1-9]\d*",
    prompt_id=r"[A-Za-z0-9_-]+",
    judge=r"[A-Za-z0-9._-]+",


def base(dataset):
    return split_limit(dataset)[0]


def dataset_json(dataset):
    return json.dumps(_check(PLAN.dataset, dataset).__dict__)


def dataset_md5(dataset):
    return _check(PLAN.dataset, dataset).md5 or ""


def tsv_path(dataset):
    return f"{DATA_ROOT}/{base(dataset)}.tsv"


def model_spec(model):
    return _check(PLAN.model, model)


def prompt_id(model, dataset):
    info = _check(PLAN.dataset, dataset)
    return _check(prompt_id_for, model_spec(model).get("prompt"), info.name, info.type)


def prompts_path(model, dataset):
    return f"resources/prompts/{dataset}/{prompt_id(model, dataset)}.jsonl"


def n_shards(model):
    return int(model_spec(model).get("shards", 1))


def shard_files(model, dataset):
    n = n_shards(model)
    return [f"work/predictions/{model}/{dataset}/shard-{i}-of-{n}.jsonl" for i in range(n)]


def gpus(model):
    # the same count the infer step claims with (vlmeval_steps/gpu.py)
    return gpus_needed(model_spec(model))


def judge_of(dataset):
    return PLAN.judge(dataset)


def judged_path(model, dataset):
    return f"work/judged/{model}/{dataset}.{judge_name(judge_of(dataset))}.jsonl"


def provenance(model, dataset):
    return json.dumps(dict(
        model=model, model_settings=generation_settings(model_spec(model)), prompt_id=prompt_id(model, dataset),
        judge_settings=judge_identity(judge_of(dataset)), limit=split_limit(dataset)[1],
        # token usage the infer and judge jobs record beside their outputs; score sums them
        usage_files=[f + ".usage.json" for f in shard_files(model, dataset) + [judged_path(model, dataset)]]))


SUMMARY_TARGETS = ["results/summary.csv", "results/report.html"]


def configured_pairs():
    """(model, dataset as in file names) for every configured model x dataset: the summary's cells."""
    from vlmeval_steps.config import configured_pairs as pairs_of

    return pairs_of(config)


def pair_files(suffix):
    return [f"results/{m}/{d}{suffix}" for m, d in configured_pairs()]


def statistics_args():
    """--resamples/--level/--seed of the summary and report, from the config's `statistics`."""
    st = config.get("statistics") or {}
    return (f"--resamples {int(st.get('resamples', 1000))} --level {float(st.get('level', 0.95))}"
            f" --seed {int(st.get('seed', 0))}")


def summary_after_failure():
    """A failed pair must not take the leaderboard of the others with it: after a run with failed jobs
    (--keep-going ran everything else), write the summary and report of what exists, listing the
    configured pairs that have no score."""
    import subprocess

    pairs = json.dumps(configured_pairs())
    for cmd in (f"{VS} summary --expected {shlex.quote(pairs)} {statistics_args()} --log logs/summary.log",
                f"{VS} report --expected {shlex.quote(pairs)} {statistics_args()} --log logs/report.log"):
        try:
            subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError):
            print(f"(the leaderboard could not be written after the failure either; see {cmd.split('--log ')[-1]})",
                  file=sys.stderr)
            return
    print("Some jobs failed. results/summary.md and results/report.html show every pair that was scored and list "
          "the configured pairs that were not (their logs are under logs/).", file=sys.stderr)


def print_results_location():
    # every configured pair's score and where the files are
    from vlmeval_steps.report.where import results_message

    message = results_message(configured_pairs())
    if message:
        print(message)
