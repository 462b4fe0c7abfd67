"""Prediction files: upstream's `{model}_{dataset}.xlsx` and our TSV, which never truncates.

xlsx is what VLMEvalKit users open and feed back to it, so we write it, but Excel caps a cell at
32,767 characters and rejects control characters: those cells are cut or cleaned in the xlsx
only, with a warning. The TSV beside it holds every prediction exactly.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd

from .errors import InputError
from .fileio import replacing

log = logging.getLogger(__name__)
XLSX_CELL_LIMIT = 32767


def write_tsv(df: pd.DataFrame, path: str | Path) -> None:
    with replacing(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False)


def write_xlsx(df: pd.DataFrame, path: str | Path) -> int:
    """Write with every string stored as a string (never a formula); returns cells shortened."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append([str(c) for c in df.columns])
    shortened = 0
    for row in df.itertuples(index=False, name=None):
        cells = []
        for v in row:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append(None)
            elif isinstance(v, str):
                clean = ILLEGAL_CHARACTERS_RE.sub("", v)
                if len(clean) > XLSX_CELL_LIMIT:
                    clean, shortened = clean[:XLSX_CELL_LIMIT], shortened + 1
                cell = WriteOnlyCell(ws, value=clean)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(v.item() if hasattr(v, "item") else v)
        ws.append(cells)
    with replacing(path) as tmp:
        wb.save(tmp)
    if shortened:
        log.warning("%s: %d cell(s) exceed Excel's %d-character limit and were cut in the xlsx; the .tsv beside it "
                    "is complete", path, shortened, XLSX_CELL_LIMIT)
    return shortened


def read_predictions(path: str | Path) -> pd.DataFrame:
    """A prediction file as upstream's evaluate() sees it: pandas' NaN rules, then str(prediction)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: prediction file not found.")
    if path.suffix == ".xlsx":
        df = pd.read_excel(path)
    elif path.suffix in (".tsv", ".csv"):
        df = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
    else:
        raise InputError(f"{path}: unknown prediction format; expected .xlsx or .tsv.")
    for col in ("index", "prediction"):
        if col not in df.columns:
            raise InputError(f"{path}: missing column {col!r}; the header has {list(df.columns)}.")
    # upstream lower-cases every column name except single upper-case letters (the options)
    df.columns = [c if (len(str(c)) == 1 and str(c).isupper()) else str(c).lower() for c in df.columns]
    df["prediction"] = [str(x) for x in df["prediction"]]
    return df
