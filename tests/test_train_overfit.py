"""Can overfit: on the one real QVHighlights video and on a tiny synthetic set, training drives the
loss down and the top-ranked windows become exactly the ground-truth windows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdmf.data.features import prepare_text_features, prepare_video_features
from rdmf.data.sample import Sample
from rdmf.train import run_config, train
from rdmf.train.engine import load_model, predict_samples
from rdmf.train.toy import toy_samples

OVERFIT = dict(hidden=64, heads=4, ffn_dim=128, dropout=0.0, input_dropout=0.0, lr=1e-3,
               rd_channels=8, progress=False, fusion="rd")


def _fixture_sample(root) -> Sample:
    """qid 5263 of QVHighlights train, prepared as the reference does (75 clips, 2818-d)."""
    qv = root / "qvhighlights"
    vid = "qtyBzFV9yTs_60.0_210.0"
    feats = qv / "features_one_video"
    slowfast = np.load(feats / "slowfast_video_features" / f"{vid}.npz")["features"]
    clip = np.load(feats / "clip_video_features" / f"{vid}.npz")["features"]
    text = np.load(feats / "clip_text_features" / "qid5263.npz")["last_hidden_state"]
    with open(qv / "annotations" / "highlight_train_release.jsonl", encoding="utf-8") as handle:
        row = next(r for r in map(json.loads, handle) if r["qid"] == 5263)
    video = prepare_video_features([slowfast, clip], max_clips=75)
    L = video.shape[0]
    saliency = np.zeros((L, 3), np.float32)
    saliency[row["relevant_clip_ids"]] = row["saliency_scores"]
    return Sample(qid=5263, vid=vid, query=row["query"], video_feats=video,
                  text_feats=prepare_text_features(text), duration_s=float(row["duration"]),
                  clip_times_s=np.stack([np.arange(L), np.arange(L) + 1], 1).astype(np.float32) * 2,
                  windows_s=np.asarray(row["relevant_windows"], np.float32), saliency=saliency,
                  meta={"annotation": row})


def _top_windows(run_dir, samples):
    model, config, _, _ = load_model(run_dir, "last")
    return [row["pred_relevant_windows"] for row in predict_samples(model, samples, config)]


def _losses(run_dir):
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["train_loss"] for line in lines]


@pytest.mark.slow
@pytest.mark.realdata
def test_overfits_the_real_one_video_fixture(real_data_root, tmp_path):
    sample = _fixture_sample(real_data_root)
    assert sample.video_feats.shape == (75, 2818)
    config = run_config(dataset="qvhighlights", epochs=120, batch_size=1, eval_every=40,
                         lr_drop_epochs=80, **OVERFIT)
    train(config, tmp_path, datasets=([sample], [sample]))
    losses = _losses(tmp_path)
    assert losses[-1] < 0.1 * losses[0]
    windows, = _top_windows(tmp_path, [sample])
    assert sorted(w[:2] for w in windows[:2]) == [[0.0, 30.0], [78.0, 110.0]]
    assert min(w[2] for w in windows[:2]) > 0.9 > max(w[2] for w in windows[2:])


@pytest.mark.slow
def test_overfits_a_tiny_synthetic_set(tmp_path):
    samples = toy_samples(3, seed=3, num_clips=16)
    config = run_config(epochs=100, batch_size=3, lr_drop_epochs=70, **OVERFIT)
    train(config, tmp_path, datasets=(samples, samples))
    losses = _losses(tmp_path)
    assert losses[-1] < 0.1 * losses[0]
    for sample, windows in zip(samples, _top_windows(tmp_path, samples)):
        assert windows[0][:2] == sample.windows_s[0].tolist()
