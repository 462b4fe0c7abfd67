"""The LLM judge against a real OpenAI-compatible server (`transformers serve` with the demo model):
rows the rules cannot decide go to the judge, every reply is cached, a rerun asks nothing."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from vlmeval_steps.fileio import md5_of, read_jsonl
from vlmeval_steps.judge.llm import LLMJudge, judge_identity, resolve_version, upstream_default_judge
from vlmeval_steps.judge.matching import FAIL_MSG
from vlmeval_steps.judge.mcq import extract_with_judge, judge_prompt


# ---- unit level, against the served model -------------------------------------------------------

def test_replies_are_cached_durably(openai_server, tmp_path, monkeypatch):
    monkeypatch.delenv("LOCAL_LLM", raising=False)
    judge = {"model": openai_server.model, "name": "tiny", "api_base": openai_server.base_url, "max_tokens": 8}
    before = openai_server.requests_served()
    with LLMJudge(judge, cache_dir=tmp_path / "cache", writer="a") as j:
        first = j.ask("What colour is grass?")
        assert isinstance(first, str) and first
        assert j.ask("What colour is grass?") == first           # same prompt: from the cache
        second_try = j.ask("What colour is grass?", attempt=1)   # a retry is a request of its own
        assert isinstance(second_try, str)
        assert j.ask(f"Answer: {FAIL_MSG}") is None              # a failed prediction is never sent
        assert j.stats == dict(asked=2, cached=1, failed=0, not_sent=0, skipped_failed_predictions=1)
        assert j.usage_run["completion_tokens"] > 0
    assert openai_server.requests_served() - before == 2
    # a new process (another writer) reads the same folder: no request
    with LLMJudge(judge, cache_dir=tmp_path / "cache", writer="b") as j:
        assert j.ask("What colour is grass?") == first
        assert j.stats["asked"] == 0
    assert openai_server.requests_served() - before == 2
    # another setting of the judge is another judge: asked again
    with LLMJudge(dict(judge, max_tokens=4), cache_dir=tmp_path / "cache", writer="c") as j:
        j.ask("What colour is grass?")
        assert j.stats["asked"] == 1


def test_mcq_extraction_asks_the_served_model(openai_server, monkeypatch):
    monkeypatch.delenv("LOCAL_LLM", raising=False)
    judge = {"model": openai_server.model, "api_base": openai_server.base_url, "max_tokens": 8}
    choices = {"A": "the colour red", "B": "the colour blue"}
    with LLMJudge(judge) as j:
        opt, log = extract_with_judge(j, {"question": "What colour?", "prediction": "red"}, choices, "X")
        assert opt in ("A", "B", "Z")
        assert 1 <= j.stats["asked"] <= 3
        if opt == "Z":
            assert "deterministic" in log
        opt, log = extract_with_judge(j, {"question": "What colour?", "prediction": FAIL_MSG}, choices, "X")
        assert opt == "Z" and "not sent to the judge" in log


class ScriptedJudge:
    """Stands in for the judge to pin extract_with_judge's control flow (no server involved)."""

    name, nproc = "scripted", 1

    def __init__(self, replies):
        self.replies, self.prompts = list(replies), []

    def ask(self, prompt, temperature=None, max_tokens=None, attempt=0):
        self.prompts.append((prompt, attempt))
        return self.replies.pop(0)


def test_three_tries_then_a_deterministic_z():
    line = {"question": "What is shown", "prediction": "  a thing  "}
    choices = {"A": "cat", "B": "dog"}
    j = ScriptedJudge(["hmm", "no idea", "B"])
    assert extract_with_judge(j, line, choices) == ("B", "B")
    assert [a for _, a in j.prompts] == [0, 1, 2]
    j = ScriptedJudge(["hmm", "no idea", "still no"])
    opt, log = extract_with_judge(j, line, choices)
    assert opt == "Z" and "upstream picks a random option" in log
    j = ScriptedJudge([None, None, None])
    assert extract_with_judge(j, line, choices)[0] == "Z"
    # the prompt is upstream's: '?' appended, the options string, the stripped prediction
    assert j.prompts[0][0].endswith("Question: What is shown?\nOptions: There are several options: \nA. cat\n"
                                    "B. dog\n\nAnswer: a thing\nYour output: ")


