"""The report's per-sample views, read from per-row outcomes: example wrong and unparsed answers of each
benchmark, and the rows where two models disagree, each with its image as a small inline thumbnail."""
from __future__ import annotations

import base64
import functools
import html
import io
import json
import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)
THUMB = 96  # px, longest side


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _short(text, n: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


@functools.lru_cache(maxsize=None)
def _prompt_images(prompts_file: str) -> dict[str, list[str]]:
    """index -> image paths, from the prompt-build stage's file."""
    out: dict[str, list[str]] = {}
    try:
        with open(prompts_file, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                out[str(rec["index"])] = [m["value"] for m in rec.get("message", []) if m.get("type") == "image"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return out


@functools.lru_cache(maxsize=4096)
def thumbnail(path: str) -> str:
    """A data: URI of a small PNG of the image, or '' when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((THUMB, THUMB))
            buf = io.BytesIO()
            im.save(buf, format="PNG", optimize=True)
    except (OSError, ValueError):
        return ""
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def images_of(cell, index: str) -> list[str]:
    """Thumbnails of a row's images: the prompt file of this cell's prompt builder, under the work dir."""
    workdir = cell.acc_path.resolve().parent.parent.parent
    prompt_id = cell.provenance.get("prompt_id") or "default"
    paths = _prompt_images(str(workdir / "resources" / "prompts" / cell.dataset / f"{prompt_id}.jsonl")).get(index, [])
    out = []
    for p in paths[:2]:
        p = Path(p)
        uri = thumbnail(str(p if p.is_absolute() else workdir / p))
        if uri:
            out.append(uri)
    return out


def _options(text) -> dict[str, str]:
    """'A. square\nB. circle' -> {'A': 'square', 'B': 'circle'} (a row's `options` in its outcomes)."""
    out = {}
    for line in str(text or "").splitlines():
        letter, sep, option = line.partition(". ")
        if sep and len(letter) == 1:
            out[letter] = option
    return out


def _question(row) -> str:
    """The question, and below it a multiple-choice row's options, so that an answer 'B' says what B is."""
    opts = _options(row.get("options"))
    listed = "".join(f"<br>{esc(k)}. {esc(_short(v, 80))}" for k, v in opts.items())
    return esc(_short(row["question"])) + (f'<div class="opts">{listed[4:]}</div>' if listed else "")


def _choice(value, row, n: int) -> str:
    """An answer or an extracted letter with its option's text ('B. circle'); other text as it is."""
    text = str(value)
    option = _options(row.get("options")).get(text.strip())
    return esc(_short(f"{text.strip()}. {option}" if option is not None else text, n))


def _imgs(uris: list[str]) -> str:
    return "".join(f'<img class="thumb" src="{u}" alt="">' for u in uris) or '<span class="hint">–</span>'


def examples(cell, outcomes, n: int = 3) -> str:
    """A few wrong and a few unparsed answers of one model on one benchmark."""
    rows = outcomes.rows.drop_duplicates("index")
    if "correct" not in rows or rows["correct"].astype(str).eq("").all():
        return ""
    unparsed = rows[rows["method"].astype(str) == "none"] if "method" in rows else rows.iloc[0:0]
    wrong = rows[(rows["correct"].astype(str) == "0") & ~rows.index.isin(unparsed.index)]
    parts = []
    for title, sub in (("wrong", wrong), ("unparsed (no answer found; scored as wrong)", unparsed)):
        if sub.empty:
            continue
        trs = "".join(
            f"<tr><td>{_imgs(images_of(cell, str(r['index'])))}</td><td class=\"mono\">{esc(r['index'])}</td>"
            f"<td>{_question(r)}</td><td>{esc(_short(r['prediction'], 120))}</td>"
            f"<td>{_choice(r['extracted'], r, 60)}</td><td>{_choice(r['answer'], r, 60)}</td></tr>"
            for _, r in sub.head(n).iterrows())
        parts.append(f"<h4>{esc(cell.model)} · {esc(cell.dataset)}: {len(sub)} {esc(title)}"
                     f"{f' (first {n})' if len(sub) > n else ''}</h4><div class=\"scroll\"><table class=\"samples\">"
                     "<tr><th>image</th><th>index</th><th>question</th><th>prediction</th><th>extracted</th>"
                     f"<th>answer</th></tr>{trs}</table></div>")
    return "".join(parts)


def disagreements_html(cell_a, cell_b, rows: pd.DataFrame, n: int = 6) -> str:
    if rows.empty:
        return f"<p class=\"hint\">{esc(cell_a.model)} and {esc(cell_b.model)} agree on every row.</p>"
    mark = lambda ok: '<span class="ok">right</span>' if str(ok) == "1" else '<span class="bad">wrong</span>'  # noqa
    trs = "".join(
        f"<tr><td>{_imgs(images_of(cell_a, str(r['index'])))}</td><td class=\"mono\">{esc(r['index'])}</td>"
        f"<td>{_question(r)}</td><td>{_choice(r['answer'], r, 60)}</td>"
        f"<td>{mark(r['a_correct'])} {esc(_short(r['a_prediction'], 100))}</td>"
        f"<td>{mark(r['b_correct'])} {esc(_short(r['b_prediction'], 100))}</td></tr>" for _, r in rows.head(n).iterrows())
    more = f" (first {n}; <code>vlmeval-steps compare</code> lists them all)" if len(rows) > n else ""
    return (f"<h4>{esc(cell_a.dataset)}: {esc(cell_a.model)} vs {esc(cell_b.model)}, {len(rows)} rows differ{more}</h4>"
            "<div class=\"scroll\"><table class=\"samples\"><tr><th>image</th><th>index</th><th>question</th>"
            f"<th>answer</th><th>{esc(cell_a.model)}</th><th>{esc(cell_b.model)}</th></tr>{trs}</table></div>")
