"""The floors and temporal references (rdmf.baselines): what each model may and may not see, the
smoother's identities, padding invariance, official evaluation, determinism, and a toy task that
only a model looking at neighbouring clips can learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdmf.baselines import (BASELINES, FloorConfig, build_floor, evaluate_rows, fit_predict,
                            smooth_scores)
from rdmf.baselines.fit import relevance_targets
from rdmf.data import build_dataset, collate
from rdmf.data.sample import Sample
from rdmf.train.toy import toy_samples


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def synthetic_subset():
    """A small subset of the synthetic ci splits (train 48, val 16, test 16)."""
    return tuple(list(build_dataset("synthetic", split, size="ci"))[:n]
                 for split, n in (("train", 48), ("val", 16), ("test", 16)))


def _scores(model, samples):
    model.eval()
    batch = collate(samples)
    with torch.no_grad():
        return model(batch.video, batch.video_mask, batch.text, batch.text_mask), batch


# --- what each model sees --------------------------------------------------------------------
def test_permuting_clips_permutes_per_clip_scores_exactly():
    torch.manual_seed(0)
    model = build_floor("per_clip", 16, 8, width=32)
    sample = toy_samples(1, ragged=False, num_clips=20)[0]
    perm = np.random.default_rng(1).permutation(sample.num_clips)
    shuffled = Sample(**{**sample.__dict__, "video_feats": sample.video_feats[perm]})
    original, _ = _scores(model, [sample])
    permuted, _ = _scores(model, [shuffled])
    assert torch.equal(permuted[0], original[0, torch.from_numpy(perm)])


@pytest.mark.parametrize("name", ["conv1d", "bigru"])
def test_temporal_references_do_not_commute_with_permutation(name):
    """The converse: a temporal reference's scores depend on the clip order."""
    torch.manual_seed(0)
    model = build_floor(name, 16, 8, width=32)
    sample = toy_samples(1, ragged=False, num_clips=20)[0]
    perm = np.random.default_rng(1).permutation(sample.num_clips)
    shuffled = Sample(**{**sample.__dict__, "video_feats": sample.video_feats[perm]})
    original, _ = _scores(model, [sample])
    permuted, _ = _scores(model, [shuffled])
    assert not torch.allclose(permuted[0], original[0, torch.from_numpy(perm)], atol=1e-4)


@pytest.mark.parametrize("name", ["per_clip", "conv1d", "bigru"])
def test_scores_do_not_depend_on_padding_length(name):
    torch.manual_seed(0)
    model = build_floor(name, 16, 8, width=32)
    short, long_ = toy_samples(2, ragged=False, num_clips=9)[0], toy_samples(
        1, ragged=False, num_clips=30, seed=3)[0]
    alone, _ = _scores(model, [short])
    padded, batch = _scores(model, [short, long_])
    assert batch.video.shape[1] == 30
    torch.testing.assert_close(padded[0, :9], alone[0], rtol=0, atol=1e-6)
    assert torch.all(padded[0, 9:] == 0)


# --- the smoother ----------------------------------------------------------------------------
def _reference_smooth(x: np.ndarray, width: int) -> np.ndarray:
    half = width // 2
    padded = np.pad(x, half, mode="reflect")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


@pytest.mark.parametrize("length,width", [(12, 5), (7, 3), (3, 7), (2, 9), (1, 5)])
def test_smoother_is_a_reflected_moving_average_of_the_real_clips(length, width):
    rng = np.random.default_rng(length * 10 + width)
    scores = torch.from_numpy(rng.normal(size=(2, 15)))
    mask = torch.zeros(2, 15, dtype=torch.bool)
    mask[0, :length] = True
    mask[1, :] = True
    smoothed = smooth_scores(scores, mask, width)
    np.testing.assert_allclose(smoothed[0, :length].numpy(),
                               _reference_smooth(scores[0, :length].numpy(), width), atol=1e-12)
    # padding values never reach a real clip
    garbage = scores.clone()
    garbage[0, length:] = 1e6
    torch.testing.assert_close(smooth_scores(garbage, mask, width)[0, :length],
                               smoothed[0, :length], rtol=0, atol=0)
    assert torch.all(smoothed[0, length:] == 0)


def test_smoother_of_width_one_is_the_identity_and_even_widths_are_refused():
    scores = torch.randn(3, 10)
    mask = torch.ones(3, 10, dtype=torch.bool)
    assert torch.equal(smooth_scores(scores, mask, 1), scores)
    with pytest.raises(ValueError, match="odd"):
        smooth_scores(scores, mask, 4)


# --- targets ---------------------------------------------------------------------------------
def test_relevance_targets_follow_each_data_sets_definition():
    s = toy_samples(1, ragged=False, num_clips=10)[0]
    inside = relevance_targets([s], "windows")[0]
    start, end = (s.windows_s[0] / 2).astype(int)
    assert inside.tolist() == [1.0 if start <= i < end else 0.0 for i in range(10)]
    s.saliency = np.array([[1, 5], [2, 4], [3, 3], [4, 2], [5, 1]], np.float32)
    s.video_feats = s.video_feats[:5]
    # lower medians 3 and 3: clips above them, per annotator
    np.testing.assert_array_equal(relevance_targets([s], "above_median")[0],
                                  [0.5, 0.5, 0.0, 0.5, 0.5])
    s.saliency = np.array([[-1], [0], [1], [1], [-1]], np.float32)
    np.testing.assert_array_equal(relevance_targets([s], "positive")[0], [0, 0, 1, 1, 0])
    with pytest.raises(ValueError, match="unknown relevance target"):
        relevance_targets([s], "median")


