"""Client-side throughput of API inference: the infer stage against a fixed-latency server.

    python benchmarks/bench_api.py                      # N=2000, nproc 1 8 32 128, latency 0.2 s
    python benchmarks/bench_api.py --latency 1.0 --nproc 32 128

The server is a minimal asyncio HTTP server in a separate process on 127.0.0.1 that waits
`--latency` seconds and returns a fixed chat completion; it is not an OpenAI implementation and
exists only to measure the client (the real adapter, thread pool, image re-encoding, durable
cache appends and progress bar, i.e. `vlmeval_steps.steps.infer.run`). Each prompt carries one
640x480 image (re-encoded to JPEG with img_size=512, as GPT4o is configured) and a text.

Reported per nproc: wall time, its ratio to the ideal ceil(N/nproc) x latency, and the client
process's CPU time per request. nproc=1 runs `--n1` requests (default 100) and is extrapolated
to N, which the output says.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPLY = json.dumps({
    "id": "bench", "object": "chat.completion", "created": 0, "model": "bench",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "A"}}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101}}).encode()


# ----- the fixed-latency server (runs in its own process) -----------------------------------------
async def _handle(reader, writer, latency):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            await asyncio.sleep(latency)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(REPLY)).encode() + b"\r\n\r\n" + REPLY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(port: int, latency: float) -> None:
    async def main():
        server = await asyncio.start_server(lambda r, w: _handle(r, w, latency), "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(latency: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--latency", str(latency)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("benchmark server did not start")


# ----- the client side -------------------------------------------------------------------------
def make_prompts(folder: Path, n: int, n_images: int = 50, text_only: bool = False) -> Path:
    from PIL import Image

    rnd = random.Random(0)
    images = []
    for i in range(n_images):  # photo-like: smooth gradient plus noise, so JPEG has work to do
        img = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        noise = Image.effect_noise((640, 480), 40).convert("RGB")
        img = Image.blend(img, noise, 0.3 + 0.4 * rnd.random())
        path = folder / f"img{i}.png"
        img.save(path)
        images.append(str(path))
    prompts = folder / "prompts.jsonl"
    with open(prompts, "w") as fh:
        for i in range(n):
            message = [] if text_only else [dict(type="image", value=images[i % n_images])]
            message.append(dict(type="text", value=f"Question {i}: which option is right?\nA. one\nB. two\n"))
            fh.write(json.dumps(dict(index=i, digest=f"bench-{i}", message=message)) + "\n")
    return prompts


def run_one(base: str, prompts: Path, nproc: int, work: Path) -> tuple[float, float]:
    from vlmeval_steps.steps import infer

    spec = {"class": "OpenAIAPI", "model": "bench", "api_base": base, "key": "sk-bench", "img_size": 512,
            "img_detail": "low", "nproc": nproc, "retry": 3, "wait": 0.5}
    cache = work / f"cache-{nproc}"
    shutil.rmtree(cache, ignore_errors=True)
    t_cpu, t0 = time.process_time(), time.perf_counter()
    stats = infer.run(prompts, spec, 0, 1, cache, work / f"out-{nproc}.jsonl", dataset="bench")
    wall, cpu = time.perf_counter() - t0, time.process_time() - t_cpu
    assert stats["failed"] == 0 and stats["asked"] == stats["total"], stats
    return wall, cpu


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("-n", type=int, default=2000, help="requests per nproc setting")
    ap.add_argument("--n1", type=int, default=100, help="requests for nproc=1 (extrapolated to N)")
    ap.add_argument("--nproc", type=int, nargs="+", default=[1, 8, 32, 128])
    ap.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    ap.add_argument("--text-only", action="store_true", help="prompts without images (the client's own cost)")
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.latency)
        return
    import logging

    logging.basicConfig(level=logging.WARNING)
    os.environ["TQDM_DISABLE"] = "1"
    proc, base = start_server(args.latency)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            prompts = {}
            for n in {args.n, args.n1}:
                (work / f"p{n}").mkdir()
                prompts[n] = make_prompts(work / f"p{n}", n, text_only=args.text_only)
            print(f"server latency {args.latency} s, {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
                  f"{'text only' if args.text_only else 'one 640x480 image per request, img_size 512'}")
            print(f"{'nproc':>5} {'N':>6} {'wall s':>8} {'ideal s':>8} {'ratio':>6} {'req/s':>7} {'CPU ms/req':>10}")
            for nproc in args.nproc:
                n = args.n1 if nproc == 1 else args.n
                wall, cpu = run_one(base, prompts[n], nproc, work)
                ideal = math.ceil(n / nproc) * args.latency
                note = f"  (N={n}, extrapolated to {args.n}: {wall * args.n / n:.0f} s)" if n != args.n else ""
                rows.append(dict(nproc=nproc, n=n, wall=wall, ideal=ideal, ratio=wall / ideal, rps=n / wall,
                                 cpu_ms=1000 * cpu / n))
                print(f"{nproc:>5} {n:>6} {wall:>8.2f} {ideal:>8.2f} {wall / ideal:>6.2f} {n / wall:>7.1f} "
                      f"{1000 * cpu / n:>10.2f}{note}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
