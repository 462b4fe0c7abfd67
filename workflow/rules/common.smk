# Config validation, name resolution and the helpers the rules share.
import json
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

try:
    from vlmeval_steps.config import (generation_settings, judge_name, judge_settings, load_plan, split_limit)
    from vlmeval_steps.errors import InputError
    from vlmeval_steps.fingerprint import fingerprint
    from vlmeval_steps.models import is_local
    from vlmeval_steps.prompts import prompt_id_for
except ImportError as exc:
    raise WorkflowError(f"the vlmeval_steps package is not installed ({exc}); run `pip install -e .` first") from exc

validate(config, "../schemas/config.schema.yaml")
PLAN = load_plan(config, workflow.basedir)
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
    spec = model_spec(model)
    return int(spec.get("gpus", 1 if is_local(spec) else 0))


def judge_of(dataset):
    return PLAN.judge(dataset)


def judged_path(model, dataset):
    return f"work/judged/{model}/{dataset}.{judge_name(judge_of(dataset))}.jsonl"


def provenance(model, dataset):
    return json.dumps(dict(
        model=model, model_settings=generation_settings(model_spec(model)), prompt_id=prompt_id(model, dataset),
        judge_settings=judge_settings(judge_of(dataset)), limit=split_limit(dataset)[1]))


def print_results_location():
    targets = PLAN.targets()
    if targets:
        print("\nResults:", *targets, sep="\n  ")
