"""Per-row outcome files: `results/{model}/{dataset}_rows.csv` (one line per scored item) and
`{dataset}_rows.json` (the RatioSpec saying how the metric is made of its columns).

Columns every table has: `index` (the dataset row), `unit` (the unit of resampling), the spec's
value columns, its group columns, and, for people, `question`, `prediction`, `answer`,
`extracted` and `correct` (what the report's per-sample views show), and `options` ('A. x\nB. y') for
multiple-choice rows.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..fileio import atomic_write_text, replacing
from .spec import RatioSpec

TEXT_COLUMNS = ("question", "options", "prediction", "answer", "extracted", "correct", "method")


@dataclass
class Outcomes:
    rows: pd.DataFrame
    spec: RatioSpec
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # derived arrays, computed once

    def index_keys(self) -> np.ndarray:
        """Each line's dataset row index, as text."""
        if "index" not in self.cache:
            self.cache["index"] = self.rows["index"].astype(str).to_numpy(dtype=object)
        return self.cache["index"]

    def index_signature(self) -> str:
        """A hash of the set of dataset rows scored: equal for two models scored on the same rows."""
        if "index_signature" not in self.cache:
            keys = np.unique(self.index_keys().astype(str))
            self.cache["index_signature"] = hashlib.sha256("\n".join(keys).encode()).hexdigest()
            self.cache["index_set"] = keys
        return self.cache["index_signature"]

    def binary_by_index(self) -> np.ndarray | None:
        """The 0/1 outcome of each dataset row, in sorted index order (None without a binary column)."""
        if not self.spec.binary:
            return None
        if "binary" not in self.cache:
            self.index_signature()
            first = pd.Series(self.rows[self.spec.binary].to_numpy(), index=self.index_keys().astype(str))
            first = first[~first.index.duplicated()]
            self.cache["binary"] = first.reindex(self.cache["index_set"]).to_numpy(dtype=int)
        return self.cache["binary"]

    def check(self, where: str = "outcomes") -> "Outcomes":
        missing = [c for c in ("index", "unit", *self.spec.columns, *self.spec.groups,
                               *([self.spec.strata] if self.spec.strata else [])) if c not in self.rows.columns]
        if missing:
            raise InputError(f"{where}: columns {missing} are missing; rerun the score stage to rewrite it.")
        return self

    def subset(self, column: str, value: str) -> pd.Series:
        """Lines in category `value` of group `column` (a multi-valued column holds 'a|b')."""
        col = self.rows[column].astype(str)
        if column in self.spec.multi:
            return col.map(lambda v: value in v.split("|"))
        return col == value

    def categories(self, column: str) -> list[str]:
        values = self.rows[column].dropna().astype(str)
        if column in self.spec.multi:
            values = pd.Series([v for x in values for v in x.split("|")], dtype=str)
        return sorted({v for v in values if v not in ("", "nan")})


def paths(acc_path: str | Path) -> tuple[Path, Path]:
    """`.../X_acc.csv` -> (`.../X_rows.csv`, `.../X_rows.json`)."""
    acc_path = Path(acc_path)
    stem = acc_path.name[: -len("_acc.csv")] if acc_path.name.endswith("_acc.csv") else acc_path.stem
    return acc_path.with_name(f"{stem}_rows.csv"), acc_path.with_name(f"{stem}_rows.json")


def write(outcomes: Outcomes, rows_csv: str | Path, spec_json: str | Path) -> None:
    rows_csv = Path(rows_csv)
    rows = outcomes.rows.copy()
    for col in outcomes.spec.columns:  # numbers, never True/False
        rows[col] = pd.to_numeric(rows[col].astype(float) if rows[col].dtype == bool else rows[col])
    with replacing(rows_csv) as tmp:
        rows.to_csv(tmp, index=False, encoding="utf-8")
    atomic_write_text(spec_json, outcomes.spec.to_json())


def read(rows_csv: str | Path, spec_json: str | Path | None = None, text: bool = True) -> Outcomes:
    """The outcome table and its spec; text=False skips the columns people read (faster, for statistics)."""
    rows_csv = Path(rows_csv)
    spec_json = Path(spec_json) if spec_json else rows_csv.with_suffix(".json")
    try:
        spec = RatioSpec.from_dict(json.loads(spec_json.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"{spec_json}: missing; rerun the score stage.") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"{spec_json}: not a valid outcome spec ({exc}); rerun the score stage.") from None
    # text stays text ("none", "NA" are answers); the value columns are read as numbers
    numeric = {c: "float64" for c in dict.fromkeys(spec.columns + ([spec.binary] if spec.binary else []))}
    usecols = None
    if not text:
        wanted = {"index", "unit", "split", *numeric, *spec.groups, *([spec.strata] if spec.strata else [])}
        usecols = lambda c: c in wanted  # noqa: E731
    try:
        rows = pd.read_csv(rows_csv, dtype=defaultdict(lambda: str, numeric), keep_default_na=False, usecols=usecols)
    except ValueError as exc:
        raise InputError(f"{rows_csv}: a value column ({', '.join(numeric)}) holds something that is not a number "
                         f"({exc}); rerun the score stage.") from None
    return Outcomes(rows, spec).check(str(rows_csv))

