# Config validation, name resolution and the helpers the rules share.
import functools
import json
import re
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

try:
    from vlmeval_steps.config import generation_settings, judge_name, judge_settings, load_plan, split_video_name
    from vlmeval_steps.names import split_limit, wildcard, with_limit
    from vlmeval_steps.errors import InputError
    from vlmeval_steps.fingerprint import fingerprint
    from vlmeval_steps.gpu import gpus_needed
    from vlmeval_steps.judge.llm import judge_identity
    from vlmeval_steps.models import is_local
    from vlmeval_steps.sources import download_params as source_download_params
except ImportError as exc:
    raise WorkflowError(f"the vlmeval_steps package is not installed ({exc}); run `pip install -e .` first") from exc

def _check_config_keys():
    """A misspelt key fails here naming its file and the close known keys (validate() names neither)."""
    import yaml
    from pathlib import Path

    from vlmeval_steps.config import load_yaml
    from vlmeval_steps.names_check import check_config_keys

    schema = yaml.safe_load((Path(workflow.basedir) / "workflow/schemas/config.schema.yaml").read_text())
    try:
        for path in workflow.configfiles:
            check_config_keys(load_yaml(path), schema, str(path))
        check_config_keys(config, schema, "the config given with --config")
    except InputError as exc:
        raise WorkflowError(str(exc)) from None


_check_config_keys()
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
DATA_ROOT = PLAN.data_root        # shared stores (vlmeval_steps/store.py): ~/LMUData and
MODEL_STORE = PLAN.model_store    # ~/.cache/vlmeval-steps/models unless configured
# Every job runs the CLI with this very interpreter, so a venv or pyenv needs no PATH set-up.
VS = f"{sys.executable} -m vlmeval_steps"


class Untracked:
    """A param Snakemake passes to the command but leaves out of its rerun check (it only
    compares builtin values): full specs whose result-relevant part is tracked separately."""

    def __init__(self, value):
        self.value = value

    def __str__(self):
        return self.value


def cache_function_signatures(rules):
    """Give each rule's input and params functions their parameters up front, through Snakemake's
    own override (snakemake.common.overwrite_function_params), so planning does not inspect them
    again for every job. (Resource functions sit behind Snakemake's own wrappers.)"""
    import inspect

    from snakemake.common import overwrite_function_params

    for rule in rules:
        for item in [*rule.input, *rule.params]:
            item = getattr(item, "callable", item)  # unpack(f) holds f in a flagged string
            if inspect.isfunction(item):
                overwrite_function_params(item, inspect.signature(item).parameters)


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
    # a video benchmark's name may carry its frame setting (MVBench_8frame, Video-MME_1fps_subs)
    dataset=wildcard(_alternatives(PLAN.dataset_names()), video=True),
    shard=r"\d+",
    nshards=r"[1-9]\d*",
    prompt_id=r"[A-Za-z0-9_-]+",
    judge=r"[A-Za-z0-9._-]+",


# The helpers below are pure functions of the names in a job's wildcards, asked for by tens of
# thousands of jobs at scale: each answer is computed once (docs/scale.md "Planning").
@functools.cache
def base(dataset):
    return PLAN.base_name(dataset)  # MVBench_8frame_limit5 -> MVBench (one TSV for every setting)


@functools.cache
def stage_code(stage, dataset):
    """The fingerprint of the code `stage` runs for this dataset: the stage's modules and its benchmark class's
    (vlmeval_steps/fingerprint.py), so an edit to one benchmark reruns that benchmark's jobs only."""
    from vlmeval_steps.datasets.registry import CLASSES

    return fingerprint(stage, CLASSES[_check(PLAN.dataset, base(dataset)).cls].__module__)


@functools.cache
def dataset_json(dataset):
    return json.dumps(_check(PLAN.dataset, dataset).__dict__)


@functools.cache
def dataset_md5(dataset):
    return _check(PLAN.dataset, dataset).md5 or ""


@functools.cache
def download_params(dataset):
    """(url, md5) of the download rule: what the data root's TSV must hold. A local source file without an
    md5 in the config is followed by its content hash; one that no longer has the configured md5 makes the
    download rerun and stop, naming both (vlmeval_steps/sources.py). Unchanged sources keep their params."""
    info = _check(PLAN.dataset, dataset)
    return _check(source_download_params, info.url, info.md5, DATA_ROOT, info.upstream_name)


def data_link(dataset):
    """The work dir's link to a dataset's TSV in the shared data root (the download rule's output)."""
    return f"resources/data/{dataset}.tsv"


def group_names():
    return [n for n in PLAN.dataset_names() if _check(PLAN.dataset, n).members]


