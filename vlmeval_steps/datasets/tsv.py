"""The VLMEvalKit TSV format, loaded with upstream's exact semantics.

Upstream reads the whole file with pandas defaults, so "None", "NA", "null", "nan" and empty
cells are NaN; indices become int when every one is int-like; rows without an image are
dropped; an `image` of 64 characters or fewer is the index of the row that holds the real
base64; "[...]" strings are lists of images or paths. We match that without ever holding the
images in memory: one streaming pass over the file's bytes (`scan`) computes its md5, notes
where each row's image field lies, and keeps a copy of the file without the image column, which
pandas then parses exactly as it would parse the original (same cells, same type inference).
Images are read later, one at a time, from their byte offsets.
"""
from __future__ import annotations

import ast
import csv
import io
import itertools
import mmap
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..cells import to_list_or_str
from ..errors import InputError
from ..fileio import md5_of
from .checks import nul_cell, short_record

csv.field_size_limit(sys.maxsize)  # base64 images are far longer than csv's default limit

REFERENCE_MAX_LEN = 64
# the strings pandas reads as NaN by default (pandas._libs.parsers.STR_NA_VALUES)
NA_STRINGS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
NA_MAX_LEN = max(len(s) for s in NA_STRINGS)


@dataclass
class Scan:
    """What one pass over a TSV's bytes found."""

    columns: list[str]
    slim: bytes             # the TSV without its `image` column: header and every record
    images: list | None     # per record: None (NaN), a str value, or (offset, length) of the raw field
    md5: str | None         # computed only when asked for (the prompt stage checks it)
    maps: dict = field(default_factory=dict)  # index lookups, filled by image_records()


_SCAN_CACHE: dict = {}


def scan(path: str | Path, md5: bool = False) -> Scan:
    """The file's Scan (with its md5 when asked); kept for the last file scanned, so the md5
    check, read_meta and image extraction in one process share a single pass."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found.") from None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    cached = _SCAN_CACHE.get("scan") if _SCAN_CACHE.get("key") == key else None
    if cached is None:
        cached = _scan(p, md5)
        _SCAN_CACHE.clear()
        _SCAN_CACHE.update(key=key, scan=cached)
    elif md5 and cached.md5 is None:
        cached.md5 = md5_of(p)
    return cached


def _csv_line(fields: list[str]) -> bytes:
    buf = io.StringIO()
    # '\r\n' as terminator makes the writer quote any field holding '\r' or '\n'
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerow(fields)
    return buf.getvalue().encode("utf-8")


def _decode(raw: bytes, path, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: {what} is not UTF-8 text ({exc}). Is the file corrupt or compressed?") from None


def _scan(path: Path, md5: bool) -> Scan:
    if not md5:
        return Scan(*_split(path), md5=None)
    # the md5 is computed by a second reader in a thread (hashlib releases the GIL), so it
    # costs no time beside the parse; the second read of each block comes from the page cache
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(md5_of, path)
        columns, slim, images = _split(path)
        return Scan(columns, slim, images, digest.result())


def _split(path: Path):
    """(columns, the file without its image column, per-record image cells or their spans).

    The file is memory-mapped and searched with find() (memchr), so a multi-megabyte image cell
    is stepped over without being copied; only the other cells are copied out.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise InputError(f"{path}: the file is empty; expected a TSV with a header row.")
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return _split_mapped(path, mm, size)


RELEASE_EVERY = 64 * 2**20


