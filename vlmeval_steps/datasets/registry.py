"""Registered benchmarks: name -> type, class, URL and MD5 (upstream's DATASET_URL/DATASET_MD5).

Adding a benchmark is one entry in REGISTERED. A user's own TSV needs no entry: give it a
name, a `url` (http(s), file:// or a local path), optionally an `md5` and a `type` in the
config's `custom_datasets`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import InputError
from .base import ImageBaseDataset
from .mcq import ImageMCQDataset

CLASSES: dict[str, type[ImageBaseDataset]] = {
    "ImageMCQDataset": ImageMCQDataset,
}
#: the class a custom dataset of a given type gets
TYPE_CLASSES = {"MCQ": "ImageMCQDataset"}

VLMEVAL = "https://opencompass.openxlab.space/utils/VLMEval"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    cls: str
    url: str
    md5: str | None = None

    @property
    def type(self) -> str:
        return CLASSES[self.cls].TYPE

    def to_dict(self) -> dict:
        return dict(asdict(self), type=self.type)


def _entry(name, cls, url, md5):
    return name, DatasetInfo(name=name, cls=cls, url=url, md5=md5)


REGISTERED: dict[str, DatasetInfo] = dict([
    _entry("MMStar", "ImageMCQDataset", f"{VLMEVAL}/MMStar.tsv", "e1ecd2140806c1b1bbf54b43372efb9e"),
])


def dataset_info(name: str, custom: dict | None = None) -> DatasetInfo:
    """The registered entry, or the user's `custom_datasets` entry, for `name`."""
    custom = custom or {}
    if name in custom:
        spec = custom[name]
        cls = spec.get("class") or TYPE_CLASSES.get(spec.get("type", "MCQ"))
        if cls not in CLASSES:
            raise InputError(f"custom_datasets.{name}: unknown type/class {spec.get('type') or spec.get('class')!r}; "
                             f"known types: {sorted(TYPE_CLASSES)}, classes: {sorted(CLASSES)}.")
        if "url" not in spec:
            raise InputError(f"custom_datasets.{name}: needs a 'url' (http(s)://, file:// or a local path).")
        return DatasetInfo(name=name, cls=cls, url=str(spec["url"]), md5=spec.get("md5"))
    if name in REGISTERED:
        return REGISTERED[name]
    known = sorted(REGISTERED) + sorted(custom)
    raise InputError(f"unknown dataset {name!r}. Registered datasets: {', '.join(known)}. "
                     "Add your own TSV under custom_datasets in the config.")


def build_dataset(info: DatasetInfo, images: dict | None = None) -> ImageBaseDataset:
    return CLASSES[info.cls](info.name, images=images)
