"""API keys never reach a file: outputs, logs, caches, provenance or Snakemake's metadata.

The workflow runs with recognisable keys (in OPENAI_API_KEY, inline under custom_models, inline
in the judge block) against the real server, then every file under the working directory,
.snakemake/ and logs/ included, is searched for them. A failed run is checked as well, against
a server whose error bodies quote the Authorization header back (as some proxies do)."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.failing_server import FailingServer

pytestmark = pytest.mark.slow


def files_containing(root: Path, secrets: list[str], skip: set[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path in skip or not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        for s in secrets:
            if s.encode() in data or s in str(path):
                found.setdefault(s, []).append(str(path.relative_to(root)))
    return found


def test_keys_never_reach_a_file(workflow, openai_server):
    env_key = f"sk-ENVLEAK-{uuid.uuid4().hex}"
    inline_key = f"sk-INLINELEAK-{uuid.uuid4().hex}"
    judge_key = f"sk-JUDGELEAK-{uuid.uuid4().hex}"
    echoed_key = f"sk-ECHOLEAK-{uuid.uuid4().hex}"
    secrets = [env_key, inline_key, judge_key, echoed_key]
    served = {"class": "OpenAIAPI", "model": openai_server.model, "api_base": openai_server.base_url,
              "max_tokens": 8, "nproc": 4}
    cfg = workflow.config()
    cfg["models"] = ["EnvKeyAPI", "InlineKeyAPI"]
    cfg["custom_models"] = {"EnvKeyAPI": dict(served), "InlineKeyAPI": dict(served, key=inline_key)}
    cfg["judge"] = {"model": openai_server.model, "name": "tiny-judge", "api_base": openai_server.base_url,
                    "key": judge_key, "max_tokens": 8}
    workflow.write_config(cfg)
    env = {"OPENAI_API_KEY": env_key}
    proc = workflow.snakemake("--printshellcmds", env=env)
    assert not [s for s in secrets if s in proc.stdout + proc.stderr]
    assert (workflow.root / "results/InlineKeyAPI/DemoShapes_acc.csv").exists()
    assert (workflow.root / "work/judged/EnvKeyAPI/DemoShapes.tiny-judge.jsonl").exists()
    assert files_containing(workflow.root, secrets, skip={workflow.config_path}) == {}

    # a failed run: every request fails and the error bodies quote the key back
    with FailingServer(default="echo_auth") as srv:
        cfg["models"] = ["Echo"]
        cfg["custom_models"]["Echo"] = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url,
                                        "key": echoed_key, "retry": 2, "wait": 0.01, "nproc": 4}
        workflow.write_config(cfg)
        proc = workflow.snakemake("--printshellcmds", check=False, env=env)
        assert proc.returncode != 0
        assert srv.requests and srv.requests[0]["headers"]["authorization"] == f"Bearer {echoed_key}"
    log = (workflow.root / "logs/infer/Echo/DemoShapes/shard-0-of-1.log").read_text()
    assert "upstream refused header Bearer ***" in log
    assert not [s for s in secrets if s in proc.stdout + proc.stderr]
    assert files_containing(workflow.root, secrets, skip={workflow.config_path}) == {}
    # the only file holding keys is the config the user wrote them into
    assert inline_key in workflow.config_path.read_text()
