"""Pages of multi-page documents (DUDE, SlideVQA, MMLongBench-Doc) as upstream gives them to a model.

Upstream (vlmeval/dataset/dude.py, slidevqa.py, mmlongbenchdoc.py at e8e78f05):

- a PDF cell (DUDE, MMLongBench_DOC) is rendered page by page with PyMuPDF at 144 dpi (at most
  120 pages), each page PNG-decoded, then passed through `encode_image_to_base64` (JPEG,
  Pillow's default quality 75; a side under 100 px is first scaled up) and saved under its
  `image_path` name by `decode_base64_to_image_file`; a slide deck (SLIDEVQA) is a list of
  base64 slides saved under their `image_path` names (a lone slide: `{index}.jpg`);
- the page layout depends on the model: API models (upstream: a name with 'GPT4') get one image
  per page; local models get the pages concatenated by `concat_images(pages, concat_num,
  column_num)`, with the (concat_num, column_num) of upstream's SUPPORTED_MODELS table, each
  concatenated image saved as JPEG twice (encode, then a `.jpg` file), as upstream does.

Layouts are prompt-file ids, so every model with the same layout reads the same prompt file:
`pages` (one image per page), `concat{N}x{C}` (N images of C columns) and `frames` (upstream's
column_num -1: labelled `<IMAGE k>` tiles, at most 20 per image). A prompt id for these benchmarks
is `{builder}__{layout}` (`default__pages`, `internvl__concat5x2`): the model's prompt builder,
reading the pages in the layout.
"""
from __future__ import annotations

import io
import math
import os

from PIL import Image, ImageDraw, ImageFont

from ..errors import InputError

MAX_PAGES = 120
DPI = 144
SEP = "__"
PAGES = "pages"
FRAMES = "frames"

# upstream's SUPPORTED_MODELS: model name -> (concat_num, column_num). DUDE and SlideVQA share one
# table; MMLongBenchDoc's differs for XComposer2_4KHD. The GPT4* names are API models (one image per page).
TABLE_DUDE = {
    "GPT4": (1, 1), "GPT4V": (1, 1), "GPT4V_HIGH": (1, 1), "GPT4o": (1, 1), "GPT4o_HIGH": (1, 1),
    "GPT4o_MINI": (1, 1), "XComposer2d5": (1, -1), "XComposer2_4KHD": (1, -1), "MiniCPM-Llama3-V-2_5": (1, 5),
    "InternVL-Chat-V1-5": (5, 2),
}
TABLE_MMLONGBENCH = dict(TABLE_DUDE, **{"XComposer2_4KHD": (1, 5)})
#: a local model upstream's table does not name (upstream refuses it): InternVL-Chat-V1-5's setting
DEFAULT_LOCAL = (5, 2)


# ----- which layout a model gets -------------------------------------------------------------
def layout_id(concat_num: int, column_num: int) -> str:
    return FRAMES if column_num == -1 else f"concat{concat_num}x{column_num}"


def parse_layout(layout: str) -> tuple[int, int] | None:
    """(concat_num, column_num) of a concatenating layout; None for `pages`."""
    if layout == PAGES:
        return None
    if layout == FRAMES:
        return 1, -1
    if layout.startswith("concat") and "x" in layout:
        n, _, c = layout[len("concat"):].partition("x")
        if n.isdigit() and c.isdigit() and int(n) > 0 and int(c) > 0:
            return int(n), int(c)
    raise InputError(f"unknown page layout {layout!r}: use 'pages', 'frames' or 'concat<N>x<C>' (N images of C "
                     "columns each).")


def model_layout(model: str, spec: dict, table: dict, is_api: bool) -> str:
    """The layout a model reads a document in: its spec's `doc_pages` if set, else upstream's rule."""
    own = spec.get("doc_pages")
    if own is not None:
        if own == PAGES or own == FRAMES:
            return own
        if isinstance(own, (list, tuple)) and len(own) == 2 and all(isinstance(v, int) for v in own) \
                and own[0] > 0 and (own[1] > 0 or own[1] == -1):
            return layout_id(*own)
        raise InputError(f"model {model}: doc_pages must be 'pages', 'frames' or [concat_num, column_num] (e.g. "
                         f"[5, 2]), not {own!r}.")
    if is_api or "GPT4" in model:
        return PAGES
    return layout_id(*table.get(model, DEFAULT_LOCAL))