# --- official evaluation and determinism -----------------------------------------------------
@pytest.mark.parametrize("name", BASELINES)
def test_every_floor_evaluates_with_the_official_evaluators(name, synthetic_subset):
    train, val, test = synthetic_subset
    result = fit_predict(name, train, val, test,
                         config=FloorConfig(width=32, epochs=1, smooth_widths=(1, 3)))
    assert [r["qid"] for r in result.rows["test"]] == [s.qid for s in test]
    assert [len(sc) for sc in result.scores["test"]] == [s.num_clips for s in test]
    brief = evaluate_rows(result.rows["test"], test)
    for key in ("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1"):
        assert 0 <= brief[key] <= 100
    assert result.val_metric == evaluate_rows(result.rows["val"], val)["MR-full-mAP"]
    if name == "per_clip_smooth":
        assert result.smooth_width in (1, 3) and set(result.val_by_width) == {1, 3}
        assert result.val_metric == max(result.val_by_width.values())


@pytest.mark.parametrize("name", ["per_clip_smooth", "conv1d", "bigru"])
def test_a_fit_is_deterministic(name):
    train, val = toy_samples(40, seed=1), toy_samples(10, seed=2)
    config = FloorConfig(width=16, epochs=3, batch_size=8, seed=5)
    first = fit_predict(name, train, val, val, config=config)
    second = fit_predict(name, train, val, val, config=config)
    for a, b in zip(first.scores["test"], second.scores["test"]):
        np.testing.assert_array_equal(a, b)
    other = fit_predict(name, train, val, val, config=FloorConfig(width=16, epochs=3,
                                                                   batch_size=8, seed=6))
    assert not all(np.array_equal(a, b) for a, b in zip(first.scores["test"],
                                                        other.scores["test"]))


@pytest.mark.parametrize("dataset,metric", [("tvsum", "top5-mAP"), ("youtube", "mAP")])
def test_highlight_only_data_trains_on_its_own_target_and_metric(dataset, metric):
    """TVSum-like (20 annotators, 1-5) and YouTube-like (one column of -1/0/1) samples without
    moments: the fit selects on the data set's own mAP, which matches its evaluator."""
    rng = np.random.default_rng(0)
    samples = toy_samples(30, seed=4)
    for s in samples:
        inside = relevance_targets([s], "windows")[0][:, None]
        s.saliency = (np.clip(np.round(1 + 3 * inside + rng.normal(size=(s.num_clips, 20))), 1, 5)
                      if dataset == "tvsum" else 2 * inside - 1).astype(np.float32)
        s.windows_s = np.zeros((0, 2), np.float32)
    result = fit_predict("conv1d", samples[:20], samples[20:], samples[20:], dataset=dataset,
                         config=FloorConfig(width=16, epochs=4, batch_size=4))
    assert result.metric == metric
    assert result.val_metric == evaluate_rows(result.rows["val"], samples[20:], dataset)[metric]
    assert 0 <= result.val_metric <= 100


def test_unknown_names_are_refused():
    samples = toy_samples(4)
    with pytest.raises(ValueError, match="unknown floor"):
        fit_predict("gru", samples, samples, samples)
    with pytest.raises(ValueError, match="unknown data set"):
        fit_predict("per_clip", samples, samples, samples, dataset="charades")


# --- learnability: a task only temporal context solves ---------------------------------------
def left_marker_samples(n: int, seed: int, num_clips: int = 24, video_dim: int = 8,
                        text_dim: int = 4, rate: float = 0.2) -> list[Sample]:
    """Clip i is relevant iff clip i - 1 carries the marker (feature 0 raised by 3); a clip's own
    features say nothing about its relevance, so no per-clip model can beat chance."""
    rng = np.random.default_rng(seed)
    query = np.random.default_rng(99).normal(size=text_dim)
    samples = []
    for i in range(n):
        marker = rng.random(num_clips) < rate
        marker[-1] = False
        if not marker.any():
            marker[rng.integers(num_clips - 1)] = True
        relevant = np.concatenate([[False], marker[:-1]])
        video = rng.normal(size=(num_clips, video_dim))
        video[:, 0] += 3.0 * marker
        padded = np.concatenate([[False], relevant, [False]]).astype(int)
        edges = np.flatnonzero(np.diff(padded))
        windows = np.stack([edges[::2], edges[1::2]], 1) * 2.0
        saliency = np.repeat(4.0 * relevant[:, None], 3, 1)
        samples.append(Sample(
            qid=i, vid=f"marker{seed}_{i}", query="after the marker",
            video_feats=video.astype(np.float32),
            text_feats=(query + 0.1 * rng.normal(size=(3, text_dim))).astype(np.float32),
            duration_s=2.0 * num_clips,
            clip_times_s=np.stack([np.arange(num_clips), np.arange(num_clips) + 1], 1) * 2.0,
            windows_s=windows.astype(np.float32), saliency=saliency.astype(np.float32)))
    return samples


def test_only_the_temporal_references_learn_a_neighbour_rule():
    train, val, test = (left_marker_samples(n, seed) for n, seed in ((160, 0), (40, 1), (40, 2)))
    config = FloorConfig(width=32, epochs=12, batch_size=16, lr=3e-3)
    hd = {name: evaluate_rows(fit_predict(name, train, val, test, config=config).rows["test"],
                              test)["HL-min-VeryGood-mAP"]
          for name in ("per_clip", "conv1d", "bigru")}
    # chance is about the 20 % positive rate; the rule is learnable from the left neighbour
    assert hd["per_clip"] < 35, hd
    assert hd["conv1d"] > hd["per_clip"] + 40, hd
    assert hd["bigru"] > hd["per_clip"] + 40, hd
