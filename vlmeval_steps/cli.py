"""The `vlmeval-steps` command: one subcommand per workflow stage, plus `list` and the demo builders.

Every Snakemake rule calls one of these, so each stage also runs (and is tested) on its own.
Names (datasets, models) are resolved from the config given with --config; the workflow
passes already-resolved specs as JSON instead, so a job needs nothing but the package.
"""
from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path

import click

from . import __version__
from .errors import DISK_FULL, DiskFullError, InputError, disk_full_error

log = logging.getLogger("vlmeval_steps")
DEFAULT_CONFIG = "config/config.yaml"


class _LogFile(logging.FileHandler):
    """The stage's --log file. On a full disk it stops writing, quietly: stderr still has every line, and the
    stage's own error names the file that found no space (logging would print a traceback per line)."""

    def handleError(self, record):
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            self.setLevel(logging.CRITICAL + 1)
            return
        super().handleError(record)


def _setup_logging(log_file: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        try:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            handlers.append(_LogFile(log_file, encoding="utf-8"))
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise
            print(f"vlmeval-steps: {disk_full_error(log_file, exc)} (logging to stderr only)", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers, force=True)


def stage(fn):
    """Common --log option, and InputError shown as a one-line error (exit 2), not a traceback. Any other
    error is logged with its traceback (exit 1), so the --log file that messages point at holds it too."""

    @click.option("--log", "log_file", default=None, help="Also write the log to this file.")
    @functools.wraps(fn)
    def wrapper(*args, log_file=None, **kwargs):
        _setup_logging(log_file)
        try:
            return fn(*args, **kwargs)
        except DiskFullError as exc:
            log.error("%s", exc)
            raise SystemExit(3) from None
        except InputError as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own messages
        except Exception as exc:  # noqa: BLE001 - a bug or an unforeseen input: into the log, not only the terminal
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                # a write no stage names itself (an image, a frame): the error's own file name, if it has one
                log.error("%s", disk_full_error(exc.filename or "a file in the output's folder", exc))
                raise SystemExit(3) from None
            log.error("vlmeval-steps %s failed: %s: %s", fn.__name__.replace("_", "-"), type(exc).__name__, exc,
                      exc_info=True)
            raise SystemExit(1) from None

    return wrapper


def _plan(config_path: str | None):
    from .config import load_plan, load_yaml

    path = config_path or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None)
    config = load_yaml(path) if path else {}
    return load_plan(config, Path(path).resolve().parent.parent if path else Path.cwd())


def _dataset_info(name: str, spec_json: str | None, config: str | None):
    from .datasets.registry import DatasetInfo

    if spec_json:
        return DatasetInfo.from_dict(json.loads(spec_json))
    return _plan(config).dataset(name)


def _json_arg(value: str | None, what: str) -> dict:
    try:
        return json.loads(value) if value else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: not valid JSON ({exc}).") from exc


config_option = click.option("--config", default=None, help=f"Config to resolve names with (default {DEFAULT_CONFIG}).")
dataset_spec_option = click.option("--dataset-spec", default=None, help="Resolved dataset entry as JSON.")
reasoning_tags_option = click.option(
    "--reasoning-tags", default="think", show_default=True,
    callback=lambda _ctx, _param, value: tuple(t.strip() for t in value.split(",") if t.strip()),
    help="Tags of reasoning traces taken off predictions before extraction and scoring, comma-separated "
         "(<think>...</think> by default; '' keeps every prediction as it is).")


class _Main(click.Group):
    """Keeps `run`'s own argument list: click would swallow the `--` that separates Snakemake's flags."""

    def parse_args(self, ctx, args):
        if args and args[0] == "run":
            ctx.meta[RUN_ARGV] = list(args[1:])
        return super().parse_args(ctx, args)


RUN_ARGV = "vlmeval_steps.run_argv"


@click.group(cls=_Main)
@click.version_option(__version__)
def main():
    """Evaluate vision-language models, one workflow stage at a time."""


@main.command()
@click.option("--url", required=True, help="http(s)://, file:// URL or a local path.")
@click.option("--out", required=True, type=click.Path())
@click.option("--md5", default=None)
@click.option("--existing", default=None, help="The TSV's final place in the data root, reused if its md5 matches.")
@stage
def download(url, out, md5, existing):
    """Download a dataset TSV."""
    from .steps import download as step

    step.run(url, out, existing=existing, md5=md5)


@main.command()
@click.option("--in", "src", required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path())
@click.option("--md5", default=None)
@stage
def verify(src, out, md5):
    """Check a downloaded TSV's md5 and move it into the data root."""
    from .steps import verify as step

    step.run(src, out, md5 or None)


