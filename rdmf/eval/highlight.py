"""Highlight-detection metrics: QVHighlights (Moment-DETR's evaluator), TVSum and YouTube
Highlights (UMT / QD-DETR's evaluators).

- ``highlight_average_precision``: the AP the QVHighlights evaluator uses (its ``get_ap``):
  precision-recall points at every DISTINCT score (tied scores form one threshold, as sklearn's
  ``precision_recall_curve``), precision made monotone (each recall level gets the best precision
  at that or a higher recall), then the MEAN of that precision over the distinct recall levels
  above 0. All-negative labels give 0, all-positive labels give 1.
- ``qvhighlights_highlight_scores``: labels are the 3 annotators' clip scores binarised at a
  minimum ("Fair" >= 2, "Good" >= 3, "VeryGood" >= 4) over ``int(duration / 2)`` clips;
  predictions are truncated or zero-padded to that length for the AP; HIT@1 takes the argmax of
  the untruncated prediction (first on ties): a miss beyond the video, else a hit when any
  annotator marks that clip positive.
- ``tvsum_top5_ap`` and ``youtube_ap``: ranking AP with trapezoid interpolation (below).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rdmf.data.sample import CLIP_LEN_S

SALIENCY_MINIMA: dict[str, int] = {"Fair": 2, "Good": 3, "VeryGood": 4}


def highlight_average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Official QVHighlights highlight AP of one ranking.

    labels: (L,) in {0, 1}; scores: (L,) finite. Returns a float in [0, 1].
    """
    labels = np.asarray(labels, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} must be equal "
                         f"1-D shapes")
    if labels.size == 0:
        raise ValueError("highlight AP of an empty ranking is undefined")
    if np.all(labels == labels[0]):
        return 0.0 if labels[0] == 0 else 1.0
    order, ends = _score_groups(scores)
    return _grouped_ap(labels[order], ends)


