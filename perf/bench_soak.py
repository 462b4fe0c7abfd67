"""Soak: a long API run under load, with failures, a Ctrl-C in the middle and a resume (issue 28).

    python perf/bench_soak.py                     # 50,000 requests at 256 in flight; RSS at 10k, 25k, 50k
    python perf/bench_soak.py -n 2000 --nproc 64 --sizes --slow-seconds 0.2     # tests/test_soak.py's version

The real infer stage (`steps/infer.py` in a process of its own: the OpenAI adapter, the event loop,
the fsynced answer cache) against a mock chat-completion server on loopback, in another process (an
asyncio HTTP server as in perf/bench_api.py; it measures the client, not a model). Questions are text
only. `--fail-share` of the questions (5% by default) are trouble, half of them each way:
  failing  the first attempt fails (HTTP 500, 429 with Retry-After 0, or a connection dropped without a
           reply, in turn); the adapter's retry gets the answer;
  slow     every attempt waits `--slow-seconds` before the answer.
Every answer is `answer <question number>`, so each prediction can be checked.

1. Peak RSS at several N (`--sizes`): one uninterrupted run each from an empty cache, then the same shard
   again, answered wholly from its cache (no request). The second is the memory of what the stage holds
   per row (prompts, keys, cached answers, the output rows); the difference between the two is what the
   request path costs, which must not grow with N.
2. The interrupt: a run of `-n` questions gets SIGINT once half of them are in the cache, and is then run
   again. The server counts, per question, the answers it sent (HTTP 200). A question answered twice was
   asked again after the resume; the only ones allowed are those in flight at the interrupt: answered by
   the server but not in the cache when the first process ended (at most `nproc`). Nothing lost: every
   row of the resumed run's output is ok and is its question's answer; the cache has exactly N records,
   all whole lines.
3. fsync cost per answer: the client counts its fsync calls and their time (os.fsync wrapped).

Printed as a table and, last, one JSON line (what tests/test_soak.py reads).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench_api import read_request  # the same mock server's request reader (perf/ is on sys.path when run)

QUESTION = re.compile(rb"Question (\d+):")
FAULTS = ("500", "429", "drop")


# ----- the mock server (its own process) -------------------------------------------------------------
def trouble(q: int, fail_share: float) -> str | None:
    """'fail' or 'slow' for a fixed share of the questions (a multiplicative hash: spread, repeatable)."""
    h = (q * 2654435761 % 2 ** 32) / 2 ** 32
    return "fail" if h < fail_share / 2 else "slow" if h < fail_share else None


def _reply(q: int) -> bytes:
    return json.dumps({
        "id": "soak", "object": "chat.completion", "created": 0, "model": "soak",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"answer {q}"}}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32}}).encode()


def _http(status: str, body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def serve(port: int, fail_share: float, slow_seconds: float) -> None:
    state = dict(requests=0, failed=0, slow=0, inflight=0, attempts={}, answered={})

    async def handle(reader, writer):
        try:
            while True:
                head, body = await read_request(reader)
                if head.startswith(b"GET /reset"):  # a new run: count from zero
                    state.update(requests=0, failed=0, slow=0, attempts={}, answered={})
                    writer.write(_http("200 OK", b"{}"))
                    await writer.drain()
                    continue
                if head.startswith(b"GET /state"):
                    answered = state["answered"]
                    out = dict({k: v for k, v in state.items() if k not in ("attempts", "answered")},
                               answered=sorted(answered), twice=sorted(q for q, n in answered.items() if n > 1))
                    writer.write(_http("200 OK", json.dumps(out).encode()))
                    await writer.drain()
                    continue
                q = int(QUESTION.search(body)[1])
                state["requests"] += 1
                attempt = state["attempts"][q] = state["attempts"].get(q, 0) + 1
                kind = trouble(q, fail_share)
                if kind == "fail" and attempt == 1:
                    state["failed"] += 1
                    fault = FAULTS[q % len(FAULTS)]
                    if fault == "drop":  # no reply at all
                        writer.transport.abort()
                        return
                    writer.write(_http("500 Internal Server Error", b'{"error": {"message": "soak"}}') if fault == "500"
                                 else _http("429 Too Many Requests", b'{"error": {"message": "soak"}}', "retry-after: 0\r\n"))
                    await writer.drain()
                    continue
                state["inflight"] += 1
                try:
                    if kind == "slow":
                        state["slow"] += 1
                        await asyncio.sleep(slow_seconds)
                    writer.write(_http("200 OK", _reply(q)))
                    # counted once written to the socket: from here on the answer is the client's to lose
                    state["answered"][q] = state["answered"].get(q, 0) + 1
                    await writer.drain()
                finally:
                    state["inflight"] -= 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def server_state(base: str, reset: bool = False) -> dict:
    """The server's counts since the last reset; `reset` starts them again from zero."""
    with urllib.request.urlopen(base.rsplit("/v1", 1)[0] + ("/reset" if reset else "/state"), timeout=30) as resp:
        return json.loads(resp.read())


