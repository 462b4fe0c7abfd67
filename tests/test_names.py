"""The dataset-name grammar (vlmeval_steps/names.py): the one parser Python and the .smk files share."""
import re

import pytest

from vlmeval_steps.names import is_trial, split_limit, split_setting, wildcard, with_limit


@pytest.mark.parametrize("name, expected", [
    ("MMStar", ("MMStar", None)),
    ("MMStar_limit20", ("MMStar", 20)),
    ("MVBench_8frame_limit5", ("MVBench_8frame", 5)),
    ("MMStar_limit0", ("MMStar_limit0", None)),      # N >= 1
    ("MMStar_limit", ("MMStar_limit", None)),
    ("A_limit3_limit4", ("A_limit3", 4)),             # only the last suffix is the limit
])
def test_split_limit(name, expected):
    assert split_limit(name) == expected
    base, limit = expected
    if limit:
        assert with_limit(base, limit) == name and is_trial(name)
    else:
        assert with_limit(base, limit) == base and not is_trial(name)


@pytest.mark.parametrize("name, expected", [
    ("MVBench_8frame", ("MVBench", 8, -1.0, False)),
    ("Video-MME_1fps_subs", ("Video-MME", 0, 1.0, True)),
    ("Video-MME_0.5fps", ("Video-MME", 0, 0.5, False)),
    ("Video-MME_subs", ("Video-MME", 0, -1.0, True)),
    ("MVBench", None),
    ("MVBench_0frame", None),                         # a frame count starts at 1
    ("Foo_8frame_extra", None),
])
def test_split_setting(name, expected):
    assert split_setting(name) == expected


def test_wildcard_is_what_the_parsers_accept():
    video = re.compile(wildcard(re.escape("Video-MME"), video=True))
    image = re.compile(wildcard(re.escape("MMStar")))
    for name in ["Video-MME", "Video-MME_8frame", "Video-MME_1fps_subs_limit5", "Video-MME_limit2"]:
        assert video.fullmatch(name), name
        base, _ = split_limit(name)
        assert base == "Video-MME" or split_setting(base)[0] == "Video-MME"
    for name in ["Video-MME_8frame_limit0", "Video-MME_limit5_8frame", "Video-MME_0frame"]:
        assert not video.fullmatch(name), name
    assert image.fullmatch("MMStar_limit7") and not image.fullmatch("MMStar_8frame")
    assert not re.compile(wildcard("MMStar", limit=False)).fullmatch("MMStar_limit7")
