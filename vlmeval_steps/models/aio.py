"""One asyncio event loop per process, in a background thread, for every API request.

A request in flight then costs a coroutine, not a thread: 128 requests in flight are 128 small
tasks on one loop instead of 128 threads fighting over the GIL. Synchronous callers (the judge's
row threads, a user's script) submit a coroutine and wait for it (`run`); the infer stage streams
answers back to its own thread as they arrive (`stream`), where they are written to the cache.
"""
from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any, Awaitable, Callable, Iterable, Iterator

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()


def loop() -> asyncio.AbstractEventLoop:
    """The process's API loop, started on first use (a daemon thread: it never blocks exit)."""
    global _loop, _thread
    with _lock:
        if _loop is None or not _thread.is_alive():
            ready = threading.Event()
            new = asyncio.new_event_loop()

            def main():
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            _thread = threading.Thread(target=main, name="vlmeval-steps-api-loop", daemon=True)
            _thread.start()
            ready.wait()
            _loop = new
        return _loop


def in_loop_thread() -> bool:
    return _thread is not None and threading.current_thread() is _thread


def run(coro: Awaitable) -> Any:
    """Run `coro` on the API loop and wait for its result (from any thread but the loop's)."""
    if in_loop_thread():
        raise RuntimeError("a blocking API call from inside the API loop; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(coro, loop()).result()


_DONE = object()


def stream(fn: Callable[[Any], Awaitable], items: Iterable, concurrency: int) -> Iterator[list]:
    """Run `fn(item)` for every item with `concurrency` in flight; yield lists of results as they
    arrive (everything ready at that moment, so the caller can write them with one fsync).

    An exception from `fn` stops the rest and is raised here. Closing the iterator early (an error
    in the caller) cancels what is in flight and sends nothing more. Ctrl-C (KeyboardInterrupt while
    waiting here, or thrown in with `throw()` by a caller busy with the last batch) does the same, but
    first yields the answers that had already arrived, so the caller can keep them; then it raises."""
    results: queue.SimpleQueue = queue.SimpleQueue()
    pending = iter(items)
    stop = threading.Event()

    async def worker():
        for item in pending:  # the workers share one iterator: each item is taken once
            if stop.is_set():
                return
            results.put((True, await fn(item)))

    async def driver():
        tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
        try:
            for done in asyncio.as_completed(tasks):
                await done
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            results.put((False, exc))
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            results.put(_DONE)

    future = asyncio.run_coroutine_threadsafe(driver(), loop())

    def stop_workers():
        stop.set()
        if not future.done():
            future.cancel()
        try:
            future.result(timeout=30)
        except BaseException:  # noqa: BLE001 - cancelled or already raised
            pass

    def arrived(block: bool) -> tuple[list, BaseException | None, bool]:
        """Everything in the queue now (waiting for a first entry if `block`): answers, an error, done."""
        entries = [results.get()] if block else []
        while True:
            try:
                entries.append(results.get_nowait())
            except queue.Empty:
                break
        answers = [e[1] for e in entries if e is not _DONE and e[0]]
        error = next((e[1] for e in entries if e is not _DONE and not e[0]), None)
        return answers, error, any(e is _DONE for e in entries)

    def rest_after_stop(done: bool) -> list:
        """Answers that arrive until the driver has cancelled its workers (it then puts _DONE)."""
        rest, deadline = [], time.monotonic() + 10
        while not done and time.monotonic() < deadline:
            try:
                entry = results.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            done = entry is _DONE
            if not done and entry[0]:
                rest.append(entry[1])
        return rest

    done = False
    try:
        while True:
            try:
                answers, error, done = arrived(block=True)
                if answers:  # what arrived before an error is still the caller's to keep
                    yield answers
            except KeyboardInterrupt:
                stop_workers()  # nothing more is sent; what is in flight is cancelled
                rest = rest_after_stop(done)
                if rest:
                    yield rest
                raise
            if error is not None:
                raise error
            if done:
                return
    finally:
        stop_workers()
