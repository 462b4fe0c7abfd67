"""What the SLURM profile costs per job on a real cluster: the demo with M local models through
`--profile workflow/profiles/slurm`, counted and timed.

    sudo bash scripts/setup_slurm.sh                # a single-node cluster with 4 fake GPUs
    python perf/bench_slurm.py                # 4 models x DemoShapes x 2 shards, both modes
    python perf/bench_slurm.py --mode profile --models 2

Modes:
  profile     the profile as shipped: infer shards queued (as job arrays), everything else local
  all-queued  every stage but download/verify its own SLURM job, as the profile did before
              (emulated with `--groups RULE=RULE-{wildcards}`: one group, so one job, per job)

For each mode it reports the SLURM jobs (queue entries, from `squeue --name <run id>`), the sbatch
calls (from the plugin's log), and the seconds from the first submission to the last result file
and of the whole run. Setting up the workflow copy and the demo model is not timed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

ALL_QUEUED = ["--groups", "build_prompts=bp-{dataset}-{prompt_id}", "merge=m-{model}-{dataset}",
              "judge=j-{model}-{dataset}-{judge}", "score=s-{model}-{dataset}"]


def demo_model() -> Path:
    """The trained demo model from the tests' cache (tests/conftest.py), trained there if missing."""
    from vlmeval_steps.demo.tiny_model import build_and_train
    from vlmeval_steps.fingerprint import fingerprint

    cache = Path(os.environ.get("VLMEVAL_STEPS_TEST_CACHE", Path.home() / ".cache" / "vlmeval-steps-tests"))
    out = cache / f"tiny-llava-demo-{fingerprint('demo_model')}"
    if not (out / "model.safetensors").exists():
        build_and_train(str(out))
    return out


def make_workflow(root: Path, n_models: int) -> None:
    for name in ("Snakefile", "workflow", "config", "demo"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    shutil.copytree(demo_model(), root / "resources" / "models" / "tiny-llava-demo")
    demo = yaml.safe_load((REPO / "config" / "models.yaml").read_text())["TinyLLaVA-Demo"]
    cfg = yaml.safe_load((root / "config" / "config.yaml").read_text())
    models = {f"Demo{i}": {**demo, "max_new_tokens": 8 - (i % 3)} for i in range(1, n_models)}
    cfg.update(models=["TinyLLaVA-Demo", *models], custom_models=models)
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def run(root: Path, mode: str, init_seconds: int) -> dict:
    for name in ("results", "work", "logs", ".snakemake"):
        shutil.rmtree(root / name, ignore_errors=True)
    cmd = [sys.executable, "-m", "snakemake", "--profile", "workflow/profiles/slurm",
           "--slurm-init-seconds-before-status-checks", str(init_seconds)]
    if mode == "all-queued":
        cmd += [*ALL_QUEUED, "--slurm-array-jobs", "none"]
    env = dict(os.environ, PYTHONPATH=str(REPO), SLURM_PARTITION="gpu", HF_HUB_OFFLINE="1")
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    total = time.time() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"{mode}: snakemake failed\n{out[-4000:]}")
    run_id = re.search(r"SLURM run ID: ([\w-]+)", out)[1]
    # SLURM's own record of the run's jobs (kept MinJobAge = 300 s after they end): %V = submit time
    entries = subprocess.run(["squeue", "-h", "--states=all", "--name", run_id, "-o", "%i %V"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
    submitted = [time.mktime(time.strptime(e.split()[1], "%Y-%m-%dT%H:%M:%S")) for e in entries if e.strip()]
    sbatch = len(re.findall(r"has been submitted with SLURM jobid|Submitted array job", out))
    last = max(p.stat().st_mtime for p in (root / "results").rglob("*") if p.is_file())
    return dict(mode=mode, jobs=len(submitted), sbatch=sbatch, total=total, first_to_last=last - min(submitted))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--mode", choices=["both", "profile", "all-queued"], default="both")
    ap.add_argument("--init-seconds", type=int, default=20,
                    help="the plugin's first status check after a submission (the profile's 20 s)")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-slurm-"))
    try:
        make_workflow(root, args.models)
        modes = ["profile", "all-queued"] if args.mode == "both" else [args.mode]
        for mode in modes:
            r = run(root, mode, args.init_seconds)
            print(f"{args.models} models x DemoShapes x 2 shards, {r['mode']}: {r['jobs']} SLURM jobs in "
                  f"{r['sbatch']} sbatch calls; first submission to last result {r['first_to_last']:.0f} s; "
                  f"whole run {r['total']:.0f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
