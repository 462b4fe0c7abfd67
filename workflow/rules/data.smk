# download (with its md5 check) -> build_prompts: a dataset's TSV in the shared data root, then its images and prompts.


rule download:
    # The TSV lives in the shared data root (every work dir, every concurrent run); the work dir's
    # output is a link to it, so Snakemake (which deletes a job's outputs before it runs and when it
    # fails) never deletes the shared file. One run downloads, concurrent ones wait and reuse it.
    output:
        data_link("{dataset}"),
    params:
        # an alias keeps upstream's file name in the data root (GMAI_mm_bench_VAL -> GMAI-MMBench_VAL.tsv)
        name=lambda wc: _check(PLAN.dataset, wc.dataset).upstream_name,
        # what the TSV must hold: an edited local source reruns this (common.smk: download_params)
        url=lambda wc: download_params(wc.dataset)[0],
        md5=lambda wc: download_params(wc.dataset)[1],
        root=DATA_ROOT,
    log:
        "logs/download/{dataset}.log",
    localrule: True  # compute nodes often have no internet
    shell:
        "{VS} fetch --dataset {params.name} --url {params.url:q} --md5={params.md5:q}"
        " --data-root {params.root:q} --link {output:q} --log {log:q}"


rule build_prompts:
    wildcard_constraints:
        dataset=constraint(small_datasets(), dataset=True),  # local; large ones: build_prompts_large
    input:
        tsv=lambda wc: data_link(base(wc.dataset)),
    output:
        "resources/prompts/{dataset}/{prompt_id}.jsonl",
    params:
        md5=lambda wc: dataset_md5(wc.dataset),
        limit=lambda wc: split_limit(wc.dataset)[1] or 0,
        code=lambda wc: stage_code("prompts", wc.dataset),
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
