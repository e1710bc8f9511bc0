"""QVHighlights moment-retrieval metrics, as the official Moment-DETR evaluator defines them.

Definitions (``docs/evaluation.md`` has the full text):

- Temporal IoU of two windows ``[s, e]``: for mAP and for choosing the GT window in R1,
  ``inter / (len1 + len2 - inter)``; for the R1 hit itself, ``inter / (max(e) - min(s))`` (the
  official "paired" formula, 0 when that span is 0). Both agree mathematically on overlapping
  windows; they are kept apart because they may differ in the last bit, which decides hits that
  sit exactly on a threshold.
- R1@t: the FIRST predicted window (list order) against the GT window of highest IoU (first on
  ties); a hit when IoU >= t.
- AP of one query at IoU t: at most ``max_windows`` predictions, cut in list order, then sorted
  by decreasing score (stable: ties keep list order); each prediction, in that order, takes the
  unmatched GT window of highest IoU if that IoU >= t (GT windows visited by decreasing IoU,
  equal IoUs from the last GT window to the first), else it is a false positive. AP is the
  all-point interpolated VOC AP (precision made monotone from the right, summed over the recall
  steps; the recall denominator is the number of GT windows).
- mAP@t: mean AP over queries; "average": mean over the 10 thresholds 0.50:0.05:0.95.
- Length subsets (short (0, 10], middle (10, 30], long (30, 150] seconds): only the GT windows
  whose length is in the range count, and queries without any such window are dropped.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# the official thresholds: np.linspace(0.5, 0.95, 10) rounded to 2 decimals
IOU_THRESHOLDS: tuple[float, ...] = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
MAX_PRED_WINDOWS = 10
LENGTH_RANGES: dict[str, tuple[float, float]] = {
    "short": (0.0, 10.0), "middle": (10.0, 30.0), "long": (30.0, 150.0), "full": (0.0, 150.0)}


def iou_cross(spans1: np.ndarray, spans2: np.ndarray) -> np.ndarray:
    """IoU of every window in ``spans1`` (N, 2) with every window in ``spans2`` (M, 2) -> (N, M).

    ``inter / (len1 + len2 - inter)``; 0/0 (two identical zero-length windows) gives NaN as in the
    official code.
    """
    len1 = spans1[:, 1] - spans1[:, 0]
    len2 = spans2[:, 1] - spans2[:, 0]
    inter = np.clip(np.minimum(spans1[:, None, 1], spans2[None, :, 1])
                    - np.maximum(spans1[:, None, 0], spans2[None, :, 0]), 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / (len1[:, None] + len2[None, :] - inter)


def iou_paired(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of row i of ``pred`` (N, 2) with row i of ``gt`` (N, 2) -> (N,), with the official
    denominator ``max(end) - min(start)`` (0 where that is 0)."""
    inter = np.maximum(0.0, np.minimum(pred[:, 1], gt[:, 1]) - np.maximum(pred[:, 0], gt[:, 0]))
    span = np.maximum(pred[:, 1], gt[:, 1]) - np.minimum(pred[:, 0], gt[:, 0])
    return np.divide(inter, span, out=np.zeros_like(inter), where=span != 0)


def interpolated_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """All-point interpolated AP (VOC 2011 / ActivityNet): precision (K,) and recall (K,) at each
    rank; precision is made monotone from the right and summed over the recall steps."""
    prec = np.concatenate(([0.0], precision, [0.0]))
    rec = np.concatenate(([0.0], recall, [1.0]))
    prec = np.maximum.accumulate(prec[::-1])[::-1]
    steps = np.flatnonzero(rec[1:] != rec[:-1]) + 1
    return float(np.sum((rec[steps] - rec[steps - 1]) * prec[steps]))


def query_average_precision(pred_windows: Sequence[Sequence[float]],
                            gt_windows: Sequence[Sequence[float]],
                            thresholds: Sequence[float] = IOU_THRESHOLDS,
                            max_windows: int | None = MAX_PRED_WINDOWS) -> np.ndarray:
    """AP of one query at each IoU threshold -> (T,).

    pred_windows: (P, 3) rows ``[start, end, score]`` in submission order.
    gt_windows: (G, 2) rows ``[start, end]``, G >= 1.
    """
    preds = list(pred_windows[:max_windows] if max_windows is not None else pred_windows)
    num_thr = len(thresholds)
    if not preds:
        return np.zeros(num_thr)
    # stable sort by decreasing score: equal scores keep their list order
    order = sorted(range(len(preds)), key=lambda i: -float(preds[i][2]))
    spans = np.array([[preds[i][0], preds[i][1]] for i in order], dtype=float)
    gts = np.asarray(gt_windows, dtype=float).reshape(-1, 2)
    iou = iou_cross(spans, gts)                                    # (P, G)
    # GT windows by decreasing IoU; equal IoUs visited from the last GT window to the first
    visit = np.argsort(iou, axis=1, kind="stable")[:, ::-1]        # (P, G)
    num_preds = len(order)
    tp = np.zeros((num_thr, num_preds))
    for t_idx, thr in enumerate(thresholds):
        taken = np.zeros(len(gts), dtype=bool)
        for p_idx in range(num_preds):
            for g_idx in visit[p_idx]:
                if iou[p_idx, g_idx] < thr:
                    break
                if not taken[g_idx]:
                    taken[g_idx] = True
                    tp[t_idx, p_idx] = 1.0
                    break
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(1.0 - tp, axis=1)
    recall = tp_cum / float(len(gts))
    precision = tp_cum / (tp_cum + fp_cum)
    return _interpolated_ap_rows(precision, recall)


