"""`vlmeval-steps status`: per configured model x benchmark, what is finished, what is cached, what
would rerun and why, in one table. Nothing runs: Snakemake's own file summary (`--summary`, a dry
look at every output, its status and its plan) is read and grouped by pair."""
from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

from .config import configured_pairs, load_yaml
from .errors import InputError
from .names import split_limit

STATES = {
    "finished": "scored and up to date",
    "would rerun": "scored, but an input, setting or code changed",
    "cached": "answers kept; only the later stages run",
    "in progress": "some answers cached; a rerun asks the model only for the others",
    "to do": "not started",
}


STAGE_ORDER = ["download", "verify", "build_prompts", "infer", "merge", "judge", "score"]


def _command(directory: Path, config: str | None) -> tuple[list[str], Path]:
    """The Snakemake call for this work dir and the config it uses."""
    cmd = [sys.executable, "-m", "snakemake", "--summary", "--cores", "1"]
    if (directory / "Snakefile").is_file():  # a checkout of the workflow itself
        cfg = Path(config) if config else directory / "config" / "config.yaml"
        return cmd + (["--configfile", str(cfg.resolve())] if config else []), cfg
    from .runner import GENERATED, repo_dir  # a work dir of `vlmeval-steps run`

    cfg = Path(config) if config else directory / GENERATED
    if not cfg.is_file():
        raise InputError(f"{directory}: neither a workflow checkout (no Snakefile) nor a work dir of `vlmeval-steps "
                         f"run` (no {GENERATED}); give the work dir with -d, or a config with --config.")
    repo = repo_dir()
    cmd += ["-s", str(repo / "Snakefile"), "-d", str(directory), "--configfile", str(cfg.resolve()),
            "--replace-workflow-config"]
    return cmd, cfg


def _basedir(directory: Path) -> Path:
    """Where the config's relative paths point: the checkout, or for a `vlmeval-steps run` work dir the repository."""
    if (directory / "Snakefile").is_file():
        return directory
    from .runner import repo_dir

    return repo_dir()


def snakemake_summary(directory: Path, config: str | None) -> tuple[list[dict], list[tuple[str, str]], dict]:
    cmd, cfg = _command(directory, config)
    proc = subprocess.run(cmd, cwd=directory, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"snakemake --summary failed in {directory} (exit {proc.returncode}):\n"
                         + "\n".join(proc.stderr.strip().splitlines()[-15:]))
    lines = [ln.split("\t") for ln in proc.stdout.splitlines() if "\t" in ln]
    if not lines or lines[0][0] != "output_file":
        raise InputError(f"snakemake --summary printed no table in {directory}:\n{proc.stdout[-2000:]}")
    header = lines[0]
    rows = [dict(zip(header, ln)) for ln in lines[1:]]
    loaded = load_yaml(cfg)
    return rows, configured_pairs(loaded), loaded


def _belongs(path: str, model: str, dataset: str) -> bool:
    # exact names: MMBench_DEV_EN must not claim MMBench_DEV_EN_V11's or DemoShapes_limit5's files
    if path == f"resources/data/{split_limit(dataset)[0]}.tsv":  # the TSV every model's run of it reads
        return True
    head = f"results/{model}/{dataset}"
    if path.startswith(head):
        return path[len(head):] in (".tsv", ".xlsx", "_acc.csv", "_provenance.json")
    return path.startswith((f"work/judged/{model}/{dataset}.", f"work/predictions/{model}/{dataset}/"))


def classify(rows: list[dict], model: str, dataset: str, answers=None) -> dict:
    """The pair's state from Snakemake's summary rows; `answers`, a function returning (cached, total)
    answers of the pair (or None), is asked only while its inference is still to run."""
    mine = [r for r in rows if _belongs(r["output_file"], model, dataset)]
    acc = next((r for r in mine if r["output_file"] == f"results/{model}/{dataset}_acc.csv"), None)
    pending = [r for r in mine if r.get("plan") == "update pending"]
    stages = sorted(dict.fromkeys(r["rule"] for r in pending), key=lambda r: STAGE_ORDER.index(r)
                    if r in STAGE_ORDER else len(STAGE_ORDER))
    why = "; ".join(dict.fromkeys(r["status"] for r in pending if r["status"] not in ("ok", "missing")))
    predictions = next((r for r in mine if r["output_file"] == f"results/{model}/{dataset}.tsv"), None)
    if acc is not None and acc["status"] != "missing" and not pending:
        state = "finished"
    elif acc is not None and acc["status"] != "missing":
        state = "would rerun"
    elif predictions is not None and predictions["status"] not in ("missing",) and "infer" not in stages:
        state = "cached"
    else:
        done = [r for r in mine if r["rule"] == "infer" and r["status"] != "missing" and r.get("plan") != "update pending"]
        shards = [r for r in mine if r["rule"] == "infer"]
        state = "cached" if done else "to do"
        notes = [f"{len(done)} of {len(shards)} inference shards done"] if done else []
        counts = answers() if answers is not None and "infer" in stages else None
        if counts and counts[0]:  # a run killed mid-inference: its shards are missing, its answers are not
            state = "in progress"
            notes.insert(0, f"{counts[0]:,} of {counts[1]:,} answers cached")
        why = "; ".join(notes) or why
    return dict(model=model, dataset=dataset, state=state, stages=", ".join(stages) or "–", why=why or "–")


