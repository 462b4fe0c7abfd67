"""Scored tables of every scoring family, from seeded synthetic predictions, for the statistics tests."""
from __future__ import annotations

import random
from functools import partial

import pandas as pd

from vlmeval_steps.scoring import mathvista, mcq, mmvet, ocrbench, vqa, yorn


def _ext(df, extracted):
    return pd.DataFrame({"index": df["index"], "extracted": extracted, "log": "", "method": "rule"})


def mcq_case(name="MMStar", n=40, circular=False, splits=None, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        for k in range(3 if circular else 1):
            rows.append(dict(index=i + k * 1_000_000, question=f"q{i}", A="x", B="y", C="z", answer="ABC"[(i + k) % 3],
                             category=f"cat{i % 3}", **{"l2-category": f"L{i % 2}"},
                             **({"split": splits[i % len(splits)]} if splits else {})))
    df = pd.DataFrame(rows)
    pred = [a if rng.random() < 0.7 else "B" for a in df["answer"]]
    df["prediction"] = pred
    return df, _ext(df, pred), mcq.score, mcq.outcomes


def yorn_case(name, n=60, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        answer = "Yes" if i % 2 == 0 else "No"
        if name == "MME":
            rows.append(dict(index=i, question=f"q{i}", answer=answer, category=["OCR", "count", "code_reasoning"][i % 6 // 2],
                             image_path=f"img{i // 2}.png"))
        elif name == "HallusionBench":
            rows.append(dict(index=f"x_y_z_{i // 8}_{i // 2 % 4}_{i % 2}", question=f"q{i}", answer=answer,
                             category="VD" if i // 8 % 2 else "VS", **{"l2-category": ["chart", "table"][i // 16 % 2]}))
        else:  # POPE: some rows listed in two categories
            rows.append(dict(index=i, question=f"q{i}", answer=answer,
                             category=["random", "popular", "adversarial,random"][i % 3]))
    df = pd.DataFrame(rows)
    pred = [a if rng.random() < 0.75 else ("No" if a == "Yes" else "Yes") for a in df["answer"]]
    df["prediction"] = pred
    return df, _ext(df, pred), yorn.score, yorn.outcomes


def vqa_case(name="TextVQA_VAL", n=40, seed=0):
    rng = random.Random(seed)
    answers = [str([f"w{i}"] * 6 + [f"v{i}"] * 4) for i in range(n)]
    df = pd.DataFrame(dict(index=range(n), question=[f"q{i}" for i in range(n)], answer=answers,
                           category=[f"c{i % 2}" for i in range(n)]))
    pred = [rng.choice([f"w{i}", f"v{i}", "nope"]) for i in range(n)]
    df["prediction"] = pred
    return df, _ext(df, pred), vqa.score, vqa.outcomes


def ocrbench_case(n=40, seed=0):
    rng = random.Random(seed)
    cats = list(ocrbench.CATEGORIES)
    df = pd.DataFrame(dict(index=range(n), question=[f"q{i}" for i in range(n)], answer=[str([f"t{i}"]) for i in range(n)],
                           category=[cats[i % len(cats)] for i in range(n)]))
    pred = [f"it says t{i}" if rng.random() < 0.6 else "?" for i in range(n)]
    df["prediction"] = pred
    return df, _ext(df, pred), ocrbench.score, ocrbench.outcomes


def mathvista_case(n=40, seed=0):
    rng = random.Random(seed)
    df = pd.DataFrame(dict(index=range(n), question=[f"q{i}" for i in range(n)], answer=[str(i) for i in range(n)],
                           question_type="free_form", answer_type="integer", answer_option="",
                           task=[f"task{i % 3}" for i in range(n)],
                           skills=[str(["algebra", "logic"][: 1 + i % 2]) for i in range(n)]))
    df["prediction"] = [str(i) for i in range(n)]
    ext = pd.DataFrame({"index": df["index"], "log": "Prefetch succeed", "method": "rule",
                        "extracted": [dict(res=str(i), parsed=i if rng.random() < 0.6 else None) for i in range(n)]})
    return df, ext, mathvista.score, mathvista.outcomes


def mmvet_case(n=40, seed=0):
    rng = random.Random(seed)
    df = pd.DataFrame(dict(index=range(n), question=[f"q{i}" for i in range(n)], answer=["a"] * n,
                           category=[["rec", "rec,ocr", "ocr,math"][i % 3] for i in range(n)]))
    df["prediction"] = ["a"] * n
    ext = pd.DataFrame({"index": df["index"], "log": "", "method": "judge",
                        "extracted": [rng.choice([0.0, 0.5, 1.0]) for _ in range(n)]})
    return df, ext, mmvet.score, mmvet.outcomes


#: (dataset name, dataset type, case); a case takes seed=... for another model's predictions
CASES = [
    ("MMStar", "MCQ", partial(mcq_case, "MMStar")),
    ("MMBench_DEV_EN", "MCQ", partial(mcq_case, "MMBench_DEV_EN", circular=True)),
    ("MMMU_DEV_VAL", "MCQ", partial(mcq_case, "MMMU_DEV_VAL", splits=["dev", "validation"])),
    ("MME", "Y/N", partial(yorn_case, "MME")),
    ("POPE", "Y/N", partial(yorn_case, "POPE")),
    ("HallusionBench", "Y/N", partial(yorn_case, "HallusionBench")),
    ("AMBER", "Y/N", partial(yorn_case, "AMBER")),
    ("TextVQA_VAL", "VQA", partial(vqa_case)),
    ("OCRBench", "VQA", partial(ocrbench_case)),
    ("MathVista_MINI", "VQA", partial(mathvista_case)),
    ("MMVet", "VQA", partial(mmvet_case)),
]


def write_scored(results, model: str, name: str, dtype: str, case, md5: str = "0" * 32) -> None:
    """What the score stage leaves for one pair: `_acc.csv`, `_rows.csv`/`.json`, `_provenance.json`."""
    import json

    from vlmeval_steps.stats import outcomes as outcome_files
    from vlmeval_steps.steps.score import write_table

    data, ext, score, outcomes_of = case()
    tables = score(data, ext, name)
    folder = results / model
    folder.mkdir(parents=True, exist_ok=True)
    write_table(tables["acc"], folder / f"{name}_acc.csv")
    out = outcomes_of(tables, name)
    out.rows["method"] = "rule"
    outcome_files.write(out, *outcome_files.paths(folder / f"{name}_acc.csv"))
    (folder / f"{name}_provenance.json").write_text(json.dumps(dict(
        dataset=name, dataset_type=dtype, dataset_md5=md5, judge="exact_matching", prompt_id="default", rows=len(data),
        failed_predictions=0, extraction={"rule": len(data)})))
