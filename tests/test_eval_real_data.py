"""The QVHighlights evaluator on the real val annotations: a perfect and a constant submission
against values derived from the annotations alone, and equality with an independent
re-derivation of the official evaluators (``tests/official_reference.py``) on random submissions."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import official_reference as ref
from rdmf.eval import (evaluate_qvhighlights, highlight_average_precision,
                       query_average_precision, tvsum_top5_ap)
from rdmf.eval.highlight import qvhighlights_clip_labels

RANGES = {"short": (0, 10), "middle": (10, 30), "long": (30, 150), "full": (0, 150)}
MINIMA = {"Fair": 2, "Good": 3, "VeryGood": 4}

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def val_gt(real_data_root):
    path = real_data_root / "qvhighlights" / "annotations" / "highlight_val_release.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pct(value):
    return float(f"{100 * value:.2f}")


def in_range(windows, name):
    lo, hi = RANGES[name]
    return [w for w in windows if lo < w[1] - w[0] <= hi] if name != "full" else windows


def clip_scores(g):
    return qvhighlights_clip_labels(g["duration"], g["relevant_clip_ids"], g["saliency_scores"])


def test_perfect_submission(val_gt):
    sub = [{"qid": g["qid"],
            "pred_relevant_windows": [[w[0], w[1], 1.0 - 0.01 * i]
                                      for i, w in enumerate(g["relevant_windows"])],
            "pred_saliency_scores": clip_scores(g).max(1).tolist()} for g in val_gt]
    start = time.perf_counter()
    out = evaluate_qvhighlights(sub, val_gt)
    assert time.perf_counter() - start < 10       # the 1,550-query split in a few seconds
    brief = out["brief"]
    assert brief["MR-full-R1@0.5"] == brief["MR-full-R1@0.7"] == 100.0
    # mAP cannot be 100: at most 10 windows count, and some queries have more GT windows
    counts = np.array([len(g["relevant_windows"]) for g in val_gt])
    assert (counts > 10).sum() > 0
    assert brief["MR-full-mAP"] == brief["MR-full-mAP@0.5"] == pct(np.mean(np.minimum(counts, 10)
                                                                           / counts))
    # length subsets: windows of other lengths ranked ahead of in-range ones are false positives
    for name in ("short", "middle", "long"):
        aps = []
        for g in val_gt:
            kept = in_range(g["relevant_windows"], name)
            if not kept:
                continue
            hits = [w in kept for w in g["relevant_windows"][:10]]
            precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
            best = [max(precision[k:]) for k in range(len(hits))]
            aps.append(sum(b for b, h in zip(best, hits) if h) / len(kept))
        assert brief[f"MR-{name}-mAP"] == pct(np.mean(aps))
    # HIT@1: the clip with the highest annotator score is a hit whenever one reaches the minimum
    for name, minimum in MINIMA.items():
        reachable = np.mean([clip_scores(g).max() >= minimum for g in val_gt])
        assert brief[f"HL-min-{name}-Hit1"] == pct(reachable)
    assert brief["HL-min-Fair-Hit1"] == 100.0


def test_annotator_own_scores_give_ap_one(val_gt):
    for g in val_gt[:300]:
        scores = clip_scores(g)
        for minimum in MINIMA.values():
            for a in range(3):
                labels = (scores[:, a] >= minimum).astype(float)
                expected = 1.0 if labels.any() else 0.0
                assert highlight_average_precision(labels, scores[:, a]) == expected


def test_constant_submission(val_gt):
    sub = [{"qid": g["qid"], "pred_relevant_windows": [[0, g["duration"], 1.0]],
            "pred_saliency_scores": [0.5] * int(g["duration"] / 2)} for g in val_gt]
    out = evaluate_qvhighlights(sub, val_gt)
    for name in RANGES:
        kept = [(g, in_range(g["relevant_windows"], name)) for g in val_gt]
        kept = [(g, w) for g, w in kept if w]
        best_iou = np.array([max((e - s) / g["duration"] for s, e in w) for g, w in kept])
        for thr in ref.THRESHOLDS:
            assert out[name]["MR-R1"][str(thr)] == pct(np.mean(best_iou >= thr))
            # one prediction: a TP at precision 1 and recall 1/G, or nothing
            ap = np.array([1 / len(w) for _, w in kept]) * (best_iou >= thr)
            assert out[name]["MR-mAP"][str(thr)] == pct(ap.mean())
    for name, minimum in MINIMA.items():
        aps, hits = [], []
        for g in val_gt:
            binary = clip_scores(g) >= minimum            # (C, 3)
            aps.extend(binary.mean(0))                    # one tie: precision = share of positives
            hits.append(binary[0].any())                  # argmax of a constant is clip 0
        assert out[f"HL-min-{name}"]["HL-mAP"] == pct(np.mean(aps))
        assert out[f"HL-min-{name}"]["HL-Hit1"] == pct(np.mean(hits))


def random_submission(gt, rng):
    sub = []
    for g in gt:
        windows = []
        for _ in range(int(rng.integers(1, 15))):                       # sometimes > 10
            if rng.random() < 0.5:
                s, e = g["relevant_windows"][int(rng.integers(len(g["relevant_windows"])))]
                s, e = s + rng.choice([0, 2, -2, 1.3]), e + rng.choice([0, 2, -2, 0.7])
            else:
                s = float(rng.integers(0, 75) * 2)
                e = s + float(rng.integers(1, 40) * 2)
            s, e = min(s, e), max(s, e)
            windows.append([float(s), float(e), float(rng.choice([0.5, 0.9, rng.random()]))])
        n = int(g["duration"] / 2) + int(rng.integers(-2, 3))          # shorter and longer
        saliency = rng.choice([0.0, 1.0, 2.0, rng.random()], size=n).tolist()   # many ties
        sub.append({"qid": g["qid"], "pred_relevant_windows": windows,
                    "pred_saliency_scores": saliency})
    return sub


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_equals_official_rederivation_on_random_submissions(val_gt, seed):
    rng = np.random.default_rng(seed)
    gt = [val_gt[i] for i in rng.choice(len(val_gt), 200, replace=False)]
    sub = random_submission(gt, rng)
    assert evaluate_qvhighlights(sub, gt) == ref.evaluate(sub, gt)
    for row, g in zip(sub[:50], gt[:50]):          # unrounded, per query: bit-identical
        assert np.array_equal(query_average_precision(row["pred_relevant_windows"],
                                                      g["relevant_windows"]),
                              ref.detection_ap(g["relevant_windows"], row["pred_relevant_windows"]))


def test_tvsum_consensus_ranking_matches_the_design_reference(real_data_root):
    """docs/design.md §6: ranking by the sum of the 20 users' scores scores 84.3 top-5 mAP on the
    10 standard val videos with the official scorer."""
    folder = real_data_root / "tvsum"
    if not (folder / "tvsum_anno.json").is_file():
        pytest.skip(f"{folder}/tvsum_anno.json not found")
    splits = json.loads((folder / "tvsum_splits_UMT.json").read_text())
    anno = json.loads((folder / "tvsum_anno.json").read_text())
    aps = []
    for domain in ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS"):
        (video,) = splits[domain]["val"]
        users = np.array(anno[video]["anno"], dtype=float)            # (L, 20)
        aps.append(tvsum_top5_ap(users.sum(1), users))
    assert round(100 * float(np.mean(aps)), 1) == 84.3
