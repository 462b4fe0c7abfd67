"""Multi-turn inference (upstream's inference_mt.chat_mt), for benchmarks whose prompt is a dialog.

A dialog is [{'role': 'user', 'content': [items]}, {'role': 'assistant', 'content': [reference]}, ...].
Turn i is answered with the conversation so far: the user turns and the model's *own* earlier
answers (never the reference answers). A model with its own `chat_inner` gets that history through
`chat` (upstream's interface; an API model's chat returns (answer, ok, info), as its generate does,
and sends the turns as role-tagged messages: models/openai_api.py). A model without one (upstream
asserts one) gets the history concatenated into one message: each user turn's items, then the
model's answer to it as a text item, then the current user turn. A turn that raises is answered FAIL_MSG + the error, as upstream.
The row's prediction is str(list of the turns' answers), as upstream stores it.
"""
from __future__ import annotations

from ..errors import FAIL_MSG
from .base import BaseModel


def is_dialog(message) -> bool:
    # a turn is {role, content}; a video benchmark's item may carry a role of its own ({type, value, role})
    return bool(message) and isinstance(message[0], dict) and "role" in message[0] and "content" in message[0]


def has_chat_inner(model) -> bool:
    own = getattr(type(model), "chat_inner", None)
    return own is not None and own is not BaseModel.chat_inner


def concatenated(stack: list[dict]) -> list[dict]:
    """The conversation so far as one message (for models without chat_inner)."""
    items = []
    for turn in stack:
        content = turn["content"]
        if isinstance(content, str):
            items.append(dict(type="text", value=content))
        else:
            items.extend(dict(item) for item in content)
    return items


def _answer(model, stack, dataset):
    """(answer, ok, usage) for the last user turn of `stack`."""
    if has_chat_inner(model):
        out = model.chat([dict(t) for t in stack], dataset=dataset)
    else:
        out = model.generate(concatenated(stack), dataset=dataset)
    if isinstance(out, tuple):  # an API model: (answer, ok, info)
        answer, ok, info = out
        return answer, ok, (info.get("usage") if isinstance(info, dict) else None)
    return out, True, None


def chat_mt(model, dialog: list[dict], dataset=None) -> tuple[list[str], bool, dict]:
    """Every user turn's answer; ok is False when a turn failed (an API failure or an error)."""
    if len(dialog) % 2:
        raise ValueError(f"a dialog alternates user and assistant turns; this one has {len(dialog)} entries")
    stack, answers, ok_all, usage = [], [], True, {}
    for i in range(len(dialog) // 2):
        stack.append(dialog[2 * i])
        try:
            answer, ok, used = _answer(model, stack, dataset)
        except Exception as exc:  # noqa: BLE001 - upstream records the error as the turn's answer
            answer, ok, used = FAIL_MSG + str(exc), False, None
        ok_all = ok_all and ok
        for k, v in (used or {}).items():
            usage[k] = usage.get(k, 0) + int(v or 0)
        stack.append(dict(role="assistant", content=[dict(type="text", value=answer)]))
        answers.append(answer)
    return answers, ok_all, usage
