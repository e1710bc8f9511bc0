"""Bad input to ``rdmf predict``, ``rdmf evaluate-submission``, ``rdmf reproduce --only`` and
``rdmf experiments run --shard``: one line naming the file (or option) and the field with exit 2,
or, where the official tools score the input too, one warning line and unchanged metrics; and
never a changed or removed file that existed before."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

import rdmf.commands.predict as predict_command
from badinput import assert_one_line_error, assert_one_warning, assert_unchanged, run, snapshot
from official_reference import evaluate as official_evaluate
from rdmf import reproduce as rp
from rdmf.eval import evaluate_qvhighlights
from rdmf.video.clip_features import cache_file
from rdmf.video.decode import decode_clip_frames, iter_clip_frames
from rdmf.video.predict import QueryPrediction, prediction_paths
from videos import FakePredictor, encode_test_video, frame_index_of, truncated_faststart


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """A 30-s video at 2 frames/s and the same video remuxed with faststart and cut to its first
    third (the header still promises 30 s and 60 frames)."""
    folder = tmp_path_factory.mktemp("videos")
    full = encode_test_video(folder / "full.mp4", np.arange(0, 30, 0.5))
    cut = truncated_faststart(full, folder / "cut.mp4")
    return full, cut


@pytest.fixture
def fake_checkpoint(tmp_path, monkeypatch, extractor):
    """A checkpoint path the CLI accepts, loaded as the stand-in predictor."""
    path = tmp_path / "run" / "best.ckpt"
    path.parent.mkdir()
    path.write_bytes(b"stand-in")
    monkeypatch.setattr(predict_command, "load_predictor",
                        lambda checkpoint, device: FakePredictor(extractor.image_dim,
                                                                 extractor.text_dim))
    return path


# ------------------------------------------------------------------ corrupt video
def test_truncated_video_is_an_error_stating_both_durations(videos):
    full, cut = videos
    frames, _, info = decode_clip_frames(full, progress=False)  # the intact file decodes
    assert info.num_clips == 15 and frame_index_of(frames[-1]) == 58
    with pytest.raises(ValueError) as err:
        list(iter_clip_frames(cut, progress=False))
    message = str(err.value)
    assert str(cut) in message and "truncated" in message
    assert "30.0 s" in message and "60 frames" in message  # what the container promises
    decoded_s = float(message.split(" covering ")[1].split(" s")[0])
    assert 0 < decoded_s < 15  # what was really decoded: the first third, not 30 s


def test_sparse_frames_that_last_to_the_end_are_not_truncation(tmp_path):
    # a slide show: 3 frames, the last one on screen for 10 s; nothing is missing
    video = encode_test_video(tmp_path / "slides.mp4", [0.0, 4.0, 10.0], last_frame_s=10.0)
    frames, _, info = decode_clip_frames(video, progress=False)
    assert info.num_clips == 10
    assert [frame_index_of(f) for f in frames] == [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]


# ------------------------------------------------------------------ rdmf predict
def _predict_case(name: str, tmp_path: Path, videos) -> tuple[list[str], Path, tuple[str, ...]]:
    """(argv after `predict`, out, strings the error line must name) for one bad input."""
    full, cut = videos
    out = tmp_path / "out"
    if name == "truncated-faststart-video":
        return [str(cut), "--query", "a dog"], out, (str(cut), "truncated", "30.0 s")
    if name == "out-is-a-file":
        out.write_text("my notes\n")
        return [str(full), "--query", "a dog"], out, ("--out", str(out), "not a folder")
    if name == "out-is-the-input-video":
        return [str(full), "--query", "a dog"], full, ("--out", str(full), "input")
    if name == "out-inside-a-file":
        (tmp_path / "notes.txt").write_text("my notes\n")
        return ([str(full), "--query", "a dog"], tmp_path / "notes.txt" / "out",
                ("--out", "notes.txt", "not a folder"))
    if name == "cache-dir-is-a-file":
        (tmp_path / "cache").write_text("not a folder\n")
        return ([str(full), "--query", "a dog"], out,
                ("--cache-dir", str(tmp_path / "cache"), "not a folder"))
    if name == "out-is-the-queries-file":
        pairs = tmp_path / "pairs.jsonl"
        pairs.write_text(json.dumps({"video": str(full), "query": "a dog"}) + "\n")
        return ["--queries", str(pairs)], pairs, ("--out", str(pairs), "input")
    raise KeyError(name)


PREDICT_CASES = ["truncated-faststart-video", "out-is-a-file", "out-is-the-input-video",
                 "out-inside-a-file", "out-is-the-queries-file", "cache-dir-is-a-file"]


@pytest.mark.parametrize("case", PREDICT_CASES)
def test_predict_bad_input(case, tmp_path, videos, fake_checkpoint, clip_folder, capsys):
    argv, out, mentions = _predict_case(case, tmp_path, videos)
    cache = tmp_path / "cache"
    before = snapshot(tmp_path, *videos)
    outcome = run(["predict", *argv, "--checkpoint", fake_checkpoint, "--clip-model",
                   clip_folder, "--out", out, "--cache-dir", cache, "--no-progress"], capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, tmp_path, *videos)
    assert not (cache.is_dir() and list(cache.glob("*.h5"))) and not (tmp_path / "out").is_dir()


@pytest.mark.parametrize("video, query", [
    ("../../etc/passwd.mp4", "../../x"),
    ("/abs/dir/clip.name.mp4", "a/b\\c"),
    ("..mp4", ".."),
], ids=["dot-dot-in-video-and-query", "separators-in-query", "dots-only"])
def test_prediction_names_stay_in_the_output_folder(tmp_path, video, query):
    result = QueryPrediction(video=video, query=query, windows=[], saliency=[0.0],
                             clip_len_s=2.0, duration_s=2.0, centres_s=[1.0], chunks=[[0, 1]],
                             video_sha256="0" * 64, extractor_id="clip-0", clip_model="tiny",
                             checkpoint="x")
    out = tmp_path / "out"
    for path in prediction_paths(result, out).values():
        assert path.parent == out and path.resolve().parent == out.resolve()
        assert path.name not in (".", "..") and "/" not in path.name


@pytest.mark.parametrize("video_sha, extractor_id", [
    ("../../../../tmp/x", "clip-0"), ("ab" * 32, "../evil"), ("ab" * 32, "clip/../../x"),
], ids=["hash-with-dot-dot", "extractor-id-with-dot-dot", "extractor-id-with-separator"])
def test_feature_cache_names_stay_in_the_cache_folder(tmp_path, video_sha, extractor_id):
    with pytest.raises(ValueError, match="cache"):
        cache_file(tmp_path, video_sha, extractor_id)
    assert cache_file(tmp_path, "ab" * 32, "clip-0123abcd").parent == tmp_path


# ------------------------------------------------------------------ rdmf evaluate-submission
# ground truth with a window in each length range, so that every official number is defined
GT = [
    {"qid": 1, "query": "a", "vid": "v1", "duration": 150, "relevant_windows": [[10, 16], [40, 60]],
     "relevant_clip_ids": [5, 6, 7], "saliency_scores": [[4, 3, 2], [1, 2, 4], [2, 2, 2]]},
    {"qid": 2, "query": "b", "vid": "v2", "duration": 150, "relevant_windows": [[80, 120]],
     "relevant_clip_ids": [40, 41], "saliency_scores": [[4, 4, 4], [0, 1, 2]]},
]
SALIENCY = [float(i % 7) / 7 for i in range(75)]
PRED = [
    {"qid": 1, "pred_relevant_windows": [[10, 16, 0.9], [40, 58, 0.8], [0, 2, 0.1]],
     "pred_saliency_scores": SALIENCY},
    {"qid": 2, "pred_relevant_windows": [[82, 120, 0.7], [0, 30, 0.2]],
     "pred_saliency_scores": SALIENCY[::-1]},
]


def _changed(index: int, field: str, value) -> list[dict]:
    rows = json.loads(json.dumps(PRED))
    rows[index][field] = value
    return rows


WINDOW = "pred_relevant_windows"
WARNINGS = {  # case -> (rows, strings the warning names)
    "negative-start": (_changed(1, WINDOW, [[-4, 120, 0.7], [0, 30, 0.2]]),
                       ("line 2", "qid 2", f"'{WINDOW}'[0]", "before 0 s")),
    "end-beyond-duration": (_changed(0, WINDOW, [[10, 16, 0.9], [140, 160, 0.8]]),
                            ("line 1", "qid 1", f"'{WINDOW}'[1]", "after the video")),
    "zero-length-window": (_changed(0, WINDOW, [[10, 16, 0.9], [50, 50, 0.8]]),
                           ("line 1", "qid 1", f"'{WINDOW}'[1]", "zero-length")),
    "infinite-window-score": (_changed(1, WINDOW, [[82, 120, float("inf")], [0, 30, 0.2]]),
                              ("line 2", "qid 2", f"'{WINDOW}'[0]", "infinite window score")),
    "infinite-saliency": (_changed(0, "pred_saliency_scores", [float("-inf")] + SALIENCY[1:]),
                          ("line 1", "qid 1", "'pred_saliency_scores'[0]", "infinite")),
}


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_submission_outside_the_video_is_scored_with_one_warning(case, tmp_path, capsys):
    rows, mentions = WARNINGS[case]
    pred, gt = _write_jsonl(tmp_path / "pred.jsonl", rows), _write_jsonl(tmp_path / "gt.jsonl", GT)
    out = tmp_path / "metrics.json"
    before = snapshot(tmp_path)
    outcome = run(["evaluate-submission", pred, gt, "--out", out], capsys)
    assert_one_warning(outcome, str(pred), *mentions)
    assert_unchanged(before, tmp_path)
    metrics = json.loads(out.read_text())
    assert metrics == json.loads(json.dumps(evaluate_qvhighlights(rows, GT)))
    if case != "infinite-saliency":  # the official numbers, unchanged by the warning
        assert metrics == official_evaluate(rows, GT)


def test_clean_submission_has_no_warning(tmp_path, capsys):
    pred, gt = _write_jsonl(tmp_path / "pred.jsonl", PRED), _write_jsonl(tmp_path / "gt.jsonl", GT)
    outcome = run(["evaluate-submission", pred, gt, "--out", tmp_path / "m.json"], capsys)
    assert outcome.code == 0 and "warning" not in outcome.stderr.lower()


@pytest.mark.parametrize("case", ["out-is-a-folder", "out-is-the-submission",
                                  "out-is-the-ground-truth", "out-inside-a-file"])
def test_evaluate_submission_bad_out(case, tmp_path, capsys):
    pred, gt = _write_jsonl(tmp_path / "pred.jsonl", PRED), _write_jsonl(tmp_path / "gt.jsonl", GT)
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "old.json").write_text("{}\n")
    out, mentions = {
        "out-is-a-folder": (folder, ("--out", str(folder), "folder")),
        "out-is-the-submission": (pred, ("--out", str(pred), "input")),
        "out-is-the-ground-truth": (gt, ("--out", str(gt), "input")),
        "out-inside-a-file": (pred / "m.json", ("--out", "pred.jsonl", "not a folder")),
    }[case]
    before = snapshot(tmp_path)
    outcome = run(["evaluate-submission", pred, gt, "--out", out], capsys)
    assert_one_line_error(outcome, *mentions)
    assert_unchanged(before, tmp_path)


# ------------------------------------------------------------------ rdmf reproduce
@pytest.mark.parametrize("only", ["", ",", " , "], ids=["empty", "comma", "blanks"])
def test_reproduce_empty_only_selection(only, capsys):
    books = rp.notebooks_dir()
    before = snapshot(books)
    outcome = run(["reproduce", "--profile", "ci", "--only", only, "--no-progress"], capsys)
    assert_one_line_error(outcome, "--only", "selection is empty")
    assert_unchanged(before, books)


def test_reproduce_cell_time_out_names_the_cell(tmp_path, monkeypatch, capsys):
    books, reports = tmp_path / "notebooks", tmp_path / "reports"
    books.mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "ci"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, books / "01_slow.ipynb")
    monkeypatch.setattr(rp, "notebooks_dir", lambda: books)
    monkeypatch.setattr(rp, "reports_dir", lambda profile: reports / profile)
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))  # reproduce() sets it
    before = snapshot(books)
    outcome = run(["reproduce", "--profile", "ci", "--timeout", "2", "--no-progress"], capsys)
    assert outcome.code == 1
    (line,) = [line for line in outcome.error_lines if "01_slow" in line]
    assert "timed out at cell 2" in line and "2 s" in line and "start-up" not in line
    assert_unchanged(before, books)


# ------------------------------------------------------------------ rdmf experiments run
@pytest.mark.parametrize("pattern", ["no_such_shard_*", ""], ids=["no-match", "empty"])
def test_experiments_shard_pattern_that_matches_nothing(pattern, tmp_path, monkeypatch, capsys):
    from rdmf.experiments import runner
    monkeypatch.setattr(runner, "run_shard",
                        lambda *a, **k: pytest.fail("ran a shard despite a bad --shard"))
    reports = runner.reports_dir("ci")
    before = snapshot(reports) if reports.exists() else {}
    outcome = run(["experiments", "run", "--profile", "ci", "--group", "synthetic",
                   "--shard", "synthetic_rd_*", "--shard", pattern], capsys)
    assert_one_line_error(outcome, "--shard", repr(pattern))
    assert_unchanged(before, reports)


# ------------------------------------------------------------------ rdmf train
def test_zero_clip_length_names_the_config_field(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("kept\n")
    before = snapshot(tmp_path)
    run_dir = tmp_path / "run"
    outcome = run(["train", "--preset", "synthetic", "--size", "ci", "--epochs", "1",
                   "--set", "clip_len_s=0", "--run-dir", run_dir, "--no-progress"], capsys)
    assert_one_line_error(outcome, "clip_len_s", "> 0")
    assert "submission" not in outcome.stderr and not run_dir.exists()
    assert_unchanged(before, tmp_path)


def test_predict_unwritable_cache_entry_is_one_warning(tmp_path, videos, fake_checkpoint,
                                                       clip_folder, extractor, capsys):
    from rdmf.video.clip_features import sha256_file
    full, _ = videos
    cache, out = tmp_path / "cache", tmp_path / "out"
    entry = cache_file(cache, sha256_file(full), extractor.extractor_id)
    entry.mkdir(parents=True)  # the entry's name is taken by a folder: the write fails
    (entry / "keep.txt").write_text("kept\n")
    before = snapshot(tmp_path, full)
    outcome = run(["predict", full, "--query", "a dog", "--checkpoint", fake_checkpoint,
                   "--clip-model", clip_folder, "--out", out, "--cache-dir", cache,
                   "--no-progress", "--no-figure"], capsys)
    assert_one_warning(outcome, "feature cache", str(cache), entry.name)
    assert len(list(out.glob("*.json"))) == 1
    assert_unchanged(before, tmp_path, full)
