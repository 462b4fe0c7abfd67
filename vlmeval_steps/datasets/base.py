"""ImageBaseDataset: upstream's dataset interface, split along the workflow's stages.

Upstream's `evaluate(eval_file, **judge_kwargs)` does extraction and scoring in one call. Here
`extract` (the judge-extract stage) and `score` (the score stage) are separate so a changed
judge never re-reads the model and a changed metric never re-asks the judge; `evaluate`
composes the two for users who call it directly.
"""
from __future__ import annotations

import pandas as pd

from ..errors import InputError


class ImageBaseDataset:
    TYPE = "VQA"
    MODALITY = "IMAGE"
    REQUIRED_COLUMNS: tuple[str, ...] = ("index", "question")
    #: judge used when the config names none ("exact_matching" = rule-based only)
    DEFAULT_JUDGE = "exact_matching"
    #: True for benchmarks that cannot be scored without an LLM judge
    JUDGE_REQUIRED = False

    #: the registry entry, set by registry.build_dataset
    info = None

    def __init__(self, dataset: str = "", images: dict | None = None):
        self.dataset_name = dataset
        self._images = images or {}

    @property
    def upstream_name(self) -> str:
        """Upstream's spelling of the benchmark: what name-dependent behaviour keys on (aliases differ)."""
        return self.info.upstream_name if self.info is not None else self.dataset_name

    # ----- prompt-build -------------------------------------------------------------------
    def dump_image(self, line) -> list[str]:
        """Paths of this row's images (extracted beforehand by the prompt-build stage)."""
        try:
            return [ref.path for ref in self._images[str(line["index"])]]
        except KeyError:
            raise InputError(f"{self.dataset_name}: row index={line['index']} has no extracted image.") from None

    def image_digests(self, line) -> list[str]:
        return [ref.digest for ref in self._images.get(str(line["index"]), [])]

    def build_prompt(self, line) -> list[dict]:
        msgs = [dict(type="image", value=p) for p in self.dump_image(line)]
        msgs.append(dict(type="text", value=line["question"]))
        return msgs

    # ----- judge-extract and score --------------------------------------------------------
    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        """One record per row: {'index', 'extracted', 'log', 'method'}."""
        raise NotImplementedError(f"{type(self).__name__} has no answer extraction")

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Tables keyed by upstream's file suffix; 'acc' is the main one."""
        raise NotImplementedError(f"{type(self).__name__} has no scoring")

    def outcomes(self, tables: dict[str, pd.DataFrame]):
        """Per-row outcomes (stats/outcomes.py) of the scored tables: what intervals and comparisons resample.
        None: this benchmark has none yet (no interval, no `_rows.csv`)."""
        return None

    def evaluate(self, eval_file, judge=None, **judge_kwargs):
        """Upstream-compatible one-call evaluation of a prediction file (xlsx or tsv)."""
        from ..predictions import read_predictions

        data = read_predictions(eval_file)
        extracted = pd.DataFrame(self.extract(data, judge=judge))
        return self.score(data, extracted)["acc"]
