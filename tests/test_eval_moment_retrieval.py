"""QVHighlights moment-retrieval rules, each on a hand-computed case."""

from __future__ import annotations

import numpy as np
import pytest

from rdmf.eval import evaluate_qvhighlights, interpolated_ap, query_average_precision
from rdmf.eval.moment_retrieval import moment_retrieval_scores, recall_at_one_ious


def ap_at(pred, gt, thr=0.5):
    return float(query_average_precision(pred, gt, thresholds=(thr,))[0])


def test_interpolated_ap_is_all_point_voc():
    # precision made monotone from the right: [1, 2/3, 2/3]; steps at recall 0.5 and 1
    assert interpolated_ap(np.array([1.0, 0.5, 2 / 3]), np.array([0.5, 0.5, 1.0])) == \
        pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_equal_scores_keep_list_order():
    gt = [[0, 10]]
    assert ap_at([[20, 30, 0.9], [0, 10, 0.9]], gt) == 0.5   # FP ranked first
    assert ap_at([[0, 10, 0.9], [20, 30, 0.9]], gt) == 1.0


def test_windows_in_non_score_order_are_sorted_by_score():
    assert ap_at([[20, 30, 0.1], [0, 10, 0.9]], [[0, 10]]) == 1.0


def test_only_first_ten_windows_in_list_order_count():
    wrong = [[50, 60, 0.5]] * 10
    assert ap_at(wrong + [[0, 10, 0.99]], [[0, 10]]) == 0.0       # 11th window cut before sorting
    assert ap_at(wrong[:9] + [[0, 10, 0.99]], [[0, 10]]) == 1.0


def test_a_gt_window_is_matched_once():
    # two identical predictions: TP then FP; recall 0.5 at precision 1
    assert ap_at([[0, 10, 0.9], [0, 10, 0.8]], [[0, 10], [20, 30]]) == 0.5


def test_equal_iou_gt_windows_are_visited_last_first():
    # [0, 20] has IoU 0.5 with both GT windows and takes the LAST one: [10, 20] finds it taken
    preds, gt = [[0, 20, 0.9], [10, 20, 0.8]], [[0, 10], [10, 20]]
    assert ap_at(preds, gt, 0.5) == 0.5
    assert ap_at(preds, gt, 0.55) == 0.25      # first is a FP, second a TP at precision 1/2


def test_iou_threshold_is_inclusive():
    assert ap_at([[0, 10, 1.0]], [[0, 20]], 0.5) == 1.0
    assert ap_at([[0, 10, 1.0]], [[0, 20]], 0.55) == 0.0


def test_r1_uses_first_window_against_best_gt():
    firsts = np.array([[22.0, 40.0], [0.0, 4.0]])
    ious = recall_at_one_ious(firsts, [np.array([[0.0, 10.0], [20.0, 40.0]]),
                                       np.array([[10.0, 20.0]])])
    assert ious.tolist() == [0.9, 0.0]
    sub = [{"qid": 1, "pred_relevant_windows": [[20, 30, 0.1], [0, 10, 0.9]]}]
    gt = [{"qid": 1, "duration": 150, "relevant_windows": [[0, 10]]}]
    out = evaluate_qvhighlights(sub, gt)
    assert out["brief"]["MR-full-R1@0.5"] == 0.0         # list order, not score order
    assert out["brief"]["MR-full-mAP"] == 100.0


def test_length_subsets_keep_only_windows_in_range():
    preds = [[[0, 8, 0.9], [20, 60, 0.8]]]
    scores = moment_retrieval_scores(preds, [[[0, 8], [20, 60]]])
    assert scores["short"]["mAP"]["average"] == 1.0      # GT [0, 8] only; the FP comes after
    assert scores["long"]["mAP"]["average"] == 0.5       # GT [20, 60] only; FP ranked first
    assert scores["middle"]["num_queries"] == 0 and scores["middle"]["mAP"]["average"] is None
    assert scores["full"]["mAP"]["average"] == 1.0
    # boundaries: length 10 is short, 30 is middle, 150 is long
    edge = moment_retrieval_scores([[[0, 1, 1.0]]] * 3, [[[0, 10]], [[0, 30]], [[0, 150]]])
    assert [edge[n]["num_queries"] for n in ("short", "middle", "long")] == [1, 1, 1]


def test_official_rounding_and_layout():
    sub = [{"qid": q, "pred_relevant_windows": [[0, 10, 1.0]]} for q in range(3)]
    gt = [{"qid": q, "duration": 150, "relevant_windows": [[0, 10 if q == 0 else 30]]}
          for q in range(3)]
    out = evaluate_qvhighlights(sub, gt)
    assert out["brief"]["MR-full-R1@0.5"] == 33.33       # 1/3 -> 33.33
    assert list(out) == ["brief", "full", "long", "middle", "short"]
    assert list(out["brief"])[:3] == ["MR-full-R1@0.5", "MR-full-R1@0.7", "MR-full-mAP"]
    assert list(out["full"]["MR-mAP"]) == ["0.5", "0.55", "0.6", "0.65", "0.7", "0.75", "0.8",
                                           "0.85", "0.9", "0.95", "average"]
    assert out["long"]["MR-mAP"]["average"] is None
    assert "HL-min-Fair-mAP" not in out["brief"]        # MR-only submission