@main.command()
@click.option("--dataset", required=True, help="The dataset's name: the TSV is {data-root}/{dataset}.tsv.")
@click.option("--url", required=True, help="http(s)://, file:// URL or a local path.")
@click.option("--md5", default=None)
@click.option("--data-root", required=True, type=click.Path(), help="The shared LMUData-style folder.")
@click.option("--link", required=True, type=click.Path(), help="The work dir's symlink to the TSV.")
@stage
def fetch(dataset, url, md5, data_root, link):
    """Put a dataset TSV with its md5 in the shared data root (once, whatever the number of runs asking)."""
    from .steps import fetch as step

    step.run(dataset, url, md5 or None, data_root, link)


@main.command("build-prompts")
@click.option("--dataset", required=True)
@click.option("--data", "tsv", required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path())
@click.option("--images", "images_dir", required=True, type=click.Path())
@click.option("--prompt", "prompt_id", default="default", show_default=True)
@click.option("--limit", type=int, default=None)
@dataset_spec_option
@config_option
@stage
def build_prompts(dataset, tsv, out, images_dir, prompt_id, limit, dataset_spec, config):
    """Extract images and write every row's messages."""
    from .steps import build_prompts as step

    step.run(_dataset_info(dataset, dataset_spec, config), tsv, out, images_dir, prompt_id=prompt_id, limit=limit)


@main.command()
@click.option("--prompts", required=True, type=click.Path(exists=True))
@click.option("--model", required=True)
@click.option("--model-spec", default=None, help="Resolved model spec as JSON (no keys).")
@click.option("--dataset", required=True)
@click.option("--shard", type=int, default=0, show_default=True)
@click.option("--num-shards", type=int, default=1, show_default=True)
@click.option("--cache-dir", required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path())
@click.option("--keep-failed", is_flag=True, help="Do not ask again for answers that failed before.")
@config_option
@stage
def infer(prompts, model, model_spec, dataset, shard, num_shards, cache_dir, out, keep_failed, config):
    """Answer one shard of prompts with one model."""
    from .steps import infer as step

    spec = _json_arg(model_spec, "--model-spec") or _plan(config).model(model)
    from . import checkpoints

    if checkpoints.applies(spec):  # a clear message before a GPU is claimed, also when run without Snakemake
        checkpoints.check(model, spec)
    step.run(prompts, spec, shard, num_shards, cache_dir, out, dataset=dataset,
             keep_failed=keep_failed or bool(spec.get("keep_failed")))


@main.command()
@click.option("--data", "tsv", required=True, type=click.Path(exists=True))
@click.option("--prompts", required=True, type=click.Path(exists=True))
@click.option("--out-xlsx", required=True, type=click.Path())
@click.option("--out-tsv", required=True, type=click.Path())
@click.argument("shards", nargs=-1, required=True)
@stage
def merge(tsv, prompts, out_xlsx, out_tsv, shards):
    """Join shard predictions into the prediction files."""
    from .steps import merge as step

    step.run(tsv, prompts, list(shards), out_xlsx, out_tsv)


@main.command()
@click.option("--dataset", required=True)
@click.option("--predictions", required=True, type=click.Path(exists=True))
@click.option("--judge-spec", default=None, help='Judge settings as JSON (default {"model": "exact_matching"}).')
@click.option("--out", required=True, type=click.Path())
@click.option("--cache-dir", default=None, type=click.Path(),
              help="Folder of cached judge replies (kept across runs); without it, replies are not kept.")
@reasoning_tags_option
@dataset_spec_option
@config_option
@stage
def judge(dataset, predictions, judge_spec, out, cache_dir, reasoning_tags, dataset_spec, config):
    """Extract answers from predictions (rules first, LLM judge on the misses)."""
    from .steps import judge as step

    spec = _json_arg(judge_spec, "--judge-spec") or _plan(config).judge(dataset)
    step.run(_dataset_info(dataset, dataset_spec, config), predictions, spec, out, cache_dir=cache_dir,
             reasoning_tags=reasoning_tags)


@main.command()
@click.option("--dataset", required=True)
@click.option("--predictions", required=True, type=click.Path(exists=True),
              help="Our TSV or upstream's {model}_{dataset}.xlsx.")
@click.option("--extracted", default=None, type=click.Path(exists=True),
              help="The judge stage's output; without it, rule-based extraction runs here.")
@click.option("--out", required=True, type=click.Path(), help="The _acc.csv path, or a folder for it.")
@click.option("--data", "tsv", default=None, type=click.Path(exists=True),
              help="The dataset TSV (standalone use; checked against the predictions' indices).")
