"""Answer extraction: upstream's rules first, an LLM judge only on what they cannot decide.

A judge, when configured, is an object with

    name: str                                    # as it appears in file names ("gpt-4o-mini")
    nproc: int                                   # requests it takes at once (judge/parallel.py)
    ask(prompt: str, temperature: float | None = None, max_tokens: int | None = None,
        attempt: int = 0) -> str | None

`ask` returns the judge's reply, or None when the judge failed after its retries. Replies are
cached by the judge itself (keyed by its settings, the prompt, temperature, max_tokens and
attempt), so a rerun or a re-score costs no calls. temperature/max_tokens default to the judge's
configured values (0 and 2048 unless the config says otherwise). `attempt` numbers repeated
asks of the same prompt at the same temperature (upstream's MCQ retry loop): each is a request
of its own, and a replay gets the same replies. A prompt holding a prediction that failed at
inference (FAIL_MSG) is not sent: `ask` returns None (datasets should not build one). If any
request still fails, the judge stage fails after extraction (unless the judge has
keep_failed), so a None never turns silently into a score.

Dataset types build their judge prompts and parse the replies (e.g. judge/mcq.py for multiple
choice); the judge only answers prompts. The implementation is judge/llm.py (LLMJudge).
"""
