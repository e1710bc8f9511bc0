"""Training and evaluation machinery on the tiny toy set: run folder, resume, errors, inference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rdmf.eval import check_submission
from rdmf.inference import Predictor
from rdmf.train import NonFiniteLossError, evaluate, run_config, train
from rdmf.data.feature_spec import FeatureSpec
from rdmf.train.checkpoint import load_checkpoint
from rdmf.train.config import from_dict, load_config, preset, save_config, to_dict
from rdmf.train.datasets import ground_truth_rows
from rdmf.train.engine import TIMES
from rdmf.train.toy import toy_samples

TINY = dict(hidden=16, heads=2, ffn_dim=32, enc_layers=1, dec_layers=1, rd_channels=4,
            batch_size=4, lr=1e-3, progress=False)


@pytest.fixture(scope="module")
def data():
    return toy_samples(12, seed=0), toy_samples(6, seed=1)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, data):
    run_dir = tmp_path_factory.mktemp("run")
    summary = train(run_config(epochs=2, **TINY), run_dir, datasets=data)
    return run_dir, summary


def test_run_folder_layout(trained_run, data):
    run_dir, summary = trained_run
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.yaml", "metrics.jsonl", "best.ckpt", "last.ckpt", "val_preds.jsonl",
            "val_metrics.json"} <= names
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(math.isfinite(r["train_loss"]) and "MR-full-mAP" in r["val"] for r in rows)
    assert summary["best_epoch"] in (1, 2)
    preds = [json.loads(line) for line in (run_dir / "val_preds.jsonl").read_text().splitlines()]
    checked = check_submission(preds, ground_truth_rows(data[1]))  # the official format
    assert checked.has_mr and checked.has_hd
    assert all(len(p["pred_relevant_windows"]) == 10 for p in preds)
    scores = [w[2] for w in preds[0]["pred_relevant_windows"]]
    assert scores == sorted(scores, reverse=True)
    metrics = json.loads((run_dir / "val_metrics.json").read_text())
    assert metrics["brief"]["MR-full-mAP"] == summary["best_metric"]
    assert load_config(run_dir / "config.yaml").model.video_dim == 16


def test_evaluate_reproduces_the_best_epoch(trained_run, data):
    run_dir, summary = trained_run
    metrics = evaluate(run_dir, "val", dataset=data[1])
    assert metrics["brief"]["MR-full-mAP"] == summary["best_metric"]
    state = load_checkpoint(run_dir / "best.ckpt")   # weights_only=True inside
    assert state["feature_spec"]["video_dim"] == 16 and state["feature_spec"]["text_dim"] == 8


def test_resume_gives_identical_results(tmp_path, data):
    config = run_config(epochs=3, **{**TINY, "dropout": 0.1, "input_dropout": 0.3})
    straight = train(config, tmp_path / "straight", datasets=data)
    train(config.replace(epochs=1), tmp_path / "resumed", datasets=data)
    resumed = train(config, tmp_path / "resumed", datasets=data)
    a = load_checkpoint(tmp_path / "straight" / "last.ckpt")
    b = load_checkpoint(tmp_path / "resumed" / "last.ckpt")
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    strip = lambda rows: [{k: v for k, v in r.items() if k not in TIMES} for r in rows]  # noqa: E731
    assert strip(a["history"]) == strip(b["history"])
    assert straight["best_metric"] == resumed["best_metric"]


def test_resume_with_another_config_is_an_error(trained_run, data):
    run_dir, _ = trained_run
    with pytest.raises(ValueError, match="another config.*lr: 0.001 -> 0.01"):
        train(run_config(epochs=3, **{**TINY, "lr": 1e-2}), run_dir, datasets=data)
    with pytest.raises(ValueError, match="already holds a run"):
        train(run_config(epochs=3, **TINY), run_dir, datasets=data, resume=False)


def test_nan_loss_stops_without_poisoning_the_checkpoint(tmp_path, data):
    train_set, val_set = data
    train(run_config(epochs=1, **TINY), tmp_path, datasets=data)
    before = (tmp_path / "last.ckpt").read_bytes()
    poisoned = list(train_set)
    bad = poisoned[5]
    poisoned[5] = type(bad)(**{**bad.__dict__, "video_feats": np.full_like(bad.video_feats, np.nan)})
    with pytest.raises(NonFiniteLossError) as info:
        train(run_config(epochs=2, **TINY), tmp_path, datasets=(poisoned, val_set))
    message = str(info.value)
    assert "epoch 2" in message and "step" in message and f"{bad.qid}" in message
    assert "last finite values" in message and "'loss'" in message
    assert (tmp_path / "last.ckpt").read_bytes() == before
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1


def test_empty_split_is_an_error(tmp_path, data):
    with pytest.raises(ValueError, match="val split.*empty"):
        train(run_config(epochs=1, **TINY), tmp_path, datasets=(data[0], []))


def test_feature_dim_mismatch_against_checkpoint(trained_run):
    run_dir, _ = trained_run
    with pytest.raises(ValueError, match="video features have 20 dims.*expects 16"):
        evaluate(run_dir, "val", dataset=toy_samples(3, video_dim=20), write=False)
    predictor = Predictor.from_checkpoint(run_dir)
    with pytest.raises(ValueError, match="text features have 5 dims.*expects 8"):
        predictor.predict(np.zeros((10, 16), np.float32), np.zeros((3, 5), np.float32), 20.0)


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.ckpt: not a readable rdmf checkpoint"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="no best.ckpt"):
        Predictor.from_checkpoint(tmp_path)


def test_predictor_single_pair(trained_run, data):
    run_dir, _ = trained_run
    predictor = Predictor.from_checkpoint(run_dir, device="cpu")
    assert predictor.feature_spec.video_dim == 16
    sample = data[1][0]
    out = predictor.predict(sample.video_feats, sample.text_feats, sample.duration_s, top_k=5)
    assert len(out["saliency"]) == sample.num_clips and len(out["windows"]) == 5
    scores = [w[2] for w in out["windows"]]
    assert scores == sorted(scores, reverse=True)
    for start, end, _ in out["windows"]:
        assert 0 <= start < end <= sample.duration_s
        assert start % 2.0 == 0 and (end % 2.0 == 0 or end == sample.duration_s)


def test_config_yaml_round_trip_and_errors(tmp_path):
    config = preset("tvsum", fusion="cross_attention")
    assert config.model.hd_only and config.data.max_clips is None and config.metric_name == "top5-mAP"
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config
    with pytest.raises(ValueError, match="unknown field.*learning_rate"):
        from_dict({**to_dict(config), "learning_rate": 1})
    with pytest.raises(ValueError, match="unknown preset 'imagenet'"):
        preset("imagenet")
    with pytest.raises(ValueError, match="rd_Du_range"):
        run_config(rd_scheme="semi_implicit")          # explicit diffusion, uncapped reach
    with pytest.raises(ValueError, match="model.rd.r_max.*Du_range"):
        run_config(rd_r_max=0.7)                        # a field of the earlier layout
    (tmp_path / "bad.yaml").write_text("epochs: [1, 2\n")
    with pytest.raises(ValueError, match="bad.yaml: line 2, column 1: malformed YAML"):
        load_config(tmp_path / "bad.yaml")


def test_hd_only_training_on_tvsum_layout(tmp_path):
    """HD-only: no span losses; TVSum metric through rdmf.eval.tvsum_top5_ap."""
    rng = np.random.default_rng(0)
    samples = toy_samples(8, seed=2)
    for s in samples:   # 20 users scoring 1-5, no windows: the TVSum layout
        s.saliency = rng.integers(1, 6, size=(s.num_clips, 20)).astype(np.float32)
        s.windows_s = np.zeros((0, 2), np.float32)
    config = run_config(dataset="tvsum", hd_only=True, max_clips=None, epochs=2, **TINY)
    summary = train(config, tmp_path, datasets=(samples, samples[:3]))
    assert summary["metric_name"] == "top5-mAP" and 0 <= summary["best_metric"] <= 100
    assert set(summary["last"]["train"]) == {"saliency"}


def test_nan_loss_names_step_and_last_finite_values(tmp_path, data, monkeypatch):
    from rdmf.model import losses
    original = losses.Criterion.__call__
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        total, terms = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 5:   # epoch 2, batch 1 (3 batches per epoch)
            terms = {**terms, "giou": terms["giou"] * float("nan")}
            total = total + terms["giou"]
        return total, terms

    monkeypatch.setattr(losses.Criterion, "__call__", flaky)
    with pytest.raises(NonFiniteLossError) as info:
        train(run_config(epochs=3, **TINY), tmp_path, datasets=data)
    message = str(info.value)
    assert "non-finite loss at epoch 2, batch 1, step 5" in message
    assert "'giou': nan" in message and "last finite values {'step': 4" in message
    state = load_checkpoint(tmp_path / "last.ckpt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_video_feature_types_reach_the_reader_and_the_checkpoint_spec(monkeypatch):
    """`--set video_feature_types=[clip]` trains a CLIP-only QVHighlights model (what `rdmf predict`
    can feed): the reader gets the feature types and the checkpoint records them."""
    import rdmf.data
    from rdmf.train import datasets as train_datasets
    from rdmf.train.config import preset

    seen = {}

    def fake_build(name, split, **kwargs):
        seen.update(kwargs)
        return [object()]

    monkeypatch.setattr(rdmf.data, "build_dataset", fake_build)
    config = preset("qvhighlights", video_feature_types=["clip"])
    train_datasets.load_split(config.data, "train")
    assert seen["feature_types"] == ("clip",)
    spec = train_datasets.feature_spec(config.data, None, 514, 512)
    assert spec.video_feature_types == ("clip",) and spec.text_encoder == "clip"
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    assert train_datasets.feature_spec(preset("qvhighlights").data, None, 2818, 512
                                       ).video_feature_types == ("slowfast", "clip")
    with pytest.raises(ValueError, match="video_feature_types applies to the qvhighlights"):
        preset("synthetic", video_feature_types=["clip"])
    with pytest.raises(ValueError, match="non-empty list of feature type names"):
        preset("qvhighlights", video_feature_types=[])


def test_the_store_changes_no_number(tmp_path, monkeypatch):
    """A run reading the synthetic set through its HDF5 store (``data.h5``) and one reading the
    per-file arrays, same seed: the same metrics rows (times aside) and the same weights, bit
    for bit; each run read its data the way its config says."""
    from rdmf.data.h5store import H5Dataset
    from rdmf.train import engine

    read = {}

    def spy(data, split):
        dataset = engine_load_split(data, split)
        read[(data.h5, split)] = type(dataset)
        return dataset

    engine_load_split = engine.load_split
    monkeypatch.setattr(engine, "load_split", spy)
    tiny = {"model.hidden": 16, "model.heads": 2, "model.ffn_dim": 32, "model.enc_layers": 1,
            "model.dec_layers": 1, "model.rd.channels": 4, "model.rd.steps": 2,
            "optim.epochs": 2, "optim.batch_size": 32, "progress": False, "device": "cpu"}
    runs = {h5: preset("synthetic", {**tiny, "data.h5": h5}) for h5 in (True, False)}
    summaries = {h5: train(config, tmp_path / f"h5_{h5}") for h5, config in runs.items()}
    assert read[(True, "train")] is H5Dataset and read[(False, "train")] is not H5Dataset
    assert read[(True, "val")] is H5Dataset and read[(False, "val")] is not H5Dataset
    states = {h5: load_checkpoint(tmp_path / f"h5_{h5}" / "last.ckpt") for h5 in runs}
    strip = lambda rows: [{k: v for k, v in r.items() if k not in TIMES} for r in rows]  # noqa: E731
    assert strip(states[True]["history"]) == strip(states[False]["history"])
    assert "val" in states[True]["history"][-1]
    assert all(0 < row["data_s"] < row["time_s"] for h5 in runs for row in states[h5]["history"])
    assert summaries[True]["best_metric"] == summaries[False]["best_metric"]
    assert states[True]["model"].keys() == states[False]["model"].keys()
    for key in states[True]["model"]:
        assert torch.equal(states[True]["model"][key], states[False]["model"][key]), key
    assert {k: v for k, v in states[True]["config"]["data"].items() if k != "h5"} == {
        k: v for k, v in states[False]["config"]["data"].items() if k != "h5"}
    # the store changes nothing, so a run may resume reading the other way
    resumed = train(runs[True].replace({"optim.epochs": 3}), tmp_path / "h5_False")
    assert resumed["epochs"] == 3
