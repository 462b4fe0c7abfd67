"""BaseAPI's retry policy, decided once for generate and agenerate: which replies retry, which give up,
how many attempts, what comes back. A scripted generate_inner, no server, no waiting (wait=0)."""
import asyncio
import threading

import pytest

from vlmeval_steps.judge.matching import FAIL_MSG
from vlmeval_steps.models.api_base import APIConfigError, BaseAPI


class Scripted(BaseAPI):
    """generate_inner plays `script`: a (ret_code, answer, log) reply or an exception to raise."""

    def __init__(self, script, **kwargs):
        super().__init__(wait=0, verbose=False, **kwargs)
        self.script, self.calls = list(script), 0

    def generate_inner(self, inputs, **kwargs):
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, BaseException):
            raise step
        return step


def both_paths(script, **kwargs):
    """[(result, calls)] of generate and agenerate on fresh models with the same script."""
    out = []
    for path in ("sync", "async"):
        model = Scripted(script, **kwargs)
        result = model.generate("q") if path == "sync" else asyncio.run(model.agenerate("q"))
        out.append((result, model.calls))
    assert out[0] == out[1], f"generate and agenerate disagree: {out}"
    return out[0]


@pytest.mark.parametrize("script, expected, calls", [
    ([(0, "yes", "log")], ("yes", True, "log"), 1),
    ([(1, "", "e1"), (0, "yes", "ok")], ("yes", True, "ok"), 2),                # a failure, then success
    ([(0, "", "empty")], (FAIL_MSG, False, "empty"), 3),                          # an empty answer retries
    ([(0, f"x {FAIL_MSG}", "f")], (FAIL_MSG, False, "f"), 3),                    # FAIL_MSG inside: a failure
    ([(1, "body", "500")], (FAIL_MSG, False, "500"), 3),                          # never the failed body
    ([ValueError("boom")], (FAIL_MSG, False, "ValueError: boom"), 3),             # a client error retries
    ([(0, "yes")], (FAIL_MSG, False, "ValueError: not enough values to unpack (expected 3, got 2)"), 3),
])
def test_retry_then_give_up_after_the_attempts(script, expected, calls):
    assert both_paths(script, retry=3) == (expected, calls)


def test_not_retryable_gives_up_at_once():
    bad = {"error": "HTTP 400", "retryable": False}
    assert both_paths([(1, "", bad), (0, "yes", "ok")], retry=5) == ((FAIL_MSG, False, bad), 1)
    # retryable True (or absent) retries as a plain string log does
    assert both_paths([(1, "", {"retryable": True}), (0, "yes", "ok")], retry=5) == (("yes", True, "ok"), 2)


def test_at_least_one_attempt():
    assert both_paths([(1, "", "e")], retry=0) == ((FAIL_MSG, False, "e"), 1)


def test_a_configuration_error_aborts_every_request():
    for path in ("sync", "async"):
        model = Scripted([APIConfigError("bad key")], retry=5)
        with pytest.raises(APIConfigError):
            model.generate("q") if path == "sync" else asyncio.run(model.agenerate("q"))
        assert model.calls == 1 and model.aborted.is_set()
        # the next request is not even sent
        result = model.generate("q") if path == "sync" else asyncio.run(model.agenerate("q"))
        assert result == (FAIL_MSG, False, "aborted: another request hit a configuration error")
        assert model.calls == 1


def test_an_abort_during_the_wait_ends_the_request():
    for path in ("sync", "async"):
        model = Scripted([(1, "", "e")], retry=5)
        model.wait = 30.0  # a long backoff that the abort cuts short
        threading.Timer(0.2, model.aborted.set).start()
        result = model.generate("q") if path == "sync" else asyncio.run(model.agenerate("q"))
        assert result == (FAIL_MSG, False, "e") and model.calls == 1
