"""Decode a TSV's base64 images to files, once, holding the pixels upstream's files hold.

Upstream (vlmeval/smp/vlm.py `decode_base64_to_image_file`, called by `dump_image`) opens
each image with PIL, converts modes RGBA, P and LA to RGB, and saves it under its dumped name
(`image_path`, else `{index}.png`), so the name's extension picks the format: a `.jpg` name is
re-encoded as JPEG (quality 75, lossy), a `.png` name stores the decoded pixels losslessly.
What a model reads must decode to the same pixels, and a file's extension must name its real
format (adapters pick a MIME type from it). So, per image:

- the bytes are kept as they are when that costs nothing in pixels: the image is a PNG or a
  JPEG, its mode is not one upstream converts, and the name's format is lossless (PNG). A JPEG
  is then written under the name with a `.jpg` extension (`OCR/1000.png` -> `OCR/1000.jpg`),
  since it decodes to exactly the pixels upstream's PNG stores;
- otherwise the image goes through upstream's own steps (decode, convert, save in the name's
  format with Pillow's defaults), so the file is upstream's file byte for byte.

`image_path` may name sub-folders (MME: `OCR/1000.png`), created as needed; a path that leaves
the image folder (absolute, or with `..`) is refused. Image cells are read from their byte
offsets (the TSV is never held in memory) and files that already hold the right bytes are not
rewritten (a re-encoded file is trusted without re-encoding when `.reencoded.json` says it was
written from these bytes and it is unchanged since). Each image's sha256 is kept: it is part of
the sample cache key. Files are renamed
into place as they are written and flushed to disk together at the end (one filesystem sync
instead of one fsync per image), before the prompt file that names them.
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import hashlib
import io
import json
import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..cells import LITERAL_ERRORS, parse_list
from ..errors import InputError
from .tsv import ImageReader, image_records, is_reference, read_columns

# below this many bytes of base64 a process pool costs more than it saves
PARALLEL_MIN_BYTES = 64 * 2**20
MAX_WORKERS = 8


class ImageRef(tuple):
    """(path, sha256) of one image on disk."""

    __slots__ = ()

    def __new__(cls, path: str, digest: str):
        return super().__new__(cls, (path, digest))

    path = property(lambda self: self[0])
    digest = property(lambda self: self[1])

    def __getnewargs__(self):  # pickling (worker processes return ImageRefs)
        return tuple(self)


def _names(index, n_images: int, image_path) -> list[str]:
    if n_images > 1 or isinstance(image_path, list):
        if isinstance(image_path, list) and len(image_path) == n_images:
            return list(image_path)
        return [f"{index}_{i}.png" for i in range(n_images)]
    if isinstance(image_path, str):
        return [image_path]
    return [f"{index}.png"]


class _Folder:
    """The image folder: safe joins and display paths, resolved once rather than per image."""

    def __init__(self, root: Path, taken=frozenset()):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self.display = _display_path(self.root)
        self.taken = taken  # see _taken_names

    def join(self, name: str, where: str) -> tuple[Path, str]:
        if name and "/" not in name and os.sep not in name and name not in (".", ".."):
            return self.root / name, os.path.join(self.display, name)
        parts = Path(name).parts
        if not name or os.path.isabs(name) or ".." in parts or "\\" in name:
            raise InputError(f"{where}: image_path {name!r} points outside the image folder {self.root} (an "
                             "absolute path or '..'). Use a path relative to the image folder, e.g. 'OCR/1000.png'.")
        path = (self.root / name).resolve()
        if self.root not in path.parents:  # a symlinked sub-folder that leads elsewhere
            raise InputError(f"{where}: image_path {name!r} points outside the image folder {self.root}.")
        path.parent.mkdir(parents=True, exist_ok=True)  # upstream creates sub-folders too (MME: 'OCR/1000.png')
        return path, _display_path(path)


# modes upstream converts to RGB before saving (decode_base64_to_image)
CONVERTED_MODES = ("RGBA", "P", "LA")
# formats whose bytes are kept when the name's format is lossless, and the extension they get
KEPT_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg"}
LOSSLESS_TARGETS = ("PNG",)


def _target_format(name: str, where: str) -> str:
    """The format Pillow's save() picks from the name, as upstream's image.save(path) does."""
    ext = os.path.splitext(name)[1].lower()
    fmt = _format_of(name)
    if fmt is None or fmt not in Image.SAVE:
        raise InputError(f"{where}: image_path {name!r} has no image extension Pillow can write ({ext or 'none'}); "
                         "upstream saves each image in the format its name's extension names, so it fails here "
                         "too. Give the image_path an extension such as .png or .jpg.")
    return fmt


def _b64decode(b64: str, where: str) -> bytes:
    try:
        return base64.b64decode(b64, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{where}: the image cannot be decoded ({type(exc).__name__}: {exc}). "
                         "Fix or drop this row in the TSV.") from exc


def _encode(raw: bytes, name: str, where: str, taken=frozenset()) -> tuple[bytes, str, bool]:
    """(the bytes to write, the name to write them under, re-encoded?) for one decoded base64
    image (see the module doc). `taken`: names other rows use, which a renamed file must not
    take (then it is re-encoded instead)."""
    target = _target_format(name, where)
    try:
        with Image.open(io.BytesIO(raw)) as im:
            source = im.format
            if im.mode not in CONVERTED_MODES and target in LOSSLESS_TARGETS and source in KEPT_FORMATS:
                kept = _with_extension(name, source)
                if kept == name or kept not in taken:
                    return raw, kept, False
            image = im.convert("RGB") if im.mode in CONVERTED_MODES else im
            buf = io.BytesIO()
            image.save(buf, format=target)
    except (ValueError, UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InputError(f"{where}: the image cannot be decoded, or saved as {target} as upstream saves it "
                         f"({type(exc).__name__}: {exc}). Fix or drop this row in the TSV.") from exc
    return buf.getvalue(), name, True


def _with_extension(name: str, source: str) -> str:
    """`name` if its extension already names `source`'s format, else `name` with that format's extension."""
    if _format_of(name) in (source, "JPEG" if source == "MPO" else source):
        return name
    return os.path.splitext(name)[0] + KEPT_FORMATS[source]


def _taken_names(indices, image_paths) -> frozenset:
    """JPEG names of rows that another row's kept JPEG could be renamed to (`a.png` -> `a.jpg`
    while some row is named `a.jpg`). Usually empty; a name in it is re-encoded instead."""
    named = [n for p in image_paths for n in ([p] if isinstance(p, str) else p if isinstance(p, list) else [])]
    stems = {os.path.splitext(n)[0] for n in named if _format_of(n) != "JPEG"} | {str(i) for i in indices}
    return frozenset(n for n in named if _format_of(n) == "JPEG" and (os.path.splitext(n)[0] in stems or
                     os.path.splitext(n)[0].rpartition("_")[0] in stems))


def _format_of(name: str):
    Image.init()
    return Image.registered_extensions().get(os.path.splitext(name)[1].lower())


def _display_path(path: Path) -> str:
    """Relative to the working directory when under it, so prompt files move with the project."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extract_images(tsv_path: str | Path, meta, img_root: str | Path) -> dict[str, list[ImageRef]]:
    """Write the images of `meta`'s rows under img_root; return {str(index): [ImageRef, ...]}.

    `meta` is read_meta()'s frame, possibly cut to its first rows (a limited run): only those
    rows, and the rows their references point to, are written. A row whose image is a
    reference to another row reuses that row's files instead of writing a copy.
    """
    img_root = Path(img_root)
    image_paths = dict(zip(meta["index"].astype(str), meta["image_path"])) if "image_path" in meta else {}
    if "image" not in read_columns(tsv_path):
        img_root.mkdir(parents=True, exist_ok=True)
        return _meta_only(tsv_path, image_paths, img_root)
    folder = _Folder(img_root, _taken_names(meta["index"], image_paths.values()))
    manifest = _read_manifest(folder.root)
    new_entries: dict[str, dict] = {}
    sc, by_index, by_key = image_records(tsv_path)
    index_of = {record: index for index, record in by_index.items()}
    try:
        records = {str(i): by_index[str(i)] for i in meta["index"]}
    except KeyError as exc:
        raise InputError(f"{tsv_path}: row index={exc.args[0]} of the given rows is not in the file.") from None
    refs: dict[str, list[ImageRef]] = {}
    references: dict[str, str] = {}
    written = 0
    todo = dict(records)
    while todo:
        jobs = []
        # in file order, so the image cells are read front to back
        for index, record in sorted(todo.items(), key=lambda kv: kv[1]):
            item = sc.images[record]
            if is_reference(item):  # short cells are kept as text by the scan; long ones never are references
                references[index] = item
            else:
                jobs.append((str(tsv_path), index, item, image_paths.get(index), folder, manifest.get(index, {})))
        for index, out, n, entries in _run(jobs):
            refs[index] = out
            written += n
            if entries:
                new_entries[index] = entries
        # a reference to a row outside the wanted ones needs that row too
        todo = {}
        for index, key in references.items():
            target = by_key.get(key)
            if target is None:
                raise InputError(f"{tsv_path}: row index={index}: image refers to index {key!r}, which has no image.")
            target_index = index_of[target]
            if target_index not in refs and target_index not in todo:
                if is_reference(sc.images[target]):
                    raise InputError(f"{tsv_path}: row index={index}: image refers to index {key!r}, whose image "
                                     "is itself a reference.")
                todo[target_index] = target
    for index, key in references.items():
        refs[index] = refs[index_of[by_key[key]]]
    if written:
        flush_to_disk(folder.root)
    if new_entries:  # after the flush: an entry never vouches for a file that is not on disk
        _write_manifest(folder.root, {**manifest, **new_entries})
    return refs


