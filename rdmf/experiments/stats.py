"""Per-query metrics and the paired statistics that decide between two models.

- ``per_query_metrics``: one value per query (percent) whose mean over the queries is the
  official QVHighlights aggregate of the same name, computed by the functions of
  :mod:`rdmf.eval`; ``per_video_ap`` does the same for TVSum and YouTube Highlights.
- ``seed_mean``: a model's per-query values averaged over its seeds, ``(S, Q) -> (Q,)``.
- ``paired_bootstrap``: the mean per-query difference of two models with a percentile interval
  and a two-sided p-value, from resampling the queries with replacement (the same queries for
  both models).
- ``holm``: Holm–Bonferroni adjusted p-values of a family of comparisons.

Definitions: ``docs/statistics.md``. Pure numpy.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rdmf.eval.highlight import (qvhighlights_clip_labels, qvhighlights_highlight_scores,
                                 tvsum_top5_ap, youtube_ap)
from rdmf.eval.moment_retrieval import (IOU_THRESHOLDS, query_average_precision,
                                        recall_at_one_ious)
from rdmf.eval.submission import (DEFAULT_SALIENCY_TOLERANCE, HD_FIELD, MR_FIELD, Rows,
                                  check_submission)

MR_METRICS = ("MR-full-mAP", "MR-full-mAP@0.5", "MR-full-mAP@0.75", "MR-full-R1@0.5",
              "MR-full-R1@0.7")
HD_MINIMA = ("Fair", "Good", "VeryGood")
HD_METRICS = tuple(f"HL-min-{name}-{kind}" for name in HD_MINIMA for kind in ("mAP", "Hit1"))
# at most this many resampled indices (int64, 4 MiB) at a time
_BOOTSTRAP_CHUNK_ELEMENTS = 1 << 19


def per_query_metrics(rows: Rows | Sequence[dict], ground_truth: Rows | Sequence[dict],
                      saliency_tolerance: int = DEFAULT_SALIENCY_TOLERANCE
                      ) -> dict[str, np.ndarray]:
    """Per-query QVHighlights metrics in percent, each (Q,) in the ground truth's qid order.

    rows: a submission as :func:`rdmf.eval.evaluate_qvhighlights` takes it (validated the same
    way; any row order). ground_truth: rows with ``qid, duration, relevant_windows,
    relevant_clip_ids, saliency_scores``.
    Returns the keys of :data:`MR_METRICS` when the submission has windows and of
    :data:`HD_METRICS` when it has saliency scores:

    - ``MR-full-mAP``: the query's AP averaged over the IoU thresholds 0.50:0.05:0.95;
      ``MR-full-mAP@0.5`` / ``@0.75``: its AP at that threshold;
    - ``MR-full-R1@0.5`` / ``@0.7``: 100 when the first window hits at that IoU, else 0;
    - ``HL-min-{Fair,Good,VeryGood}-mAP``: the highlight AP averaged over the 3 annotators;
    - ``HL-min-{...}-Hit1``: 100 when the top-scored clip is positive for any annotator, else 0.

    Every official brief value of these names is the mean over queries (over queries and
    thresholds, or queries and annotators: equal counts per query, so the order of the means does
    not matter), hence ``np.mean`` of each array equals it before rounding.
    """
    if not isinstance(ground_truth, Rows):
        ground_truth = Rows(list(ground_truth), "ground truth")
    checked = check_submission(rows, ground_truth, saliency_tolerance)
    position = {qid: i for i, qid in enumerate(checked.qids)}
    gt_list = ground_truth.rows
    order = [position[row["qid"]] for row in gt_list]
    preds = [checked.pred_rows[i] for i in order]
    gts = [checked.gt_rows[i] for i in order]
    out: dict[str, np.ndarray] = {}
    if checked.has_mr:
        windows = [np.asarray(g["relevant_windows"], dtype=float).reshape(-1, 2) for g in gts]
        ap = np.array([query_average_precision(p[MR_FIELD], w) for p, w in zip(preds, windows)])
        column = {str(t): i for i, t in enumerate(IOU_THRESHOLDS)}          # ap: (Q, T)
        firsts = np.array([[float(p[MR_FIELD][0][0]), float(p[MR_FIELD][0][1])] for p in preds])
        ious = recall_at_one_ious(firsts.reshape(-1, 2), windows)
        out["MR-full-mAP"] = 100.0 * ap.mean(1)
        out["MR-full-mAP@0.5"] = 100.0 * ap[:, column["0.5"]]
        out["MR-full-mAP@0.75"] = 100.0 * ap[:, column["0.75"]]
        out["MR-full-R1@0.5"] = 100.0 * (ious >= 0.5)
        out["MR-full-R1@0.7"] = 100.0 * (ious >= 0.7)
    if checked.has_hd:
        per_query = []
        for p, g in zip(preds, gts):
            labels = qvhighlights_clip_labels(g["duration"], g["relevant_clip_ids"],
                                              g["saliency_scores"])
            per_query.append(qvhighlights_highlight_scores([p[HD_FIELD]], [labels]))
        for name in HD_MINIMA:
            for kind in ("mAP", "Hit1"):
                out[f"HL-min-{name}-{kind}"] = 100.0 * np.array([q[name][kind]
                                                                 for q in per_query])
    return out


def per_video_ap(scores_list: Sequence, labels_list: Sequence, dataset: str) -> np.ndarray:
    """Per-video highlight AP in percent, (V,); its mean is the official TVSum top-5 mAP or
    YouTube Highlights mAP.

    scores_list: per video (L,) predicted clip scores. labels_list: per video the annotations,
    (L, U) annotator scores for ``"tvsum"`` (:func:`rdmf.eval.tvsum_top5_ap`) or (L,) match
    labels in {-1, 0, 1} for ``"youtube"`` (:func:`rdmf.eval.youtube_ap`).
    """
    scorers = {"tvsum": tvsum_top5_ap, "youtube": youtube_ap}
    if dataset not in scorers:
        raise ValueError(f"unknown dataset {dataset!r}; valid: {', '.join(scorers)}")
    if len(scores_list) != len(labels_list):
        raise ValueError(f"{len(scores_list)} score arrays but {len(labels_list)} label arrays")
    if not len(scores_list):
        raise ValueError("per_video_ap of no videos")
    score = scorers[dataset]
    return 100.0 * np.array([score(s, y) for s, y in zip(scores_list, labels_list)])


def seed_mean(per_seed: np.ndarray, name: str = "values") -> np.ndarray:
    """Per-query values (S, Q) averaged over the S seeds -> (Q,).

    A 1-D array is one seed. Raises ValueError, naming ``name``, on another shape, an empty
    axis or a non-finite value.
    """
    values = check_per_seed(per_seed, name)
    return values.mean(0)


def check_per_seed(per_seed, name: str = "values") -> np.ndarray:
    """``per_seed`` as a finite float array (S, Q), S >= 1, Q >= 1 (1-D input is one seed)."""
    values = np.asarray(per_seed, dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        raise ValueError(f"{name}: expected a (seeds, queries) array, got shape {values.shape}")
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"{name}: empty (seeds, queries) array, shape {values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        seed, query = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: {int(bad.sum())} non-finite value(s), first at seed {seed}, "
                         f"query {query} ({values[seed, query]})")
    return values


def _check_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"paired values must be 1-D (Q,), got shapes {a.shape} and {b.shape} "
                         f"(average over seeds first: seed_mean)")
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same queries: {a.size} against {b.size}")
    if a.size == 0:
        raise ValueError("paired values of no queries")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("paired values contain NaN or infinity")
    return a, b


def bootstrap_means(diff: np.ndarray, n_resamples: int = 10_000, seed: int = 0) -> np.ndarray:
    """Means of ``n_resamples`` resamples of (Q,) ``diff`` drawn with replacement -> (n_resamples,).

    Drawn in chunks of at most ~500k indices; the chunk size depends on Q only, so the result is
    a function of (diff, n_resamples, seed).
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    size = diff.size
    per_chunk = max(1, _BOOTSTRAP_CHUNK_ELEMENTS // size)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, per_chunk):
        count = min(per_chunk, n_resamples - start)
        index = rng.integers(0, size, size=(count, size))
        means[start:start + count] = diff[index].mean(1)
    return means


def paired_bootstrap(a, b, n_resamples: int = 10_000, seed: int = 0,
                     confidence: float = 0.95) -> dict[str, float]:
    """Paired bootstrap of the mean difference of per-query values ``a - b``.

    a, b: (Q,) per-query values of two models on the same queries (seed-averaged).
    Returns ``{"diff", "low", "high", "p"}``:

    - ``diff``: ``mean(a - b)``;
    - ``low``, ``high``: the percentile interval, the ``(1 - confidence) / 2`` and
      ``(1 + confidence) / 2`` quantiles (numpy's linear interpolation) of the resampled means;
    - ``p``: the two-sided bootstrap p-value ``min(1, 2 * min(P*(d <= 0), P*(d >= 0)))``, with
      ``P*`` the fraction of resampled means; 0 means below ``1 / n_resamples``.

    Identical arrays give ``diff = low = high = 0`` and ``p = 1``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    a, b = _check_pair(a, b)
    diff = a - b
    means = bootstrap_means(diff, n_resamples, seed)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    p = min(1.0, 2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return {"diff": float(diff.mean()), "low": float(low), "high": float(high), "p": p}


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm–Bonferroni adjusted p-values, same keys.

    With the m p-values sorted increasingly, ``p_(1) <= ... <= p_(m)``, the adjusted value of the
    i-th is ``max_{j <= i} min(1, (m - j + 1) p_(j))``: monotone in the raw p-value and capped
    at 1. Rejecting every hypothesis whose adjusted p is below alpha controls the family-wise
    error rate at alpha. Ties in the raw p-values are ordered by key, which does not change the
    result.
    """
    for key, value in pvalues.items():
        if not (isinstance(value, (int, float, np.floating)) and 0 <= value <= 1):
            raise ValueError(f"p-value of {key!r} must be a number in [0, 1], got {value!r}")
    keys = sorted(pvalues, key=lambda k: (pvalues[k], str(k)))
    m = len(keys)
    adjusted: dict[str, float] = {}
    running = 0.0
    for i, key in enumerate(keys):
        running = max(running, min(1.0, (m - i) * float(pvalues[key])))
        adjusted[key] = running
    return {key: adjusted[key] for key in pvalues}


__all__ = ["per_query_metrics", "per_video_ap", "seed_mean", "check_per_seed",
           "bootstrap_means", "paired_bootstrap", "holm", "MR_METRICS", "HD_METRICS"]