def _interpolated_ap_rows(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """``interpolated_ap`` of each row of precision (T, K) and recall (T, K) -> (T,); every row's
    sum is taken over its own recall steps only, so each value equals ``interpolated_ap``."""
    num_rows = precision.shape[0]
    prec = np.concatenate([np.zeros((num_rows, 1)), precision, np.zeros((num_rows, 1))], axis=1)
    rec = np.concatenate([np.zeros((num_rows, 1)), recall, np.ones((num_rows, 1))], axis=1)
    prec = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
    is_step = rec[:, 1:] != rec[:, :-1]                       # (T, K + 1)
    terms = (rec[:, 1:] - rec[:, :-1]) * prec[:, 1:]
    return np.array([np.sum(terms[t][is_step[t]]) for t in range(num_rows)])


def recall_at_one_ious(first_windows: np.ndarray, gt_windows: Sequence[np.ndarray]) -> np.ndarray:
    """IoU used by R1 for each query -> (Q,).

    first_windows: (Q, 2) the first predicted window of each query (list order).
    gt_windows: Q arrays (G_q, 2); the GT window of highest cross IoU (first on ties) is used.
    """
    chosen = np.empty((len(gt_windows), 2))
    for q, gts in enumerate(gt_windows):
        chosen[q] = gts[int(np.argmax(iou_cross(first_windows[q:q + 1], gts)[0]))]
    return iou_paired(first_windows.astype(float), chosen)


def select_length_range(gt_windows: Sequence[np.ndarray], length_range: tuple[float, float]
                        ) -> tuple[list[int], list[np.ndarray]]:
    """Keep the GT windows with ``lo < end - start <= hi``; return the indices of the queries that
    keep at least one window and their kept windows. ``(0, 150)`` keeps everything unchanged."""
    lo, hi = length_range
    if (lo, hi) == LENGTH_RANGES["full"]:
        return list(range(len(gt_windows))), list(gt_windows)
    keep_idx, keep_windows = [], []
    for q, gts in enumerate(gt_windows):
        lengths = gts[:, 1] - gts[:, 0]
        kept = gts[(lengths > lo) & (lengths <= hi)]
        if len(kept):
            keep_idx.append(q)
            keep_windows.append(kept)
    return keep_idx, keep_windows


def moment_retrieval_scores(pred_windows: Sequence[Sequence[Sequence[float]]],
                            gt_windows: Sequence[Sequence[Sequence[float]]],
                            thresholds: Sequence[float] = IOU_THRESHOLDS,
                            max_windows: int | None = MAX_PRED_WINDOWS) -> dict[str, dict]:
    """Unrounded MR metrics (fractions in [0, 1]) per length range.

    pred_windows: per query, (P_q, 3) ``[start, end, score]`` rows, P_q >= 1, submission order.
    gt_windows: per query (same order), (G_q, 2) ``[start, end]`` rows, G_q >= 1.
    Returns ``{range_name: {"num_queries": n, "mAP": {thr: v, ..., "average": v},
    "R1": {thr: v}}}``; values are ``None`` for a range without queries.
    """
    if len(pred_windows) != len(gt_windows):
        raise ValueError(f"{len(pred_windows)} predicted rows but {len(gt_windows)} GT rows")
    gts_all = [np.asarray(g, dtype=float).reshape(-1, 2) for g in gt_windows]
    firsts = np.array([[float(p[0][0]), float(p[0][1])] for p in pred_windows]).reshape(-1, 2)
    out: dict[str, dict] = {}
    for name, length_range in LENGTH_RANGES.items():
        idx, gts = select_length_range(gts_all, length_range)
        keys = [str(t) for t in thresholds]
        if not idx:
            out[name] = {"num_queries": 0, "mAP": dict.fromkeys(keys + ["average"]),
                         "R1": dict.fromkeys(keys)}
            continue
        ap = np.array([query_average_precision(pred_windows[q], g, thresholds, max_windows)
                       for q, g in zip(idx, gts)])                # (Q, T)
        ap_per_thr = ap.mean(0)
        m_ap = dict(zip(keys, (float(v) for v in ap_per_thr)))
        m_ap["average"] = float(np.mean(ap_per_thr))
        ious = recall_at_one_ious(firsts[idx], gts)
        r1 = {key: float(np.mean(ious >= t)) for key, t in zip(keys, thresholds)}
        out[name] = {"num_queries": len(idx), "mAP": m_ap, "R1": r1}
    return out