def start_server(fail_share: float, slow_seconds: float):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--fail-share", str(fail_share),
                             "--slow-seconds", str(slow_seconds)])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("soak server did not start")


# ----- the client: the infer stage in a process of its own ------------------------------------------------
def client(args) -> None:
    """Run infer.run on the prompts; on SIGINT (KeyboardInterrupt) stop as a user's Ctrl-C stops it.
    Writes its own figures (peak RSS, fsync calls and time) to --stats."""
    import logging

    logging.basicConfig(level=logging.ERROR)  # the retried failures' warnings would be 1,000s of lines
    os.environ["TQDM_DISABLE"] = "1"
    from vlmeval_steps.steps import infer

    real_fsync, synced = os.fsync, dict(calls=0, seconds=0.0)

    def timed_fsync(fd):
        t = time.perf_counter()
        real_fsync(fd)
        synced["calls"] += 1
        synced["seconds"] += time.perf_counter() - t

    os.fsync = timed_fsync
    spec = {"class": "OpenAIAPI", "model": "soak", "api_base": args.base, "key": "sk-soak", "nproc": args.nproc,
            "retry": 5, "wait": 0.05, "timeout": 60}
    out = dict(interrupted=False)
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        out["stats"] = infer.run(args.prompts, spec, 0, 1, args.cache, args.out, dataset="soak")
    except KeyboardInterrupt:
        out["interrupted"] = True
    out.update(wall=time.perf_counter() - t0, cpu=time.process_time() - cpu0, fsync=synced,
               maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    Path(args.stats).write_text(json.dumps(out))
    raise SystemExit(130 if out["interrupted"] else 0)


def cache_dir(tmp: Path, run) -> Path:
    """work/cache/{model}/{dataset} of its own per run: an API model's shard borrows answers from the model's
    other dataset folders (its siblings), which would answer a run from the one before."""
    return tmp / "runs" / str(run) / "cache" / "soak"


def make_prompts(path: Path, n: int) -> Path:
    with open(path, "w") as fh:
        for i in range(n):
            text = f"Question {i}: which option is right?\nA. one\nB. two\nC. three\nD. four\nAnswer with the letter."
            fh.write(json.dumps(dict(index=i, digest=f"soak-{i}", message=[dict(type="text", value=text)])) + "\n")
    return path


def cache_lines(cache: Path) -> int:
    """Whole records in the cache folder; a line that does not parse or lacks its newline fails."""
    n = 0
    for path in cache.glob("*.jsonl"):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path}: torn last line"
        for line in data.splitlines():
            json.loads(line)
            n += 1
    return n


def cached_questions(cache: Path) -> set[int]:
    found = set()
    for path in cache.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            found.add(int(json.loads(line)["index"]))
    return found