def with_layout(base_id: str, model: str, spec: dict, dataset_cls, is_api: bool) -> str:
    """The prompt id: `base_id` unless the benchmark lays out pages per model."""
    table = getattr(dataset_cls, "PAGE_MODELS", None)
    if table is None:
        return base_id
    return f"{base_id}{SEP}{model_layout(model, spec, table, is_api)}"


def prompt_id_with_layout(base_id: str, model: str, spec: dict, info) -> str:
    """The workflow's prompt id for a model x dataset (info: the registry entry)."""
    from ..models import is_local
    from .registry import CLASSES

    return with_layout(base_id, model, spec, CLASSES[info.cls], is_api=not is_local(spec))


def split_prompt_id(prompt_id: str) -> tuple[str, str | None]:
    """('internvl', 'concat5x2') from 'internvl__concat5x2'; (prompt_id, None) without a layout."""
    base_id, sep, layout = prompt_id.rpartition(SEP)
    return (base_id, layout) if sep else (prompt_id, None)


# ----- rendering, as upstream -----------------------------------------------------------------
def upstream_jpeg(img: Image.Image) -> bytes:
    """The bytes upstream's encode_image_to_base64(img) encodes (JPEG, with its size rules)."""
    if img.mode in ("RGBA", "P", "LA"):
        img = img.convert("RGB")
    max_size = int(os.environ.get("VLMEVAL_MAX_IMAGE_SIZE", 1e9))
    min_edge = int(os.environ.get("VLMEVAL_MIN_IMAGE_EDGE", 1e2))

    def jpeg(im):
        buf = io.BytesIO()
        im.save(buf, format="JPEG")
        return buf.getvalue()

    data = jpeg(img)
    if min(img.size) < min_edge:
        factor = min_edge / min(img.size)
        data = jpeg(img.resize((int(img.size[0] * factor), int(img.size[1] * factor))))
    b64_len = lambda raw: 4 * math.ceil(len(raw) / 3)  # noqa: E731 - upstream compares base64 lengths
    factor = min(1, (max_size / b64_len(data)) ** 0.5)
    while b64_len(data) > max_size:
        data = jpeg(img.resize((int(img.size[0] * factor), int(img.size[1] * factor))))
        factor *= min(1, (max_size / b64_len(data)) ** 0.5)
    return data


def _pixmap_image(pix) -> Image.Image:
    """The pixmap as upstream's PIL image. Upstream round-trips it through PNG (lossless); reading the
    samples gives the same pixels and mode without the PNG encode and decode (most of the time)."""
    mode = {(1, 0): "L", (3, 0): "RGB", (4, 1): "RGBA"}.get((pix.n, int(bool(pix.alpha))))
    if mode is None:
        with Image.open(io.BytesIO(pix.tobytes(output="png"))) as im:
            im.load()
            return im
    return Image.frombytes(mode, (pix.width, pix.height), pix.samples, "raw", mode, pix.stride)


def render_pdf(pdf: bytes, where: str) -> list[bytes]:
    """Each page (at most 120) as upstream holds it before saving: JPEG bytes of the 144 dpi render."""
    import pymupdf

    pages = []
    try:
        with pymupdf.open(stream=io.BytesIO(pdf), filetype="pdf") as doc:
            for i in range(min(len(doc), MAX_PAGES)):
                pages.append(upstream_jpeg(_pixmap_image(doc[i].get_pixmap(dpi=DPI))))
    except (RuntimeError, ValueError) as exc:  # pymupdf's FileDataError is a RuntimeError
        raise InputError(f"{where}: the image cell is not a readable PDF ({type(exc).__name__}: {exc}). "
                         "DUDE and MMLongBench_DOC hold one base64 PDF per row; fix or drop this row.") from exc
    if not pages:
        raise InputError(f"{where}: the PDF in the image cell has no pages; fix or drop this row.")
    return pages