@click.option("--judge-name", default="exact_matching", show_default=True)
@click.option("--provenance-out", default=None, type=click.Path())
@click.option("--provenance", "provenance_json", default=None, help="Provenance fields as JSON.")
@reasoning_tags_option
@dataset_spec_option
@config_option
@stage
def score(dataset, predictions, extracted, out, tsv, judge_name, provenance_out, provenance_json, reasoning_tags,
          dataset_spec, config):
    """Score predictions: the metric table upstream writes for the dataset."""
    from .steps import judge as judge_step
    from .steps import score as step

    info = _dataset_info(dataset, dataset_spec, config)
    out = Path(out)
    if out.suffix != ".csv":
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"{dataset}_acc.csv"
    if tsv:
        _check_indices(tsv, predictions)
    if extracted is None:
        extracted = out.with_name(f".{out.stem}.extracted.jsonl")
        judge_step.run(info, predictions, {"model": judge_name}, extracted, reasoning_tags=reasoning_tags)
    table = step.run(info, predictions, extracted, out, provenance_out=provenance_out, judge_name=judge_name,
                     provenance=_json_arg(provenance_json, "--provenance"), reasoning_tags=reasoning_tags)
    click.echo(table.to_string(index=False))


@main.command("score-group")
@click.option("--dataset", required=True, help="The group's name (e.g. MMMB), with its _limitN if any.")
@click.option("--member", "members", multiple=True, required=True, help="A member as in file names, in order.")
@click.option("--table", "tables", multiple=True, required=True, type=click.Path(exists=True),
              help="The member's _acc.csv, in the members' order.")
@click.option("--member-provenance", "provenances", multiple=True, type=click.Path())
@click.option("--out", required=True, type=click.Path())
@click.option("--provenance-out", default=None, type=click.Path())
@dataset_spec_option
@config_option
@stage
def score_group(dataset, members, tables, provenances, out, provenance_out, dataset_spec, config):
    """Stack a group's member score tables (upstream's ConcatDataset)."""
    from .steps import score_group as step

    info = _dataset_info(dataset, dataset_spec, config)
    table = step.run(info, list(members), list(tables), out, list(provenances), provenance_out)
    click.echo(table.to_string(index=False))


def _check_indices(tsv, predictions) -> None:
    from .datasets.tsv import read_meta
    from .predictions import read_predictions

    known = set(read_meta(tsv)["index"].astype(str))
    unknown = sorted(set(read_predictions(predictions)["index"].astype(str)) - known)
    if unknown:
        raise InputError(f"{predictions}: indices {unknown[:5]} are not in the dataset {tsv}.")


@main.command("list")
@click.argument("what", type=click.Choice(["datasets", "models"]))
@config_option
def list_(what, config):
    """Print the registered datasets or models."""
    plan = _plan(config)
    if what == "datasets":
        for name in plan.dataset_names():
            info = plan.dataset(name)
            note = (f"group of {', '.join(info.members)}" if info.members else
                    f"alias of {info.upstream}" if info.upstream else
                    "inference only (answers withheld)" if info.withheld else "")
            click.echo(f"{name}\t{info.type}\t{info.md5 or '-'}\t{info.url or '-'}" + (f"\t{note}" if note else ""))
    else:
        from .checkpoints import weights_status

        inline = plan.config.get("custom_models") or {}
        click.echo("\t".join(("model", "adapter", "architecture", "prompt", "weights", "family", "checkpoint")))
        names = plan.model_names()  # the models file's and the config's first, then the families in file order
        ordered = [n for n in names if n not in plan.family_of] + [n for n in plan.family_of if n in names]
        for name in ordered:
            spec = plan.model(name)
            family = "custom_models" if name in inline else plan.family_of.get(name, "models.yaml")
            detail = spec.get("model_path") or spec.get("model") or ""
            click.echo("\t".join((name, spec["class"], spec.get("architecture") or "-", spec.get("prompt") or "-",
                                  weights_status(spec), family, str(detail))))


@main.command("demo-model")
@click.option("--out", required=True, type=click.Path())
@click.option("--steps", type=int, default=400, show_default=True)
@click.option("--store", default=None, type=click.Path(),
              help="Build it once in this shared model store and make --out a link to it.")
@stage
def demo_model(out, steps, store):
    """Build and train the tiny demo model offline (fixed seed)."""
    from .demo.tiny_model import build_and_train

    if not store:
        build_and_train(out, steps=steps)
        return
    from . import store as stores
    from .fingerprint import fingerprint

    # named by the code that trains it: changed demo code builds a new entry, never reuses a stale one
    name = f"tiny-llava-demo-{fingerprint('demo_model')}" + ("" if steps == 400 else f"-steps{steps}")
    entry = Path(store) / name
    stores.build_once(entry, lambda tmp: build_and_train(str(tmp), steps=steps), "the demo model")
    stores.link(entry, out)


@main.command("demo-data")
@click.option("--out", required=True, type=click.Path())
@stage
def demo_data(out):
    """Write the demo benchmark TSV."""
    from .demo.benchmark import write

    write(out)