def member_names(dataset):
    """A group's members (upstream's ConcatDataset), each with the group's limit."""
    name, limit = split_limit(dataset)
    return [with_limit(m, limit) for m in _check(PLAN.dataset, name).members]


def member_files(dataset, model, suffix):
    return [f"results/{model}/{m}{suffix}" for m in member_names(dataset)]


@functools.cache
def tsv_path(dataset):
    """The dataset's TSV in the shared data root (upstream's file name for an alias)."""
    return f"{DATA_ROOT}/{_check(PLAN.dataset, base(dataset)).upstream_name}.tsv"


def model_spec(model):
    return _check(PLAN.model, model)


@functools.cache
def prompt_id(model, dataset):
    return _check(PLAN.prompt_id, model, dataset)


@functools.cache
def prompts_path(model, dataset):
    return f"resources/prompts/{dataset}/{prompt_id(model, dataset)}.jsonl"


@functools.cache
def n_shards(model):
    return int(model_spec(model).get("shards", 1))


def shard_files(model, dataset):
    return list(_shard_files(model, dataset))


@functools.cache
def _shard_files(model, dataset):
    n = n_shards(model)
    return tuple(f"work/predictions/{model}/{dataset}/shard-{i}-of-{n}.jsonl" for i in range(n))


@functools.cache
def gpus(model):
    # the same count the infer step claims with (vlmeval_steps/gpu.py)
    check_array_gpus()
    return gpus_needed(model_spec(model))


@functools.cache
def model_settings_json(model):
    """What changes a model's answers (never its key): the infer rule's rerun trigger."""
    return json.dumps(generation_settings(model_spec(model)), sort_keys=True)


@functools.cache
def model_spec_json(model):
    return json.dumps(model_spec(model))


@functools.cache
def judge_identity_json(dataset):
    return json.dumps(judge_identity(judge_of(dataset)), sort_keys=True)


@functools.cache
def judge_spec_json(dataset):
    return json.dumps(judge_of(dataset))


@functools.cache
def judge_of(dataset):
    return PLAN.judge(dataset)


@functools.cache
def judged_path(model, dataset):
    return f"work/judged/{model}/{dataset}.{judge_name(judge_of(dataset))}.jsonl"


@functools.cache
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


def reasoning_tags():
    """--reasoning-tags for judge and score: the traces they take off (a rule param, so a change reruns them)."""
    return shlex.quote(",".join(config.get("reasoning_tags", ["think"])))


def statistics_args():
    """--resamples/--level/--seed of the summary and report, from the config's `statistics`."""
    from vlmeval_steps.leaderboard import statistics_args as of_config

    return of_config(config)


def summary_after_failure():
    """A failed pair must not take the leaderboard of the others with it: after a run with failed jobs
    (--keep-going ran everything else), write the summary and report of what exists, listing the
    configured pairs that have no score."""
    from vlmeval_steps.leaderboard import write_after_failure

    write_after_failure(config)


def print_results_location():
    # every configured pair's score and where the files are
    from vlmeval_steps.report.where import results_message

    # only what this run was asked for (the default target `all` asks for everything)
    requested = set(getattr(workflow.dag, "targetfiles", None) or ()) or None
    message = results_message(configured_pairs(), requested=requested)
    if message:
        print(message)


def check_keys_before_running():
    """A missing or refused API key, or a local checkpoint that is missing or that TransformersVLM cannot run
    (vlmeval_steps/checkpoints.py), stops the run here, before any job starts or is submitted to SLURM."""
    from vlmeval_steps.checkpoints import check_models
    from vlmeval_steps.keycheck import check

    try:  # only the models and judges that have jobs to run
        jobs = list(workflow.dag.needrun_jobs())
        models = {j.wildcards.model for j in jobs if j.rule.name in ("infer", "infer_api")}
        datasets = {j.wildcards.dataset for j in jobs if j.rule.name in ("judge", "judge_llm")}
    except AttributeError:  # Snakemake's DAG API moved: check every configured pair
        models, datasets = {m for m, _ in configured_pairs()}, {d for _, d in configured_pairs()}
    _check(check_models, PLAN, models)
    _check(check, PLAN, models, datasets)


onstart:
    check_keys_before_running()


def _unknown_pair(wildcards, output):
    from vlmeval_steps.names_check import explain_target

    raise WorkflowError(explain_target(output[0], PLAN.model_names(), PLAN.dataset_names()))


# A result target naming no configured model x dataset pair (a typo such as DemoShape for DemoShapes)
# lands here instead of Snakemake's bare MissingRuleException: the error names the unknown part and
# the close known names. Its pattern excludes every valid pair, so it never competes with `score`.
_VALID_PAIR = f"(?:{_alternatives(PLAN.model_names())})/" + wildcard(_alternatives(PLAN.dataset_names()), video=True)


