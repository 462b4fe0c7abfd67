"""Multi-page document benchmarks: DUDE, SlideVQA, MMLongBench-Doc (upstream's DUDE, SlideVQA and
MMLongBenchDoc classes).

The prompt is the row's pages, laid out for the model (datasets/doc_pages.py), then the question
as the TSV has it. Every row's answer is extracted by the LLM judge (judge/mmlongbench.py; upstream's
default judge: gpt-4o), then scored by rules: DUDE by ANLS, SlideVQA by ANLS, EM and F1, MMLongBench-Doc
by answer format (scoring/dude.py, slidevqa.py, mmlongbench.py).

The pages are written once per document under the dataset's image folder (rows asking about the
same document share them, as upstream's files are shared by name); a layout's concatenated images
go under `_{layout}/` beside them.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..judge import mmlongbench as doc_judge
from ..scoring import dude as dude_scoring
from ..scoring import mmlongbench as mmlongbench_scoring
from ..scoring import slidevqa as slidevqa_scoring
from . import doc_pages
from .images import (LOSSLESS_TARGETS, ImageRef, _b64decode, _encode, _Folder, _holds, _target_format,
                     _with_extension, _write_file, file_digest, flush_to_disk)
from .judged import JudgeOnlyDataset
from ..cells import to_list_or_str
from .tsv import ImageReader, image_records, is_reference
from ..stats.outcomes import Outcomes


def _page_names(image_path, where: str) -> list[str]:
    if isinstance(image_path, str):
        return [image_path]
    if isinstance(image_path, list) and image_path:
        return [str(p) for p in image_path[:doc_pages.MAX_PAGES]]
    raise InputError(f"{where}: 'image_path' must name the row's page files (a list such as "
                     f"\"['doc_0.png', 'doc_1.png']\"), found {image_path!r}.")


def _store(folder: _Folder, name: str, source: bytes, where: str) -> ImageRef:
    """Save one image as upstream's decode_base64_to_image_file saves it under `name` (images.py)."""
    path, shown = folder.join(name, where)
    raw, written_as, _ = _encode(source, name, where)
    if written_as != name:
        path, shown = path.with_name(Path(written_as).name), str(Path(shown).with_name(Path(written_as).name))
    if not _holds(path, raw):
        _write_file(path, raw)
    return ImageRef(shown, hashlib.sha256(raw).hexdigest())


def _saved_name(name: str, where: str) -> str:
    """The name a page (JPEG bytes upstream) is saved under: a lossless target keeps the JPEG as .jpg."""
    return _with_extension(name, "JPEG") if _target_format(name, where) in LOSSLESS_TARGETS else name