def _split_mapped(path: Path, mm, size: int):
    pos = released = 0
    can_release = hasattr(mmap, "MADV_DONTNEED") and hasattr(mm, "madvise")
    if hasattr(mmap, "MADV_SEQUENTIAL") and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_SEQUENTIAL)

    def lines():
        nonlocal pos, released
        while pos < size:
            end = mm.find(b"\n", pos)
            end = size if end < 0 else end + 1
            start, pos = pos, end
            yield start, end
            if can_release and pos - released > RELEASE_EVERY:
                # drop the pages already parsed from this process's memory (they stay in the
                # page cache): the resident size stays at about RELEASE_EVERY, not the file size
                cut = pos // mmap.PAGESIZE * mmap.PAGESIZE
                mm.madvise(mmap.MADV_DONTNEED, released, cut - released)
                released = cut

    it = lines()
    start, end = next(it)
    header = mm[start:end]
    if not header.strip():
        raise InputError(f"{path}: the file is empty; expected a TSV with a header row.")
    columns = next(csv.reader([_decode(header, path, "the header")], delimiter="\t"))
    if "image" not in columns:  # meta-only TSV: small, kept whole
        return columns, mm[:], None
    k = columns.index("image")
    slim = io.BytesIO()
    slim.write(_csv_line([c for i, c in enumerate(columns) if i != k]))
    images: list = []
    for start, end in it:
        if end - start <= 2 and mm[start:end] in (b"\n", b"\r\n"):
            continue  # pandas skips blank lines
        body = end
        if mm[end - 1:end] == b"\n":
            body -= 2 if end - start >= 2 and mm[end - 2:end] == b"\r\n" else 1
        span = _field_span(mm, start, k, body)
        quote = mm.find(b'"', start, end)
        # only the first record can make pandas shift columns (see _too_many_fields); an extra
        # field later stays extra in the slim copy, and pandas rejects it there
        if not images and quote < 0 and mm[start:body].count(b"\t") >= len(columns):
            _too_many_fields(path, 2, mm[start:body].count(b"\t") + 1, len(columns))
        if quote < 0 or (span is not None and quote >= span[1]):
            # the image cell is plain text on this line: remember where it is, not what it is
            images.append(_image_value(mm, span, path))
            if quote < 0:
                if span is None:
                    slim.write(mm[start:end])
                elif span[0] > start:
                    slim.write(mm[start:span[0] - 1])
                    slim.write(mm[span[1]:end])
                else:  # the image is the first column
                    slim.write(mm[span[1] + 1:end] if span[1] < body else mm[body:end])
            else:  # quoted cells after the image: parse the rest of the record as csv
                before = _decode(mm[start:span[0] - 1], path, "a row").split("\t") if k else []
                rest = _record(path, _decode(mm[span[1]:end], path, "a row"), it, mm)
                if len(before) + len(rest) > len(columns):
                    _too_many_fields(path, len(images) + 1, len(before) + len(rest), len(columns))
                slim.write(_csv_line(before + rest[1:]))
        else:  # a quote before or inside the image cell (rare): parse the whole record
            fields = _record(path, _decode(mm[start:end], path, "a row"), it, mm)
            if len(fields) > len(columns):
                _too_many_fields(path, len(images) + 2, len(fields), len(columns))
            value = fields[k] if len(fields) > k else ""
            images.append(None if value in NA_STRINGS else value)
            slim.write(_csv_line(fields[:k] + fields[k + 1:]))
    return columns, slim.getvalue(), images


def _too_many_fields(path, record: int, n: int, expected: int):
    # pandas would fail on such a row too, or read a first row with one extra field as the
    # frame's index, silently shifting every column: neither is a usable benchmark
    raise InputError(f"{path}: record {record} (counting the header as 1) has {n} fields, the header has "
                     f"{expected}. Is the file truncated or corrupt?")


def _field_span(buf, start: int, k: int, body: int):
    """(begin, end) offsets of field k of the line starting at `start`, or None when it has fewer fields."""
    begin = start
    for _ in range(k):
        tab = buf.find(b"\t", begin, body)
        if tab < 0:
            return None
        begin = tab + 1
    stop = buf.find(b"\t", begin, body)
    return begin, (body if stop < 0 else stop)


def _image_value(buf, span, path):
    """None for NaN, the text of a short cell (a reference or a NaN marker), else its span."""
    if span is None:
        return None
    begin, stop = span
    if stop - begin > max(NA_MAX_LEN, REFERENCE_MAX_LEN):
        return begin, stop - begin
    value = _decode(buf[begin:stop], path, "an image cell")
    return None if value in NA_STRINGS else value


def _record(path, first: str, it, buf) -> list[str]:
    """One csv record starting with `first`, pulling continuation lines (quoted newlines) from `it`."""
    more = (_decode(buf[start:end], path, "a row") for start, end in it)
    try:
        return next(csv.reader(itertools.chain([first], more), delimiter="\t"))
    except (csv.Error, StopIteration) as exc:
        raise InputError(f"{path}: cannot parse as TSV ({exc}). Is the file truncated or corrupt?") from None


def read_columns(path: str | Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh, delimiter="\t"), None)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text TSV ({exc}). Is the file corrupt or compressed?") from exc
    if not header:
        raise InputError(f"{path}: the file is empty; expected a TSV with a header row.")
    return header


PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _int_like(value) -> bool:
    """Upstream's istype(x, int): the string parses as a Python int literal."""
    text = str(value)
    if PLAIN_INT.fullmatch(text):  # the common case, without compiling an expression
        return True
    try:
        return isinstance(ast.literal_eval(text), int)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False


def _to_int(text: str) -> int:
    return int(text) if PLAIN_INT.fullmatch(text) else int(ast.literal_eval(text))


def normalise_index(series: pd.Series, path) -> pd.Series:
    values = series.astype(str)
    if values.duplicated().any():
        dups = sorted({str(v) for v in values[values.duplicated()]})[:5]
        raise InputError(f"{path}: duplicate values in column 'index' (e.g. {dups}); every row needs its own index.")
    if len(values) and all(_int_like(v) for v in values):
        return values.map(_to_int)
    return values