def run_client(base: str, prompts: Path, cache: Path, out: Path, nproc: int, stats: Path,
               interrupt_at: int | None = None) -> dict:
    """One client process; with interrupt_at, SIGINT once the cache holds that many lines."""
    cmd = [sys.executable, __file__, "--client", "--base", base, "--prompts", str(prompts), "--cache", str(cache),
           "--out", str(out), "--nproc", str(nproc), "--stats", str(stats)]
    with open(stats.with_suffix(".log"), "w") as log:
        # SIGINT as a terminal's foreground process gets it (Ctrl-C), also when this script inherited it ignored
        # (started with `&` from a script, or under nohup): else the client never sees the interrupt
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        if interrupt_at is not None:
            seen, offset, path = 0, 0, cache / "shard-0-of-1.jsonl"
            while seen < interrupt_at and proc.poll() is None:
                time.sleep(0.02)
                if path.exists():
                    with open(path, "rb") as fh:
                        fh.seek(offset)
                        chunk = fh.read()
                    seen += chunk.count(b"\n")
                    offset += len(chunk)
            os.kill(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=3600)
    result = json.loads(stats.read_text())
    result["returncode"] = rc
    if rc not in (0, 130):
        raise RuntimeError(f"client failed ({rc}): {stats.with_suffix('.log').read_text()[-3000:]}")
    return result


