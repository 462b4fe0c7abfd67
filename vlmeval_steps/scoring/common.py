"""Helpers every scorer shares: joining the judge stage's records to the prediction rows, and
checking that there is ground truth to score against."""
from __future__ import annotations

import logging

import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)


def rows_without_answer(data: pd.DataFrame) -> list:
    """Indices of the rows whose ground truth reads as NaN (an empty cell, 'None', 'NA', ...)."""
    if "answer" not in data.columns:
        return []
    return data.loc[data["answer"].isna(), "index"].tolist()


def require_answers(data: pd.DataFrame, dataset_name: str, partial_ok: bool = False) -> None:
    """Stop, naming the rows, when ground truth is missing: a score would be wrong, not low.

    partial_ok: the scorer scores a NaN ground truth exactly as upstream does (as the text
    'nan', so the row is a miss unless the prediction is 'nan'), so a few such rows only warn,
    once, naming them; the score step counts them in the provenance. Only a file with no
    ground truth at all is refused."""
    if "answer" not in data.columns:
        raise InputError(f"{dataset_name}: the predictions have no 'answer' column, so they cannot be scored. "
                         "This split has no public ground truth: it is inference-only (submit the prediction file "
                         "to the benchmark's server), or use a TSV version that includes answers.")
    missing = rows_without_answer(data)
    if missing and partial_ok and len(missing) < len(data):
        log.warning("%s: %d of %d rows have no ground-truth 'answer' (indices %s%s); they are scored as upstream "
                    "scores them (against the text 'nan': a miss), and counted in the provenance.", dataset_name,
                    len(missing), len(data), missing[:10], " ..." if len(missing) > 10 else "")
    elif missing:
        raise InputError(f"{dataset_name}: {len(missing)} of {len(data)} rows have no ground-truth 'answer' "
                         f"(indices {missing[:5]}{' ...' if len(missing) > 5 else ''}); no score is written. "
                         "Use a TSV whose every row has an answer, or score only the rows that have one.")


def attach_extracted(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str,
                     columns=("extracted", "log")) -> pd.DataFrame:
    """The prediction rows (in file order, fresh 0..n-1 index) with the judge stage's columns."""
    if extracted is None or "index" not in extracted:
        raise InputError(f"{dataset_name}: the extraction records have no 'index'; rerun the judge stage.")
    ext = extracted.set_index(extracted["index"].astype(str))
    if ext.index.duplicated().any():
        dups = sorted(set(ext.index[ext.index.duplicated()]))[:5]
        raise InputError(f"{dataset_name}: the extraction records repeat indices {dups}; rerun the judge stage.")
    df = data.reset_index(drop=True).copy()
    keys = df["index"].astype(str)
    missing = sorted(set(keys) - set(ext.index))
    if missing:
        raise InputError(f"{dataset_name}: no extracted answer for indices {missing[:5]} (of {len(missing)}); "
                         "the extraction file is from another prediction file. Rerun the judge stage.")
    for col in columns:
        df[col] = [ext.at[k, col] if col in ext.columns else None for k in keys]
    return df
