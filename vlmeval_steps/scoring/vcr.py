"""VCR (visual caption restoration) metrics as upstream's VCRDataset.evaluate (vlmeval/dataset/vcr.py).

A row's `answer` lists the covered n-grams ("crossed texts"). For each one, upstream looks in the
prediction (the text after the last 'Assistant: ') for the window of as many tokens as the crossed
text that shares a token with it and is most similar to it (difflib ratio of the window joined by
' ' (English) or '' (Chinese) against the crossed text; the first best wins). On that window:
exact match (same token list) and Jaccard (token sets). A prediction that refuses ("I can't",
"I cannot", "sorry", 无法, 抱歉) scores 0 on every blank. Exact_Match and Jaccard are means over all
blanks of all rows, as fractions. Upstream's main file is `{dataset}_{en|zh}_{easy|hard}_score.json`.

Tokens: upstream uses the spaCy pipelines en_core_web_sm / zh_core_web_sm, downloaded at run time.
Here the tokenizer is spaCy's own rule-based English tokenizer (`spacy.blank('en')`, the tokenizer
en_core_web_sm is built with: the same tokens). zh_core_web_sm segments words with a pkuseg model
that only ships inside that pipeline; we use spaCy's default Chinese segmentation, one token per
character (docs/parity.md: deviations). rouge1 (kept per blank, not in the score, as upstream) is
rouge-score's, which upstream's `evaluate.load('rouge')` wraps, with the same tokenizer.
"""
from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from ..cells import parse_list
from ..errors import InputError
from .common import attach_extracted, require_answers

REFUSALS = ("I can't", "I cannot")
REFUSALS_ANY_CASE = ("sorry",)
REFUSALS_ZH = ("无法", "抱歉")
_NLP: dict = {}


def language_of(dataset_name: str) -> str:
    return "en" if "EN" in dataset_name else "zh"


def difficulty_of(dataset_name: str) -> str:
    return "easy" if "EASY" in dataset_name else "hard"


def tokenize(text: str, language: str) -> list[str]:
    if language not in _NLP:
        import spacy

        _NLP[language] = spacy.blank(language)
    return [t.text for t in _NLP[language](text)]


def rough_filter(text: str) -> bool:
    """False for a refusal, which scores 0 on every blank."""
    if any(r in text for r in REFUSALS) or any(r in text.lower() for r in REFUSALS_ANY_CASE):
        return False
    return not any(r in text for r in REFUSALS_ZH)


def zero_result(crossed: str) -> dict:
    return dict(crossed_text=crossed, max_sim_val=0, max_sim_string="", precision=0, recall=0, f1=0, jaccard=0,
                rouge1=0, exact_match=0)


class _Tokenizer:
    """rouge-score's tokenizer interface, as evaluate's wrapper gives it."""

    def __init__(self, language: str):
        self.language = language

    def tokenize(self, text):
        return tokenize(text, self.language)


_ROUGE: dict = {}


def rouge1(prediction: str, reference: str, language: str) -> float:
    if language not in _ROUGE:
        from rouge_score import rouge_scorer

        _ROUGE[language] = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=False, tokenizer=_Tokenizer(language))
    return _ROUGE[language].score(reference, prediction)["rouge1"].fmeasure


def best_match(crossed: str, hay: str, language: str) -> dict:
    """Upstream's find_best_match for one crossed text in one prediction."""
    tokens_hay = tokenize(hay, language)
    tokens_needle = tokenize(crossed, language)
    splitter = "" if language == "zh" else " "
    n = len(tokens_needle)
    needle_set = set(tokens_needle)
    best_val, best_string, best_ngram = 0, "", ()
    for i in range(len(tokens_hay) - n + 1 if n else 0):
        ngram = tuple(tokens_hay[i:i + n])
        if needle_set.isdisjoint(ngram):
            continue
        window = splitter.join(ngram)
        similarity = SequenceMatcher(None, window, crossed).ratio()
        if similarity > best_val:
            best_val, best_string, best_ngram = similarity, window, ngram
    if not best_ngram:
        return zero_result(crossed)
    pred_set, ref_set = set(best_ngram), set(tokens_needle)
    correct = len(pred_set & ref_set)
    precision, recall = correct / len(pred_set), correct / len(ref_set)
    f1 = 0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    union = pred_set | ref_set
    return dict(crossed_text=crossed, max_sim_string=best_string, max_sim_val=best_val, precision=precision,
                recall=recall, f1=f1, jaccard=correct / len(union) if union else 0,
                rouge1=rouge1(best_string, crossed, language),
                exact_match=float(list(best_ngram) == list(tokens_needle)))


def crossed_texts(answer, index, dataset_name: str) -> list:
    value = parse_list(answer, brackets=False)
    if value is None:
        raise InputError(f"{dataset_name}: row index={index}: 'answer' must be a Python list of the covered "
                         f"texts, e.g. ['the river', 'in 1850']; got {str(answer)[:80]!r}.")
    return [str(v) for v in value]


def row_results(prediction: str, crossed: list, language: str) -> dict:
    """{blank number: result} for one row, as upstream's process_match_single_new."""
    text = str(prediction).split("Assistant: ")[-1]
    keep = rough_filter(text)
    return {str(i): best_match(c, text, language) if keep else zero_result(c) for i, c in enumerate(crossed)}


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> dict:
    """{'acc': one row Exact_Match, Jaccard; '{lang}_{difficulty}_score.json': upstream's file}."""
    require_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    language = language_of(dataset_name)
    per_row, exact, jaccard = {}, [], []
    for i, (index, answer, prediction) in enumerate(zip(df["index"], df["answer"], df["extracted"])):
        results = row_results(prediction, crossed_texts(answer, index, dataset_name), language)
        per_row[str(i)] = results  # upstream keys rows by position
        exact += [r["exact_match"] for r in results.values()]
        jaccard += [r["jaccard"] for r in results.values()]
    main = {"Exact_Match": float(np.mean(exact)) if exact else 0.0,
            "Jaccard": float(np.mean(jaccard)) if jaccard else 0.0}
    suffix = f"{language}_{difficulty_of(dataset_name)}_score.json"
    return {"acc": pd.DataFrame({k: [v] for k, v in main.items()}), suffix: dict(main, Predictions=per_row)}
