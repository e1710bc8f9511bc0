"""``VideoPredictor`` and ``rdmf predict`` end to end with a tiny random CLIP and a deterministic
stand-in predictor (``tests/videos.py: FakePredictor``, same interface as
``rdmf.inference.Predictor``); tests with a trained checkpoint are in test_predict_checkpoint.py."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

import rdmf.commands.predict as predict_command
import rdmf.video.clip_features as clip_features
from rdmf.cli import main
from rdmf.data.features import prepare_text_features, prepare_video_features
from rdmf.data.feature_spec import FeatureSpec
from rdmf.video.predict import VideoPredictor
from tiny_clip import save_tiny_clip
from videos import FakePredictor, encode_audio_only, encode_test_video

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JSON_KEYS = {"video", "query", "windows", "saliency", "clip_len_s", "duration_s", "num_clips",
             "clip_centres_s", "chunks_clips", "video_sha256", "extractor", "clip_model",
             "checkpoint"}


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    return encode_test_video(tmp_path_factory.mktemp("v") / "short.mp4", np.arange(0, 21, 0.5))


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    # 400 s at 1 frame/s: 200 clips, longer than the 75 clips the model is "trained" on
    return encode_test_video(tmp_path_factory.mktemp("v") / "long.mp4", np.arange(0, 400, 1.0))


def fake_for(extractor, **kwargs) -> FakePredictor:
    return FakePredictor(extractor.image_dim, extractor.text_dim, **kwargs)


# ------------------------------------------------------------------ Python API
def test_predict_short_video_json_schema_and_values(extractor, short_video):
    fake = fake_for(extractor)
    result = VideoPredictor(fake, extractor, progress=False).predict(short_video, "a red car")[0]
    data = result.to_json()
    assert JSON_KEYS <= set(data)
    assert data["num_clips"] == len(data["saliency"]) == 11  # ceil(21 / 2)
    assert data["clip_centres_s"] == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 20.5]
    assert data["chunks_clips"] == [[0, 11]] and fake.calls == [(11, 21.0)]
    for start, end, score in data["windows"]:
        assert 0.0 <= start < end <= 21.0 and np.isfinite(score)
    # the saliency is the model's on the prepared features, unchanged
    feats = VideoPredictor(fake, extractor, progress=False).features(short_video)
    direct = fake.predict(prepare_video_features([feats.clip_features]),
                          prepare_text_features(extractor.encode_text("a red car")), 21.0)
    np.testing.assert_allclose(data["saliency"], direct["saliency"], rtol=1e-6)
    assert data["windows"] == direct["windows"]


def test_long_video_is_predicted_in_overlapping_chunks(extractor, long_video):
    fake = fake_for(extractor, max_clips=75)
    predictor = VideoPredictor(fake, extractor, top_k=5, progress=False)
    result = predictor.predict(long_video, "a person cooking")[0]
    assert result.chunks == [[0, 75], [38, 113], [76, 151], [114, 189], [125, 200]]
    assert [calls for calls, _ in fake.calls] == [75] * 5  # never more than the trained length
    assert fake.calls[-1][1] == pytest.approx(150.0)
    assert len(result.saliency) == 200
    # this stand-in scores every clip on its own, so averaging over chunks must change nothing
    feats = predictor.features(long_video)
    whole = fake.predict(prepare_video_features([feats.clip_features]),
                         prepare_text_features(extractor.encode_text("a person cooking")), 400.0)
    np.testing.assert_allclose(result.saliency, whole["saliency"], rtol=1e-5, atol=1e-6)
    assert 1 <= len(result.windows) <= 5
    scores = [w[2] for w in result.windows]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s < e <= 400.0 for s, e, _ in result.windows)


def test_same_input_twice_gives_identical_results(tmp_path, extractor, short_video):
    runs = []
    for cache in (None, tmp_path, tmp_path):  # no cache, cache miss, cache hit
        predictor = VideoPredictor(fake_for(extractor), extractor, cache_dir=cache,
                                   progress=False)
        runs.append([r.to_json() for r in predictor.predict(short_video, ["dog", "a red car"])])
    assert runs[0] == runs[1] == runs[2]


@pytest.mark.parametrize("spec_change, message", [
    ({"video_dim": 2818, "video_feature_types": ["slowfast", "clip"]}, "slowfast"),
    ({"video_dim": 514}, "514-d video input"),
    ({"text_dim": 512}, "512-d text"),
    ({"text_encoder": "all-MiniLM-L6-v2"}, "all-minilm-l6-v2 text features"),
    ({"clip_len_s": 1.0}, "1.0-s clips"),
])
def test_checkpoint_feature_mismatch_is_a_clear_error(extractor, spec_change, message):
    fake = fake_for(extractor)
    fake.feature_spec.update(spec_change)
    with pytest.raises(ValueError, match=message) as info:
        VideoPredictor(fake, extractor, checkpoint="runs/x/best.ckpt")
    assert "runs/x/best.ckpt" in str(info.value)


def test_feature_spec_without_dims_is_rejected():
    with pytest.raises(ValueError, match="no video feature dimension"):
        FeatureSpec.from_dict({"video_feature_types": ["clip"], "text_dim": 4})
    with pytest.raises(ValueError, match="no feature_spec"):
        FeatureSpec.from_dict(None)


def test_feature_spec_round_trip_and_other_spellings():
    spec = FeatureSpec(video_feature_types=("clip",), video_dim=514, text_dim=512,
                       text_encoder="clip", dataset="qvhighlights")
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    nested = {"video": {"types": ["clip"], "dims": [512], "tef": True},
              "text": {"encoder": "clip", "dim": 512}, "max_v_l": 75, "max_q_l": 32}
    read = FeatureSpec.from_dict(nested)
    assert (read.video_feature_dims, read.endpoints, read.max_clips, read.max_tokens) == (
        (512,), True, 75, 32)
    assert FeatureSpec.from_dict(read.to_dict()) == read


def test_empty_query_fails_before_decoding(extractor, short_video, monkeypatch):
    monkeypatch.setattr(clip_features, "probe_video",
                        lambda *a, **k: pytest.fail("decoded before checking the queries"))
    with pytest.raises(ValueError, match="query 2 is empty"):
        VideoPredictor(fake_for(extractor), extractor).predict(short_video, ["dog", "  "])


# ------------------------------------------------------------------ command line
@pytest.fixture
def fake_checkpoint(tmp_path, monkeypatch, extractor):
    """A checkpoint path the CLI accepts, loaded as the stand-in predictor."""
    path = tmp_path / "run" / "best.ckpt"
    path.parent.mkdir()
    path.write_bytes(b"stand-in")
    fakes = []

    def load(checkpoint, device):
        assert Path(checkpoint) == path
        fakes.append(fake_for(extractor))
        return fakes[-1]

    monkeypatch.setattr(predict_command, "load_predictor", load)
    return path


def _cli(video, out, checkpoint, clip_folder, cache, *extra):
    args = ["predict", str(video), "--checkpoint", str(checkpoint), "--clip-model",
            str(clip_folder), "--out", str(out), "--cache-dir", str(cache), "--no-progress"]
    return main(args + list(extra))


def test_cli_writes_json_and_png_per_query_and_prints_a_table(
        tmp_path, short_video, fake_checkpoint, clip_folder, capsys, monkeypatch):
    out, cache = tmp_path / "out", tmp_path / "cache"
    code = _cli(short_video, out, fake_checkpoint, clip_folder, cache,
                "--query", "a red car", "--query", "someone laughs", "--top-k", "3")
    assert code == 0
    printed = capsys.readouterr().out
    assert "a red car" in printed and "someone laughs" in printed and "top window" in printed
    jsons, pngs = sorted(out.glob("*.json")), sorted(out.glob("*.png"))
    assert len(jsons) == 2 and len(pngs) == 2
    assert {p.stem for p in jsons} == {p.stem for p in pngs}
    for path in jsons:
        data = json.loads(path.read_text())
        assert JSON_KEYS <= set(data) and data["video"] == str(short_video)
        assert data["num_clips"] == 11 and len(data["windows"]) <= 3
        assert all(len(w) == 3 and w[0] < w[1] for w in data["windows"])
    for path in pngs:
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 300
    assert not list(out.glob(".*"))  # no temporary files left behind
    first = {p.name: p.read_bytes() for p in jsons + pngs}

    # a new run (another query too) reads the cached features: no decoding at all
    monkeypatch.setattr(clip_features, "iter_clip_frames",
                        lambda *a, **k: pytest.fail("decoded although the features were cached"))
    out2 = tmp_path / "out2"
    assert _cli(short_video, out2, fake_checkpoint, clip_folder, cache,
                "--query", "a red car", "--query", "someone laughs", "--top-k", "3") == 0
    assert {p.name: p.read_bytes() for p in out2.iterdir()} == first  # byte-identical
    assert _cli(short_video, out2, fake_checkpoint, clip_folder, cache,
                "--query", "a dog runs") == 0
    assert len(list(out2.glob("*.json"))) == 3


def test_cli_reads_video_query_pairs_from_jsonl(tmp_path, short_video, fake_checkpoint,
                                                clip_folder):
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(short_video.read_bytes())
    pairs = folder / "pairs.jsonl"
    pairs.write_text(json.dumps({"video": "clip.mp4", "query": "a cat", "qid": 7}) + "\n"
                     + json.dumps({"video": str(short_video), "query": "a dog"}) + "\n")
    out = tmp_path / "out"
    assert main(["predict", "--queries", str(pairs), "--checkpoint", str(fake_checkpoint),
                 "--clip-model", str(clip_folder), "--out", str(out), "--no-cache",
                 "--no-progress", "--no-figure"]) == 0
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert sorted(r["query"] for r in rows) == ["a cat", "a dog"]
    assert [r["qid"] for r in rows if r["query"] == "a cat"] == [7]
    assert not list(out.glob("*.png"))


def _bad_inputs(tmp_path, short_video):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    audio = encode_audio_only(tmp_path / "audio.m4a")
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text(json.dumps({"video": str(short_video), "query": ""}) + "\n")
    return [
        ([str(tmp_path / "missing.mp4"), "--query", "x"], "missing.mp4: no such file"),
        ([str(text), "--query", "x"], "notes.mp4: not a readable video"),
        ([str(empty), "--query", "x"], "empty.mp4: the file is empty"),
        ([str(audio), "--query", "x"], "audio.m4a: the file has no video stream"),
        ([str(short_video), "--query", " "], "--query number 1 is empty"),
        ([str(short_video)], "no query given"),
        (["--queries", str(bad_jsonl)], "bad.jsonl, line 1: field 'query' is missing or empty"),
    ]


def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(
        tmp_path, short_video, fake_checkpoint, clip_folder, capsys):
    out, cache = tmp_path / "out", tmp_path / "cache"
    for args, message in _bad_inputs(tmp_path, short_video):
        code = main(["predict", *args, "--checkpoint", str(fake_checkpoint), "--clip-model",
                     str(clip_folder), "--out", str(out), "--cache-dir", str(cache),
                     "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2, args
        assert message in err, (message, err)
        assert err.startswith("rdmf predict: error:") and err.count("\n") == 1
        assert not out.exists()


def test_cli_missing_checkpoint_and_clip_model_are_clear_errors(tmp_path, short_video,
                                                                clip_folder, capsys):
    out = tmp_path / "out"
    code = main(["predict", str(short_video), "--query", "x", "--checkpoint",
                 str(tmp_path / "nope"), "--clip-model", str(clip_folder), "--out", str(out)])
    assert code == 2 and "--checkpoint" in capsys.readouterr().err and not out.exists()


def test_cli_dimension_mismatch_fails_before_decoding(tmp_path, short_video, fake_checkpoint,
                                                      monkeypatch, capsys):
    other = save_tiny_clip(tmp_path / "wide_clip", projection_dim=40)  # 40-d, checkpoint: 24-d
    monkeypatch.setattr(clip_features, "probe_video",
                        lambda *a, **k: pytest.fail("decoded before checking the checkpoint"))
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert _cli(short_video, out, fake_checkpoint, other, cache, "--query", "x") == 2
    err = capsys.readouterr().err
    assert str(fake_checkpoint) in err and "wide_clip produces 40-d" in err
    assert not out.exists() and not cache.exists()


@pytest.mark.realdata
def test_cli_on_the_real_qvhighlights_video(tmp_path, real_data_root, fake_checkpoint,
                                            clip_folder):
    video = real_data_root / "qvhighlights" / "video" / "HY7EC5zXoEE_60.0_210.0.mp4"
    if not video.is_file():
        pytest.skip(f"{video} not present")
    out = tmp_path / "out"
    assert _cli(video, out, fake_checkpoint, clip_folder, tmp_path / "cache",
                "--query", "A couple walking together around and showing their outfits.") == 0
    (data_file,) = out.glob("*.json")
    data = json.loads(data_file.read_text())
    assert data["num_clips"] == 75 and data["duration_s"] == 150.0
    assert data["clip_centres_s"][:3] == [1.0, 3.0, 5.0] and data["chunks_clips"] == [[0, 75]]
    assert (out / (data_file.stem + ".png")).read_bytes()[:8] == PNG_SIGNATURE


def test_cli_a_bad_video_late_in_a_jsonl_leaves_nothing_written(
        tmp_path, short_video, fake_checkpoint, clip_folder, capsys):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(short_video.read_bytes()[:2000])  # header only: unreadable
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"video": str(short_video), "query": "a cat"}) + "\n"
                     + json.dumps({"video": "corrupt.mp4", "query": "a dog"}) + "\n")
    out = tmp_path / "out"
    code = main(["predict", "--queries", str(pairs), "--checkpoint", str(fake_checkpoint),
                 "--clip-model", str(clip_folder), "--out", str(out), "--no-cache",
                 "--no-progress"])
    assert code == 2 and "corrupt.mp4" in capsys.readouterr().err
    assert not out.exists()  # the first query's answer was not written either
