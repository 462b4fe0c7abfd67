"""infer: answer one shard of a dataset's prompts with one model, through the answer cache.

Rows go to shard `position % num_shards`. Every answer is cached the moment it arrives under
a key of the model's generation settings and the message, so a killed job, a changed shard
count or a changed prompt re-asks only what has no answer yet. The model is not even loaded
when the cache answers the whole shard. Failed API answers are cached as failed and asked
again on the next run unless keep_failed is set.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from ..cache import AnswerCache, answer_key
from ..config import generation_settings
from ..fileio import read_jsonl, write_jsonl
from ..judge.matching import FAIL_MSG
from ..models import build_model

log = logging.getLogger(__name__)


def shard_rows(prompts: list[dict], shard: int, num_shards: int) -> list[dict]:
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} is not in 0..{num_shards - 1}")
    return prompts[shard::num_shards]


def _ask_local(model, rows, dataset, batch_size):
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        answers = model.generate_batch([r["message"] for r in batch], dataset=dataset)
        for row, answer in zip(batch, answers):
            yield row, dict(prediction=answer, ok=True)


def _ask_api(model, rows, dataset, nproc):
    def one(row):
        answer, ok, info = model.generate(row["message"], dataset=dataset)
        rec = dict(prediction=answer, ok=ok)
        if not ok:
            rec["error"] = str(info)[:500]
        elif isinstance(info, dict) and "usage" in info:
            rec["usage"] = info["usage"]
        return row, rec

    with ThreadPoolExecutor(max_workers=max(1, nproc)) as pool:
        yield from pool.map(one, rows)


def run(prompts_path: str | Path, spec: dict, shard: int, num_shards: int, cache_dir: str | Path,
        out: str | Path, dataset: str, keep_failed: bool = False) -> dict:
    prompts = list(read_jsonl(prompts_path))
    rows = shard_rows(prompts, shard, num_shards)
    settings = generation_settings(spec)
    keys = {id(r): answer_key(settings, r["digest"]) for r in rows}
    stats = dict(total=len(rows), cached=0, asked=0, failed=0)
    with AnswerCache(cache_dir, writer=f"shard-{shard}-of-{num_shards}") as cache:
        todo = [r for r in rows if not cache.answered(keys[id(r)], keep_failed)]
        stats["cached"] = len(rows) - len(todo)
        log.info("shard %d/%d of %s: %d rows, %d answered in the cache, %d to ask", shard, num_shards, dataset,
                 len(rows), stats["cached"], len(todo))
        if todo:
            t0 = time.time()
            model = build_model(spec)
            log.info("model %s ready in %.1fs", spec["class"], time.time() - t0)
            answers = (_ask_api(model, todo, dataset, int(spec.get("nproc", 4))) if getattr(model, "is_api", False)
                       else _ask_local(model, todo, dataset, int(spec.get("batch_size", 1))))
            for row, rec in tqdm(answers, total=len(todo), desc=f"infer {dataset} shard {shard}", unit="sample",
                                 mininterval=1.0):
                cache.put(dict(key=keys[id(row)], index=row["index"], **rec))
                stats["asked"] += 1
        results = []
        for r in rows:
            rec = cache.get(keys[id(r)]) or dict(prediction=FAIL_MSG, ok=False)
            stats["failed"] += not rec.get("ok", True)
            results.append(dict(index=r["index"], prediction=rec["prediction"], ok=rec.get("ok", True),
                                key=keys[id(r)]))
    write_jsonl(out, results)
    log.info("shard %d/%d of %s done: %s", shard, num_shards, dataset, stats)
    return stats
