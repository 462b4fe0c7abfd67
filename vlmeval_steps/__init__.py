"""vlmeval-steps: VLMEvalKit-grade evaluation of vision-language models as a Snakemake workflow."""

__version__ = "0.1.0"
