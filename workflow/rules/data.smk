# download -> verify -> build_prompts: a dataset's TSV, checked, then its images and prompts.


rule download:
    output:
        temp(f"{DATA_ROOT}/.download/{{dataset}}.tsv"),
    params:
        url=lambda wc: _check(PLAN.dataset, wc.dataset).url,
        md5=lambda wc: dataset_md5(wc.dataset),
        existing=lambda wc: tsv_path(wc.dataset),
    log:
        "logs/download/{dataset}.log",
    localrule: True  # compute nodes often have no internet
    shell:
        "{VS} download --url {params.url:q} --md5={params.md5:q} --existing {params.existing:q}"
        " --out {output:q} --log {log:q}"


rule verify:
    input:
        f"{DATA_ROOT}/.download/{{dataset}}.tsv",
    output:
        f"{DATA_ROOT}/{{dataset}}.tsv",
    params:
        md5=lambda wc: dataset_md5(wc.dataset),
    log:
        "logs/verify/{dataset}.log",
    localrule: True
    shell:
        "{VS} verify --in {input:q} --md5={params.md5:q} --out {output:q} --log {log:q}"


rule build_prompts:
    wildcard_constraints:
        dataset=constraint(small_datasets(), dataset=True),  # local; large ones: build_prompts_large
    input:
        tsv=lambda wc: tsv_path(wc.dataset),
    output:
        "resources/prompts/{dataset}/{prompt_id}.jsonl",
    params:
        md5=lambda wc: dataset_md5(wc.dataset),
        limit=lambda wc: split_limit(wc.dataset)[1] or 0,
        code=fingerprint("prompts"),
        spec=lambda wc: Untracked(dataset_json(wc.dataset)),
        images=lambda wc: f"resources/images/{base(wc.dataset)}",
    log:
        "logs/build_prompts/{dataset}/{prompt_id}.log",
    shell:
        "{VS} build-prompts --dataset {wildcards.dataset} --dataset-spec {params.spec:q} --data {input.tsv:q}"
        " --images {params.images:q} --prompt {wildcards.prompt_id} --limit {params.limit}"
        " --out {output:q} --log {log:q}"


# the same job for a dataset above `prompts_queue_mb`: a queued job under a cluster executor
use rule build_prompts as build_prompts_large with:
    wildcard_constraints:
        dataset=constraint(LARGE_DATASETS, dataset=True),


ruleorder: build_prompts > build_prompts_large
