"""GPU placement: lock-file claims over a pool of ids, SLURM's own choice, release on crash."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmeval_steps.errors import InputError
from vlmeval_steps.gpu import claim_gpus, discover_pool, gpus_needed, parse_ids

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _keep_cuda_env(monkeypatch):
    # claim_gpus sets CUDA_VISIBLE_DEVICES in this process; monkeypatch puts it back
    for name in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"):
        monkeypatch.delenv(name, raising=False)


def test_pool_sources_in_order():
    assert parse_ids(" 0, 1 ,2") == ["0", "1", "2"]
    assert parse_ids("") == [] and parse_ids(None) is None
    assert discover_pool({"VLMEVAL_STEPS_GPUS": "4,5", "CUDA_VISIBLE_DEVICES": "1"}) == (["4", "5"], "$VLMEVAL_STEPS_GPUS")
    assert discover_pool({"CUDA_VISIBLE_DEVICES": "GPU-ab12,GPU-cd34"})[0] == ["GPU-ab12", "GPU-cd34"]
    assert discover_pool({"CUDA_VISIBLE_DEVICES": ""})[0] == []  # "no GPUs", as CUDA reads it


def test_gpus_needed_by_model_kind():
    assert gpus_needed({"class": "TransformersVLM", "model_path": "x"}) == 1
    assert gpus_needed({"class": "TransformersVLM", "model_path": "x", "gpus": 2}) == 2
    assert gpus_needed({"class": "TransformersVLM", "model_path": "x", "gpus": 0}) == 0


def test_claims_distinct_ids_and_releases(tmp_path):
    env = {"VLMEVAL_STEPS_GPUS": "0,1,2"}
    with claim_gpus(2, env=env, lock_dir=tmp_path) as first:
        assert first == ["0", "1"] and os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
        with claim_gpus(1, env=env, lock_dir=tmp_path) as second:
            assert second == ["2"] and os.environ["CUDA_VISIBLE_DEVICES"] == "2"
            with pytest.raises(TimeoutError, match="no 1 free GPU"):
                with claim_gpus(1, env=env, lock_dir=tmp_path, poll=0.05, timeout=0.3):
                    pass
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"  # restored on the way out
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    with claim_gpus(3, env=env, lock_dir=tmp_path) as ids:
        assert ids == ["0", "1", "2"]


def test_more_gpus_than_the_pool_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="needs 4 GPUs but only 2"):
        with claim_gpus(4, env={"VLMEVAL_STEPS_GPUS": "0,1"}, lock_dir=tmp_path):
            pass


def test_no_gpus_leaves_the_environment_alone(tmp_path):
    with claim_gpus(1, env={"VLMEVAL_STEPS_GPUS": ""}, lock_dir=tmp_path) as ids:
        assert ids == [] and "CUDA_VISIBLE_DEVICES" not in os.environ
    with claim_gpus(0, env={"VLMEVAL_STEPS_GPUS": "0"}, lock_dir=tmp_path) as ids:
        assert ids == []
    assert not list(tmp_path.iterdir())


def test_slurm_allocation_is_used_as_given(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    env = {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "3", "VLMEVAL_STEPS_GPUS": "0,1"}
    with claim_gpus(1, env=env, lock_dir=tmp_path) as ids:
        assert ids == ["3"] and os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert not list(tmp_path.iterdir())  # no locks: the scheduler already chose
    # an allocation bigger than one job (snakemake run inside salloc): share it out with locks
    env = {"SLURM_JOB_ID": "42", "CUDA_VISIBLE_DEVICES": "0,1,2,3"}
    with claim_gpus(1, env=env, lock_dir=tmp_path) as a, claim_gpus(1, env=env, lock_dir=tmp_path) as b:
        assert a == ["0"] and b == ["1"]


HOLDER = """
import sys, time
from vlmeval_steps.gpu import claim_gpus
with claim_gpus(1, env={"VLMEVAL_STEPS_GPUS": "7"}, lock_dir=sys.argv[1]) as ids:
    print(ids[0], flush=True)
    time.sleep(600)
"""


def test_a_killed_job_frees_its_gpu(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "7"
        with pytest.raises(TimeoutError):
            with claim_gpus(1, env={"VLMEVAL_STEPS_GPUS": "7"}, lock_dir=tmp_path, poll=0.05, timeout=0.3):
                pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        with claim_gpus(1, env={"VLMEVAL_STEPS_GPUS": "7"}, lock_dir=tmp_path, timeout=5) as ids:
            assert ids == ["7"]
    finally:
        holder.kill()
        holder.wait()


PROBE_MODEL = '''
"""A local model that records the GPUs it was placed on and waits until every shard holds one."""
import os
import time
from pathlib import Path

from vlmeval_steps.models import BaseModel


class ProbeModel(BaseModel):
    def __init__(self, seen_dir, expected):
        self.gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
        seen = Path(seen_dir)
        (seen / str(os.getpid())).write_text(self.gpus)
        deadline = time.time() + 120
        while len(list(seen.iterdir())) < expected:  # all shards are loaded at the same time
            if time.time() > deadline:
                raise RuntimeError("the other shards never started")
            time.sleep(0.1)

    def generate_inner(self, message, dataset=None):
        return self.gpus
'''


def test_four_concurrent_shards_get_four_different_gpus(tmp_path):
    """Four real `vlmeval-steps infer` processes, as `snakemake --resources gpu=4` starts them."""
    (tmp_path / "probe_model.py").write_text(PROBE_MODEL)
    seen = tmp_path / "seen"
    seen.mkdir()
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"index": i, "digest": f"d{i}", "message": [
        {"type": "text", "value": f"question {i}"}]}) + "\n" for i in range(8)))
    spec = {"class": "probe_model:ProbeModel", "seen_dir": str(seen), "expected": 4}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]),
               VLMEVAL_STEPS_GPUS="0,1,2,3", VLMEVAL_STEPS_GPU_LOCKS=str(tmp_path / "locks"))
    env.pop("SLURM_JOB_ID", None)
    procs = [subprocess.Popen(
        [sys.executable, "-m", "vlmeval_steps", "infer", "--prompts", str(prompts), "--model", "probe",
         "--model-spec", json.dumps(spec), "--dataset", "D", "--shard", str(i), "--num-shards", "4",
         "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / f"shard-{i}.jsonl")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(4)]
    t0 = time.time()
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(outputs)
    placed = {}
    for i in range(4):
        answers = {json.loads(line)["prediction"] for line in (tmp_path / f"shard-{i}.jsonl").read_text().splitlines()}
        assert len(answers) == 1, answers
        placed[i] = answers.pop()
    assert sorted(placed.values()) == ["0", "1", "2", "3"], placed
    assert all("claimed from 0,1,2,3" in out for out in outputs)
    assert time.time() - t0 < 170
