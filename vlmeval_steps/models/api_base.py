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

    def generate(self, message, **kwargs):
        """(answer, ok, info). ok is False when every attempt failed; answer is then FAIL_MSG."""
        message = normalise_input(message)  # a dialog too (multi-turn benchmarks)
        kwargs = {**self.default_kwargs, **kwargs}
        last_log = None
        for attempt in range(self.retry):
            if self.aborted.is_set():
                return self.fail_msg, False, "aborted: another request hit a configuration error"
            ret_code, answer = -1, None
            try:
                ret_code, answer, last_log = self.generate_inner(message, **kwargs)
            except APIConfigError:
                self.aborted.set()
                raise
            except Exception as exc:  # the retry loop must survive any client error
                last_log = f"{type(exc).__name__}: {exc}"
            verdict = self._verdict(attempt, ret_code, answer, last_log)
            if isinstance(verdict, tuple):
                return verdict
            # Event.wait instead of sleep, so an abort wakes every waiting thread at once
            if self.aborted.wait(verdict):
                break
        return self.fail_msg, False, last_log

    async def agenerate_inner(self, inputs, **kwargs):
        """The synchronous generate_inner in a thread (adapters without a native coroutine)."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(max_workers=max(1, self.concurrency),
                                               thread_name_prefix=type(self).__name__)
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, lambda: self.generate_inner(inputs, **kwargs))

    async def agenerate(self, message, **kwargs):
        """`generate` as a coroutine: the same attempts, verdicts and backoff."""
        message = normalise_input(message)  # a dialog too (multi-turn benchmarks)
        kwargs = {**self.default_kwargs, **kwargs}
        last_log = None
        for attempt in range(self.retry):
            if self.aborted.is_set():
                return self.fail_msg, False, "aborted: another request hit a configuration error"
            ret_code, answer = -1, None
            try:
                ret_code, answer, last_log = await self.agenerate_inner(message, **kwargs)
            except APIConfigError:
                self.aborted.set()
                raise
            except Exception as exc:  # the retry loop must survive any client error
                last_log = f"{type(exc).__name__}: {exc}"
            verdict = self._verdict(attempt, ret_code, answer, last_log)
            if isinstance(verdict, tuple):
                return verdict
            deadline = asyncio.get_running_loop().time() + verdict
            while not self.aborted.is_set():  # wake within 0.1 s of an abort
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                await asyncio.sleep(min(left, 0.1))
            if self.aborted.is_set():
                break
        return self.fail_msg, False, last_log


def _short(value, limit: int = 300) -> str:
    text = value.get("error", value) if isinstance(value, dict) else value
    return str(text)[:limit]
