"""infer: answer one shard of a dataset's prompts with one model, through the answer cache.

Rows go to shard `position % num_shards`. Every answer is cached the moment it arrives under
a key of the model's generation settings and the message, so a killed job, a changed shard
count or a changed prompt re-asks only what has no answer yet. The model is not even loaded
when the cache answers the whole shard. An API answer that still fails after its retries is
cached and written as failed (ok=false), and the job then exits non-zero so that no score is
made from it and the next run asks again for just those rows; with keep_failed the job
succeeds and they count as wrong, as upstream. Token usage goes to `<out>.usage.json`.

An API model's answers do not depend on the dataset's name, so its answer cache is shared
across datasets: before asking, the shard borrows answers with the same key from the model's
other dataset folders (work/cache/{model}/*), and counts them (`borrowed`, which the provenance
reports as answers_from_other_datasets). API requests run as coroutines on one event loop
(models/aio.py), `nproc` in flight; answers that arrive together are appended with one fsync.
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from pathlib import Path

from tqdm import tqdm

from ..cache import AnswerCache, answer_keys
from ..model_keys import generation_settings
from ..names import split_limit
from ..errors import FAIL_MSG, InputError
from ..fileio import atomic_write_text, read_jsonl, write_jsonl
from ..gpu import claim_gpus, gpus_needed
from ..models import adapter_class, aio, build_model
from ..models.multiturn import is_dialog

log = logging.getLogger(__name__)


def shard_rows(prompts: list[dict], shard: int, num_shards: int) -> list[dict]:
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} is not in 0..{num_shards - 1}")
    return prompts[shard::num_shards]


def _ask_local(model, rows, dataset, batch_size):
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        answers = model.generate_batch([r["message"] for r in batch], dataset=dataset)
        yield [(row, dict(prediction=answer, ok=True)) for row, answer in zip(batch, answers)]


def _record(answer, ok, info) -> dict:
    rec = dict(prediction=answer, ok=ok)
    if not ok:
        rec["error"] = str(info.get("error", info) if isinstance(info, dict) else info)[:500]
        # transport trouble (not a request the server rejects): counts towards "endpoint down"
        rec["transient"] = not (isinstance(info, dict) and info.get("retryable") is False)
    elif isinstance(info, dict) and "usage" in info:
        rec["usage"] = info["usage"]
    return rec


def _ask_api(model, rows, dataset, nproc):
    """`nproc` requests in flight on the API loop; yields lists of (row, record) as they arrive."""
    model.concurrency = max(1, nproc)

    async def one(row):
        return row, _record(*await model.agenerate(row["message"], dataset=dataset))

    # an APIConfigError (bad key, wrong URL) ends the job here; closing the stream drops the rest
    yield from aio.stream(one, rows, nproc)


def write_all(answers, write) -> None:
    """write(batch) for every batch of answers. On Ctrl-C the answers that had already arrived are written
    too (the API stream hands them over when the interrupt is thrown into it), so an interrupt loses at
    most the requests in flight, as a crash does; then the KeyboardInterrupt goes on."""
    try:
        for batch in answers:
            write(batch)
    except KeyboardInterrupt:
        try:
            write(answers.throw(KeyboardInterrupt()))
        except (KeyboardInterrupt, StopIteration):
            pass
        raise


def answers_shared_across_datasets(spec: dict) -> bool:
    """API adapters ignore the dataset's name; a local adapter may not (upstream's change their
    generation settings per dataset), so their answers stay with their dataset."""
    cls = adapter_class(spec["class"])
    return bool(getattr(cls, "is_api", False)) and not getattr(cls, "ANSWERS_DEPEND_ON_DATASET", False)


def other_dataset_folders(cache_dir: str | Path) -> list[Path]:
    """The model's other datasets' answer caches: the sibling folders of work/cache/{model}/{dataset}."""
    here = Path(cache_dir).resolve()
    try:
        return sorted(p for p in here.parent.iterdir() if p.is_dir() and p.resolve() != here)
    except OSError:
        return []


def _ask_dialogs(model, rows, dataset, nproc):
    """Multi-turn rows (MMDU): every turn answered with the conversation so far (models/multiturn.py)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from ..models.multiturn import chat_mt

    def one(row):
        answers, ok, usage = chat_mt(model, row["message"], dataset=dataset)
        rec = dict(prediction=str(answers), ok=ok)
        if not ok:
            rec["error"] = next((a for a in answers if FAIL_MSG in a), "a turn failed")[:500]
        if usage:
            rec["usage"] = usage
        return row, rec

    if not getattr(model, "is_api", False):
        for row in rows:
            yield [one(row)]
        return
    with ThreadPoolExecutor(max_workers=max(1, nproc)) as pool:
        for fut in as_completed([pool.submit(one, r) for r in rows]):
            yield [fut.result()]


def add_usage(total: dict, usage: dict | None) -> None:
    for k, v in (usage or {}).items():
        total[k] = total.get(k, 0) + int(v or 0)


def write_usage(out: str | Path, record: dict) -> Path:
    """The job's token usage beside its output (`<out>.usage.json`); provenance sums these."""
    path = Path(str(out) + ".usage.json")
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


