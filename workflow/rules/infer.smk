# infer (one job per model x dataset x shard) -> merge; and the demo model's builder.


def infer_inputs(wc):
    inputs = {"prompts": prompts_path(wc.model, wc.dataset)}
    spec = model_spec(wc.model)
    if spec.get("build"):  # a model the workflow builds itself (the demo)
        inputs["model"] = spec["model_path"]
    return inputs


rule infer:
    wildcard_constraints:
        model=constraint(LOCAL_MODELS),  # a queued job with its GPUs; API models: infer_api
    input:
        unpack(infer_inputs),
    output:
        "work/predictions/{model}/{dataset}/shard-{shard}-of-{nshards}.jsonl",
    params:
        settings=lambda wc: model_settings_json(wc.model),
        code=fingerprint("infer"),
        spec=lambda wc: Untracked(model_spec_json(wc.model)),
        cache=lambda wc: f"work/cache/{wc.model}/{base(wc.dataset)}",
    resources:
        gpu=lambda wc: gpus(wc.model),
    log:
        "logs/infer/{model}/{dataset}/shard-{shard}-of-{nshards}.log",
    shell:
        "{VS} infer --model {wildcards.model} --model-spec {params.spec:q} --dataset {wildcards.dataset}"
        " --prompts {input.prompts:q} --shard {wildcards.shard} --num-shards {wildcards.nshards}"
        " --cache-dir {params.cache:q} --out {output:q} --log {log:q}"


# an API model's shard: network-bound, runs on the submitting node unless the profile queues it
use rule infer as infer_api with:
    wildcard_constraints:
        model=constraint(API_MODELS),


def merge_inputs(wc):
    # one function for all three: planning pays a fixed cost per input function per job (docs/scale.md)
    return {"tsv": data_link(base(wc.dataset)), "prompts": prompts_path(wc.model, wc.dataset),
            "shards": shard_files(wc.model, wc.dataset)}


rule merge:
    input:
        unpack(merge_inputs),
    output:
        xlsx="results/{model}/{dataset}.xlsx",
        tsv="results/{model}/{dataset}.tsv",
    params:
        code=fingerprint("merge"),
    log:
        "logs/merge/{model}/{dataset}.log",
    shell:
        "{VS} merge --data {input.tsv:q} --prompts {input.prompts:q} --out-xlsx {output.xlsx:q}"
        " --out-tsv {output.tsv:q} --log {log:q} {input.shards:q}"


rule demo_model:
    # Trained once in the shared model store (keyed by the demo code's fingerprint) and linked here:
    # a new work dir, or a run beside this one, reuses it instead of training again.
    output:
        directory("resources/models/tiny-llava-demo"),
    params:
        code=fingerprint("demo_model"),
        store=MODEL_STORE,
    threads: 2
    log:
        "logs/demo_model.log",
    shell:
        "{VS} demo-model --store {params.store:q} --out {output:q} --log {log:q}"
