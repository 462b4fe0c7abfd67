"""BaseAPI: upstream's interface for API models (vlmeval/api/base.py).

Subclasses implement `generate_inner(inputs, **kwargs) -> (ret_code, answer, log)`;
`generate` wraps it in the retry loop. Unlike upstream, a reply that never succeeded is
returned as FAIL_MSG (never the last failed body) and the failure is flagged on
`self.last_failed`, so the infer stage records it as failed instead of scoring it.
"""
from __future__ import annotations

import logging
import random
import time

from ..judge.matching import FAIL_MSG
from .base import normalise_message

log = logging.getLogger(__name__)


class BaseAPI:
    is_api = True
    INTERLEAVE = True
    allowed_types = ["text", "image"]
    PROMPT_ID: str | None = None

    def __init__(self, retry: int = 10, wait: float = 1, system_prompt: str | None = None, verbose: bool = True,
                 fail_msg: str = FAIL_MSG, **kwargs):
        self.retry = retry
        self.wait = wait
        self.system_prompt = system_prompt
        self.verbose = verbose
        self.fail_msg = fail_msg
        self.default_kwargs = kwargs

    def use_custom_prompt(self, dataset) -> bool:
        return False

    def build_prompt(self, line, dataset=None):
        raise NotImplementedError

    def generate_inner(self, inputs, **kwargs):
        raise NotImplementedError

    def backoff(self, attempt: int, log_value=None) -> float:
        """Seconds to wait before the next attempt; subclasses honour Retry-After and the like."""
        return random.random() * self.wait * 2

    def generate(self, message, **kwargs):
        """(answer, ok, info). ok is False when every attempt failed; answer is then FAIL_MSG."""
        message = normalise_message(message)
        kwargs = {**self.default_kwargs, **kwargs}
        last_log = None
        for attempt in range(max(1, self.retry)):
            try:
                ret_code, answer, last_log = self.generate_inner(message, **kwargs)
                if ret_code == 0 and answer and self.fail_msg not in answer:
                    return answer, True, last_log
            except Exception as exc:  # the retry loop must survive any client error
                last_log = f"{type(exc).__name__}: {exc}"
            if self.verbose:
                log.warning("%s attempt %d/%d failed: %s", type(self).__name__, attempt + 1, self.retry,
                            str(last_log)[:300])
            if attempt + 1 < self.retry:
                time.sleep(self.backoff(attempt, last_log))
        return self.fail_msg, False, last_log