def check_output(out: Path, n: int) -> None:
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == n, (len(rows), n)
    bad = [r for r in rows if not r["ok"] or r["prediction"] != f"answer {r['index']}"]
    assert not bad, bad[:3]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--base", "--prompts", "--cache", "--out", "--stats"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    ap.add_argument("-n", type=int, default=50_000, help="requests of the interrupted run")
    ap.add_argument("--nproc", type=int, default=256, help="requests in flight")
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 25_000, 50_000],
                    help="N of the uninterrupted runs measured for peak RSS (none: skip them)")
    ap.add_argument("--fail-share", type=float, default=0.05, help="share of questions failing or slow")
    ap.add_argument("--slow-seconds", type=float, default=1.0)
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one, deleted after)")
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.fail_share, args.slow_seconds)
        return
    if args.client:
        client(args)
        return

    server, base = start_server(args.fail_share, args.slow_seconds)
    tmp = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="soak-"))
    tmp.mkdir(parents=True, exist_ok=True)
    report = dict(cpus=os.cpu_count(), load=round(os.getloadavg()[0], 1), python=sys.version.split()[0],
                  nproc=args.nproc, fail_share=args.fail_share, slow_seconds=args.slow_seconds, rss=[])
    print(f"{os.cpu_count()} CPUs, load average {report['load']}, python {report['python']}; {args.nproc} in flight, "
          f"{args.fail_share:.0%} of questions failing once or slow ({args.slow_seconds} s); work folder {tmp}",
          flush=True)
    try:
        # 1. peak RSS at several N: asking all N, then the same shard again answered wholly from its cache
        if args.sizes:
            print(f"{'N':>7} {'wall s':>7} {'req/s':>7} {'requests':>9} {'RSS MB':>7} {'cached MB':>9} "
                  f"{'asking-cached':>13} {'fsyncs':>7} {'answers/fsync':>13} {'fsync ms':>8} {'fsync us/answer':>15}",
                  flush=True)
        for n in args.sizes:
            prompts = make_prompts(tmp / f"prompts-{n}.jsonl", n)
            server_state(base, reset=True)
            r = run_client(base, prompts, cache_dir(tmp, n), tmp / f"out-{n}.jsonl", args.nproc, tmp / f"rss-{n}.json")
            check_output(tmp / f"out-{n}.jsonl", n)
            st = server_state(base)
            sent = st["requests"]
            assert not st["twice"], f"an uninterrupted run of {n} asked {len(st['twice'])} question(s) twice"
            cached = run_client(base, prompts, cache_dir(tmp, n), tmp / f"out-{n}.jsonl", args.nproc,
                                tmp / f"cached-{n}.json")
            assert cached["stats"]["asked"] == 0 and server_state(base)["requests"] == sent
            f = r["fsync"]
            row = dict(n=n, wall=r["wall"], rps=n / r["wall"], requests=sent, maxrss_mb=r["maxrss_mb"],
                       cached_maxrss_mb=cached["maxrss_mb"], request_path_mb=r["maxrss_mb"] - cached["maxrss_mb"],
                       fsyncs=f["calls"], answers_per_fsync=n / max(1, f["calls"]),
                       fsync_ms=1000 * f["seconds"] / max(1, f["calls"]), fsync_us_per_answer=1e6 * f["seconds"] / n)
            report["rss"].append(row)
            print(f"{n:>7} {r['wall']:>7.1f} {row['rps']:>7.0f} {sent:>9} {r['maxrss_mb']:>7.1f} "
                  f"{cached['maxrss_mb']:>9.1f} {row['request_path_mb']:>13.1f} {f['calls']:>7} "
                  f"{row['answers_per_fsync']:>13.1f} {row['fsync_ms']:>8.2f} {row['fsync_us_per_answer']:>15.1f}",
                  flush=True)
            shutil.rmtree(tmp / "runs" / str(n))

        # 2. interrupt and resume
        n = args.n
        prompts = make_prompts(tmp / f"prompts-{n}.jsonl", n)
        cache, out = cache_dir(tmp, "interrupted"), tmp / "out-interrupted.jsonl"
        server_state(base, reset=True)
        first = run_client(base, prompts, cache, out, args.nproc, tmp / "first.json", interrupt_at=n // 2)
        lines_at_stop = cache_lines(cache)
        # the server may still be working on requests the client sent before it stopped (a slow answer sleeps
        # on): wait until it has none, then the answers it sent that did not reach the cache are the requests
        # that were in flight at the interrupt
        deadline = time.time() + 60
        while server_state(base)["inflight"] and time.time() < deadline:
            time.sleep(0.1)
        in_flight = set(server_state(base)["answered"]) - cached_questions(cache)
        second = run_client(base, prompts, cache, out, args.nproc, tmp / "second.json")
        st = server_state(base)
        check_output(out, n)
        total_lines = cache_lines(cache)
        twice = set(st["twice"])
        report["interrupt"] = dict(
            n=n, returncode_first=first["returncode"], cached_at_interrupt=lines_at_stop,
            in_flight_at_interrupt=len(in_flight), asked_again_after_resume=second["stats"]["asked"],
            asked_twice=len(twice), asked_twice_beyond_in_flight=len(twice - in_flight),
            lost=n - total_lines, cache_records=total_lines, maxrss_first_mb=first["maxrss_mb"],
            maxrss_resume_mb=second["maxrss_mb"], wall_first=first["wall"], wall_resume=second["wall"],
            requests=st["requests"], failed_first_attempts=st["failed"], slow_answers=st["slow"],
            fsync_calls=first["fsync"]["calls"] + second["fsync"]["calls"],
            fsync_seconds=first["fsync"]["seconds"] + second["fsync"]["seconds"])
        i = report["interrupt"]
        print(f"interrupted run of N={n}: SIGINT with {lines_at_stop} answers cached (exit {first['returncode']} "
              f"after {first['wall']:.1f} s), {len(in_flight)} answered by the server but not yet cached (in flight); "
              f"the resume asked {i['asked_again_after_resume']} in {second['wall']:.1f} s; questions answered twice: "
              f"{i['asked_twice']} ({i['asked_twice_beyond_in_flight']} beyond those in flight); lost: {i['lost']}; "
              f"peak RSS {first['maxrss_mb']:.1f} / {second['maxrss_mb']:.1f} MB; {i['requests']} requests, "
              f"{i['failed_first_attempts']} failed first attempts, {i['slow_answers']} slow answers", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.dir:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
