"""BaseAPI: upstream's interface for API models (vlmeval/api/base.py).

Subclasses implement `generate_inner(inputs, **kwargs) -> (ret_code, answer, log)`;
`generate` wraps it in the retry loop. Unlike upstream, a reply that never succeeded is
returned as FAIL_MSG (never the last failed body) with ok=False, so the infer stage records
it as failed instead of scoring it.

`log` may be a dict; these keys steer the retry loop (a plain string log is retried as upstream):
  retryable: False      stop now, the request itself is bad (e.g. HTTP 400); the sample fails
  retry_after: seconds  the server asked us to wait at least this long (HTTP 429/503 Retry-After)
An APIConfigError raised by generate_inner (bad key, wrong URL or model id) stops every
request of the job: retrying it per sample would only repeat the same error thousands of times.

`agenerate` is the same retry loop as a coroutine, for the infer stage's event loop
(models/aio.py). It awaits `agenerate_inner`; an adapter that only has the synchronous
`generate_inner` (a port of an upstream adapter) has it run in a thread of its own.
"""
from __future__ import annotations

import asyncio
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from ..errors import FAIL_MSG, InputError
from .base import normalise_input

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0       # seconds; the exponential backoff never waits longer than this
MAX_RETRY_AFTER = 300.0  # a server's Retry-After above this is capped (and logged)
CALL = object()          # what BaseAPI._attempts yields when it wants generate_inner run
ABORTED = "aborted: another request hit a configuration error"


class APIConfigError(InputError):
    """A failure no retry can fix (authentication, unknown model, wrong URL): the job stops."""


class BaseAPI:
    is_api = True
    INTERLEAVE = True
    allowed_types = ["text", "image"]
    PROMPT_ID: str | None = None

    def __init__(self, retry: int = 10, wait: float = 1, system_prompt: str | None = None, verbose: bool = True,
                 fail_msg: str = FAIL_MSG, **kwargs):
        self.retry = max(1, int(retry))
        self.wait = float(wait)
        self.system_prompt = system_prompt
        self.verbose = verbose
        self.fail_msg = fail_msg
        self.default_kwargs = kwargs
        # set when one request hits an APIConfigError: the others stop retrying at once
        self.aborted = threading.Event()
        self._threads: ThreadPoolExecutor | None = None  # for a sync generate_inner under agenerate
        self.concurrency = 4  # requests the caller keeps in flight (the infer stage sets nproc)

    def use_custom_prompt(self, dataset) -> bool:
        return False

    def build_prompt(self, line, dataset=None):
        raise NotImplementedError

    def generate_inner(self, inputs, **kwargs):
        raise NotImplementedError

    def backoff(self, attempt: int, log_value=None) -> float:
        """Seconds before attempt+1: exponential with jitter (so parallel requests that failed
        together do not retry together), and never less than the server's Retry-After."""
        base = min(MAX_BACKOFF, self.wait * (2 ** attempt))
        delay = base / 2 + random.random() * base / 2
        retry_after = log_value.get("retry_after") if isinstance(log_value, dict) else None
        if retry_after is not None:
            if retry_after > MAX_RETRY_AFTER:
                log.warning("server asked to wait %.0fs before retrying; waiting %.0fs", retry_after, MAX_RETRY_AFTER)
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        return delay

    def _verdict(self, attempt: int, ret_code, answer, last_log):
        """After one attempt: (answer, ok, log) when the request is done, else the seconds to wait."""
        if ret_code == 0 and answer and self.fail_msg not in answer:
            return answer, True, last_log
        retryable = not (isinstance(last_log, dict) and last_log.get("retryable") is False)
        if self.verbose:
            log.warning("%s attempt %d/%d failed: %s", type(self).__name__, attempt + 1, self.retry,
                        _short(last_log))
        if not retryable or attempt + 1 == self.retry:
            return self.fail_msg, False, last_log
        return self.backoff(attempt, last_log)

    def _attempts(self):
        """The retry loop itself, shared by `generate` and `agenerate`, which only do its I/O.

        A generator: it yields CALL to have generate_inner run once, and is sent the reply (or the
        exception it raised); it yields a number of seconds to have the caller wait, and is sent
        whether an abort cut the wait short. It returns the final (answer, ok, info).
        """
        last_log = None
        for attempt in range(self.retry):
            if self.aborted.is_set():
                return self.fail_msg, False, ABORTED
            outcome = yield CALL
            ret_code, answer = -1, None
            try:
                if isinstance(outcome, Exception):
                    raise outcome  # what generate_inner raised, judged here as if raised here
                ret_code, answer, last_log = outcome
            except APIConfigError:
                self.aborted.set()
                raise
            except Exception as exc:  # the retry loop must survive any client error (or a malformed reply)
                last_log = f"{type(exc).__name__}: {exc}"
            verdict = self._verdict(attempt, ret_code, answer, last_log)
            if isinstance(verdict, tuple):
                return verdict
            if (yield verdict):
                break
        return self.fail_msg, False, last_log

    def generate(self, message, **kwargs):
        """(answer, ok, info). ok is False when every attempt failed; answer is then FAIL_MSG."""
        message = normalise_input(message)  # a dialog too (multi-turn benchmarks)
        kwargs = {**self.default_kwargs, **kwargs}
        attempts, reply = self._attempts(), None
        try:
            while True:
                step = attempts.send(reply)  # the first send (None) starts it
                if step is not CALL:
                    # Event.wait instead of sleep, so an abort wakes every waiting thread at once
                    reply = self.aborted.wait(step)
                    continue
                try:
                    reply = self.generate_inner(message, **kwargs)
                except Exception as exc:  # handed to _attempts, which decides
                    reply = exc
        except StopIteration as done:
            return done.value

    async def agenerate_inner(self, inputs, **kwargs):
        """The synchronous generate_inner in a thread (adapters without a native coroutine)."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=max(1, self.concurrency),
                                               thread_name_prefix=type(self).__name__)
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, lambda: self.generate_inner(inputs, **kwargs))

    async def agenerate(self, message, **kwargs):
        """`generate` as a coroutine: the same attempts, verdicts and backoff (one `_attempts`)."""
        message = normalise_input(message)  # a dialog too (multi-turn benchmarks)
        kwargs = {**self.default_kwargs, **kwargs}
        attempts, reply = self._attempts(), None
        try:
            while True:
                step = attempts.send(reply)
                if step is not CALL:
                    reply = await self._await_wait(step)
                    continue
                try:
                    reply = await self.agenerate_inner(message, **kwargs)
                except Exception as exc:  # handed to _attempts, which decides
                    reply = exc
        except StopIteration as done:
            return done.value

    async def _await_wait(self, seconds: float) -> bool:
        """Sleep `seconds`, waking within 0.1 s of an abort; True when aborted."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not self.aborted.is_set():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await asyncio.sleep(min(left, 0.1))
        return self.aborted.is_set()


def _short(value, limit: int = 300) -> str:
    text = value.get("error", value) if isinstance(value, dict) else value
    return str(text)[:limit]
