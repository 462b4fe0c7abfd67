# judge (answer extraction) -> score (the metric table and provenance).


rule judge:
    wildcard_constraints:
        judge=constraint(RULE_BASED_JUDGES),  # rules only: seconds; LLM judges: judge_llm
    input:
        predictions="results/{model}/{dataset}.tsv",
    output:
        "work/judged/{model}/{dataset}.{judge}.jsonl",
    params:
        # the judge's identity: its settings and, for an LLM judge, the version it resolves to
        settings=lambda wc: judge_identity_json(wc.dataset),
        code=lambda wc: stage_code("judge", wc.dataset),
        spec=lambda wc: Untracked(judge_spec_json(wc.dataset)),
        dataset=lambda wc: Untracked(dataset_json(wc.dataset)),
        # replies are cached outside the outputs, so a rerun or a re-score asks nothing twice
        cache=lambda wc: f"work/cache/judge/{wc.judge}/{base(wc.dataset)}",
        reasoning=reasoning_tags(),
    log:
        "logs/judge/{model}/{dataset}.{judge}.log",
    shell:
        "{VS} judge --dataset {wildcards.dataset} --dataset-spec {params.dataset:q}"
        " --predictions {input.predictions:q} --judge-spec {params.spec:q} --cache-dir {params.cache:q}"
        " --reasoning-tags {params.reasoning} --out {output:q} --log {log:q}"


# an LLM judge (rules first, the LLM on the misses): runs on the submitting node unless the profile
# queues it. Every judge name but the rule-based ones matches here: excluding them (rather than
# leaving the tie to the ruleorder) spares planning a discarded candidate job per pair (docs/scale.md).
use rule judge as judge_llm with:
    wildcard_constraints:
        judge=rf"(?!(?:{_alternatives(RULE_BASED_JUDGES)})\.jsonl$)[A-Za-z0-9._-]+",


ruleorder: judge > judge_llm


rule score:
    input:
        predictions="results/{model}/{dataset}.tsv",
        extracted=lambda wc: judged_path(wc.model, wc.dataset),
    output:
        acc="results/{model}/{dataset}_acc.csv",
        provenance="results/{model}/{dataset}_provenance.json",
    params:
        code=lambda wc: stage_code("score", wc.dataset),
        judge=lambda wc: judge_name(judge_of(wc.dataset)),
        dataset=lambda wc: Untracked(dataset_json(wc.dataset)),
        provenance=lambda wc: Untracked(provenance(wc.model, wc.dataset)),
        reasoning=reasoning_tags(),
    log:
        "logs/score/{model}/{dataset}.log",
    shell:
        "{VS} score --dataset {wildcards.dataset} --dataset-spec {params.dataset:q}"
        " --predictions {input.predictions:q} --extracted {input.extracted:q} --judge-name {params.judge}"
        " --out {output.acc:q} --provenance-out {output.provenance:q} --provenance {params.provenance:q}"
        " --reasoning-tags {params.reasoning} --log {log:q}"


# a group (upstream's ConcatDataset: MMMB, MTL_MMBench_DEV): each member scored alone, the tables stacked
rule score_group:
    input:
        acc=lambda wc: member_files(wc.dataset, wc.model, "_acc.csv"),
        provenance=lambda wc: member_files(wc.dataset, wc.model, "_provenance.json"),
    output:
        acc="results/{model}/{dataset}_acc.csv",
        provenance="results/{model}/{dataset}_provenance.json",
    wildcard_constraints:
        dataset=wildcard(_alternatives(group_names())) if group_names() else "(?!)",
    params:
        code=lambda wc: stage_code("score", wc.dataset),
        dataset=lambda wc: Untracked(dataset_json(wc.dataset)),
        members=lambda wc: " ".join(f"--member {m}" for m in member_names(wc.dataset)),
        tables=lambda wc: " ".join(f"--table {shlex.quote(p)}" for p in member_files(wc.dataset, wc.model, "_acc.csv")),
        provs=lambda wc: " ".join(f"--member-provenance {shlex.quote(p)}"
                                  for p in member_files(wc.dataset, wc.model, "_provenance.json")),
    log:
        "logs/score/{model}/{dataset}.log",
    localrule: True
    shell:
        "{VS} score-group --dataset {wildcards.dataset} --dataset-spec {params.dataset:q} {params.members}"
        " {params.tables} {params.provs} --out {output.acc:q} --provenance-out {output.provenance:q} --log {log:q}"


ruleorder: score_group > score