def _pairs(pairs_json: str | None) -> list[tuple[str, str]] | None:
    """--pairs '[["model", "dataset"], ...]'; without it, every score table under --results."""
    if not pairs_json:
        return None
    value = _json_arg(pairs_json, "--pairs")
    if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
        raise InputError('--pairs: expected a JSON list of [model, dataset] pairs.')
    return [(str(m), str(d)) for m, d in value]


pairs_options = [
    click.option("--results", default="results", show_default=True, type=click.Path(),
                 help="Folder of results/{model}/{dataset}_acc.csv and _provenance.json."),
    click.option("--pairs", "pairs_json", default=None,
                 help='JSON list of [model, dataset]; default: every score table under --results.'),
    click.option("--expected", "expected_json", default=None,
                 help="JSON list of the configured [model, dataset] pairs: those without a score are listed as not "
                      "scored, the others marked as in the config."),
]
statistics_options = [
    click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap resamples."),
    click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level of the intervals."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resamples."),
]


def _settings(resamples, level, seed):
    from .report.intervals import Settings

    return Settings(resamples=resamples, level=level, seed=seed)


def _with(options):
    def deco(fn):
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


@main.command()
@_with(pairs_options)
@click.option("--out-csv", default="results/summary.csv", show_default=True, type=click.Path())
@click.option("--out-md", default="results/summary.md", show_default=True, type=click.Path())
@click.option("--out-provenance", default="results/summary_provenance.csv", show_default=True, type=click.Path())
@_with(statistics_options)
@stage
def summary(results, pairs_json, expected_json, out_csv, out_md, out_provenance, resamples, level, seed):
    """Leaderboard: one row per model, each benchmark's main score with its interval, with provenance."""
    from .steps import summary as step

    step.run_summary(results, _pairs(pairs_json), out_csv, out_md, out_provenance,
                     _settings(resamples, level, seed), _pairs(expected_json))
    click.echo(Path(out_md).read_text(encoding="utf-8").split("\n## ", 1)[0])


@main.command()
@_with(pairs_options)
@click.option("--out", default="results/report.html", show_default=True, type=click.Path())
@_with(statistics_options)
@stage
def report(results, pairs_json, expected_json, out, resamples, level, seed):
    """Self-contained HTML report with the leaderboard, charts, failures and provenance."""
    from .steps import summary as step

    step.run_report(results, _pairs(pairs_json), out, _settings(resamples, level, seed), _pairs(expected_json))
    click.echo(f"report: {Path(out).resolve()}")


@main.command()
@click.option("--model", "models", multiple=True, required=True, help="Two models (give --model twice).")
@click.option("--dataset", required=True, help="The dataset as in file names (e.g. MMStar or MMStar_limit20).")
@click.option("--results", default="results", show_default=True, type=click.Path())
@click.option("--show", type=int, default=20, show_default=True, help="Rows where the two disagree to list.")
@_with(statistics_options)
@stage
def compare(models, dataset, results, show, resamples, level, seed):
    """Which of two models is better on a benchmark: the difference, its paired-bootstrap interval and
    p-value, McNemar's exact test, and the rows where they disagree."""
    from .report.compare import compare_text

    if len(models) != 2:
        raise InputError(f"compare: give exactly two models (--model A --model B), got {len(models)}.")
    click.echo(compare_text(results, models[0], models[1], dataset, _settings(resamples, level, seed), show))


@main.command()
@click.option("--config", "config_path", default=None, help=f"Workflow config (default {DEFAULT_CONFIG}).")
@click.option("--directory", "-d", default=".", show_default=True, type=click.Path(exists=True, file_okay=False),
              help="The work dir (where the Snakefile runs).")
@stage
def status(config_path, directory):
    """Per configured model x benchmark: finished, cached (answers kept, score to do), would rerun (and why),
    or to do, in one table. Asks Snakemake (a dry run) without running anything."""
    from .status import status_table

    click.echo(status_table(directory, config_path))


@main.command("run", context_settings=dict(ignore_unknown_options=True, allow_extra_args=True,
                                           help_option_names=[]))
@click.pass_context
def run_(ctx):
    """Run models on datasets like VLMEvalKit's run.py (--data, --model, --mode, --work-dir, ...) or an
    EvalScope task file (--config), through Snakemake. `vlmeval-steps run --help` for the options."""
    from . import runner

    _setup_logging(None)
    try:
        code = runner.main(ctx.meta.get(RUN_ARGV, list(ctx.args)))
    except InputError as exc:
        log.error("%s", exc)
        raise SystemExit(2) from None
    except KeyboardInterrupt:  # before Snakemake started (the judge probe): nothing ran, no traceback
        click.echo("\nvlmeval-steps run: interrupted before anything ran.", err=True)
        raise SystemExit(130) from None
    raise SystemExit(code)


from .video import cli as _video_cli  # noqa: E402,F401  (registers video-fetch, frames, build-video-prompts)

if __name__ == "__main__":
    main()