def cached_answers(directory: Path, plan, model: str, dataset: str) -> tuple[int, int] | None:
    """(answers in the cache that a rerun will not ask again, prompts) of a pair, by the keys infer uses
    (model settings + message); None when its prompts are not built yet."""
    from .cache import answer_keys
    from .config import generation_settings
    from .fileio import read_jsonl
    from .steps.infer import answers_shared_across_datasets, other_dataset_folders

    try:
        spec = plan.model(model)
        prompts = directory / "resources" / "prompts" / dataset / f"{plan.prompt_id(model, dataset)}.jsonl"
        if not prompts.is_file():
            return None
        keys = set(answer_keys(generation_settings(spec), [r["digest"] for r in read_jsonl(prompts)]))
        cache_dir = directory / "work" / "cache" / model / plan.base_name(dataset)
        answered = _answered(cache_dir, keys, bool(spec.get("keep_failed")))
        if answers_shared_across_datasets(spec):  # infer borrows the model's answers to other datasets
            for folder in other_dataset_folders(cache_dir):
                answered |= _answered(folder, keys - answered, False)
    except (InputError, OSError, ValueError, KeyError, TypeError):
        return None  # the count is a hint: a pair whose plan fails says so in the run itself
    return len(answered), len(keys)


def _answered(folder: Path, keys: set[str], keep_failed: bool) -> set[str]:
    """Keys of `keys` with an answer in the cache folder (read only; failures count with keep_failed)."""
    from .cache import _KEY  # records are written with sorted keys: "key" is found without parsing

    found = set()
    for path in sorted(folder.glob("*.jsonl")) if keys else []:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = _KEY.search(line)
                if not m or m[1] not in keys or m[1] in found:
                    continue
                try:
                    ok = json.loads(line).get("ok", True)
                except (json.JSONDecodeError, AttributeError):
                    continue  # a torn last line of a killed writer
                if ok or keep_failed:
                    found.add(m[1])
    return found


def status_rows(directory: str | Path = ".", config: str | None = None) -> list[dict]:
    directory = Path(directory).resolve()
    rows, pairs, cfg = snakemake_summary(directory, config)

    @functools.cache
    def plan():  # resolved only if some pair's inference is still to run
        from .config import load_plan

        return load_plan(cfg, _basedir(directory))

    def answers(m, d):
        try:
            return cached_answers(directory, plan(), m, d)
        except InputError:
            return None

    out = []
    for m, d in pairs:
        row = classify(rows, m, d, functools.partial(answers, m, d))
        row["score"] = _score(directory, m, d) if row["state"] in ("finished", "would rerun") else "–"
        out.append(row)
    return out


def _score(directory: Path, model: str, dataset: str) -> str:
    from .report.summary import read_cell

    try:
        cell = read_cell(directory / "results", model, dataset)
    except InputError:
        return "?"
    return "–" if cell.value is None else f"{cell.value:.2f}"


def status_table(directory: str | Path = ".", config: str | None = None) -> str:
    rows = status_rows(directory, config)
    if not rows:
        return "No model x dataset is configured."
    head = ["model", "dataset", "state", "score", "would run", "why"]
    table = [head] + [[r["model"], r["dataset"], r["state"], r["score"], r["stages"], r["why"]] for r in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = {s: sum(r["state"] == s for r in rows) for s in STATES}
    lines.append("\n" + "; ".join(f"{n} {s} ({STATES[s]})" for s, n in counts.items() if n))
    return "\n".join(lines)
