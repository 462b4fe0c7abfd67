"""Local-model throughput by batch size: samples/s of TransformersVLM.generate_batch on the same prompts.

    python perf/bench_batching.py                          # demo model, CPU, batch sizes 1, 8, 32
    python perf/bench_batching.py --device cuda --model /models/Qwen2-VL-2B-Instruct --dtype bfloat16

Batch size 1 is how upstream's VLMEvalKit runs a local model (one generate() per sample). The
prompts are the demo benchmark's (120 multiple-choice questions with an image each, built by the
workflow's build_prompts step), repeated to --samples. Every batch size answers the same prompts,
and the script says whether the answers equal batch size 1's. The default model is the trained
tiny demo model (resources/models/tiny-llava-demo, or the test suite's cached copy; built if
neither exists, ~1 minute); any TransformersVLM checkpoint works with --model.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def find_demo_model() -> Path:
    from vlmeval_steps.fingerprint import fingerprint

    candidates = [REPO / "resources/models/tiny-llava-demo",
                  Path(os.environ.get("VLMEVAL_STEPS_TEST_CACHE", Path.home() / ".cache/vlmeval-steps-tests"))
                  / f"tiny-llava-demo-{fingerprint('demo_model')}"]
    for path in candidates:
        if (path / "config.json").exists():
            return path
    import subprocess

    out = Path(tempfile.mkdtemp(prefix="bench-model-")) / "tiny-llava-demo"
    print(f"training the demo model into {out} (a few minutes)", file=sys.stderr)
    # the workflow's command, in its own process: its reproducibility settings precede torch's start
    subprocess.run([sys.executable, "-m", "vlmeval_steps", "demo-model", "--out", str(out)], check=True)
    return out


def demo_messages(workdir: Path) -> list:
    from vlmeval_steps.config import load_plan, load_yaml
    from vlmeval_steps.fileio import read_jsonl
    from vlmeval_steps.steps import build_prompts

    info = load_plan(load_yaml(REPO / "config/config.yaml"), REPO).dataset("DemoShapes")
    out = workdir / "prompts.jsonl"
    build_prompts.run(info, REPO / "demo/DemoShapes.tsv", out, workdir / "images")
    return [r["message"] for r in read_jsonl(out)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="a TransformersVLM checkpoint (default: the demo model)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, auto")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--samples", type=int, default=128, help="prompts per batch size (the demo's 120, repeated)")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--repeat", type=int, default=2, help="timed passes per batch size; the fastest is shown")
    args = ap.parse_args()

    import logging

    import torch
    import transformers

    from vlmeval_steps.models.transformers_vlm import TransformersVLM

    logging.getLogger("vlmeval_steps").setLevel(logging.WARNING)
    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    model_path = args.model or find_demo_model()
    with tempfile.TemporaryDirectory() as tmp:
        base = demo_messages(Path(tmp))
        messages = (base * (args.samples // len(base) + 1))[:args.samples]
        model = TransformersVLM(str(model_path), device=args.device, dtype=args.dtype,
                                max_new_tokens=args.max_new_tokens, do_sample=False)
        device = model.device
        if device.startswith("cuda"):
            hardware = torch.cuda.get_device_name(torch.device(device))
        else:
            hardware = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
        print(f"model {model_path.name} on {device} ({hardware}), {args.dtype}, max_new_tokens "
              f"{args.max_new_tokens}, {len(messages)} prompts; torch {torch.__version__}, "
              f"transformers {transformers.__version__}")
        measure(model, messages, [int(b) for b in args.batch_sizes.split(",")], args.repeat)


def measure(model, messages: list, batch_sizes: list[int], repeat: int) -> None:
    """Print seconds, samples/s and speed-up per batch size, and how many answers equal the first's."""
    import torch

    device = model.device
    model.generate_batch(messages[:2])  # warm-up: first-call allocations and kernel choice
    reference = None
    print(f"{'batch size':>10} {'seconds':>8} {'samples/s':>10} {'speed-up':>9}  same answers as batch size 1")
    first_rate = None
    for bs in batch_sizes:
        times = []
        for _ in range(repeat):  # the fastest pass: the others were slowed by something else
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            answers = []
            for start in range(0, len(messages), bs):
                answers += model.generate_batch(messages[start:start + bs])
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        seconds = min(times)
        rate = len(messages) / seconds
        first_rate = first_rate or rate
        if reference is None:
            reference = answers
        same = sum(a == b for a, b in zip(answers, reference))
        print(f"{bs:>10} {seconds:>8.2f} {rate:>10.1f} {rate / first_rate:>8.1f}x  {same}/{len(messages)}")

if __name__ == "__main__":
    main()
