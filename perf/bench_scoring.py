"""Time of the issue-11 rule scorers at full benchmark size, on generated predictions.

    PYTHONPATH=. python perf/bench_scoring.py               # COCO_VAL 5,000 rows, VCR 5,000 rows
    PYTHONPATH=. python perf/bench_scoring.py --rows 1000

COCO_VAL: 5,000 images, 5 reference captions each, 10-word predictions (BLEU, ROUGE-L, CIDEr by
pycocoevalcap). VCR_EN_EASY_ALL / VCR_ZH_EASY_ALL: 5,000 rows, 5 covered texts each, 40-token
predictions (spaCy tokenizer, best window, rouge1). The score function is called in-process
(no Snakemake, no file reading), wall time of one run.
"""
from __future__ import annotations

import argparse
import random
import time

import pandas as pd

WORDS = ("a man dog red blue street car sitting on the with of two people table white black woman "
         "standing next to near large small field water tree building city").split()
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所"


def sentence(rng, n, zh=False):
    return "".join(rng.choice(HANZI) for _ in range(n)) if zh else " ".join(rng.choice(WORDS) for _ in range(n))


def frames(rows, kind, rng):
    zh = kind == "VCR_ZH_EASY_ALL"
    data, ext = [], []
    for i in range(rows):
        if kind == "COCO_VAL":
            answer = str([sentence(rng, rng.randint(8, 12)) for _ in range(5)])
            pred = sentence(rng, 10)
        else:
            answer = str([sentence(rng, 2 if zh else rng.randint(1, 3), zh) for _ in range(5)])
            pred = sentence(rng, 40, zh)
        data.append(dict(index=i, question="q", answer=answer, prediction=pred))
        ext.append(dict(index=i, extracted=pred, log="", method="rule"))
    return pd.DataFrame(data), pd.DataFrame(ext)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    args = ap.parse_args()
    from vlmeval_steps.scoring import caption, vcr

    for kind in ("COCO_VAL", "VCR_EN_EASY_ALL", "VCR_ZH_EASY_ALL"):
        data, ext = frames(args.rows, kind, random.Random(0))
        fn = caption.score if kind == "COCO_VAL" else vcr.score
        t = time.perf_counter()
        tables = fn(data, ext, kind)
        wall = time.perf_counter() - t
        print(f"{kind}: {args.rows} rows in {wall:.1f} s ({args.rows / wall:.0f} rows/s): "
              f"{tables['acc'].iloc[0].round(3).to_dict()}")


if __name__ == "__main__":
    main()
