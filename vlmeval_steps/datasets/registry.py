"""Registered benchmarks: name -> type, class, URL and MD5 (upstream's DATASET_URL/DATASET_MD5).

Adding a benchmark is one entry in REGISTERED. A user's own TSV needs no entry: give it a
name, a `url` (http(s), file:// or a local path), optionally an `md5` and a `type` in the
config's `custom_datasets`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from ..errors import InputError
from .base import ImageBaseDataset
from .caption import ImageCaptionDataset
from .documents import DUDE, MMLongBenchDoc, SlideVQA
from .judged import MathVista, MMVet
from .judged_open import LLaVABench, MathVision
from .mmdu import MMDUDataset
from .mcq import ImageMCQDataset, MMMUDataset
from .mcq_tables import GMAIMMBench, MMTBench
from .mtvqa import MTVQADataset
from .vcr import VCRDataset
from .vqa import ImageVQADataset, OCRBench
from .yorn import ImageYORNDataset
from .video.mmbench_video import MMBenchVideo
from .video.mvbench import MVBench, MVBench_MP4
from .video.videomme import VideoMME

CLASSES: dict[str, type[ImageBaseDataset]] = {
    "ImageMCQDataset": ImageMCQDataset,
    "MMMUDataset": MMMUDataset,
    "MMTBench": MMTBench,
    "GMAIMMBench": GMAIMMBench,
    "ImageYORNDataset": ImageYORNDataset,
    "ImageVQADataset": ImageVQADataset,
    "OCRBench": OCRBench,
    "MathVista": MathVista,
    "MMVet": MMVet,
    # issue 11
    "MTVQADataset": MTVQADataset,
    "ImageCaptionDataset": ImageCaptionDataset,
    "VCRDataset": VCRDataset,
    "MathVision": MathVision,
    "LLaVABench": LLaVABench,
    "MMDUDataset": MMDUDataset,
    # issue 12: video
    "MMBenchVideo": MMBenchVideo,
    "MVBench": MVBench,
    "MVBench_MP4": MVBench_MP4,
    "VideoMME": VideoMME,
    "DUDE": DUDE,
    "SlideVQA": SlideVQA,
    "MMLongBenchDoc": MMLongBenchDoc,
}
#: the class a custom dataset of a given type gets
TYPE_CLASSES = {"MCQ": "ImageMCQDataset", "Y/N": "ImageYORNDataset", "VQA": "ImageVQADataset"}

VLMEVAL = "https://opencompass.openxlab.space/utils/VLMEval"
BENCHMARKS = "https://opencompass.openxlab.space/utils/benchmarks"
VCR = "https://huggingface.co/datasets/vcr-org"


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    cls: str
    url: str
    md5: str | None = None
    #: upstream's spelling when `name` is an alias (behaviour and the TSV file follow upstream's name)
    upstream: str | None = None
    #: answers withheld: why there is no score and which split has answers (score stops with this text)
    withheld: str = ""
    #: the file an official server takes, written by the score stage: "mmmu_json" or "mmt_tsv"
    submission: str = ""
    #: a group of benchmarks scored one by one, their tables stacked (upstream's ConcatDataset)
    members: tuple[str, ...] = ()

    @property
    def type(self) -> str:
        return CLASSES[self.cls].TYPE

    @property
    def upstream_name(self) -> str:
        return self.upstream or self.name

    def to_dict(self) -> dict:
        return dict(asdict(self), type=self.type)

    @classmethod
    def from_dict(cls, spec: dict) -> "DatasetInfo":
        known = {f.name for f in fields(cls)}
        spec = {k: (tuple(v) if k == "members" else v) for k, v in spec.items() if k in known}
        return cls(**dict(dict(url="", md5=None), **spec))


def _entry(name, cls, url, md5, **options):
    return name, DatasetInfo(name=name, cls=cls, url=url, md5=md5, **options)


def _group(name: str, members: list[str]):
    # the members' class: every member is an MCQ benchmark (upstream asserts one TYPE per group)
    return name, DatasetInfo(name=name, cls="ImageMCQDataset", url="", md5=None, members=tuple(members))


HF = "https://huggingface.co/datasets"
PARROT = f"{HF}/AIDC-AI/Parrot-dataset/resolve/main"
NO_ANSWERS = "the TSV has no answers (upstream: 'a test split without ground-truth'). "
# `withheld` texts: why score stops, and which split of the benchmark carries answers
WITHHELD = {
    "MMMU_TEST": ("MMMU's test answers are withheld: submit the prediction file (MMMU_TEST.json beside it) to the "
                  "MMMU evaluation server (eval.ai). MMMU_DEV_VAL carries answers."),
    "MMBench_TEST_CN": ("MMBench v1.0 test answers are withheld: submit the prediction file to MMBench's official "
                        "evaluation server. MMBench_DEV_CN (and MMBench_TEST_CN_V11) carry answers."),
    "AesBench_TEST": ("AesBench's test answers are withheld: send the prediction file to the AesBench team "
                      "(upstream: huangyipo@hotmail.com). AesBench_VAL carries answers (a toy version)."),
    "Q-Bench1_TEST": "Q-Bench1_TEST: " + NO_ANSWERS + "Q-Bench1_VAL carries answers.",
    "A-Bench_TEST": "A-Bench_TEST: " + NO_ANSWERS + "A-Bench_VAL carries answers.",
    # upstream writes no server file for these two: the merged prediction file is what is submitted
    "DocVQA_TEST": ("DocVQA's test answers are withheld: submit the prediction file to the DocVQA challenge server "
                    "(rrc.cvc.uab.es, task 1). For a local score, evaluate DocVQA_VAL, the split that carries answers."),
    "InfoVQA_TEST": ("InfographicVQA's test answers are withheld: submit the prediction file to the InfographicVQA "
                     "challenge server (rrc.cvc.uab.es, task 3). For a local score, evaluate InfoVQA_VAL, the split "
                     "that carries answers."),
    "MLLMGuard_DS": ("MLLMGuard_DS is inference only: upstream does not evaluate it ('The evaluation of "
                     "MLLMGuard_DS is not supported yet'); no split of it is scored upstream."),
}


# URLs and MD5s of upstream's DATASET_URL / DATASET_MD5 at e8e78f05 (docs: reference §1.5).
REGISTERED: dict[str, DatasetInfo] = dict([
    # multiple choice; MMBench and CCBench are circular (every rotation of a question must be right)
    _entry("MMStar", "ImageMCQDataset", f"{VLMEVAL}/MMStar.tsv", "e1ecd2140806c1b1bbf54b43372efb9e"),
    _entry("MMBench_DEV_EN", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_DEV_EN.tsv",
           "b6caf1133a01c6bb705cf753bb527ed8"),
    _entry("MMBench_DEV_CN", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_DEV_CN.tsv",
           "08b8fc3324a5ed74155350f57be69fbd"),
    _entry("MMBench_DEV_EN_V11", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_DEV_EN_V11.tsv",
           "30c05be8f2f347a50be25aa067248184"),
    _entry("MMBench_DEV_CN_V11", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_DEV_CN_V11.tsv",
           "593f9b5f6bea453d870a798b34ae4f37"),
    # the v1.0 test TSV has no answers: inference only, scoring stops with an explanation
    _entry("MMBench_TEST_EN", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_TEST_EN.tsv",
           "6939fadb0ce626fefc0bdc9c64efc528"),
    # since upstream 0bccf452 (2026-06) this TSV carries answers (the md5 is that version's)
    _entry("MMBench_TEST_EN_V11", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_TEST_EN_V11.tsv",
           "8d1a704e791df6f5d9fb3ef782b65365"),
    _entry("CCBench", "ImageMCQDataset", f"{VLMEVAL}/CCBench.tsv", "f5dde47f24dc5a6fb6e595b409b466ac"),
    _entry("SEEDBench_IMG", "ImageMCQDataset", f"{BENCHMARKS}/SEEDBench/SEEDBench_IMG.tsv",
           "68017231464752261a2526d6ca3a10c0"),
    _entry("AI2D_TEST", "ImageMCQDataset", f"{VLMEVAL}/AI2D_TEST.tsv", "0f593e0d1c7df9a3d69bf1f947e71975"),
    # URL not in the reference; it follows its sibling AI2D_TEST's
    _entry("AI2D_TEST_NO_MASK", "ImageMCQDataset", f"{VLMEVAL}/AI2D_TEST_NO_MASK.tsv",
           "fd8f463634d4fe9fbd23b876e8eea5be"),
    _entry("ScienceQA_VAL", "ImageMCQDataset", f"{BENCHMARKS}/ScienceQA/ScienceQA_VAL.tsv",
           "96320d05e142e585e7204e72affd29f3"),
    _entry("RealWorldQA", "ImageMCQDataset", f"{VLMEVAL}/RealWorldQA.tsv", "4de008f55dc4fd008ca9e15321dc44b7"),
    _entry("MMMU_DEV_VAL", "MMMUDataset", f"{VLMEVAL}/MMMU_DEV_VAL.tsv", "585e8ad75e73f75dcad265dfd0417d64"),
    # --- issue 11: multiple choice ---
    # upstream ImageMCQDataset / MMMUDataset / GMAIMMBenchDataset DATASET_URL + DATASET_MD5, ConcatDataset
    # DATASET_SETS (vlmeval/dataset/image_mcq.py, __init__.py at e8e78f05). Options: withheld (no score, says why),
    # submission (the file an official server takes), members (a group), upstream (an alias's upstream spelling).
    # plain MCQ: upstream's prompt, can_infer then the judge, report_acc's table
    _entry("A-Bench_TEST", "ImageMCQDataset", f"{HF}/zhangzicheng/abench_tsv/resolve/main/A-bench_TEST.tsv",
           "567013fb033a20cf23f51d8e865bd16c", withheld=WITHHELD["A-Bench_TEST"]),
    _entry("A-Bench_VAL", "ImageMCQDataset", f"{HF}/zhangzicheng/abench_tsv/resolve/main/A-bench_VAL.tsv",
           "218563ec50d34bb336c814143a5bb9c1"),
    _entry("AesBench_TEST", "ImageMCQDataset", f"{HF}/VLMEval/AesBench/resolve/main/AesBench_TEST.tsv",
           "58b1f7ba2cc32e1d68896d6ee716bbf8", withheld=WITHHELD["AesBench_TEST"]),
    _entry("AesBench_VAL", "ImageMCQDataset", f"{HF}/VLMEval/AesBench/resolve/main/AesBench_VAL.tsv",
           "3edb0c319e9187aa0b97fe7a11700a8c"),
    _entry("Q-Bench1_TEST", "ImageMCQDataset", f"{HF}/zhangzicheng/qbench_tsv/resolve/main/Q-Bench1_TEST.tsv",
           "15e759bfd58c9d5f30b23a317d347153", withheld=WITHHELD["Q-Bench1_TEST"]),
    _entry("Q-Bench1_VAL", "ImageMCQDataset", f"{HF}/zhangzicheng/qbench_tsv/resolve/main/Q-Bench1_VAL.tsv",
           "837bdb6cd2da571713543462815187b7"),
    _entry("SEEDBench2", "ImageMCQDataset", f"{HF}/VLMEval/SEEDBench2/resolve/main/SEEDBench2.tsv",
           "4ec15cf864c4f16274112284f531813e"),
    _entry("SEEDBench2_Plus", "ImageMCQDataset", f"{BENCHMARKS}/SEEDBench/SEEDBench2_Plus.tsv",
           "e32d3216dc4f452b0fe497a52015d1fd"),
    _entry("ScienceQA_TEST", "ImageMCQDataset", f"{BENCHMARKS}/ScienceQA/ScienceQA_TEST.tsv",
           "e42e9e00f9c59a80d8a5db35bc32b71f"),
    _entry("TaskMeAnything_v1_imageqa_random", "ImageMCQDataset",
           f"{HF}/weikaih/TaskMeAnything-v1-imageqa-random/resolve/main/TaskMeAnything-v1-imageqa-random.tsv",
           "023fef69e2ca21827afb77c5ec3bc889"),
    # an MCQ class upstream, but run.py never evaluates it: inference only
    _entry("MLLMGuard_DS", "ImageMCQDataset", f"{VLMEVAL}/MLLMGuard_DS.tsv", "975fc0dd7119386e198c37d71e274b3f",
           withheld=WITHHELD["MLLMGuard_DS"]),
    # multi-image MCQ: the row's images (a list in the `image` cell) in their order, then the text
    _entry("BLINK", "ImageMCQDataset", f"{VLMEVAL}/BLINK.tsv", "d5e8af148b10ac69f535ff7b23f3f989"),
    _entry("MMT-Bench_VAL_MI", "MMTBench", f"{BENCHMARKS}/MMT-Bench/MMT-Bench_VAL_MI.tsv",
           "c7d7b998eb5cd9aa36c7d4f721472462"),
    # upstream's run.py only writes the eval.ai submission for the _ALL splits; we write it and score
    # with report_acc_MMT when the TSV has answers
    _entry("MMT-Bench_ALL_MI", "MMTBench", f"{BENCHMARKS}/MMT-Bench/MMT-Bench_ALL_MI.tsv",
           "5272157097e19cdd7cb41e412ab3b7c7", submission="mmt_tsv"),
    # MCQ with their own tables: report_acc_MMT; GMAI's report_acc plus one _acc.csv per grouping column
    _entry("MMT-Bench_ALL", "MMTBench", f"{BENCHMARKS}/MMT-Bench/MMT-Bench_ALL.tsv",
           "b273a2f4c596fe4f2605de0494cd632f", submission="mmt_tsv"),
    _entry("MMT-Bench_VAL", "MMTBench", f"{BENCHMARKS}/MMT-Bench/MMT-Bench_VAL.tsv",
           "8dd4b730f53dbf9c3aed90ca31c928e0"),
    _entry("GMAI-MMBench_VAL", "GMAIMMBench", f"{HF}/VLMEval/GMAI-MMBench/resolve/main/GMAI-MMBench_VAL.tsv",
           "254bd581627866f1c499d3d6b4422324"),
    _entry("GMAI_mm_bench_VAL", "GMAIMMBench", f"{HF}/VLMEval/GMAI-MMBench/resolve/main/GMAI-MMBench_VAL.tsv",
           "254bd581627866f1c499d3d6b4422324", upstream="GMAI-MMBench_VAL"),  # the seeds' spelling, an alias
    # circular MMBench (every rotation right) and the multilingual sets (Parrot)
    _entry("MMBench_TEST_CN", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_TEST_CN.tsv",
           "7e1239baf0ee4c8b513e19705a0f317e", withheld=WITHHELD["MMBench_TEST_CN"]),
    _entry("MMBench_TEST_CN_V11", "ImageMCQDataset", f"{BENCHMARKS}/MMBench/MMBench_TEST_CN_V11.tsv",
           "156e6569f9547afb16603eca16e85373"),
    _entry("MMBench_dev_ar", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_ar.tsv",
           "4271b4a0d0200e1a86380a878e0d64a4"),
    _entry("MMBench_dev_cn", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_cn.tsv",
           "2ed5135326fed02c8e51ea50dda8222f"),
    _entry("MMBench_dev_en", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_en.tsv",
           "d9ab776fc018b3d45785e9a5c23431c2"),
    _entry("MMBench_dev_pt", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_pt.tsv",
           "4ddfbcd27ef12444b908c03831cd0295"),
    _entry("MMBench_dev_ru", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_ru.tsv",
           "5ba1171ff2e68f80637bf78349e402a5"),
    _entry("MMBench_dev_tr", "ImageMCQDataset", f"{PARROT}/mmbench/mmbench_dev_tr.tsv",
           "4fab39d501389d3d6cc90264bb708f11"),
    # MMMB: not circular ('mmmb' is none of upstream's circular markers)
    _entry("MMMB_ar", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_ar.tsv", "f3a18b6385f1d9701840aa42de27aead"),
    _entry("MMMB_cn", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_cn.tsv", "13ed82fa89730037292fcaa27f08f430"),
    _entry("MMMB_en", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_en.tsv", "1cd781a71ec5a2983c090b84105d6a01"),
    _entry("MMMB_pt", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_pt.tsv", "548ea2b3bb2da991790386f0015d30d1"),
    _entry("MMMB_ru", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_ru.tsv", "ce1cc8a0533425ab0d86b326ebfc2984"),
    _entry("MMMB_tr", "ImageMCQDataset", f"{PARROT}/mmmb/mmmb_tr.tsv", "0733739d43090327975294292bc5cd67"),
    # groups (upstream's ConcatDataset): each member scored alone, the tables stacked with a DATASET column
    _group("MMMB", ["MMMB_ar", "MMMB_cn", "MMMB_en", "MMMB_pt", "MMMB_ru", "MMMB_tr"]),
    _group("MTL_MMBench_DEV", ["MMBench_dev_ar", "MMBench_dev_cn", "MMBench_dev_en", "MMBench_dev_pt",
                               "MMBench_dev_ru", "MMBench_dev_tr"]),
    # answers withheld: inference, then the submission file where upstream writes one
    _entry("MMMU_TEST", "MMMUDataset", f"{VLMEVAL}/MMMU_TEST.tsv", "c19875d11a2d348d07e5eb4bdf33166d",
           withheld=WITHHELD["MMMU_TEST"], submission="mmmu_json"),
    # yes / no
    _entry("MME", "ImageYORNDataset", f"{VLMEVAL}/MME.tsv", "b36b43c3f09801f5d368627fb92187c3"),
    _entry("POPE", "ImageYORNDataset", f"{VLMEVAL}/POPE.tsv", "c12f5acb142f2ef1f85a26ba2fbe41d5"),
    _entry("HallusionBench", "ImageYORNDataset", f"{VLMEVAL}/HallusionBench.tsv", "0c23ac0dc9ef46832d7a24504f2a0c7c"),
    # open answers scored by rules
    _entry("TextVQA_VAL", "ImageVQADataset", f"{VLMEVAL}/TextVQA_VAL.tsv", "b233b31f551bbf4056f2f955da3a92cd"),
    _entry("ChartQA_TEST", "ImageVQADataset", f"{VLMEVAL}/ChartQA_TEST.tsv", "c902e0aa9be5582a7aad6dcf52734b42"),
    _entry("DocVQA_VAL", "ImageVQADataset", f"{VLMEVAL}/DocVQA_VAL.tsv", "d5ee77e1926ff10690d469c56b73eabf"),
    # URL not in the reference; it follows its sibling DocVQA_VAL's
    _entry("InfoVQA_VAL", "ImageVQADataset", f"{VLMEVAL}/InfoVQA_VAL.tsv", "2342e9c225222f0ef4dec545ebb126fe"),
    _entry("OCRBench", "OCRBench", f"{VLMEVAL}/OCRBench.tsv", "e953d98a987cc6e26ef717b61260b778"),
    # scored by an LLM judge only
    _entry("MathVista_MINI", "MathVista", f"{VLMEVAL}/MathVista_MINI.tsv", "f199b98e178e5a2a20e7048f5dcb0464"),
    _entry("MMVet", "MMVet", f"{VLMEVAL}/MMVet.tsv", "748aa6d4aa9d4de798306a63718455e3"),
    # --- issue 11: open answers, captions, VCR, documents, judged ---
    # open answers by rules: exact match after strip + lower, the best over the accepted answers
    _entry("OCRVQA_TEST", "ImageVQADataset", f"{VLMEVAL}/OCRVQA_TEST.tsv", "ca46a6d74b403e9d6c0b670f6fc00db9"),
    _entry("OCRVQA_TESTCORE", "ImageVQADataset", f"{VLMEVAL}/OCRVQA_TESTCORE.tsv",
           "c5239fe77db8bdc1f2ad8e55e0d1fe97"),
    # per-language substring match; upstream's main file is MTVQA_TEST_acc.json
    _entry("MTVQA_TEST", "MTVQADataset", f"{VLMEVAL}/MTVQA_TEST.tsv", "d87c17dbab934b7cd89c0a3c1c5657f4"),
    # answers withheld: inference only; DocVQA_VAL / InfoVQA_VAL carry answers
    _entry("DocVQA_TEST", "ImageVQADataset", f"{VLMEVAL}/DocVQA_TEST.tsv", "6a2f28cac26ef2d3447374e8c6f6c8e9",
           withheld=WITHHELD["DocVQA_TEST"]),
    _entry("InfoVQA_TEST", "ImageVQADataset", f"{VLMEVAL}/InfoVQA_TEST.tsv", "df535bf51b88dc9718252c34131a6227",
           withheld=WITHHELD["InfoVQA_TEST"]),
    # captioning: BLEU-1..4, ROUGE_L, CIDEr (pycocoevalcap); upstream's main file is COCO_VAL_score.json
    _entry("COCO_VAL", "ImageCaptionDataset", f"{VLMEVAL}/COCO_VAL.tsv", "72a5079dead060269ac222c5aa5128af"),
    # VCR: exact match and Jaccard over the covered texts; main file VCR_*_{en|zh}_{easy|hard}_score.json
    _entry("VCR_EN_EASY_100", "VCRDataset",
           f"{VCR}/VCR-wiki-en-easy-test-100/resolve/main/VCR-wiki-en-easy-test-100.tsv",
           "9df5d7266683458621ecbe122beb72f0"),
    _entry("VCR_EN_EASY_500", "VCRDataset",
           f"{VCR}/VCR-wiki-en-easy-test-500/resolve/main/VCR-wiki-en-easy-test-500.tsv",
           "fd9258db52f8685dc710619a0ea0a261"),
    _entry("VCR_EN_EASY_ALL", "VCRDataset",
           f"{VCR}/VCR-wiki-en-easy-test/resolve/main/VCR-wiki-en-easy-test.tsv",
           "8a9b96885f251d1c85f42f84073327f1"),
    _entry("VCR_EN_HARD_100", "VCRDataset",
           f"{VCR}/VCR-wiki-en-hard-test-100/resolve/main/VCR-wiki-en-hard-test-100.tsv",
           "1b20f5cbcbeae0b0bec77f7a36143958"),
    _entry("VCR_EN_HARD_500", "VCRDataset",
           f"{VCR}/VCR-wiki-en-hard-test-500/resolve/main/VCR-wiki-en-hard-test-500.tsv",
           "0a22a85080b6a1f52b1f95e302d43df4"),
    _entry("VCR_EN_HARD_ALL", "VCRDataset",
           f"{VCR}/VCR-wiki-en-hard-test/resolve/main/VCR-wiki-en-hard-test.tsv",
           "2d8b8b1ee0eba0e0b618fd3aa7d9710e"),
    _entry("VCR_ZH_EASY_100", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-easy-test-100/resolve/main/VCR-wiki-zh-easy-test-100.tsv",
           "4a86a5678a79844d6d22ab0629c51cd5"),
    _entry("VCR_ZH_EASY_500", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-easy-test-500/resolve/main/VCR-wiki-zh-easy-test-500.tsv",
           "beca5fd54176adf44cf94bd9b50cf048"),
    _entry("VCR_ZH_EASY_ALL", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-easy-test/resolve/main/VCR-wiki-zh-easy-test.tsv",
           "5050fe7f0027ad2068fd4c7f220edaea"),
    _entry("VCR_ZH_HARD_100", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-hard-test-100/resolve/main/VCR-wiki-zh-hard-test-100.tsv",
           "b0e38c85f5d5e63894a3b881c372a62b"),
    _entry("VCR_ZH_HARD_500", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-hard-test-500/resolve/main/VCR-wiki-zh-hard-test-500.tsv",
           "617e3360f75c54455625cb0a8da5c1e7"),
    _entry("VCR_ZH_HARD_ALL", "VCRDataset",
           f"{VCR}/VCR-wiki-zh-hard-test/resolve/main/VCR-wiki-zh-hard-test.tsv",
           "54bbfef448206518b03127ef8b61404c"),
    # judged: MathVision by rules first and the judge on the misses; LLaVABench by the judge only
    _entry("MathVision", "MathVision", f"{VLMEVAL}/MathVision.tsv", "93f6de14f7916e598aa1b7165589831e"),
    _entry("MathVision_MINI", "MathVision", f"{VLMEVAL}/MathVision_MINI.tsv", "060fe4fa5d868987ce179307bd5f8a33"),
    _entry("LLaVABench", "LLaVABench", f"{VLMEVAL}/LLaVABench.tsv", "d382a093f749a697820d3dadd61c8428"),
    # multi-turn: each turn answered with the conversation so far, each turn graded by the judge
    _entry("MMDU", "MMDUDataset", f"{VLMEVAL}/MMDU.tsv", "848b635a88a078f49aebcc6e39792061"),
    # --- issue 12: video (upstream's VideoBaseDataset family, vlmeval/dataset/{mmbench_video,mvbench,videomme}.py) ---
    # url: the hub dataset repository, hf://<repo_id>[@<branch>], or a local folder in its layout; md5: of the
    # index TSV upstream builds from it (MMBench-Video: the repository's own TSV), upstream's MD5 / MP4_MD5
    _entry("MMBench-Video", "MMBenchVideo", "hf://opencompass/MMBench-Video", "98f7df3eb1007fc375ea6fe88a98e2ff"),
    _entry("MVBench", "MVBench", "hf://OpenGVLab/MVBench", "fd21d36522cdedd46d84dc46715ad832"),
    _entry("MVBench_MP4", "MVBench_MP4", "hf://OpenGVLab/MVBench@video", "5c8c6f8b7972c2de65a629590f7c42f5"),
    _entry("Video-MME", "VideoMME", "hf://lmms-lab/Video-MME", "85bdd91f9b29a99354c23b97ab7c113c"),
    # multi-page documents (dude.py, slidevqa.py, mmlongbenchdoc.py): pages laid out per model (one image per
    # page for API models, concatenated for local ones), the judge extracts every answer, rules score it
    _entry("DUDE", "DUDE", f"{VLMEVAL}/DUDE.tsv", "130d860d08206e1e407cd77150c10d88"),
    _entry("DUDE_MINI", "DUDE", f"{VLMEVAL}/DUDE_MINI.tsv", "e0c0d998114f0cca7516d12039d2b538"),
    _entry("SLIDEVQA", "SlideVQA", f"{VLMEVAL}/SLIDEVQA.tsv", "5e822c2f800e94c1e23badfd478326b6"),
    _entry("SLIDEVQA_MINI", "SlideVQA", f"{VLMEVAL}/SLIDEVQA_MINI.tsv", "6d9a8d8814fa5b7669deb2af3a3208eb"),
    _entry("MMLongBench_DOC", "MMLongBenchDoc", f"{VLMEVAL}/MMLongBench_DOC.tsv", "75f5d29965d0db68254993f6170da7c2"),
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
        if name in REGISTERED:  # a copy of a known benchmark: its registry options (withheld, ...) still hold
            known = REGISTERED[name]
            return replace(known, cls=spec.get("class") or known.cls, url=str(spec["url"]), md5=spec.get("md5"),
                           upstream=None)
        return DatasetInfo(name=name, cls=cls, url=str(spec["url"]), md5=spec.get("md5"))
    if name in REGISTERED:
        return REGISTERED[name]
    raise InputError(unknown_dataset_message(name, custom))


def unknown_dataset_message(name: str, custom: dict | None = None) -> str:
    """The close known names, not all ~100 of them (as for models): `vlmeval-steps list datasets` has those."""
    from ..names_check import close

    custom = custom or {}
    matches = close(name, set(REGISTERED) | set(custom))
    hint = f"; did you mean {' or '.join(repr(m) for m in matches)}?" if matches else "."
    own = f" (and custom_datasets: {', '.join(sorted(custom))})" if custom else ""
    return (f"unknown dataset {name!r}{hint} `vlmeval-steps list datasets` shows the {len(REGISTERED)} registered "
            f"ones{own}; or add your own TSV under custom_datasets in the config.")


def build_dataset(info: DatasetInfo, images: dict | None = None) -> ImageBaseDataset:
    cls = CLASSES[info.cls]
    # a video benchmark's frames come with its setting (video/benchmark.py); judge and score need neither
    dataset = cls(info.name) if cls.MODALITY == "VIDEO" else cls(info.name, images=images)
    dataset.info = info
    return dataset


# ---- video: the offline demo's benchmark (vlmeval_steps/video/demo_clips.py); its clips are committed under demo/ ----
from .video.demo import DemoVideo  # noqa: E402

CLASSES["DemoVideo"] = DemoVideo
REGISTERED["DemoVideo"] = DatasetInfo(name="DemoVideo", cls="DemoVideo", url="demo/DemoVideo", md5=None)
