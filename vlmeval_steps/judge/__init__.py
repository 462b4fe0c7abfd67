"""Answer extraction: upstream's rules first, an LLM judge only on what they cannot decide.

A judge, when configured, is an object with

    name: str                                    # as it appears in file names ("gpt-4o-mini")
    ask(prompt: str, temperature: float = 0.0, max_tokens: int | None = None) -> str | None

`ask` returns the judge's reply, or None when the judge failed after its retries. Replies are
cached by the judge itself (keyed by its settings and the prompt), so a rerun or a re-score
costs no calls. Dataset types build their judge prompts and parse the replies (e.g.
judge/mcq.py for multiple choice); the judge only answers prompts.
"""
