"""How long `snakemake -n` takes to plan a large evaluation: M models x D datasets x S shards.

    python perf/bench_planning.py                      # 50 x 90 x 4, as in docs/scale.md
    python perf/bench_planning.py --models 5 --datasets 4 --profile-top 25
    python perf/bench_planning.py --models-per-plan 5  # one plan of `vlmeval-steps run --models-per-plan 5`
    python perf/bench_planning.py --bare               # Snakemake's own floor, same DAG shape
    python perf/bench_planning.py --bare collapsed     # ... with merge+judge+score as one job
    python perf/bench_planning.py --bare infer-only    # ... only the per-shard infer jobs

It copies the workflow into a temp dir, writes D small TSVs (the demo generator, 4 images each)
and a config with M `custom_models` of S shards, then times a dry run from scratch (nothing built
yet, so every job is planned) and a second one with `--profile-top` under cProfile to show where
the time goes. Nothing is executed; the models do not need to exist.

`--bare` times a Snakefile with the same rules, files and dependencies but nothing else: no config,
no input functions, params or resources of ours, plain `true` commands. What that takes is
Snakemake's own cost for a DAG of this size, which no change to our rules can go below.
`--bare collapsed` is the same with merge, judge and score of a pair as one job (5 jobs per pair
instead of 7), `--bare infer-only` keeps only the per-shard infer jobs and what they need: the
floor for any plan that keeps one job per shard.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def make_workflow(root: Path, n_models: int, n_datasets: int, shards: int) -> None:
    from vlmeval_steps.demo import benchmark
    from vlmeval_steps.fileio import md5_of

    for name in ("Snakefile", "workflow", "config"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    (root / "data").mkdir()
    datasets = {}
    for i in range(n_datasets):
        path = root / "data" / f"Bench{i:02d}.tsv"
        benchmark.write(path, n_images=4, seed=1000 + i)
        datasets[path.stem] = {"url": f"data/{path.name}", "md5": md5_of(path), "type": "MCQ"}
    models = {f"Model{i:02d}": {"class": "TransformersVLM", "model_path": f"/models/model-{i:02d}",
                                "max_new_tokens": 64 + i, "shards": shards, "batch_size": 8}
              for i in range(n_models)}
    cfg = yaml.safe_load((root / "config/config.yaml").read_text())
    cfg.update(models=sorted(models), datasets=sorted(datasets), custom_models=models, custom_datasets=datasets)
    (root / "config/config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


BARE = """
MODELS = {models!r}
DATASETS = {datasets!r}
SHARDS = {shards}


wildcard_constraints:
    m="|".join(MODELS),
    d="|".join(DATASETS),
    s=r"\d+",
    n=r"\d+",


rule all:
    input:
        expand("results/{{m}}/{{d}}_acc.csv", m=MODELS, d=DATASETS),


rule download:
    output:
        "LMUData/.download/{{d}}.tsv",
    shell:
        "true"


rule verify:
    input:
        "LMUData/.download/{{d}}.tsv",
    output:
        "LMUData/{{d}}.tsv",
    shell:
        "true"


rule build_prompts:
    input:
        "LMUData/{{d}}.tsv",
    output:
        "resources/prompts/{{d}}/default.jsonl",
    shell:
        "true"


rule infer:
    input:
        "resources/prompts/{{d}}/default.jsonl",
    output:
        "work/predictions/{{m}}/{{d}}/shard-{{s}}-of-{{n}}.jsonl",
    shell:
        "true"


rule merge:
    input:
        tsv="LMUData/{{d}}.tsv",
        prompts="resources/prompts/{{d}}/default.jsonl",
        shards=expand("work/predictions/{{{{m}}}}/{{{{d}}}}/shard-{{s}}-of-{{n}}.jsonl", s=range(SHARDS), n=SHARDS),
    output:
        "results/{{m}}/{{d}}.tsv",
    shell:
        "true"


rule judge:
    input:
        "results/{{m}}/{{d}}.tsv",
    output:
        "work/judged/{{m}}/{{d}}.exact_matching.jsonl",
    shell:
        "true"


rule score:
    input:
        "results/{{m}}/{{d}}.tsv",
        "work/judged/{{m}}/{{d}}.exact_matching.jsonl",
    output:
        "results/{{m}}/{{d}}_acc.csv",
    shell:
        "true"
