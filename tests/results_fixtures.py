"""Score tables shaped as upstream writes them for each benchmark type, for summary and report tests."""
from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path

MME_PERCEPTION = ["existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork",
                  "OCR"]
MME_REASONING = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]
OCRBENCH = ["Text Recognition", "Scene Text-centric VQA", "Doc-oriented VQA", "Key Information Extraction",
            "Handwritten Mathematical Expression Recognition"]


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(header)
        w.writerows(rows)


def acc_tables(skill: float, rng: random.Random) -> dict[str, tuple[str, list[str], list[list]]]:
    """dataset -> (type, header, rows) for a model of the given skill (0..1)."""
    def p(spread=0.15):
        return max(0.0, min(1.0, skill + rng.uniform(-spread, spread)))

    mcq_cats = ["attribute", "recognition", "color", "shape"]
    mmb_cats = [f"category_{i}" for i in range(12)]
    mme = {c: round(200 * p(), 2) for c in MME_PERCEPTION + MME_REASONING}
    perception = sum(mme[c] for c in MME_PERCEPTION)
    reasoning = sum(mme[c] for c in MME_REASONING)
    pope_rows = [[s, 100 * p(0.05), 100 * p(), 100 * p(), 100 * p()] for s in ("Overall", "adversarial", "popular",
                                                                            "random")]
    hall_rows = [[s, 100 * p(), 100 * p(), 100 * p()] for s in ("Overall", "VD", "VS", "chart", "table")]
    ocr = {c: round(200 * p()) for c in OCRBENCH}
    final = sum(ocr.values())
    mathvista = [[s, 100, 60, 70, 60.0, 100 * p()] for s in ("Overall", "figure question answering",
                                                          "math word problem", "algebraic reasoning")]
    mmvet = [[s, 30, 100 * p()] for s in ("rec", "ocr", "know", "gen", "spat", "math", "Overall")]
    return {
        "DemoShapes": ("MCQ", ["split", "Overall", *mcq_cats], [["none", p(), *[p() for _ in mcq_cats]]]),
        "MMBench_DEV_EN": ("MCQ", ["split", "Overall", *mmb_cats], [["dev", p(), *[p() for _ in mmb_cats]]]),
        "MME": ("Y/N", ["perception", "reasoning", *mme], [[perception, reasoning, *mme.values()]]),
        "POPE": ("Y/N", ["split", "Overall", "acc", "precision", "recall"], pope_rows),
        "HallusionBench": ("Y/N", ["split", "aAcc", "fAcc", "qAcc"], hall_rows),
        "OCRBench": ("VQA", [*ocr, "Final Score", "Final Score Norm"], [[*ocr.values(), final, final / 10]]),
        "MathVista_MINI": ("VQA", ["Task&Skill", "tot", "prefetch", "hit", "prefetch_rate", "acc"], mathvista),
        "MMVet": ("VQA", ["Category", "tot", "acc"], mmvet),
        "TextVQA_VAL": ("VQA", ["Overall"], [[100 * p()]]),
    }


def write_results(results: Path, models: dict[str, float], datasets: list[str] | None = None,
                  failed: dict[tuple[str, str], int] | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """results/{model}/{dataset}_acc.csv and _provenance.json for each model (name -> skill)."""
    rng = random.Random(seed)
    pairs = []
    for model, skill in models.items():
        for dataset, (dtype, header, rows) in acc_tables(skill, rng).items():
            if datasets is not None and dataset not in datasets:
                continue
            _write_csv(results / model / f"{dataset}_acc.csv", header, rows)
            n = 200
            bad = (failed or {}).get((model, dataset), 0)
            none = rng.randint(0, 6) + bad
            prov = dict(model=model, dataset=dataset, dataset_type=dtype,
                        dataset_md5=hashlib.md5(dataset.encode()).hexdigest(),
                        judge="exact_matching", prompt_id="default", limit=None, rows=n, failed_predictions=bad,
                        extraction={"rule": n - none, "none": none}, package_version="0.1.0",
                        scored_at="2026-01-01T00:00:00+00:00")
            (results / model / f"{dataset}_provenance.json").write_text(json.dumps(prov, indent=2))
            pairs.append((model, dataset))
    return pairs
