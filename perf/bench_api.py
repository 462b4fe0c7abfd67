"""Client-side throughput of API inference: the infer stage against a fixed-latency server.

    python perf/bench_api.py                 # the goals table of issue 14 (N=1000, ~45 KB images)
    python perf/bench_api.py --runs 0.2:8 0.2:128 0:128 -n 2000

The server is a minimal asyncio HTTP server in a separate process on 127.0.0.1 that waits
`latency` seconds and returns a fixed chat completion; it is not an OpenAI implementation and
exists only to measure the client (`vlmeval_steps.steps.infer.run`: the adapter, the event loop,
image encoding through the shared cache, durable cache appends). It counts the requests it
answers and the distinct questions among them, and every run is checked against that count:
every request really sent, none twice. Each prompt carries one 640x480 JPEG of ~45 KB (one of
`--images` distinct ones) sent at `img_size: -1` (re-encoded at quality 75, as upstream) and a text.

Reported per run: wall time, its ratio to the ideal ceil(N/nproc) x latency, requests/s and the
client process's CPU time per request (all its threads). nproc=1 runs `--n1` requests. The image
cache starts empty in a temp folder: the first encoding of each image is reported on its own
(it is paid once per image content and size, then shared by every model, shard and rerun).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPLY = json.dumps({
    "id": "bench", "object": "chat.completion", "created": 0, "model": "bench",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "A"}}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101}}).encode()


# ----- the fixed-latency server (runs in its own process) -----------------------------------------
QUESTION = re.compile(rb"Question (\d+):")


async def read_request(reader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 request off a kept-alive connection: its head and its body (content-length bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


async def _handle(reader, writer, latency, seen):
    try:
        while True:
            head, body = await read_request(reader)
            if head.startswith(b"GET /count"):  # the benchmark's check: requests and distinct questions
                reply = json.dumps(dict(requests=seen["n"], distinct=len(seen["q"]))).encode()
                seen.update(n=0, q=set())
            else:
                m = QUESTION.search(body)
                seen["n"] += 1
                seen["q"].add(m[1] if m else body)
                if latency:
                    await asyncio.sleep(latency)
                reply = REPLY
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(reply)).encode() + b"\r\n\r\n" + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(port: int, latency: float) -> None:
    seen = dict(n=0, q=set())

    async def main():
        server = await asyncio.start_server(lambda r, w: _handle(r, w, latency, seen), "127.0.0.1", port,
                                            backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def server_count(base: str) -> dict:
    """Requests answered and distinct questions since the last call (and reset both)."""
    with urllib.request.urlopen(base.rsplit("/v1", 1)[0] + "/count", timeout=10) as resp:
        return json.loads(resp.read())


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
def make_images(folder: Path, n_images: int) -> list[str]:
    """Photo-like 640x480 JPEGs of ~45 KB: a gradient plus noise, so JPEG has work to do."""
    from PIL import Image

    rnd = random.Random(0)
    images = []
    for i in range(n_images):
        img = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        noise = Image.effect_noise((640, 480), 40).convert("RGB")
        img = Image.blend(img, noise, 0.09 + 0.03 * rnd.random())
        path = folder / f"img{i}.jpg"
        img.save(path, quality=85)
        images.append(str(path))
    return images


def make_prompts(folder: Path, n: int, images: list[str], text_only: bool = False) -> Path:
    prompts = folder / f"prompts-{n}.jsonl"
    with open(prompts, "w") as fh:
        for i in range(n):
            message = [] if text_only else [dict(type="image", value=images[i % len(images)])]
            message.append(dict(type="text", value=f"Question {i}: which option is right?\nA. one\nB. two\n"))
            fh.write(json.dumps(dict(index=i, digest=f"bench-{i}", message=message)) + "\n")
    return prompts


def first_encodings(images: list[str]) -> float:
    """ms of CPU per image for its first encoding (into the benchmark's empty image cache)."""
    from vlmeval_steps.models.image_payload import shared_images

    store = shared_images()
    t_cpu = time.process_time()
    for path in images:
        store.get(path, -1)
    return 1000 * (time.process_time() - t_cpu) / len(images)


def run_one(base: str, prompts: Path, nproc: int, work: Path, tag: str) -> tuple[float, float]:
    from vlmeval_steps.steps import infer

    spec = {"class": "OpenAIAPI", "model": "bench", "api_base": base, "key": "sk-bench", "img_size": -1,
            "img_detail": "low", "nproc": nproc, "retry": 3, "wait": 0.5}
    cache = work / f"cache-{tag}" / "bench"
    shutil.rmtree(cache.parent, ignore_errors=True)
    t_cpu, t0 = time.process_time(), time.perf_counter()
    stats = infer.run(prompts, spec, 0, 1, cache, work / f"out-{tag}.jsonl", dataset="bench")
    wall, cpu = time.perf_counter() - t0, time.process_time() - t_cpu
    assert stats["failed"] == 0 and stats["asked"] == stats["total"], stats
    return wall, cpu


def run_judge(base: str, n: int, nproc: int, work: Path, tag: str) -> tuple[float, float]:
    """The LLM judge's path: LLMJudge.ask from judge/parallel.py's row threads, replies cached."""
    import pandas as pd

    from vlmeval_steps.judge.llm import LLMJudge
    from vlmeval_steps.judge.parallel import map_rows

    rows = pd.DataFrame(dict(index=range(n), prompt=[f"Question {i}: which option does the answer name?"
                                                     for i in range(n)]))
    judge = LLMJudge({"model": "bench-judge", "api_base": base, "key": "sk-bench", "nproc": nproc, "retry": 3},
                     cache_dir=work / f"judge-{tag}")
    t_cpu, t0 = time.process_time(), time.perf_counter()
    with judge:
        replies = map_rows(lambda r: judge.ask(r["prompt"]), rows, judge)
    wall, cpu = time.perf_counter() - t0, time.process_time() - t_cpu
    assert all(r == "A" for r in replies) and judge.stats["asked"] == n, judge.stats
    return wall, cpu


GOALS = [  # (what, run, field, goal, direction)
    ("client CPU ms per request, 45 KB image, img_size -1", None, "cpu_ms", 1.5, "<="),
    ("wall / ideal at 128 in flight, 200 ms server", (0.2, 128), "ratio", 1.15, "<="),
    ("requests/s against a zero-latency server, 128 in flight", (0.0, 128), "rps", 600, ">="),
    ("wall / ideal at 1 in flight, 200 ms server", (0.2, 1), "ratio", 1.03, "<="),
    ("wall / ideal at 8 in flight, 200 ms server", (0.2, 8), "ratio", 1.05, "<="),
]


def goals_table(rows: list[dict]) -> str:
    by_run = {(r["latency"], r["nproc"]): r for r in rows}
    lines = ["| goal | measured | target | met |", "|---|---|---|---|"]
    for what, run, field, goal, direction in GOALS:
        if run is None:  # the worst run with a server that takes time (zero latency is measured too)
            cands = [r[field] for r in rows]
            value = max(cands) if cands else None
        else:
            value = by_run.get(run, {}).get(field)
        if value is None:
            lines.append(f"| {what} | not run | {direction} {goal} | |")
            continue
        met = value <= goal if direction == "<=" else value >= goal
        lines.append(f"| {what} | {value:.2f} | {direction} {goal} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--latency", type=float, default=0.2, help=argparse.SUPPRESS)  # the server's
    ap.add_argument("-n", type=int, default=1000, help="requests per run")
    ap.add_argument("--n1", type=int, default=100, help="requests for nproc=1 runs")
    ap.add_argument("--images", type=int, default=50, help="distinct images among the prompts")
    ap.add_argument("--runs", nargs="+", default=["0.2:1", "0.2:8", "0.2:32", "0.2:128", "0:128"],
                    help="latency:nproc pairs")
    ap.add_argument("--text-only", action="store_true", help="prompts without images (the client's own cost)")
    ap.add_argument("--judge", action="store_true", help="the LLM judge's path instead (text prompts, row threads)")
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.latency)
        return
    import logging

    logging.basicConfig(level=logging.WARNING)
    os.environ["TQDM_DISABLE"] = "1"
    runs = [(float(r.split(":")[0]), int(r.split(":")[1])) for r in args.runs]
    servers = {lat: start_server(lat) for lat in sorted({lat for lat, _ in runs})}
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            os.environ["VLMEVAL_STEPS_IMAGE_CACHE"] = str(work / "images")  # starts empty
            import httpx2  # noqa: F401 - imports are not the client's per-request cost

            from vlmeval_steps.models import openai_api  # noqa: F401
            from vlmeval_steps.steps import infer  # noqa: F401

            images = make_images(work, args.images)
            sizes = [os.path.getsize(p) for p in images]
            first = first_encodings(images) if not args.text_only else 0.0
            prompts = {n: make_prompts(work, n, images, args.text_only) for n in {args.n, args.n1}}
            print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}; "
                  + ("the LLM judge's path, text prompts" if args.judge else "text only" if args.text_only else
                     f"{args.images} distinct 640x480 JPEGs of {min(sizes) // 1000}-{max(sizes) // 1000} KB, "
                     f"img_size -1; first encoding {first:.1f} ms CPU per image (once, then cached)"))
            print(f"{'latency':>7} {'nproc':>5} {'N':>6} {'wall s':>8} {'ideal s':>8} {'ratio':>6} {'req/s':>7} "
                  f"{'CPU ms/req':>10} {'server saw':>11}")
            for latency, nproc in runs:
                proc, base = servers[latency]
                n = args.n1 if nproc == 1 else args.n
                server_count(base)  # reset
                run = run_judge if args.judge else (lambda b, p, k, w, t: run_one(b, prompts[n], k, w, t))
                wall, cpu = run(base, n, nproc, work, f"{latency}-{nproc}")
                seen = server_count(base)
                # every request really sent, none twice (no retries in these runs)
                assert seen == dict(requests=n, distinct=n), f"server saw {seen}, expected {n} distinct requests"
                ideal = math.ceil(n / nproc) * latency
                row = dict(latency=latency, nproc=nproc, n=n, wall=wall, ideal=ideal,
                           ratio=wall / ideal if ideal else None, rps=n / wall, cpu_ms=1000 * cpu / n,
                           server_requests=seen["requests"])
                rows.append(row)
                ratio = f"{row['ratio']:>6.2f}" if ideal else f"{'-':>6}"
                print(f"{latency:>7} {nproc:>5} {n:>6} {wall:>8.2f} {ideal:>8.2f} {ratio} {n / wall:>7.1f} "
                      f"{row['cpu_ms']:>10.2f} {seen['requests']:>11}", flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
    print()
    print(goals_table(rows))
    print(json.dumps(dict(first_encoding_ms=round(first, 2), runs=rows)))


if __name__ == "__main__":
    main()