class DocPagesDataset(JudgeOnlyDataset):
    TYPE = "VQA"
    DEFAULT_JUDGE = "gpt-4o"
    REQUIRED_COLUMNS = ("index", "question", "image_path")
    SCORE_COLUMNS = ("answer",)
    #: upstream's SUPPORTED_MODELS (model -> concat_num, column_num); its presence makes prompts per layout
    PAGE_MODELS: dict = doc_pages.TABLE_DUDE
    #: the image cell holds a base64 PDF (else a list of base64 pages)
    PDF = True
    #: upstream names a layout of labelled tiles `_concat_all.jpg` once, so only the first image is used
    FRAMES_FIRST_ONLY = True

    layout: str = doc_pages.PAGES
    img_root: Path | None = None

    # ----- prompt-build: pages ----------------------------------------------------------------
    @classmethod
    def extract_images(cls, tsv, meta, img_root) -> dict[str, list[ImageRef]]:
        """{index: the row's pages} with the pages saved as upstream saves them (rendered, for a PDF)."""
        folder = _Folder(Path(img_root))
        sc, by_index, by_key = image_records(tsv)
        refs, done = {}, {}
        with ImageReader(tsv, sc) as reader:
            for line in meta.to_dict("records"):
                index = str(line["index"])
                where = f"{tsv}: row index={index}"

                def cell(record=by_index[index], where=where):
                    value = reader.value(record)
                    if is_reference(value):  # upstream: a short cell names the row whose image it shares
                        target = by_key.get(value)
                        shared = reader.value(target) if target is not None else None
                        if shared is None or is_reference(shared):
                            raise InputError(f"{where}: image refers to index {value!r}, which has no image.")
                        value = shared
                    return value
                if cls.PDF:  # the PDF is read only when its pages are not written yet
                    refs[index] = cls._pdf_pages(folder, cell, line, where, done)
                else:
                    refs[index] = cls._slide_pages(folder, cell(), line, where)
        flush_to_disk(folder.root)
        return refs

    @classmethod
    def _pdf_pages(cls, folder, cell, line, where, done) -> list[ImageRef]:
        names = _page_names(line.get("image_path"), where)
        saved = [_saved_name(n, where) for n in names]
        key = tuple(saved)
        if key in done:  # another question about the same document
            return done[key]
        paths = [folder.join(n, where) for n in saved]
        if all(p.is_file() for p, _ in paths):  # upstream skips the PDF when every page file reads
            refs = [ImageRef(shown, file_digest(p)) for p, shown in paths]
        else:
            pages = doc_pages.render_pdf(_b64decode(cell(), where), where)
            # upstream zips the pages with the names: the shorter list decides
            refs = [_store(folder, n, page, where) for n, page in zip(names, pages)]
        done[key] = refs
        return refs

    @classmethod
    def _slide_pages(cls, folder, cell, line, where) -> list[ImageRef]:
        slides = to_list_or_str(cell)
        if isinstance(slides, str):  # one slide: upstream saves it as {index}.jpg
            return [_store(folder, f"{line['index']}.jpg", _b64decode(slides, where), where)]
        names = _page_names(line.get("image_path"), where)
        return [_store(folder, n, _b64decode(b64, where), where) for n, b64 in zip(names, slides)]

    # ----- prompt-build: layout ---------------------------------------------------------------
    def use_layout(self, layout: str, img_root) -> None:
        doc_pages.parse_layout(layout)  # an unknown layout stops here
        self.layout, self.img_root, self._laid_out = layout, Path(img_root), {}

    def dump_image(self, line) -> list[str]:
        pages = super().dump_image(line)
        setting = doc_pages.parse_layout(self.layout)
        if setting is None:
            return pages
        key = (tuple(pages), self.layout)
        if key not in self._laid_out:  # rows about the same document share its concatenated images
            self._laid_out[key] = self._concatenate(pages, *setting, line)
        return self._laid_out[key]

    def _concatenate(self, pages, concat_num, column_num, line) -> list[str]:
        folder = _Folder(self.img_root / f"_{self.layout}")
        first = Path(pages[0]).name
        # upstream names them after the first page; the digest keeps two documents' images apart
        stem = ("_".join(first.split("_")[:-1]) or Path(first).stem) + "_" + \
            hashlib.sha256("\0".join(pages).encode()).hexdigest()[:8]
        count = doc_pages.n_concat_images(len(pages), concat_num, column_num)
        if column_num == -1 and self.FRAMES_FIRST_ONLY:
            count = 1
        names = [f"{stem}_concat_all_{i}.jpg" if column_num == -1 else f"{stem}_concat{concat_num}_{i}.jpg"
                 for i in range(count)]
        where = f"row index={line['index']}"
        paths = [folder.join(n, where) for n in names]
        if all(p.is_file() for p, _ in paths):  # written before (files are renamed into place whole), as upstream
            return [shown for _, shown in paths]
        images = doc_pages.concat_images(pages, concat_num, column_num)[:count]
        return [_store(folder, n, doc_pages.upstream_jpeg(image), where).path for n, image in zip(names, images)]

    # ----- judge-extract and score ------------------------------------------------------------
    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return doc_judge.extract(data, judge, self.dataset_name)


class DUDE(DocPagesDataset):
    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return dude_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return dude_scoring.outcomes(tables, self.dataset_name)


class SlideVQA(DocPagesDataset):
    PDF = False

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return slidevqa_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return slidevqa_scoring.outcomes(tables, self.dataset_name)


class MMLongBenchDoc(DocPagesDataset):
    PAGE_MODELS = doc_pages.TABLE_MMLONGBENCH
    FRAMES_FIRST_ONLY = False  # it names every tile image (`_concat_all_{i}.jpg`)
    SCORE_COLUMNS = ("answer", "answer_format", "evidence_sources", "evidence_pages")

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mmlongbench_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return mmlongbench_scoring.outcomes(tables, self.dataset_name)
