"""Highlight-detection rules (QVHighlights official AP and HIT@1, TVSum, YouTube), hand-computed."""

from __future__ import annotations

import numpy as np
import pytest

from rdmf.eval import (evaluate_qvhighlights, highlight_average_precision,
                       qvhighlights_highlight_scores, trapezoid_ranking_ap, tvsum_top5_ap,
                       youtube_ap)


def test_official_highlight_ap_example_from_the_design():
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.8, 0, 0, 0, 0.5, 0.1])
    assert highlight_average_precision(labels, scores) == 0.75        # VOC AP would be 0.792


def test_highlight_ap_ties_form_one_threshold():
    assert highlight_average_precision(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5
    assert highlight_average_precision(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert highlight_average_precision(np.array([0, 1]), np.array([0.4, 0.5])) == 1.0


def test_highlight_ap_all_negative_and_all_positive():
    assert highlight_average_precision(np.zeros(4), np.arange(4.0)) == 0.0
    assert highlight_average_precision(np.ones(4), np.arange(4.0)) == 1.0


def test_highlight_ap_is_mean_over_recall_levels():
    # ranks: P N P -> levels recall 0.5 (precision 1) and 1 (precision 2/3): mean 5/6
    assert highlight_average_precision(np.array([1, 0, 1]), np.array([3.0, 2, 1])) == \
        pytest.approx((1 + 2 / 3) / 2)


def _labels(rows):
    return [np.asarray(r, dtype=float) for r in rows]


def test_prediction_shorter_than_video_is_zero_padded():
    gt = _labels([[[0, 0, 0], [0, 0, 0], [4, 4, 4]]])
    out = qvhighlights_highlight_scores([[0.2, 0.1]], gt)
    # padded to [0.2, 0.1, 0]: the positive clip is ranked last -> precision 1/3 at recall 1
    assert out["VeryGood"]["mAP"] == pytest.approx(1 / 3)
    assert out["VeryGood"]["Hit1"] == 0.0


def test_prediction_longer_than_video_is_truncated_and_hit_beyond_is_a_miss():
    gt = _labels([[[4, 0, 0], [0, 0, 0]]])
    out = qvhighlights_highlight_scores([[0.5, 0.1, 0.9]], gt)
    assert out["VeryGood"]["Hit1"] == 0.0                 # argmax clip 2 lies beyond 2 clips
    # annotator 1 AP = 1 (positive ranked first after truncation); annotators 2, 3 all-negative = 0
    assert out["VeryGood"]["mAP"] == pytest.approx(1 / 3)


def test_hit1_any_annotator_and_first_max_on_ties():
    gt = _labels([[[0, 0, 0], [0, 3, 0], [4, 4, 4]]])
    out = qvhighlights_highlight_scores([[0.1, 0.9, 0.9]], gt)   # argmax -> clip 1 (first max)
    assert out["Good"]["Hit1"] == 1.0                     # annotator 2 gave 3
    assert out["VeryGood"]["Hit1"] == 0.0
    assert out["Fair"]["Hit1"] == 1.0


def test_qvhighlights_thresholds_are_minimum_inclusive():
    sub = [{"qid": 1, "pred_saliency_scores": [0.0, 1.0, 0.5]}]
    gt = [{"qid": 1, "duration": 6, "relevant_clip_ids": [1], "saliency_scores": [[2, 3, 4]],
           "relevant_windows": [[2, 4]]}]
    brief = evaluate_qvhighlights(sub, gt)["brief"]
    # Fair: 3 annotators positive on clip 1 (AP 1); Good: 2 of 3; VeryGood: 1 of 3
    assert (brief["HL-min-Fair-mAP"], brief["HL-min-Good-mAP"], brief["HL-min-VeryGood-mAP"]) \
        == (100.0, 66.67, 33.33)
    assert list(brief) == ["HL-min-Fair-mAP", "HL-min-Fair-Hit1", "HL-min-Good-mAP",
                           "HL-min-Good-Hit1", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1"]


def test_trapezoid_ap_hand_computed():
    # P N P N N: 0.5 * (1 + 1) / 2 + 0 + 0.5 * (1/2 + 2/3) / 2
    assert trapezoid_ranking_ap([1, 0, 1, 0, 0]) == pytest.approx(0.5 + 0.5 * (0.5 + 2 / 3) / 2)
    assert trapezoid_ranking_ap([0, 0, 0]) == 0.0
    # N P: precision at rank 1 is 0, so the only trapezoid is 1 * (0 + 1/2) / 2
    assert trapezoid_ranking_ap([0, 1]) == pytest.approx(0.25)


def test_tvsum_median_is_lower_middle_value_with_ties():
    # user scores [1, 1, 2, 3]: torch.median = 1, positives are the clips scoring 2 and 3
    users = np.array([[1], [1], [2], [3]])
    assert tvsum_top5_ap(np.array([0.0, 0.1, 0.9, 0.8]), users) == 1.0
    # even count [1, 2, 3, 4]: lower middle 2 -> positives 3 and 4 (a mean median would be 2.5)
    users = np.array([[1], [2], [3], [4]])
    assert tvsum_top5_ap(np.array([0.0, 0.9, 0.5, 0.4]), users) == \
        pytest.approx(trapezoid_ranking_ap([0, 1, 1, 0]))


def test_tvsum_top5_recall_within_top5_and_empty_top5():
    users = np.array([[5], [5], [1], [1], [1], [1], [1], [5]])   # median 1: 3 positives
    scores = np.array([8, 0, 7, 6, 5, 4, 3, 2], dtype=float)     # top-5: P N N N N
    assert tvsum_top5_ap(scores, users) == 1.0            # 1 of the 3 positives in the top 5
    scores = np.array([0, 1, 8, 7, 6, 5, 4, 2], dtype=float)     # top-5 all negative
    assert tvsum_top5_ap(scores, users) == 0.0


def test_tvsum_mean_over_annotators_and_ties_in_clip_order():
    users = np.array([[2, 1], [1, 2], [1, 1]])            # medians 1 and 1
    scores = np.zeros(3)                                  # all tied: clip order 0, 1, 2
    # annotator 1: P N N -> 1; annotator 2: N P N -> 1 * (0 + 1/2) / 2 = 0.25
    assert tvsum_top5_ap(scores, users) == pytest.approx((1 + 0.25) / 2)


def test_youtube_ap_full_ranking_match_positive():
    match = np.array([-1, 1, 0, 1, -1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.0])     # ranking N P N N P N (clip 3 fifth)
    assert youtube_ap(scores, match) == pytest.approx(trapezoid_ranking_ap([0, 1, 0, 0, 1, 0]))
    assert youtube_ap(scores, np.array([0, -1, 0, 0, 0, 0])) == 0.0


def test_ranking_aps_reject_bad_shapes_and_nan():
    with pytest.raises(ValueError, match="clips"):
        tvsum_top5_ap(np.zeros(3), np.zeros((4, 20)))
    with pytest.raises(ValueError, match="NaN"):
        youtube_ap(np.array([0.0, np.nan]), np.array([1, 0]))