# ----- concatenation, as upstream's concat_images and frame2img -----------------------------------
def _font():
    # upstream downloads SimHei.ttf and falls back to Pillow's default font at size 40 when it cannot
    # (this machine has no route to it): we always use the fallback (docs/parity.md: deviations)
    try:
        return ImageFont.load_default(size=40)
    except TypeError:  # Pillow < 10.1 has only its small bitmap font
        return ImageFont.load_default()


def frame2img(paths: list[str], font, idx_start: int = 0) -> Image.Image:
    imgs = [Image.open(p) for p in paths]
    resized = []
    for img in imgs:
        w, h = img.size
        scale = w / h
        if w > h:
            new_w, new_h = 560 * 2, int(560 * 2 / scale)
        else:
            new_w, new_h = int(560 * 2 * scale), 560 * 2
        # torchvision's resize of a PIL image: PIL's bilinear resize (a no-op at the same size)
        resized.append(img if (new_w, new_h) == img.size else img.resize((new_w, new_h), Image.BILINEAR))
    imgs, pad = resized, 40
    new_w = new_h = 0
    # upstream decides the direction with the last page's *original* w, h (left over from the loop)
    if w > h:
        for im in imgs:
            new_w = max(new_w, im.size[0])
            new_h += im.size[1] + 10 + pad
        canvas = Image.new("RGB", (new_w, new_h), "white")
        draw = ImageDraw.Draw(canvas)
        curr_h = 0
        for idx, im in enumerate(imgs):
            w_i, h_i = im.size
            canvas.paste(im, (0, pad + curr_h))
            draw.text((0, curr_h), f"<IMAGE {idx + idx_start}>", font=font, fill="black")
            if idx + 1 < len(imgs):
                draw.line([(0, pad + curr_h + h_i + 5), (new_w, pad + curr_h + h_i + 5)], fill="black", width=2)
            curr_h += h_i + 10 + pad
    else:
        for im in imgs:
            new_w += im.size[0] + 10
            new_h = max(new_h, im.size[1])
        new_h += pad
        canvas = Image.new("RGB", (new_w, new_h), "white")
        draw = ImageDraw.Draw(canvas)
        curr_w = 0
        for idx, im in enumerate(imgs):
            w_i, h_i = im.size
            canvas.paste(im, (curr_w, pad))
            draw.text((curr_w, 0), f"<IMAGE {idx + idx_start}>", font=font, fill="black")
            if idx + 1 < len(imgs):
                draw.line([(curr_w + w_i + 5, 0), (curr_w + w_i + 5, new_h)], fill="black", width=2)
            curr_w += w_i + 10
    return canvas


def _interval(n: int, concat_num: int, column_num: int) -> int:
    """Pages per concatenated image, as concat_images batches them."""
    if column_num == -1:
        concat_num = 1
        while n / concat_num > 20:  # at most 20 tiles per image
            concat_num += 1
    return max(math.ceil(n / concat_num), 1)


def n_concat_images(n: int, concat_num: int, column_num: int) -> int:
    return math.ceil(n / _interval(n, concat_num, column_num))


def concat_images(paths: list[str], concat_num: int = 1, column_num: int = 1) -> list[Image.Image]:
    """Upstream's concat_images: the pages in `ceil(n / concat_num)`-page batches, each batch one image."""
    out = []
    interval = _interval(len(paths), concat_num, column_num)
    if column_num == -1:
        for i in range(0, len(paths), interval):
            out.append(frame2img(paths[i:i + interval], font=_font(), idx_start=i))
        return out
    for i in range(0, len(paths), interval):
        batch = [Image.open(p) for p in paths[i:i + interval]]
        rows = len(batch) if column_num == 1 else (len(batch) - 1) // column_num + 1
        canvas = Image.new("RGB", (batch[0].width * column_num, batch[0].height * rows), "white")
        x, y = 0, 0
        for count, image in enumerate(batch):
            canvas.paste(image, (x, y))
            x += image.width
            if (count + 1) % column_num == 0:
                y += image.height
                x = 0
        out.append(canvas)
    return out