def run(prompts_path: str | Path, spec: dict, shard: int, num_shards: int, cache_dir: str | Path,
        out: str | Path, dataset: str, keep_failed: bool = False) -> dict:
    prompts = list(read_jsonl(prompts_path))
    rows = shard_rows(prompts, shard, num_shards)
    settings = generation_settings(spec)
    keys = dict(zip(map(id, rows), answer_keys(settings, [r["digest"] for r in rows])))
    stats = dict(total=len(rows), cached=0, borrowed=0, asked=0, failed=0)
    usage_run: dict = {}
    with AnswerCache(cache_dir, writer=f"shard-{shard}-of-{num_shards}") as cache, ExitStack() as held:
        if answers_shared_across_datasets(spec):
            stats["borrowed"] = cache.borrow(other_dataset_folders(cache_dir), set(keys.values()))
        todo = [r for r in rows if not cache.answered(keys[id(r)], keep_failed)]
        stats["cached"] = len(rows) - len(todo) - stats["borrowed"]
        log.info("shard %d/%d of %s: %d rows, %d answered in the cache, %d to ask (%d answered by another dataset's "
                 "run)", shard, num_shards, dataset, len(rows), len(rows) - len(todo), len(todo), stats["borrowed"])
        if todo:
            t0 = time.time()
            # hold free GPU ids (CUDA_VISIBLE_DEVICES) from before the model loads until the shard is done
            held.enter_context(claim_gpus(gpus_needed(spec)))
            model = build_model(spec)
            if hasattr(model, "close"):
                held.callback(model.close)
            log.info("model %s ready in %.1fs", spec["class"], time.time() - t0)
            # the model hears the benchmark's name without the limit, as upstream's would (OCRBench's pixel floor)
            name = split_limit(dataset)[0]
            if is_dialog(todo[0]["message"]):  # multi-turn benchmarks (issue 11: MMDU)
                answers = _ask_dialogs(model, todo, name, int(spec.get("nproc", 4)))
            elif getattr(model, "is_api", False):
                answers = _ask_api(model, todo, name, int(spec.get("nproc", 4)))
            else:
                answers = _ask_local(model, todo, name, int(spec.get("batch_size", 1)))
            held.callback(answers.close)  # on an error: cancel what is in flight, send nothing more
            t_ask, seen = time.time(), dict(failed=0, streak=0)
            down_after = max(10, 2 * int(spec.get("nproc", 4)))
            with tqdm(total=len(todo), desc=f"infer {dataset} shard {shard}", unit="sample", mininterval=1.0) as bar:

                def write(batch):
                    transient = [rec.pop("transient", False) for _, rec in batch]
                    cache.put_many([dict(key=keys[id(row)], index=row["index"], dataset=dataset, **rec)
                                    for row, rec in batch])
                    bar.update(len(batch))
                    for (row, rec), was_transient in zip(batch, transient):
                        stats["asked"] += 1
                        add_usage(usage_run, rec.get("usage"))
                        if rec["ok"]:
                            seen["streak"] = 0
                            continue
                        seen["failed"] += 1
                        bar.set_postfix(failed=seen["failed"], refresh=False)
                        log.warning("index %s failed after all retries: %s", row["index"], rec.get("error"))
                        seen["streak"] = seen["streak"] + 1 if was_transient else 0
                        if seen["streak"] >= down_after:  # stop, rather than retry every remaining sample for hours
                            model.aborted.set()
                            raise InputError(f"{seen['streak']} requests in a row failed after all retries; the "
                                             f"endpoint looks down or overloaded (last error: {rec.get('error')}). "
                                             f"The {stats['asked'] - seen['failed']} answers that arrived are "
                                             "cached; run again when it is back.")

                write_all(answers, write)
            stats["ask_seconds"] = round(time.time() - t_ask, 3)
        results, usage_all = [], {}
        for r in rows:
            rec = cache.get(keys[id(r)]) or dict(prediction=FAIL_MSG, ok=False)
            stats["failed"] += not rec.get("ok", True)
            add_usage(usage_all, rec.get("usage"))
            result = dict(index=r["index"], prediction=rec["prediction"], ok=rec.get("ok", True), key=keys[id(r)])
            if not result["ok"] and rec.get("error"):
                result["error"] = rec["error"]
            results.append(result)
    write_jsonl(out, results)
    if usage_run or usage_all or stats["borrowed"]:
        write_usage(out, dict(stats, usage_this_run=usage_run, usage_answers=usage_all))
    log.info("shard %d/%d of %s done: %s; tokens this run: %s; tokens behind all answers: %s", shard, num_shards,
             dataset, stats, usage_run or "-", usage_all or "-")
    if stats["failed"] and not keep_failed:
        # exit non-zero: Snakemake then reruns this job next time, which asks only the failed rows,
        # and no score is computed from answers that never arrived
        raise InputError(f"{stats['failed']} of {len(rows)} answers of {dataset} shard {shard}/{num_shards} failed "
                         "after all retries (reasons in the log above; the answers that did arrive are cached). "
                         "Run again to ask only the failed ones, or set keep_failed: true in the model's entry to "
                         "score them as failed (wrong), as upstream --keep-failed does.")
    return stats
