# Video benchmarks: video_fetch (folder + index TSV) -> frames (one per dataset x sampling setting)
# -> build_video_prompts; then infer, merge, judge and score as for image benchmarks.
# A video benchmark's name in targets carries its setting, as upstream's result names do:
# results/M/MVBench_8frame_acc.csv, results/M/Video-MME_1fps_subs_acc.csv (docs/benchmarks.md "Video benchmarks").
from vlmeval_steps.config import split_video_name
from vlmeval_steps.video.benchmark import is_video
from vlmeval_steps.names import LIMIT_PATTERN
from vlmeval_steps.video.settings import config_setting, precedence_note


def _video_names():
    names = []
    for n in PLAN.dataset_names():
        try:
            if is_video(PLAN.dataset(n)):
                names.append(n)
        except InputError:
            pass
    return names


VIDEO_NAMES = _video_names()
VIDEO_ROOTS = config.get("video_roots") or {}
if workflow.is_main_process and (config.get("fps") or -1) > 0 and int(config.get("nframe") or 0) > 0:
    print(f"vlmeval-steps: {precedence_note(int(config['nframe']), float(config['fps']))}", file=sys.stderr)


@functools.cache
def video_split(dataset):
    """'MVBench_8frame_limit5' -> ('MVBench', FrameSetting(nframe=8), 5)."""
    name, setting = split_video_name(config, dataset)
    return name, setting, split_limit(dataset)[1]


def setting_args(dataset):
    s = video_split(dataset)[1]
    return (f"--nframe {s.nframe} --fps {s.fps:g} --{'use' if s.use_subtitle else 'no'}-subtitle"
            f" --{'' if s.video_llm else 'no-'}video-llm")


def frames_path(dataset):
    """One frames target per dataset x sampling setting (x limit: a limited run decodes only its rows)."""
    name, setting, limit = video_split(dataset)
    return f"resources/frames/{name}/{setting.frames_id}/frames-{f'limit{limit}' if limit else 'all'}.json"


def video_prompt_inputs(wc):
    name, setting, _ = video_split(wc.dataset)
    inputs = {"tsv": data_link(name), "root": f"resources/video/{name}.root"}
    # nframe or fps: frames; neither, or video_llm: the video file itself (but Video-MME's subtitles are
    # picked at the sampled frames, so with use_subtitle the frames are still decoded, as upstream does)
    if setting.frames_id != "video" and (not setting.video_llm or setting.use_subtitle):
        inputs["frames"] = frames_path(wc.dataset)
    return inputs


_VIDEO = f"(?:{_alternatives(VIDEO_NAMES)})" if VIDEO_NAMES else NEVER


rule video_fetch:
    # the benchmark's folder (video_roots in the config, else its hub repository) and its index TSV
    output:
        tsv=data_link("{vdataset}"),
        root="resources/video/{vdataset}.root",
    wildcard_constraints:
        vdataset=_VIDEO,
    params:
        root=lambda wc: VIDEO_ROOTS.get(wc.vdataset) or "",
        basedir=workflow.basedir,
        data_root=DATA_ROOT,
        spec=lambda wc: Untracked(dataset_json(wc.vdataset)),
        code=fingerprint("video_fetch"),
    log:
        "logs/video_fetch/{vdataset}.log",
    localrule: True  # compute nodes often have no internet
    shell:
        "{VS} video-fetch --dataset {wildcards.vdataset} --dataset-spec {params.spec:q} --root={params.root:q}"
        " --basedir {params.basedir:q} --data-root {params.data_root:q} --link {output.tsv:q}"
        " --root-file {output.root:q} --log {log:q}"


ruleorder: video_fetch > download


rule frames:
    input:
        tsv=lambda wc: data_link(wc.vdataset),
        root="resources/video/{vdataset}.root",
    output:
        "resources/frames/{vdataset}/{frames_id}/frames-{rows}.json",
    wildcard_constraints:
        vdataset=_VIDEO,
        frames_id=r"[1-9][0-9]*frame|[0-9]+(?:\.[0-9]+)?fps",
        rows="all|" + LIMIT_PATTERN[1:],  # limitN
    params:
        # only what decides which frames are decoded: the setting (in the path), the rows, the code
        setting=lambda wc: (f"--nframe {wc.frames_id[:-5]}" if wc.frames_id.endswith("frame")
                            else f"--fps {wc.frames_id[:-3]}"),
        limit=lambda wc: 0 if wc.rows == "all" else int(wc.rows[5:]),
        spec=lambda wc: Untracked(dataset_json(wc.vdataset)),
        code=fingerprint("frames"),
    log:
        "logs/frames/{vdataset}/{frames_id}-{rows}.log",
    shell:
        "{VS} frames --dataset {wildcards.vdataset} --dataset-spec {params.spec:q} --data {input.tsv:q}"
        " --root-file {input.root:q} {params.setting} --limit {params.limit} --out {output:q} --log {log:q}"


rule build_video_prompts:
    input:
        unpack(video_prompt_inputs),
    output:
        "resources/prompts/{dataset}/{prompt_id}.jsonl",
    wildcard_constraints:
        dataset=wildcard(_VIDEO, video=True),
    params:
        setting=lambda wc: setting_args(wc.dataset),  # video_llm is not in the name: tracked here
        limit=lambda wc: video_split(wc.dataset)[2] or 0,
        spec=lambda wc: Untracked(dataset_json(wc.dataset)),
        frames=lambda wc, input: f"--frames {input.frames}" if "frames" in input.keys() else "",
        code=lambda wc: stage_code("prompts", wc.dataset),
    log:
        "logs/build_prompts/{dataset}/{prompt_id}.log",
    localrule: True  # messages naming frames already decoded: seconds (decoding is the queued frames job)
    shell:
        "{VS} build-video-prompts --dataset {wildcards.dataset} --dataset-spec {params.spec:q} --data {input.tsv:q}"
        " --root-file {input.root:q} {params.frames} {params.setting} --prompt {wildcards.prompt_id}"
        " --limit {params.limit} --out {output:q} --log {log:q}"


ruleorder: build_video_prompts > build_prompts
ruleorder: build_video_prompts > build_prompts_large