"""


def make_bare(root: Path, n_models: int, n_datasets: int, shards: int, variant: str = "full") -> None:
    models = [f"Model{i:02d}" for i in range(n_models)]
    datasets = [f"Bench{i:02d}" for i in range(n_datasets)]
    text = BARE.format(models=models, datasets=datasets, shards=shards)
    head, _, _ = text.partition("\nrule merge:")
    if variant == "collapsed":  # merge + judge + score of a pair in one job, the same files out
        text = head + BARE_COLLAPSED.format(shards=shards)
    elif variant == "infer-only":  # only what the per-shard infer jobs need
        text = head.replace('expand("results/{m}/{d}_acc.csv"',
                            f'expand("work/predictions/{{m}}/{{d}}/shard-{{s}}-of-{shards}.jsonl", s=range(SHARDS)')
    (root / "Snakefile").write_text(text)


BARE_COLLAPSED = """
rule evaluate:
    input:
        tsv="LMUData/{{d}}.tsv",
        prompts="resources/prompts/{{d}}/default.jsonl",
        shards=expand("work/predictions/{{{{m}}}}/{{{{d}}}}/shard-{{s}}-of-{{n}}.jsonl", s=range(SHARDS), n=SHARDS),
    output:
        "results/{{m}}/{{d}}.tsv",
        "work/judged/{{m}}/{{d}}.exact_matching.jsonl",
        "results/{{m}}/{{d}}_acc.csv",
    shell:
        "true"
"""


def dry_run(root: Path, targets: list[str] = ()) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds (user + system) of one `snakemake -n`, and the jobs it planned.
    CPU time is the steadier figure on a shared machine."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--quiet", "rules", "--workflow-profile", "none",
           *targets]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"snakemake -n failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    out = proc.stdout + proc.stderr
    total = re.search(r"^total\s+(\d+)$", out, re.M)
    return seconds, cpu, int(total[1]) if total else -1


def profiled_run(root: Path, top: int) -> str:
    """The same dry run in this process under cProfile, through Snakemake's own CLI entry point."""
    from snakemake.cli import main

    prof = cProfile.Profile()
    argv = sys.argv
    sys.argv = ["snakemake", "-n", "--cores", "1", "--quiet", "rules", "--workflow-profile", "none",
                "--directory", str(root), "--snakefile", str(root / "Snakefile")]
    prof.enable()
    try:
        main()
    except SystemExit:
        pass
    finally:
        prof.disable()
        sys.argv = argv
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--datasets", type=int, default=90)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2, help="timed dry runs (the best is reported)")
    ap.add_argument("--profile-top", type=int, default=0, help="also profile one run and print the top N functions")
    ap.add_argument("--one-model", action="store_true", help="plan one model's datasets, not the whole grid")
    ap.add_argument("--models-per-plan", type=int, default=0, metavar="K",
                    help="plan the first K models' datasets: one plan of `vlmeval-steps run --models-per-plan K`")
    ap.add_argument("--bare", nargs="?", const="full", choices=("full", "collapsed", "infer-only"),
                    help="time a bare Snakefile of the same DAG shape instead (or a smaller shape, see above)")
    ap.add_argument("--keep", type=Path, default=None, help="build the workflow copy here and keep it")
    args = ap.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-planning-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        if not (root / "Snakefile").exists():
            if args.bare:
                make_bare(root, args.models, args.datasets, args.shards, args.bare)
            else:
                make_workflow(root, args.models, args.datasets, args.shards)
        # --one-model: what `vlmeval-steps run --model Model00` plans (every dataset of one model);
        # --models-per-plan K: what each plan of `vlmeval-steps run --models-per-plan K` holds
        k = 1 if args.one_model else args.models_per_plan
        targets = [f"results/Model{m:02d}/Bench{i:02d}_acc.csv" for m in range(k) for i in range(args.datasets)]
        runs = [dry_run(root, targets) for _ in range(args.repeat)]
        jobs = runs[0][2]
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        what = (f"{f'bare Snakefile ({args.bare}), ' if args.bare else ''}{f'{k} model(s) of ' if k else ''}"
                f"{args.models} models x {args.datasets} datasets x {args.shards} shards")
        print(f"{what}: {jobs} jobs planned; "
              f"snakemake -n: {wall:.1f} s wall, {cpu:.1f} s CPU (best of {len(runs)}; wall "
              f"{', '.join(f'{r[0]:.1f}' for r in runs)}; CPU {', '.join(f'{r[1]:.1f}' for r in runs)})")
        if args.profile_top:
            print(profiled_run(root, args.profile_top))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
