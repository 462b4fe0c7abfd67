"""A custom TSV edited after a run (issue 25): without an md5 the edit reruns the dataset's chain and
gives a new score; with an md5 the run stops, naming the file and both md5s and saying to update
`md5:`. The data root's old copy and the earlier results are kept."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from vlmeval_steps import sources
from vlmeval_steps.demo import benchmark
from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import md5_of
from vlmeval_steps.steps import fetch


def test_the_source_hash_is_reused_until_the_file_changes(tmp_path, monkeypatch):
    src = tmp_path / "My.tsv"
    src.write_text("index\tquestion\n1\tq\n")
    hashed = []
    monkeypatch.setattr(sources, "md5_of", lambda p: hashed.append(p) or md5_of(p))
    first = sources.cached_md5(src, tmp_path / "cache")
    assert sources.cached_md5(src, tmp_path / "cache") == first == md5_of(src)
    assert len(hashed) == 1  # the second plan read the sidecar
    src.write_text("index\tquestion\n1\tq\n2\tr\n")
    assert sources.cached_md5(src, tmp_path / "cache") == md5_of(src) != first
    assert len(hashed) == 2


def test_download_params_of_a_local_source(tmp_path):
    src = tmp_path / "My.tsv"
    src.write_text("index\tquestion\n1\tq\n")
    root = tmp_path / "LMUData"
    url, actual = src.as_uri(), md5_of(src)
    assert sources.download_params(url, None, root, "My") == (url, actual)  # no md5: the content's
    assert sources.download_params(url, actual, root, "My") == (url, actual)  # as configured: unchanged
    web = "https://example.org/Web.tsv"
    assert sources.download_params(web, None, root, "Web") == (web, "")  # remote: not hashed
    assert sources.download_params(web, "0" * 32, root, "Web") == (web, "0" * 32)
    # edited under its md5: the url names the new content, so the download reruns (and stops, saying why)
    assert sources.download_params(url, "0" * 32, root, "My") == (f"{url}#md5={actual}", "0" * 32)
    assert sources.local_source(f"{url}#md5={actual}") == src
    assert sources.source_conflict(url, "0" * 32, root) == actual
    assert sources.source_conflict(url, actual, root) is None and sources.source_conflict(url, None, root) is None
    # the source gone: the data root's copy stands in (the results made from it stay up to date)
    (root / "My.tsv").write_bytes(src.read_bytes())
    src.unlink()
    assert sources.download_params(url, None, root, "My") == (url, actual)


def test_fetch_refuses_an_edited_source_and_keeps_the_copy(tmp_path):
    src = tmp_path / "My.tsv"
    src.write_text("index\tquestion\n1\tq\n")
    root, configured = tmp_path / "LMUData", md5_of(src)
    fetch.run("My", src.as_uri(), configured, root, tmp_path / "wd/My.tsv")
    src.write_text("index\tquestion\n1\tq\n2\tr\n")  # fixed after the run, md5 left as it was
    edited = md5_of(src)
    url, md5 = sources.download_params(src.as_uri(), configured, root, "My")
    with pytest.raises(InputError) as err:
        fetch.run("My", url, md5, root, tmp_path / "wd/My.tsv")
    msg = str(err.value)
    assert f"My.tsv: md5 mismatch: expected {configured}, got {edited}: the source file {src} no longer" in msg
    assert f"set `md5: {edited}` in the config (or remove the md5 line" in msg
    assert md5_of(root / "My.tsv") == configured  # kept, not replaced and not moved
    # the md5 updated: the edit is fetched, the old copy set aside
    fetch.run("My", src.as_uri(), edited, root, tmp_path / "wd/My.tsv")
    assert md5_of(root / "My.tsv") == edited and md5_of(root / f".stale/My.{configured}.tsv") == configured


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _configure(workflow, md5):
    cfg = workflow.config()
    cfg["datasets"] = ["Mine"]
    cfg["custom_datasets"]["Mine"] = dict(url="demo/Mine.tsv", type="MCQ", **({"md5": md5} if md5 else {}))
    workflow.write_config(cfg)


@pytest.mark.slow
def test_an_edited_tsv_without_md5_is_scored_again(workflow):
    src = workflow.root / "demo/Mine.tsv"
    benchmark.write(src, n_images=4, seed=7)
    _configure(workflow, md5=None)
    workflow.snakemake()
    result = workflow.root / "results/TinyLLaVA-Demo"
    assert len(_rows(result / "Mine.tsv")) == 8
    old_md5 = md5_of(src)
    assert workflow.planned() == {}

    benchmark.write(src, n_images=5, seed=7)  # a row added (two questions per image)
    status = subprocess.run([sys.executable, "-m", "vlmeval_steps", "status"], cwd=workflow.root, env=workflow.env(),
                            capture_output=True, text=True, timeout=600)
    line = next(ln for ln in status.stdout.splitlines() if ln.startswith("TinyLLaVA-Demo"))
    assert "would rerun" in line and "download" in line and "params changed" in line, status.stdout + status.stderr
    # the whole chain of that dataset (the demo model has 2 shards)
    assert workflow.planned() == {"download": 1, "build_prompts": 1, "infer": 2, "merge": 1, "judge": 1,
                                  "score": 1, "summary": 1, "report": 1}
    workflow.snakemake()
    assert len(_rows(result / "Mine.tsv")) == 10
    assert json.loads((result / "Mine_provenance.json").read_text())["rows"] == 10
    assert md5_of(workflow.data_root / "Mine.tsv") == md5_of(src)
    assert (workflow.data_root / ".stale" / f"Mine.{old_md5}.tsv").is_file()  # the old copy is kept
    assert workflow.planned() == {}


@pytest.mark.slow
def test_an_edited_tsv_with_a_stale_md5_stops_saying_what_to_do(workflow):
    src = workflow.root / "demo/Mine.tsv"
    benchmark.write(src, n_images=4, seed=7)
    lines = src.read_bytes().split(b"\n")
    good_row = lines[3]
    lines[3] = good_row.rsplit(b"\t", 3)[0]  # a row cut short
    src.write_bytes(b"\n".join(lines))
    broken_md5 = md5_of(src)
    _configure(workflow, md5=broken_md5)
    proc = workflow.snakemake(check=False)
    assert proc.returncode != 0 and "the row is cut short" in proc.stdout + proc.stderr

    lines[3] = good_row  # the user fixes the row, but not the md5
    src.write_bytes(b"\n".join(lines))
    fixed_md5 = md5_of(src)
    assert workflow.planned() == {"download": 1, "build_prompts": 1, "infer": 2, "merge": 1, "judge": 1,
                                  "score": 1, "summary": 1, "report": 1}
    proc = workflow.snakemake(check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (f"Mine.tsv: md5 mismatch: expected {broken_md5}, got {fixed_md5}: the source file {src} no longer has "
            "the md5 the config gives dataset 'Mine'") in out, out[-3000:]
    assert f"set `md5: {fixed_md5}` in the config (or remove the md5 line" in out
    assert "the row is cut short" not in out  # the old copy was not used again
    assert md5_of(workflow.data_root / "Mine.tsv") == broken_md5  # nothing was replaced
    assert "Traceback" not in out

    _configure(workflow, md5=fixed_md5)
    workflow.snakemake()
    assert len(_rows(workflow.root / "results/TinyLLaVA-Demo/Mine.tsv")) == 8
    assert (workflow.data_root / ".stale" / f"Mine.{broken_md5}.tsv").is_file()
