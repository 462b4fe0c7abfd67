"""Caption metrics as upstream's COCO_Caption_Scorer computes them (vlmeval/dataset/image_caption.py):
pycocoevalcap's BLEU-1..4 (corpus level, 'closest' reference length), ROUGE-L (mean over images,
beta 1.2) and CIDEr-D (document frequencies over the whole reference set), all x100.

As upstream: no PTB tokenisation and no lower-casing (the scorers split the raw strings on
spaces, so punctuation stays glued to words), the prediction is `str(prediction)` (an empty one
reads as 'nan'), and the references are the row's `answer` list. Upstream's main file is
`{dataset}_score.json`: {'Bleu': [b1, b2, b3, b4], 'ROUGE_L': r, 'CIDEr': c}.
"""
from __future__ import annotations

import pandas as pd

from ..cells import parse_list
from ..errors import InputError
from .common import attach_extracted, require_answers


def references(answer, index, dataset_name: str) -> list[str]:
    """The row's reference captions: upstream eval()s the cell and needs a non-empty list."""
    refs = parse_list(answer, brackets=False)
    if not refs:
        raise InputError(f"{dataset_name}: row index={index}: 'answer' must be a Python list of reference "
                         f"captions, e.g. ['A dog runs.', 'A brown dog.']; got {str(answer)[:80]!r}.")
    return [str(r) for r in refs]


def caption_scores(gts: dict, res: dict) -> dict:
    """{'Bleu': [4 values], 'ROUGE_L', 'CIDEr'} x100, from {key: [refs]} and {key: [prediction]}."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    rouge, _ = Rouge().compute_score(gts, res)
    cider, _ = Cider().compute_score(gts, res)
    return {"Bleu": [float(b) * 100 for b in bleu], "ROUGE_L": float(rouge) * 100, "CIDEr": float(cider) * 100}


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "COCO_VAL") -> dict:
    """{'acc': one row Bleu_1..Bleu_4, ROUGE_L, CIDEr; 'score.json': upstream's dict}."""
    require_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    gts = {str(i): references(a, idx, dataset_name) for i, (idx, a) in enumerate(zip(df["index"], df["answer"]))}
    res = {str(i): [str(p)] for i, p in enumerate(df["extracted"])}
    scores = caption_scores(gts, res)
    row = {f"Bleu_{n}": [b] for n, b in enumerate(scores["Bleu"], 1)}
    row.update(ROUGE_L=[scores["ROUGE_L"]], CIDEr=[scores["CIDEr"]])
    return {"acc": pd.DataFrame(row), "score.json": scores}
