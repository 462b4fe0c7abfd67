"""Issue 11, MMDU: multi-turn, multi-image dialogs; each turn answered with the conversation so far and
graded by the judge. Expected values are worked out by hand in the comments."""
from __future__ import annotations

import pytest

from tests.benchdata import ScriptedJudge, judge_and_score, read_csv, shape_png, write_predictions
from tests.tsvs import write_tsv
from vlmeval_steps.errors import InputError
from vlmeval_steps.models.base import BaseModel
from vlmeval_steps.models.multiturn import chat_mt


def mmdu_tsv(path, rows):
    write_tsv(path, rows, ["index", "image", "question", "answer"])
    return path


def two_images():
    return str([shape_png("circle"), shape_png("square", (30, 30, 200))])


def test_prompt_is_upstreams_dialog(tmp_path, monkeypatch):
    from tests.test_datasets_vqa import first_prompt

    tsv = mmdu_tsv(tmp_path / "MMDU.tsv", [dict(
        index=4, image=two_images(), question=str(["Look: <ImageHere> and <ImageHere>", "Which is red?"]),
        answer=str(["A circle and a square.", "The circle."]))])
    assert first_prompt("MMDU", tsv, tmp_path, monkeypatch) == [
        dict(role="user", content=[dict(type="text", value="Look: "), dict(type="image", value="img/4_0.png"),
                                   dict(type="text", value=" and "), dict(type="image", value="img/4_1.png")]),
        dict(role="assistant", content=[dict(type="text", value="A circle and a square.")]),
        dict(role="user", content=[dict(type="text", value="Which is red?")]),
        dict(role="assistant", content=[dict(type="text", value="The circle.")])]


class Recorder(BaseModel):
    """A local model that answers 'answer N' and records every message it is given."""

    def __init__(self):
        self.seen = []

    def generate_inner(self, message, dataset=None):
        self.seen.append(message)
        return f"answer {len(self.seen)}"


class Chatty(Recorder):
    def chat_inner(self, message, dataset=None):
        self.seen.append(message)
        return f"answer {len(self.seen)}"


DIALOG = [dict(role="user", content=[dict(type="image", value="a.png"), dict(type="text", value="Q1")]),
          dict(role="assistant", content=[dict(type="text", value="reference 1")]),
          dict(role="user", content=[dict(type="text", value="Q2")]),
          dict(role="assistant", content=[dict(type="text", value="reference 2")])]


def test_turns_see_the_models_own_answers_never_the_references():
    model = Chatty()
    answers, ok, _ = chat_mt(model, DIALOG)
    assert (answers, ok) == (["answer 1", "answer 2"], True)
    assert model.seen[1] == [DIALOG[0], dict(role="assistant", content=[dict(type="text", value="answer 1")]),
                             DIALOG[2]]
    # without chat_inner: the conversation so far as one message
    model = Recorder()
    answers, ok, _ = chat_mt(model, DIALOG)
    assert model.seen[1] == [dict(type="image", value="a.png"), dict(type="text", value="Q1"),
                             dict(type="text", value="answer 1"), dict(type="text", value="Q2")]


def test_judge_per_turn_and_table(tmp_path):
    rows = [dict(index=1, image=two_images(), question=str(["<ImageHere><ImageHere>Compare.", "Which is red?"]),
                 answer=str(["ref a", "ref b"])),
            dict(index=2, image=two_images(), question=str(["<ImageHere>What?<ImageHere>"]), answer=str(["ref c"]))]
    tsv = mmdu_tsv(tmp_path / "MMDU.tsv", rows)
    preds = {1: str(["pred a", "pred b"]), 2: str(["pred c"])}
    full = {"Creativity": 8, "Richness": 6, "Visual Perception": 7, "Logical Coherence": 9, "Answer Accuracy": 12,
            "Image Relationship Understanding": 5, "Overall Score": 7}
    replies = {"pred a": "Fine.\n" + str(full),                                 # all dims; 12 is clipped to 10
               "pred b": "Scores: {'Creativity': 4, 'Overall Score': '3'}",    # two dims; '3' int()s to 3
               "pred c": "no dict at all"}                                     # None for every dim
    judge = ScriptedJudge(lambda p, t: replies[p.split("[The Start of Assistant’s Answer]\n")[1].split("\n")[0]])
    _, records = judge_and_score("MMDU", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out",
                                 judge=judge, judge_name="gpt-4o")
    assert records[0]["log"] == ("Succeed\nFollowing Dims are not in results of turn 1: Richness,Visual Perception,"
                                 "Logical Coherence,Answer Accuracy,Image Relationship Understanding")
    table = read_csv(tmp_path / "out/MMDU_gpt-4o_score.csv")
    assert list(table.columns) == ["set", "Creativity", "Richness", "Visual Perception", "Logical Coherence",
                                   "Answer Accuracy", "Image Relationship Understanding", "Overall Score"]
    # three turns count in 'all'; 'valid' counts the turns with an integer score for that dimension
    # Creativity: (8 + 4) / 3 * 10 = 40, valid (8 + 4) / 2 * 10 = 60; Richness: 6 / 3 * 10 = 20, valid 60;
    # Answer Accuracy: 10 / 3 * 10; Overall: (7 + 3) / 3 * 10, valid (7 + 3) / 2 * 10 = 50
    all_, valid = table.iloc[0], table.iloc[1]
    assert (all_["set"], valid["set"]) == ("all", "valid")
    assert all_[["Creativity", "Richness", "Answer Accuracy", "Overall Score"]].tolist() == pytest.approx(
        [40.0, 20.0, 100 / 3, 100 / 3])
    assert valid[["Creativity", "Richness", "Answer Accuracy", "Overall Score"]].tolist() == pytest.approx(
        [60.0, 60.0, 100.0, 50.0])


def test_a_prediction_that_is_not_a_list_of_turns_names_the_row(tmp_path):
    tsv = mmdu_tsv(tmp_path / "MMDU.tsv", [dict(index=9, image=two_images(), question=str(["q"]),
                                                 answer=str(["a"]))])
    with pytest.raises(InputError, match="row index=9: 'prediction' must be a Python list"):
        judge_and_score("MMDU", write_predictions(tsv, {9: "just text"}, tmp_path / "p.tsv"), tmp_path / "out",
                        judge=ScriptedJudge([]))
