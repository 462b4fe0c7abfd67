# vlmeval-steps: VLMEvalKit-grade evaluation of vision-language models as a Snakemake workflow.
#
#   snakemake --cores 2                                        # everything in config/config.yaml
#   snakemake --cores 8 --resources gpu=4 results/GPT4o/MMStar_acc.csv
#   snakemake --cores 2 results/summary.csv                    # leaderboard of every configured pair
#   vlmeval-steps run --data MMStar --model GPT4o              # VLMEvalKit-style flags, same workflow
#
# Stages: download -> verify -> build_prompts -> infer (per shard) -> merge -> judge -> score
# -> summary, report. Video benchmarks: video_fetch -> frames -> build_video_prompts, then the same.
# The rules live in workflow/rules/; each calls one `vlmeval-steps <stage>` command.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/video.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


# Under a cluster executor (the SLURM profile) these run on the submitting node: seconds of work
# each, which as queued jobs would wait minutes apiece and load the scheduler with thousands of
# tiny jobs. Only local-model inference and large prompt-builds go to the queue. A profile's
# `groups:` entry sends a rule to the queue after all, as grouped jobs (README "What runs where
# on SLURM"). download, verify, summary and report say `localrule: True` themselves.
localrules:
    build_prompts,  # datasets under `prompts_queue_mb`; build_prompts_large is queued
    infer_api,  # network-bound API calls
    merge,
    judge,  # rule-based extraction
    judge_llm,  # network-bound LLM calls
    score,
    demo_model,


rule all:
    default_target: True
    input:
        PLAN.targets(),
        SUMMARY_TARGETS if configured_pairs() else [],  # results/summary.csv and report.html: seconds


# Planning calls inspect.signature on every input and params function once per job (a fifth of
# the profile of `snakemake -n`, docs/scale.md); look each up once instead.
cache_function_signatures(workflow.rules)


onsuccess:
    print_results_location()


onerror:
    summary_after_failure()
