"""Checks that refuse a damaged benchmark where its TSV is read, naming the file, the row and what is wrong.

A TSV cut short (a partial download, a full disk) or with a stray NUL byte parses without
complaint: pandas fills missing cells with NaN and keeps NUL bytes, and a cut image only fails
when a model opens it, as a failed answer that no rerun can fix. These checks catch each case
before any prompt is built:

- a record with fewer fields than the header (a row cut short);
- a NUL byte in a text cell (upstream's pandas loader keeps it and sends it to the model);
- image data that is incomplete: a PNG that ends before its IEND chunk, a JPEG with no
  end-of-image marker after its last scan, or bytes Pillow cannot read.
"""
from __future__ import annotations

import csv
import io

NUL = "\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def short_record(slim: bytes, n_fields: int, index_pos: int | None):
    """(record number counting the header as 1, the row's index cell or None, its field count) of the
    first data record with fewer than `n_fields` fields, or None. `slim` is the TSV without its image
    column (tsv.Scan.slim); blank lines are skipped, as pandas skips them."""
    text = slim.decode("utf-8", errors="replace")
    records = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    next(records, None)  # the header
    for number, fields in enumerate(records, 2):
        if fields and len(fields) < n_fields:
            index = fields[index_pos] if index_pos is not None and index_pos < len(fields) else None
            return number, index, len(fields)
    return None


def nul_cell(frame, index_column: str = "index"):
    """(row's index, column) of the first text cell holding a NUL byte, or None."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind in "biufcmM":  # numbers and dates hold no text
            continue
        hits = values.map(lambda v: isinstance(v, str) and NUL in v)
        if hits.any():
            row = hits.idxmax()
            index = frame.at[row, index_column] if index_column in frame.columns else row
            return index, column
    return None


def image_problem(raw: bytes) -> str | None:
    """What is wrong with one image's bytes, or None when they are complete."""
    if raw.startswith(PNG_SIGNATURE):
        problem = _png_problem(raw)
    elif raw.startswith(b"\xff\xd8"):
        problem = _jpeg_problem(raw)
    else:
        problem = None
    return problem or _pillow_problem(raw, full=not raw.startswith((PNG_SIGNATURE, b"\xff\xd8")))


def _png_problem(raw: bytes) -> str | None:
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(raw):
        length = int.from_bytes(raw[pos:pos + 4], "big")
        kind = raw[pos + 4:pos + 8]
        end = pos + 12 + length  # length, type, data, CRC
        if end > len(raw):
            return (f"the PNG data ends inside its {kind.decode('latin-1')!r} chunk ({len(raw)} bytes; the chunk needs "
                    f"{end}): the image was cut short")
        if kind == b"IEND":
            return None
        pos = end
    return f"the PNG data ends before its IEND chunk ({len(raw)} bytes): the image was cut short"


def _jpeg_problem(raw: bytes) -> str | None:
    # the last scan (SOS, FF DA) must be followed by the end-of-image marker (FF D9); an FF D9 before it
    # belongs to an embedded thumbnail. Entropy-coded data never holds FF DA or FF D9.
    sos, eoi = raw.rfind(b"\xff\xda"), raw.rfind(b"\xff\xd9")
    if sos < 0:
        return f"the JPEG data has no image scan ({len(raw)} bytes): the image was cut short"
    if eoi < sos:
        return f"the JPEG data has no end-of-image marker (FF D9) after its last scan ({len(raw)} bytes): " \
               "the image was cut short"
    return None


def _pillow_problem(raw: bytes, full: bool) -> str | None:
    """Pillow reads the header (and, for formats checked by no rule above, decodes the pixels)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as im:
            im.size
            if full:
                im.load()
    except Exception as exc:  # Pillow raises many types for bad data (OSError, SyntaxError, ValueError, ...)
        return f"the image cannot be decoded ({type(exc).__name__}: {exc})"
    return None