rule unknown_result:
    output:
        "results/{unknown_pair}_acc.csv",
    wildcard_constraints:
        unknown_pair=rf"(?!{_VALID_PAIR}_acc\.csv$)[^/]+/[^/]+",
    params:
        explain=_unknown_pair,
    localrule: True
    shell:
        "exit 1"


rule unknown_predictions:
    output:
        "results/{unknown_pair}.xlsx",
    wildcard_constraints:
        unknown_pair=rf"(?!{_VALID_PAIR}\.xlsx$)[^/]+/[^/]+",
    params:
        explain=_unknown_pair,
    localrule: True
    shell:
        "exit 1"


# ---- Where each job runs under a cluster executor (docs/cluster.md "What runs where on SLURM") ----
# Snakemake decides local-or-queued per rule, so work that differs in kind is split by wildcard
# constraints into a queued rule and a local one with the same body (`use rule ... with:`).
# Without a cluster executor every job runs locally and the split changes nothing.
NEVER = "(?!)"  # a wildcard constraint that matches nothing: a rule with no jobs in this config


def _model_kinds():
    """Configured and named models split into (local models, API models)."""
    local, api = [], []
    for name in PLAN.model_names():
        try:
            (local if is_local(PLAN.model(name)) else api).append(name)
        except InputError:
            local.append(name)  # a broken entry fails later, with its message, if it is used
    return local, api


LOCAL_MODELS, API_MODELS = _model_kinds()


def _rule_based_judges():
    """Judge names (as file names show them) that only apply rules: judge_llm handles the others."""
    from vlmeval_steps.judge.llm import EXACT_MATCHING

    names = {EXACT_MATCHING}
    for d in config.get("datasets") or []:
        judge = _check(PLAN.judge, d)
        if judge["model"] == EXACT_MATCHING:
            names.add(judge_name(judge))
    return sorted(names)


RULE_BASED_JUDGES = _rule_based_judges()

# prompt-build decodes every image of a dataset: above this size (MB of TSV) it is a queued job
PROMPTS_QUEUE_MB = float(config.get("prompts_queue_mb", 100))


def _dataset_mb(name):
    """The TSV's size: the data root's copy, else a local source file; None when not yet known."""
    path = Path(tsv_path(name))
    if not path.is_file():
        url = PLAN.dataset(name).url
        path = Path(url[len("file://"):]) if url.startswith("file://") else None
    return path.stat().st_size / 2**20 if path is not None and path.is_file() else None


def _large_datasets():
    # a dataset not downloaded yet counts as large: the next run, with its TSV at hand, knows
    large = []
    for name in PLAN.dataset_names():
        try:
            mb = _dataset_mb(name)
        except InputError:
            continue
        if mb is None or mb > PROMPTS_QUEUE_MB:
            large.append(name)
    return large


# A queued job's own Snakemake (on a node, perhaps after the TSV arrived) must find the rule it was
# sent for, whatever the sizes are now: there both prompt-build rules take every dataset, and the
# ruleorder in data.smk settles a tie.
LARGE_DATASETS = _large_datasets() if workflow.is_main_process else PLAN.dataset_names()


def constraint(names, dataset=False):
    """A wildcard constraint matching exactly these names (datasets: also with a _limitN suffix)."""
    if not names:
        return NEVER
    alternatives = _alternatives(names)
    return wildcard(alternatives, limit=dataset)


def small_datasets():
    if not workflow.is_main_process:
        return PLAN.dataset_names()
    large = set(LARGE_DATASETS)
    return [d for d in PLAN.dataset_names() if d not in large]


@functools.cache
def check_array_gpus():
    """The SLURM plugin gives a job array the first job's resources: all its models must ask alike.
    Called from the infer rule's resources: the executor's settings are known by then."""
    settings = getattr(workflow, "executor_settings", None)
    arrays = str(getattr(settings, "array_jobs", None) or "").replace(";", ",").split(",")
    if not {"infer", "all"} & {a.strip() for a in arrays}:
        return
    counts = {m: gpus_needed(model_spec(m)) for m in config.get("models") or [] if m in set(LOCAL_MODELS)}
    if len(set(counts.values())) > 1:
        raise WorkflowError(
            f"--slurm-array-jobs covers infer, but these models ask for different numbers of GPUs: {counts}. "
            "The SLURM plugin gives a whole array the first job's resources; run them in separate runs or "
            "drop `slurm-array-jobs` (workflow/profiles/slurm/profile.yaml).")

