"""Throughput of one VLM architecture through TransformersVLM at batch sizes 1, 8 and 32.

    python perf/bench_models.py                        # tiny random Qwen2-VL, CPU
    python perf/bench_models.py --arch internvl,gemma3 --threads 1
    python perf/bench_models.py --model /models/Qwen2-VL-2B-Instruct --device cuda --dtype bfloat16

Without --model, each --arch is the tiny random-weight checkpoint the tests build (tests/tiny_vlms.py:
two layers, 64 wide, a one- or two-layer vision tower), so the figures measure TransformersVLM's
fixed costs for that architecture (chat template, image processing and tiling, the generate
loop), not a real model's compute. The prompts are the demo benchmark's 120 image questions,
repeated to --samples; the script says whether each batch size answers as batch size 1.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]


def main():
    from tests.tiny_vlms import TINY_VLMS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="qwen2_vl", help=f"comma-separated, of: {', '.join(sorted(TINY_VLMS))}")
    ap.add_argument("--model", type=Path, default=None, help="a real checkpoint instead of a tiny one")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, auto")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--samples", type=int, default=64, help="prompts per batch size (the demo's 120, cycled)")
    ap.add_argument("--max-new-tokens", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--repeat", type=int, default=2, help="timed passes per batch size; the fastest is shown")
    args = ap.parse_args()

    import logging

    import torch
    import transformers

    from bench_batching import demo_messages, measure
    from tests.tiny_vlms import save
    from vlmeval_steps.models.transformers_vlm import TransformersVLM

    logging.getLogger("vlmeval_steps").setLevel(logging.WARNING)
    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        base = demo_messages(Path(tmp))
        messages = (base * (args.samples // len(base) + 1))[:args.samples]
        for arch in ([None] if args.model else args.arch.split(",")):
            path = args.model
            if path is None:
                path = Path(tmp) / arch
                save(arch, path)
            model = TransformersVLM(str(path), device=args.device, dtype=args.dtype,
                                    max_new_tokens=args.max_new_tokens, do_sample=False)
            hardware = (torch.cuda.get_device_name(torch.device(model.device)) if model.device.startswith("cuda")
                        else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads")
            print(f"\n{model.model.config.model_type} ({'tiny random' if args.model is None else path}) on "
                  f"{model.device} ({hardware}), {args.dtype}, max_new_tokens {args.max_new_tokens}, "
                  f"{len(messages)} prompts; torch {torch.__version__}, transformers {transformers.__version__}")
            measure(model, messages, [int(b) for b in args.batch_sizes.split(",")], args.repeat)


if __name__ == "__main__":
    main()
