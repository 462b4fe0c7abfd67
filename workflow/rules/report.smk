# summary and report: every configured model x dataset in one table, and as a web page with charts
# (configured_pairs, pair_files and SUMMARY_TARGETS are in common.smk).


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
        code=fingerprint("report"),
    log:
        "logs/summary.log",
    localrule: True
    shell:
        "{VS} summary --pairs {params.pairs:q} --out-csv {output.csv:q} --out-md {output.md:q}"
        " --out-provenance {output.provenance:q} --log {log:q}"


rule report:
    input:
        acc=pair_files("_acc.csv"),
        provenance=pair_files("_provenance.json"),
    output:
        report("results/report.html", category="Summary", caption="../report/report.rst"),
    params:
        pairs=json.dumps(configured_pairs()),
        code=fingerprint("report"),
    log:
        "logs/report.log",
    localrule: True
    shell:
        "{VS} report --pairs {params.pairs:q} --out {output:q} --log {log:q}"