def _parse(sc: Scan, path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(sc.slim), sep="\t", **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot parse as TSV ({exc}). Is the file truncated or corrupt?") from exc


def _frame(sc: Scan, path) -> pd.DataFrame:
    """The parsed file (every record, no image column), parsed once per scan. A record with fewer
    fields than the header (which pandas would fill with NaN) is refused: the file was cut short."""
    if "frame" not in sc.maps:
        slim_columns = [c for c in sc.columns if c != "image"] if sc.images is not None else sc.columns
        short = short_record(sc.slim, len(slim_columns),
                             slim_columns.index("index") if "index" in slim_columns else None)
        if short:
            number, index, _ = short
            row = f"row index={index} (record {number}, counting the header as 1)" if index else f"record {number}"
            raise InputError(f"{path}: {row} has fewer fields than the header's {len(sc.columns)}: the row is cut "
                             "short. Is the file truncated? Download it again or fix the row.")
        sc.maps["frame"] = _parse(sc, path)
    return sc.maps["frame"]


def _kept(sc: Scan, n_rows: int, path) -> list[int]:
    """Positions of the records that have an image (upstream's skip_noimg keeps only those)."""
    if sc.images is None:
        return list(range(n_rows))
    if len(sc.images) != n_rows:
        raise InputError(f"{path}: rows disagree on the number of fields; the file looks truncated or corrupt.")
    return [i for i, img in enumerate(sc.images) if img is not None]


def read_meta(path: str | Path, required: tuple[str, ...] = ("index",)) -> pd.DataFrame:
    """Every column except `image`, parsed with pandas defaults over the whole file, so
    dtypes (and therefore strings such as '1.0' for numeric options) match upstream."""
    columns = read_columns(path)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; the header has {columns}.")
    sc = scan(path)
    meta = _frame(sc, path).copy()
    kept = _kept(sc, len(meta), path)
    meta = meta.iloc[kept].reset_index(drop=True)  # upstream's skip_noimg
    if "index" in meta.columns:
        meta["index"] = normalise_index(meta["index"], path)
    if "image_path" in meta.columns:
        meta["image_path"] = meta["image_path"].map(to_list_or_str)
    nul = nul_cell(meta)
    if nul:
        # upstream's pandas loader keeps the byte and sends it to the model; we refuse it (docs/parity.md: deviations)
        raise InputError(f"{path}: row index={nul[0]}, column {nul[1]!r}: the text holds a NUL byte (\\x00), a "
                         "sign of a corrupt file. Remove the byte or fix the row.")
    return meta


def refuse_empty(path: str | Path, meta: pd.DataFrame) -> None:
    """An evaluation needs rows: a header-only TSV, or one whose rows all lack an image, is refused."""
    if len(meta):
        return
    total = len(_frame(scan(path), path))
    if total == 0:
        raise InputError(f"{path}: the TSV has a header but no rows: nothing to evaluate. Is it truncated, or the "
                         "wrong file? Download it again or check the dataset's url.")
    raise InputError(f"{path}: none of its {total} rows has an image (rows without one are dropped, as upstream "
                     "does): nothing to evaluate. Check the `image` column.")


def image_records(path: str | Path) -> tuple[Scan, dict[str, int], dict[str, int]]:
    """(scan, record of each kept row by its normalised index, record by upstream's reference key).

    A reference names its target by str() of the index as pandas read it, among the rows that
    have an image, as upstream's image_map does.
    """
    sc = scan(path)
    if "by_index" not in sc.maps:
        raw = _frame(sc, path)["index"]
        kept = _kept(sc, len(raw), path)
        sub = raw.iloc[kept]
        sc.maps["by_index"] = dict(zip((str(v) for v in normalise_index(sub, path)), kept))
        sc.maps["by_key"] = dict(zip((str(v) for v in sub), kept))
    return sc, sc.maps["by_index"], sc.maps["by_key"]


class ImageReader:
    """Reads image cells by their byte offsets; open it for a batch of reads."""

    def __init__(self, path: str | Path, sc: Scan):
        self.path, self.sc = path, sc
        self.fh = None

    def __enter__(self):
        self.fh = open(self.path, "rb")
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def value(self, record: int) -> str | None:
        item = self.sc.images[record]
        if item is None or isinstance(item, str):
            return item
        return self.read(*item)

    def read(self, offset: int, length: int) -> str:
        self.fh.seek(offset)
        raw = self.fh.read(length)
        if len(raw) != length:
            raise InputError(f"{self.path}: the file changed while it was read (an image cell is cut short).")
        return _decode(raw, self.path, "an image cell")


def is_reference(image) -> bool:
    return isinstance(image, str) and 0 < len(image) <= REFERENCE_MAX_LEN


def load_tsv(path: str | Path) -> pd.DataFrame:
    """The whole TSV as upstream's dataset.data: references resolved, lists parsed (images in memory)."""
    meta = read_meta(path)
    if "image" not in read_columns(path):
        return meta
    sc, by_index, by_key = image_records(path)
    resolved = []
    with ImageReader(path, sc) as reader:
        for idx in meta["index"]:
            img = reader.value(by_index[str(idx)])
            if is_reference(img):
                target = by_key.get(img)
                target_img = reader.value(target) if target is not None else None
                if target_img is None or len(target_img) <= REFERENCE_MAX_LEN:
                    raise InputError(f"{path}: row index={idx}: image refers to index {img!r}, which has no image.")
                img = target_img
            resolved.append(to_list_or_str(img))
    meta.insert(1, "image", resolved)
    return meta