# Re-encoded files, so a rerun need not re-encode to know a file is right:
# {index: {name: [sha256 of the base64 image's bytes, file size, file mtime_ns, sha256 of the file]}}.
# A file that is replaced changes size or mtime and so loses its entry. Concurrent runs may
# lose each other's entries, which only costs a re-encode.
MANIFEST = ".reencoded.json"


def _read_manifest(root: Path) -> dict:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_manifest(root: Path, data: dict) -> None:
    tmp = root / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, root / MANIFEST)


def _still_written(path: Path, entry) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    return [st.st_size, st.st_mtime_ns] == list(entry[1:3])


def _workers(jobs: list) -> int:
    """Processes for decoding: one for small jobs, up to 8 (or the CPUs we may use) for big ones."""
    total = sum(item[1] if isinstance(item, tuple) else len(item) for _, _, item, *_ in jobs)
    if total < PARALLEL_MIN_BYTES:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, MAX_WORKERS, len(jobs)))


def _run(jobs: list):
    """(index, refs, files written, manifest entries) per job, in order. Decoding base64 holds the GIL, so big
    datasets are spread over processes; each reads its image cells from the file itself."""
    workers = _workers(jobs)
    if workers == 1:
        if not jobs:
            return []
        with ImageReader(jobs[0][0], None) as reader:
            return [_extract(job, reader) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_extract, jobs, chunksize=max(1, len(jobs) // (workers * 16))))


def _extract(job, reader: ImageReader | None = None):
    tsv_path, index, item, image_path, folder, known = job
    if isinstance(item, tuple):
        if reader is None:
            with ImageReader(tsv_path, None) as own:
                item = own.read(*item)
        else:
            item = reader.read(*item)
    out, n, entries = _write_row(tsv_path, index, item, image_path, folder, known)
    return index, out, n, entries


def _write_row(tsv_path, index: str, image: str, image_path, folder: _Folder,
               known: dict | None = None) -> tuple[list[ImageRef], int, dict]:
    """(refs, files written, manifest entries of the files re-encoded) for one row's images."""
    where = f"{tsv_path}: row index={index}"
    try:
        # a '[...]' cell is a list of images (a bracketed literal is a list or a tuple); a malformed one is an error
        blobs = parse_list(image, tuples=True, strict=True)
    except LITERAL_ERRORS as exc:
        raise InputError(f"{where}: the image list cannot be parsed ({exc}).") from exc
    blobs = [image] if blobs is None else blobs
    out, written, entries = [], 0, {}
    for name, b64 in zip(_names(index, len(blobs), image_path), blobs):
        path, shown = folder.join(name, where)  # refuses a path outside the folder before any decoding
        source = _b64decode(b64, where)
        entry = (known or {}).get(name)
        if entry and _still_written(path, entry) and entry[0] == hashlib.sha256(source).hexdigest():
            out.append(ImageRef(shown, entry[3]))  # re-encoded by an earlier run from these very bytes
            continue
        raw, written_as, reencoded = _encode(source, name, where, folder.taken)
        if written_as != name:
            path, shown = path.with_name(Path(written_as).name), str(Path(shown).with_name(Path(written_as).name))
        try:
            # a new file is written in place: nothing reads these files before the prompt
            # file that names them exists, and a file cut short by a crash fails _holds below
            # on the next run and is replaced
            with open(path, "xb") as fh:
                fh.write(raw)
            written += 1
        except FileExistsError:
            if not _holds(path, raw):
                _write_file(path, raw)
                written += 1
        digest = hashlib.sha256(raw).hexdigest()
        out.append(ImageRef(shown, digest))
        if reencoded:
            st = path.stat()
            entries[name] = [hashlib.sha256(source).hexdigest(), st.st_size, st.st_mtime_ns, digest]
    return out, written, entries


def _holds(path: Path, raw: bytes) -> bool:
    """The file exists with exactly these bytes (a size check alone would trust a torn write)."""
    try:
        if path.stat().st_size != len(raw):
            return False
        with open(path, "rb") as fh:
            return fh.read() == raw
    except FileNotFoundError:
        return False


def _write_file(path: Path, raw: bytes) -> None:
    """Write beside, then rename: a reader never sees half an image. Not fsynced here (see
    flush_to_disk), because one fsync per image made extraction 10x slower than the disk."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def flush_to_disk(folder: Path) -> None:
    """Make everything written under `folder` durable: syncfs(2) on Linux, else sync(2)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def _meta_only(tsv_path, image_paths, img_root: Path) -> dict[str, list[ImageRef]]:
    """A TSV without an `image` column: `image_path` holds absolute paths or paths under img_root."""
    refs = {}
    for index, paths in image_paths.items():
        if not isinstance(paths, (str, list)):
            continue
        out = []
        for p in [paths] if isinstance(paths, str) else paths:
            path = Path(p) if os.path.isabs(p) else img_root / p
            if not path.exists():
                raise InputError(f"{tsv_path}: row index={index}: image file {path} does not exist.")
            out.append(ImageRef(str(path), file_digest(path)))
        refs[index] = out
    return refs
