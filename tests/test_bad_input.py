"""Bad input stops with an error that names the file, row, key or name, and deletes nothing computed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.tsvs import png_b64, write_tsv
from vlmeval_steps.fileio import md5_of

pytestmark = pytest.mark.slow


def output(proc) -> str:
    return proc.stdout + proc.stderr


def test_unknown_names_and_invalid_config(workflow):
    cfg = workflow.config()
    workflow.write_config(dict(cfg, datasets=["NoSuchBench"]))
    out = output(workflow.snakemake("-n", check=False))
    assert "unknown dataset 'NoSuchBench'" in out and "`vlmeval-steps list datasets`" in out and "DemoShapes" in out

    workflow.write_config(dict(cfg, models=["NoSuchModel"]))
    out = output(workflow.snakemake("-n", check=False))
    assert "unknown model 'NoSuchModel'" in out and "TinyLLaVA-Demo" in out

    workflow.write_config(dict(cfg, limit=0))
    proc = workflow.snakemake("-n", check=False)
    assert proc.returncode != 0 and "limit" in output(proc)

    workflow.write_config(dict(cfg, custom_datasets={"X": {"md5": "0" * 32}}))
    proc = workflow.snakemake("-n", check=False)
    assert proc.returncode != 0 and "url" in output(proc) and "custom_datasets" in output(proc)


def test_md5_mismatch_and_bad_tsvs_keep_what_was_computed(workflow):
    workflow.snakemake()
    acc = workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv"
    before = acc.read_bytes()
    good_md5 = workflow.config()["custom_datasets"]["DemoShapes"]["md5"]

    cfg = workflow.config()
    cfg["custom_datasets"]["DemoShapes"]["md5"] = "f" * 32
    rows = [dict(index=1, image=png_b64(), question="q", A="a", answer="A"),]   # no column B
    write_tsv(workflow.root / "demo/NoB.tsv", rows)
    write_tsv(workflow.root / "demo/BadImage.tsv",
              [dict(index=1, image=png_b64(), question="q", A="a", B="b", answer="A"),
               dict(index=2, image="aGVsbG8gd29ybGQ=" * 8, question="q", A="a", B="b", answer="A")])
    cfg["custom_datasets"]["NoB"] = {"url": "demo/NoB.tsv", "type": "MCQ"}
    cfg["custom_datasets"]["BadImage"] = {"url": "demo/BadImage.tsv", "type": "MCQ",
                                          "md5": md5_of(workflow.root / "demo/BadImage.tsv")}
    cfg["datasets"] = ["DemoShapes", "NoB", "BadImage"]
    workflow.write_config(cfg)
    proc = workflow.snakemake(check=False)
    out = output(proc)
    assert proc.returncode != 0
    assert f"DemoShapes.tsv: md5 mismatch: expected {'f' * 32}, got {good_md5}" in out
    assert "NoB.tsv: missing required column(s) ['B']" in out
    assert "BadImage.tsv: row index=2: the image cannot be decoded" in out
    # nothing computed was deleted: the earlier score, and the good TSV (set aside, not removed)
    assert acc.read_bytes() == before
    assert (workflow.root / f"LMUData/.stale/DemoShapes.{good_md5}.tsv").exists()

    # restoring the right md5 brings the set-aside TSV back without a download, and reruns nothing else
    cfg["custom_datasets"]["DemoShapes"]["md5"] = good_md5
    cfg["datasets"] = ["DemoShapes"]
    workflow.write_config(cfg)
    workflow.snakemake()
    assert "restoring" in (workflow.root / "logs/download/DemoShapes.log").read_text()
    assert acc.exists()


def test_disk_full_is_reported_and_keeps_cached_answers(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        big = tmp_path / "big.tsv"
        big.write_bytes(b"index\tquestion\n" + b"1\t" + b"x" * 200_000 + b"\n")
        proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "download", "--url", str(big),
                               "--out", str(mnt / "big.tsv")], capture_output=True, text=True)
        assert proc.returncode == 3
        assert "big.tsv.part: no space left on device" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        subprocess.run(["umount", str(mnt)])
