"""``rdmf predict`` with a real checkpoint: a tiny RDMF model trained here for a few steps (via
``rdmf.train.train``) on toy features of the tiny CLIP's widths, then loaded through
``rdmf.inference.Predictor.from_checkpoint`` exactly as a user's run folder would be."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdmf.cli import main
from rdmf.data.features import prepare_text_features, prepare_video_features
from rdmf.inference import Predictor
from rdmf.video.clip_features import ClipExtractor
from rdmf.video.predict import VideoPredictor
from tiny_clip import (TINY_IMAGE_DIM, TINY_TEXT_DIM, make_tiny_clip, save_tiny_clip,
                       train_tiny_checkpoint)
from videos import encode_test_video

IMAGE_DIM, TEXT_DIM = TINY_IMAGE_DIM, TINY_TEXT_DIM
TRAINED_CLIPS = 12             # the model's trained length (QVHighlights: 75)


def _train(run_dir, **kwargs):
    return train_tiny_checkpoint(run_dir, trained_clips=TRAINED_CLIPS, **kwargs)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs") / "tiny_clip_rd")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return encode_test_video(tmp_path_factory.mktemp("v") / "kitchen.mp4", np.arange(0, 19, 0.5))


def _predict(video, out, run_dir, clip_folder, cache, *extra):
    return main(["predict", str(video), "--checkpoint", str(run_dir), "--clip-model",
                 str(clip_folder), "--out", str(out), "--cache-dir", str(cache),
                 "--no-progress", *extra])


def test_cli_with_a_trained_checkpoint(tmp_path, video, run_dir, clip_folder, capsys):
    out = tmp_path / "out"
    assert _predict(video, out, run_dir, clip_folder, tmp_path / "cache",
                    "--query", "a man opens the fridge") == 0
    assert "a man opens the fridge" in capsys.readouterr().out
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["num_clips"] == 10 and len(data["saliency"]) == 10  # ceil(19 / 2)
    assert 1 <= len(data["windows"]) <= 10
    assert all(0.0 <= s < e <= 19.0 and 0.0 <= c <= 1.0 for s, e, c in data["windows"])
    assert data["checkpoint"] == str(run_dir)
    assert (out / f"{path.stem}.png").read_bytes()[:4] == b"\x89PNG"

    # the same answer as the model applied directly to the prepared features
    predictor = Predictor.from_checkpoint(run_dir)
    model, tokenizer = make_tiny_clip(seed=0)
    extractor = ClipExtractor(model, tokenizer)
    vp = VideoPredictor(predictor, extractor, progress=False)
    feats = vp.features(video)
    direct = predictor.predict(prepare_video_features([feats.clip_features]),
                               prepare_text_features(extractor.encode_text(
                                   "a man opens the fridge")), 19.0)
    np.testing.assert_allclose(data["saliency"], direct["saliency"], atol=1e-5)
    np.testing.assert_allclose(data["windows"], direct["windows"], atol=1e-5)


def test_trained_checkpoint_twice_gives_identical_files(tmp_path, video, run_dir, clip_folder):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert _predict(video, out, run_dir, clip_folder, tmp_path / f"cache_{name}",
                        "--query", "someone cuts bread") == 0
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]


def test_long_video_with_the_trained_checkpoint(tmp_path, run_dir, clip_folder):
    long_video = encode_test_video(tmp_path / "long.mp4", np.arange(0, 61, 1.0))  # 31 clips
    out = tmp_path / "out"
    assert _predict(long_video, out, run_dir / "best.ckpt", clip_folder, tmp_path / "cache",
                    "--query", "a dog", "--top-k", "4") == 0  # a checkpoint file works too
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["num_clips"] == 31 and len(data["saliency"]) == 31
    assert data["chunks_clips"] == [[0, 12], [6, 18], [12, 24], [18, 30], [19, 31]]
    assert 1 <= len(data["windows"]) <= 4
    assert all(0.0 <= s < e <= 61.0 for s, e, _ in data["windows"])


def test_checkpoint_of_other_widths_is_rejected_before_decoding(tmp_path, video, run_dir,
                                                                 capsys):
    wide = save_tiny_clip(tmp_path / "wide_clip", projection_dim=40)
    out, cache = tmp_path / "out", tmp_path / "cache"
    assert _predict(video, out, run_dir, wide, cache, "--query", "x") == 2
    err = capsys.readouterr().err
    assert str(run_dir) in err and "26-d video input" in err and "40-d" in err
    assert not out.exists() and not cache.exists()


def test_slowfast_clip_checkpoint_is_rejected(tmp_path, video, run_dir, clip_folder, capsys):
    from rdmf.train.checkpoint import load_checkpoint, save_checkpoint

    # the trained checkpoint, relabelled as a SlowFast + CLIP model (as `--preset qvhighlights`;
    # written by save_checkpoint, so that its checksum is that of the new content)
    state = load_checkpoint(run_dir / "best.ckpt")
    state["feature_spec"]["video_feature_types"] = ["slowfast", "clip"]
    save_checkpoint(tmp_path / "sf_clip" / "best.ckpt", state)
    assert _predict(video, tmp_path / "out", tmp_path / "sf_clip", clip_folder,
                    tmp_path / "cache", "--query", "x") == 2
    err = capsys.readouterr().err
    assert "slowfast + clip" in err and "CLIP features alone" in err


@pytest.mark.realdata
def test_real_video_with_the_trained_checkpoint(tmp_path, real_data_root, run_dir, clip_folder):
    video = real_data_root / "qvhighlights" / "video" / "HY7EC5zXoEE_60.0_210.0.mp4"
    if not video.is_file():
        pytest.skip(f"{video} not present")
    out = tmp_path / "out"
    assert _predict(video, out, run_dir, clip_folder, tmp_path / "cache", "--query",
                    "A couple walking together around and showing their outfits.") == 0
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["num_clips"] == 75 and data["duration_s"] == 150.0
    assert len(data["chunks_clips"]) > 1  # 75 clips > the 12 this tiny model was trained on
    assert (out / f"{path.stem}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.realdata
@pytest.mark.slow
def test_docs_recipe_clip_only_qvhighlights_model_predicts_on_a_video(tmp_path, real_data_root):
    """docs/predict.md: train on QVHighlights' CLIP features alone (the one-video fixture here,
    a tiny model, 2 epochs), then predict on the real video with a 512-d (random) CLIP."""
    import warnings

    from rdmf.data import build_dataset
    from rdmf.train import preset, train

    video = real_data_root / "qvhighlights" / "video" / "HY7EC5zXoEE_60.0_210.0.mp4"
    if not (real_data_root / "qvhighlights" / "features_one_video").is_dir() or not video.is_file():
        pytest.skip("QVHighlights one-video fixture or video not present")

    def clip_only(split):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fixture has features for one video only
            data = build_dataset("qvhighlights", split, data_root=real_data_root,
                                 feature_types=("clip",), missing="skip")
        data.feature_spec = {"video_feature_types": ["clip"], "text_encoder": "clip"}
        return data

    train_set = clip_only("train")
    assert train_set[0].video_feats.shape[1] == 514 and train_set[0].text_feats.shape[1] == 512
    config = preset("qvhighlights", hidden=32, heads=4, ffn_dim=64, enc_layers=1, dec_layers=1,
                    rd_channels=4, epochs=2, batch_size=1, device="cpu", progress=False)
    run = tmp_path / "qvh_clip"
    train(config, run, datasets=(train_set, train_set), resume=False)
    clip = save_tiny_clip(tmp_path / "clip512", projection_dim=512, text_hidden=512)
    out = tmp_path / "out"
    assert _predict(video, out, run, clip, tmp_path / "cache", "--query", "a couple walks") == 0
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["num_clips"] == 75 and data["chunks_clips"] == [[0, 75]]  # trained on 75 clips
    assert 1 <= len(data["windows"]) <= 10
