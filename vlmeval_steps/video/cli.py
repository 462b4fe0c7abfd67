"""The video stages' commands (`vlmeval-steps video-fetch | frames | build-video-prompts`)."""
from __future__ import annotations

import json

import click

from ..cli import _dataset_info, config_option, dataset_spec_option, main, stage


def setting_options(fn):
    for opt in reversed([
        click.option("--nframe", type=int, default=0, show_default=True),
        click.option("--fps", type=float, default=-1, show_default=True),
        click.option("--use-subtitle/--no-subtitle", default=False),
        click.option("--video-llm/--no-video-llm", default=False),
    ]):
        fn = opt(fn)
    return fn


def _setting(nframe, fps, use_subtitle, video_llm):
    from .settings import make_setting

    return make_setting(nframe, fps, use_subtitle, video_llm)


@main.command("video-fetch")
@click.option("--dataset", required=True)
@click.option("--root", default=None, help="A local copy of the benchmark's folder (else its hub repository).")
@click.option("--basedir", default=".", type=click.Path(), help="What a relative --root is relative to.")
@click.option("--data-root", required=True, type=click.Path())
@click.option("--link", required=True, type=click.Path(), help="The work dir's link to the index TSV.")
@click.option("--root-file", required=True, type=click.Path(), help="Where to write the folder's path.")
@dataset_spec_option
@config_option
@stage
def video_fetch(dataset, root, basedir, data_root, link, root_file, dataset_spec, config):
    """A video benchmark's folder (local or from the hub) and its index TSV (upstream's, md5-checked)."""
    from . import benchmark, source

    info = _dataset_info(dataset, dataset_spec, config)
    source.run(info.name, benchmark.build(info), info.url, info.md5, root or None, basedir, data_root, link,
               root_file)


@main.command("frames")
@click.option("--dataset", required=True)
@click.option("--data", "tsv", required=True, type=click.Path(exists=True))
@click.option("--root-file", required=True, type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path())
@click.option("--limit", type=int, default=None)
@setting_options
@dataset_spec_option
@config_option
@stage
def frames(dataset, tsv, root_file, out, limit, nframe, fps, use_subtitle, video_llm, dataset_spec, config):
    """Decode every clip's frames at the benchmark's indices; frames.json records indices and timestamps."""
    from . import prompts

    prompts.frames(_dataset_info(dataset, dataset_spec, config), _setting(nframe, fps, use_subtitle, video_llm),
                   tsv, root_file, out, limit=limit or None)


@main.command("build-video-prompts")
@click.option("--dataset", required=True)
@click.option("--data", "tsv", required=True, type=click.Path(exists=True))
@click.option("--root-file", required=True, type=click.Path(exists=True))
@click.option("--frames", "frames_json", default=None, type=click.Path())
@click.option("--out", required=True, type=click.Path())
@click.option("--prompt", "prompt_id", default="default", show_default=True)
@click.option("--limit", type=int, default=None)
@setting_options
@dataset_spec_option
@config_option
@stage
def build_video_prompts(dataset, tsv, root_file, frames_json, out, prompt_id, limit, nframe, fps, use_subtitle,
                        video_llm, dataset_spec, config):
    """Every row's message: frames (or the video file) and the benchmark's text."""
    from . import prompts

    prompts.run(_dataset_info(dataset, dataset_spec, config), _setting(nframe, fps, use_subtitle, video_llm),
                tsv, root_file, frames_json or None, out, prompt_id=prompt_id, limit=limit or None)
