"""MCQ benchmarks whose tables differ from report_acc's: MMT-Bench and GMAI-MMBench.

Prompt and answer extraction are ImageMCQDataset's; only the score tables change.
"""
from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..scoring import mcq as mcq_scoring
from ..scoring.mcq_tables import GMAI_GROUPS, lower_columns, report_acc_by_group, report_acc_mmt
from .mcq import ImageMCQDataset


class MMTBench(ImageMCQDataset):
    """MMT-Bench (upstream: any name containing 'MMT'): report_acc_MMT, all 32 l2-categories."""

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict[str, pd.DataFrame]:
        tables = mcq_scoring.score(data, extracted, self.upstream_name)
        tables["acc"] = report_acc_mmt(tables["result"])
        return tables

    def outcomes(self, tables: dict) -> None:
        return None  # report_acc_MMT's table: no per-row outcomes yet


class GMAIMMBench(ImageMCQDataset):
    """GMAI-MMBench: report_acc's table, plus `_{column}_acc.csv` for each grouping column."""

    REQUIRED_ANY_CASE = GMAI_GROUPS

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict[str, pd.DataFrame]:
        present = set(lower_columns(data).columns)
        missing = [c for c in GMAI_GROUPS if c not in present]
        if missing:
            raise InputError(f"{self.dataset_name}: the predictions lack column(s) {missing} (any case), which "
                             f"GMAI-MMBench's tables group by; the columns are {list(data.columns)}. Use the "
                             "benchmark's TSV in upstream's layout (its columns are copied into the prediction "
                             "file).")
        tables = mcq_scoring.score(data, extracted, self.upstream_name)
        for column in GMAI_GROUPS:
            tables[f"{column}_acc"] = report_acc_by_group(tables["result"], column)
        return tables

    def outcomes(self, tables: dict) -> None:
        return None  # its per-column tables: no per-row outcomes yet