def test_prompts_are_upstreams():
    expected_en = (
        "You are an AI assistant who will help me to match an answer with several options of a single-choice "
        "question. You are provided with a question, several options, and an answer, and you need to find which "
        "option is most similar to the answer. If the meaning of all options are significantly different from the "
        "answer, output Z. Your should output a single uppercase character in A, B, C, D (if they are valid "
        "options), and Z. \nExample 1: \nQuestion: What is the main object in image?\nOptions: A. teddy bear B. "
        "rabbit C. cat D. dog\nAnswer: a cute teddy bear\nYour output: A\nExample 2: \nQuestion: What is the main "
        "object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\nAnswer: Spider\nYour output: Z\n"
        "Example 3: \nQuestion: Q?\nOptions: There are several options: \nA. x\n\nAnswer: P\nYour output: ")
    assert judge_prompt("Q", {"A": "x"}, "P") == expected_en
    cn = judge_prompt("图中是什么", {"A": "猫"}, "猫")
    assert cn.startswith("你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。")
    assert cn.endswith("例 3: \n问题: 图中是什么?\n选项: There are several options: \nA. 猫\n\n答案: 猫\n输出: ")


def test_local_llm_and_aliases(monkeypatch):
    monkeypatch.delenv("LOCAL_LLM", raising=False)
    assert resolve_version("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert resolve_version("chatgpt-0125") == "gpt-3.5-turbo-0125"
    assert resolve_version("my-own") == "my-own"
    assert judge_identity({"model": "exact_matching"}) == {"model": "exact_matching"}
    monkeypatch.setenv("LOCAL_LLM", "/models/qwen")
    assert resolve_version("gpt-4-turbo") == "/models/qwen"
    ident = judge_identity({"model": "gpt-4o-mini", "nproc": 3, "key_env": "K", "temperature": 0})
    assert ident == {"model": "gpt-4o-mini", "temperature": 0, "version": "/models/qwen"}
    assert upstream_default_judge("MMStar", "MCQ") == "gpt-4o-mini"
    assert upstream_default_judge("MMVet", "VQA") == "gpt-4-turbo"
    assert upstream_default_judge("TextVQA_VAL", "VQA") == "exact_matching"


# ---- the workflow: judge-extract with the served model as judge --------------------------------------

def _rules_miss_dataset(workflow, rows=40):
    """The demo's first rows with option texts the model's one-word answers never contain."""
    data = pd.read_csv(workflow.root / "demo/DemoShapes.tsv", sep="\t").head(rows)
    for col in "ABCD":
        data[col] = "it is " + data[col].astype(str) + " indeed"
    path = workflow.root / "demo/Wordy.tsv"
    data.to_csv(path, sep="\t", index=False)
    return {"url": "demo/Wordy.tsv", "md5": md5_of(path), "type": "MCQ"}


@pytest.mark.slow
def test_judge_stage_end_to_end_with_upstreams_local_judge_recipe(workflow, openai_server):
    cfg = workflow.config()
    cfg["datasets"] = ["Wordy"]
    cfg["custom_datasets"]["Wordy"] = _rules_miss_dataset(workflow)
    cfg["judge"] = {"model": "gpt-4o-mini", "max_tokens": 8, "nproc": 4, "retry": 2, "wait": 0.2}
    workflow.write_config(cfg)
    # upstream's recipe for a local judge: OPENAI_API_BASE (full chat/completions URL) + LOCAL_LLM
    env = {"OPENAI_API_BASE": openai_server.base_url + "/chat/completions", "LOCAL_LLM": openai_server.model,
           "OPENAI_API_KEY": "sk-local"}
    before = openai_server.requests_served()
    workflow.snakemake(env=env)
    asked = openai_server.requests_served() - before

    judged = list(read_jsonl(workflow.root / "work/judged/TinyLLaVA-Demo/Wordy.gpt-4o-mini.jsonl"))
    by_method = {m: sum(r["method"] == m for r in judged) for m in ("rule", "judge", "none")}
    assert by_method["judge"] > 0 and by_method["none"] == 0
    assert by_method["judge"] <= asked <= 3 * by_method["judge"]
    prov = json.loads((workflow.root / "results/TinyLLaVA-Demo/Wordy_provenance.json").read_text())
    assert prov["judge"] == "gpt-4o-mini"
    assert prov["judge_settings"]["version"] == openai_server.model   # LOCAL_LLM is what answered
    assert prov["token_usage"]["judge"]["total_tokens"] > 0
    assert "Wordy_gpt-4o-mini_result.xlsx" in {p.name for p in (workflow.root / "results/TinyLLaVA-Demo").iterdir()}

    # a forced re-judge and re-score: every reply comes from the cache
    workflow.snakemake("--forcerun", "judge_llm", env=env)
    assert openai_server.requests_served() - before == asked
    assert list(read_jsonl(workflow.root / "work/judged/TinyLLaVA-Demo/Wordy.gpt-4o-mini.jsonl")) == judged
    # outputs deleted (results/ and the judged files): the cache outside them answers everything
    shutil.rmtree(workflow.root / "results")
    shutil.rmtree(workflow.root / "work/judged")
    workflow.snakemake(env=env)
    assert openai_server.requests_served() - before == asked
    # another judge version (LOCAL_LLM changed) is another judge: the stage reruns
    assert workflow.planned(env=dict(env, LOCAL_LLM="another-model")).get("judge_llm") == 1
