# vlmeval-steps: VLMEvalKit-grade evaluation of vision-language models as a Snakemake workflow.
#
#   snakemake --cores 2                                        # everything in config/config.yaml
#   snakemake --cores 8 --resources gpu=4 results/GPT4o/MMStar_acc.csv
#   snakemake --cores 2 results/summary.csv                    # leaderboard of every configured pair
#   vlmeval-steps run --data MMStar --model GPT4o              # VLMEvalKit-style flags, same workflow
#
# Stages: download -> verify -> build_prompts -> infer (per shard) -> merge -> judge -> score
# -> summary, report.
# The rules live in workflow/rules/; each calls one `vlmeval-steps <stage>` command.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/infer.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        PLAN.targets(),
        SUMMARY_TARGETS if PLAN.targets() else [],  # results/summary.csv and report.html: seconds


onsuccess:
    print_results_location()


onerror:
    summary_after_failure()