def _score_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of (L,) scores by decreasing value and the last sorted index of each group of equal
    scores (one threshold per group, as sklearn's ``precision_recall_curve``)."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    ends = np.append(np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]), scores.size - 1)
    return order, ends


def _grouped_ap(sorted_labels: np.ndarray, ends: np.ndarray) -> float:
    """The official highlight AP from labels sorted by decreasing score and the group ends."""
    total = sorted_labels.sum()
    if total == 0:
        return 0.0
    if total == sorted_labels.size:
        return 1.0
    tp = np.cumsum(sorted_labels)[ends]
    fp = (ends + 1) - tp
    precision = tp / (tp + fp)                      # thresholds from high to low score
    recall = (tp / tp[-1]).astype(np.float32)       # the official code compares recall in float32
    best = np.maximum.accumulate(precision[::-1])[::-1]   # best precision at >= this recall
    # one value per distinct recall level > 0, taken at the highest threshold of the level,
    # in the official order (decreasing recall)
    first_of_level = np.ones(recall.size, dtype=bool)
    first_of_level[1:] = recall[1:] != recall[:-1]
    return float(np.mean(best[first_of_level & (recall > 0)][::-1]))


def pad_or_truncate(scores: Sequence[float], length: int) -> np.ndarray:
    """Scores (P,) cut or zero-padded to (length,)."""
    scores = np.asarray(scores, dtype=float)
    if scores.size >= length:
        return scores[:length]
    return np.concatenate([scores, np.zeros(length - scores.size)])


def qvhighlights_clip_labels(duration: float, relevant_clip_ids: Sequence[int],
                             saliency_scores: Sequence[Sequence[float]]) -> np.ndarray:
    """(int(duration / 2), 3) annotator scores in 0..4 for every clip (0 outside relevant clips)."""
    num_clips = int(duration / CLIP_LEN_S)
    full = np.zeros((num_clips, 3))
    ids = np.asarray(relevant_clip_ids, dtype=int)
    if ids.size:
        if ids.min() < 0 or ids.max() >= num_clips:
            raise ValueError(f"relevant_clip_ids outside the {num_clips} clips of a "
                             f"{duration} s video")
        full[ids] = np.asarray(saliency_scores, dtype=float).reshape(ids.size, -1)
    return full


def qvhighlights_highlight_scores(pred_saliency: Sequence[Sequence[float]],
                                  gt_clip_scores: Sequence[np.ndarray]) -> dict[str, dict]:
    """Unrounded HD metrics (fractions) for each minimum ("Fair", "Good", "VeryGood").

    pred_saliency: per query, (P_q,) predicted clip scores (any length >= 1).
    gt_clip_scores: per query, (C_q, 3) annotator scores from ``qvhighlights_clip_labels``.
    Returns ``{name: {"mAP": v, "Hit1": v}}``; mAP averages the per-annotator AP over queries
    and annotators, HIT@1 averages hits over queries.
    """
    if len(pred_saliency) != len(gt_clip_scores):
        raise ValueError(f"{len(pred_saliency)} predicted rows but {len(gt_clip_scores)} GT rows")
    preds = [np.asarray(p, dtype=float) for p in pred_saliency]
    names = list(SALIENCY_MINIMA)
    ap = np.zeros((len(names), len(preds), 3))
    hit = np.zeros((len(names), len(preds), 3))
    for q, (pred, gt) in enumerate(zip(preds, gt_clip_scores)):
        top = int(np.argmax(pred))                    # untruncated, first maximum
        order, ends = _score_groups(pad_or_truncate(pred, len(gt)))
        sorted_gt = gt[order]
        for m, name in enumerate(names):
            binary = (sorted_gt >= SALIENCY_MINIMA[name]).astype(float)   # (C, 3), ranked
            if top < len(gt):
                hit[m, q] = gt[top] >= SALIENCY_MINIMA[name]
            for a in range(gt.shape[1]):
                ap[m, q, a] = _grouped_ap(binary[:, a], ends)
    return {name: {"mAP": float(np.mean(ap[m])), "Hit1": float(np.mean(np.max(hit[m], 1)))}
            for m, name in enumerate(names)}


def _ranked(scores) -> np.ndarray:
    """Indices of (L,) scores by decreasing score; ties keep clip order (a stable sort)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be 1-D (L,), got shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN")
    return np.argsort(-scores, kind="stable")


def lower_median(values: np.ndarray) -> float:
    """The median as ``torch.median`` defines it: the lower of the two middle values."""
    return float(np.sort(values)[(values.size - 1) // 2])


def trapezoid_ranking_ap(ranked_labels: Sequence[float]) -> float:
    """AP of a ranked list of 0/1 labels as UMT computes it: recall divided by the positives IN
    the list, precision starting at 1, trapezoids between consecutive ranks; 0 without positives."""
    num_pos = sum(ranked_labels)
    if num_pos == 0:
        return 0.0
    hits, ap, prev_rec, prev_prec = 0.0, 0.0, 0.0, 1.0
    for rank, label in enumerate(ranked_labels, start=1):
        hits += label
        rec, prec = hits / num_pos, hits / rank
        ap += (rec - prev_rec) * (prev_prec + prec) / 2
        prev_rec, prev_prec = rec, prec
    return float(ap)


def tvsum_top5_ap(scores, user_scores, top_k: int = 5) -> float:
    """TVSum top-5 AP of one video, mean over annotators.

    scores: (L,) predicted clip scores; user_scores: (L, U) annotator scores (U = 20 in TVSum).
    For each annotator a clip is positive iff its score is above that annotator's median
    (``torch.median``: the lower middle value, see ``lower_median``); the clips are ranked by
    predicted score (ties in clip order) and the top ``top_k`` are scored with
    ``trapezoid_ranking_ap``. The official code sorts with ``torch.argsort``, which is stable only
    up to 16 clips on CPU; here ties are always broken by clip order.
    """
    users = np.asarray(user_scores, dtype=np.float32)
    if users.ndim != 2:
        raise ValueError(f"user_scores must be (L, U), got shape {users.shape}")
    order = _ranked(scores)
    if order.size != users.shape[0]:
        raise ValueError(f"scores have {order.size} clips but user_scores {users.shape[0]}")
    per_user = []
    for u in range(users.shape[1]):
        column = users[:, u]
        positive = (column > lower_median(column)).astype(np.float64)
        per_user.append(trapezoid_ranking_ap(positive[order][:top_k].tolist()))
    return sum(per_user) / len(per_user)


def youtube_ap(scores, match) -> float:
    """YouTube Highlights AP of one video: the full ranking by predicted score (ties in clip order)
    against ``match > 0``, scored with ``trapezoid_ranking_ap``.

    scores: (L,) predicted clip scores; match: (L,) annotations in {-1, 0, 1}.
    """
    match = np.asarray(match, dtype=float)
    order = _ranked(scores)
    if match.ndim != 1 or order.size != match.shape[0]:
        raise ValueError(f"scores have {order.size} clips but match has shape {match.shape}")
    return trapezoid_ranking_ap((match > 0).astype(np.float64)[order].tolist())
