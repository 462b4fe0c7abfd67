# summary and report: every result in the work dir in one table (this run's configured pairs and
# earlier runs'), and as a web page with charts, intervals and pairwise comparisons
# (configured_pairs, pair_files, statistics_args and SUMMARY_TARGETS are in common.smk).
# The statistics settings are params of these two rules only: changing them reruns nothing else.


rule summary:
    input:
        acc=pair_files("_acc.csv"),
        provenance=pair_files("_provenance.json"),
    output:
        # report(): also shown by `snakemake --report run-report.html`
        csv=report("results/summary.csv", category="Summary", caption="../report/summary.rst"),
        md="results/summary.md",
        provenance="results/summary_provenance.csv",
    params:
        pairs=json.dumps(configured_pairs()),
        statistics=statistics_args(),
        code=fingerprint("report"),
    log:
        "logs/summary.log",
    localrule: True
    shell:
        "{VS} summary --expected {params.pairs:q} {params.statistics} --out-csv {output.csv:q}"
        " --out-md {output.md:q} --out-provenance {output.provenance:q} --log {log:q}"


rule report:
    input:
        acc=pair_files("_acc.csv"),
        provenance=pair_files("_provenance.json"),
    output:
        report("results/report.html", category="Summary", caption="../report/report.rst"),
    params:
        pairs=json.dumps(configured_pairs()),
        statistics=statistics_args(),
        code=fingerprint("report"),
    log:
        "logs/report.log",
    localrule: True
    shell:
        "{VS} report --expected {params.pairs:q} {params.statistics} --out {output:q} --log {log:q}"
