"""MATH-Vision accuracy per subject (upstream's MATH_V_acc and post_check, vlmeval/dataset/utils/mathv.py).

A row is a hit when its extracted `res` equals the answer by upstream's `is_equal`: the same text
after strip + lower; else the same number when both are arithmetic expressions (|a - b| < 1e-6);
else the same number after both are read as LaTeX by latex2sympy and printed by sympy. With
choices, `res` is first turned into an option letter by the MCQ rules (can_infer).

Upstream evaluates the two strings with Python's eval(); here only number literals and arithmetic
operators are evaluated (anything else fails, as a name or a call fails upstream), so model output
is never executed. Each comparison gives up after 30 s, as upstream's timeout, counting as unequal.

The table: Subject (Overall and each category), tot, prefetch, hit, prefetch_rate, acc (in %),
sorted by Subject as pandas sorts (case-sensitive; an empty category last). Upstream's main file
is `MathVision_{judge}_score.csv`.
"""
from __future__ import annotations

import ast
import operator
import signal
import string
import threading
from collections import defaultdict

import pandas as pd

from ..cells import parse_list
from ..errors import InputError
from ..judge.matching import can_infer
from .common import attach_extracted, require_answers

PREFETCH_LOG = "Prefetch succeed"
TIMEOUT_S = 30
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
        ast.USub: operator.neg, ast.UAdd: operator.pos}


def arithmetic(text: str):
    """The value of a Python arithmetic expression of number literals; raises on anything else."""
    def value(node):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, complex):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1000:
                raise ValueError("exponent too large")  # upstream would hang until its timeout
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.operand))
        raise ValueError("not arithmetic")
    return value(ast.parse(text.strip(), mode="eval").body)


def _latex_equal(gt: str, pred: str) -> bool:
    from latex2sympy2_extended import latex2sympy

    a, b = latex2sympy(gt), latex2sympy(pred)
    if abs(arithmetic(str(a)) - arithmetic(str(b))) < 1e-6:
        return True
    return bool(abs(a - b) < 1e-6)


def _is_equal(asw, gt_asw) -> bool:
    asw, gt_asw = str(asw).lower().strip(), str(gt_asw).lower().strip()
    if gt_asw == asw:
        return True
    try:
        if abs(arithmetic(gt_asw) - arithmetic(asw)) < 1e-6:
            return True
    except Exception:  # noqa: BLE001 - upstream: any failure means "not equal this way"
        pass
    try:
        return _latex_equal(gt_asw, asw)
    except Exception:  # noqa: BLE001
        return False


class _Timeout(Exception):
    pass


def is_equal(asw, gt_asw) -> bool:
    """Upstream's is_equal with its 30 s limit (a signal alarm, so only in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return _is_equal(asw, gt_asw)

    def _alarm(signum, frame):
        raise _Timeout()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        return _is_equal(asw, gt_asw)
    except _Timeout:
        return False
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def choices_of(line, dataset_name: str = "MathVision") -> dict:
    """{'A': choice, ...}; {} for a free-form question ('[]')."""
    values = parse_list(line["choices"], brackets=False, tuples=True)
    if values is None:
        raise InputError(f"{dataset_name}: row index={line['index']}: 'choices' must be a Python list ('[]' for a "
                         f"free-form question), found {str(line['choices'])[:80]!r}.")
    return {string.ascii_uppercase[i]: v for i, v in enumerate(values)}


def post_check(line, response, prefetch: bool = False, dataset_name: str = "MathVision"):
    """Upstream's post_check. prefetch=True: the prefetched `res` or False; else: hit or not."""
    choices = choices_of(line, dataset_name)
    ans = line["answer"]
    if choices:
        res = can_infer(response, choices)
        if prefetch:
            return res  # the letter the rules find, right or wrong, as upstream
    else:
        res, ans = str(response), str(ans)
    if is_equal(res, ans):
        return res if prefetch else True
    return False


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MathVision") -> dict:
    """{'acc' and '{judge}_score': the Subject table; '{judge}.xlsx': rows with res, log and hit}."""
    require_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name)
    tot, fetch, hit = defaultdict(int), defaultdict(int), defaultdict(int)
    hits = []
    for line in df.to_dict("records"):
        res = line["extracted"].get("res", "") if isinstance(line["extracted"], dict) else ""
        ok = bool(post_check(line, res, prefetch=False, dataset_name=dataset_name))
        hits.append(ok)
        for k in ("Overall", line["category"]):
            tot[k] += 1
            fetch[k] += line["log"] == PREFETCH_LOG
            hit[k] += ok
    table = pd.DataFrame({"Subject": list(tot), "tot": [tot[k] for k in tot], "prefetch": [fetch[k] for k in tot],
                          "hit": [hit[k] for k in tot], "prefetch_rate": [fetch[k] / tot[k] * 100 for k in tot],
                          "acc": [hit[k] / tot[k] * 100 for k in tot]})
    table = table.sort_values("Subject", ignore_index=True)
    rows = df.drop(columns=["extracted"])
    rows.insert(len(rows.columns) - 1, "res", [e.get("res") if isinstance(e, dict) else None for e in df["extracted"]])
    rows["hit"] = [int(h) for h in hits]
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": rows}
