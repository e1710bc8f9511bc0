"""Trivial predictors: the floor any model must clear, as official-format submission rows.

Each predictor takes the training samples (to fit priors, never the val labels) and the samples to
predict, and returns rows ``{qid, query, vid, pred_relevant_windows: [[s, e, score], ...],
pred_saliency_scores: [one per clip]}`` that ``rdmf.eval.evaluate_qvhighlights`` scores.

- ``random``: random windows (lengths from the training moment lengths), random clip scores.
- ``middle``: always the middle of the video, with the training median length (plus the
  quartiles as lower-scored alternatives); saliency peaked at the middle.
- ``text_only``: ignores the video. The windows the text prior suggests: a ridge regression from
  the query's sentence embedding to the (start, end) of its first moment as fractions of the
  video, plus the training moment-length prior; saliency = the predicted window's indicator.
- ``single_clip``: the best single-clip similarity WITHOUT temporal context: a ridge regression
  fitted on training clips maps one clip's features to the query's sentence embedding (no
  neighbouring clip is ever seen); a clip's score is the cosine of that map with the query.
  Windows are the maximal runs of clips above a per-video threshold, scored by their mean
  similarity (the only step that looks at neighbours is this grouping of independent scores).
"""

from __future__ import annotations

import numpy as np

from .features import l2_normalise
from .sample import Sample

PREDICTORS = ("random", "middle", "text_only", "single_clip")


def submission_row(s: Sample, windows: list[list[float]], saliency: np.ndarray) -> dict:
    """One official submission row of sample ``s``: ``windows`` ``[[start_s, end_s, score], ...]``
    and ``saliency`` (L,) one score per clip, rounded as the submissions are written."""
    windows = [[round(float(a), 4), round(float(b), 4), round(float(c), 6)] for a, b, c in windows]
    return {"qid": s.qid, "query": s.query, "vid": s.vid, "pred_relevant_windows": windows,
            "pred_saliency_scores": [round(float(x), 6) for x in saliency]}


def _train_lengths_s(train: list[Sample]) -> np.ndarray:
    lengths = np.concatenate([s.windows_s[:, 1] - s.windows_s[:, 0] for s in train
                              if len(s.windows_s)] or [np.array([10.0])])
    return lengths.astype(np.float64)


def _clamp_window(center: float, length: float, duration: float) -> tuple[float, float]:
    length = min(max(length, 2.0), duration)
    start = min(max(center - length / 2, 0.0), duration - length)
    return start, start + length


def predict_random(train: list[Sample], samples: list[Sample], seed: int = 0,
                   n_windows: int = 10) -> list[dict]:
    rng = np.random.default_rng(seed)
    lengths = _train_lengths_s(train)
    rows = []
    for s in samples:
        windows = []
        for _ in range(n_windows):
            start, end = _clamp_window(rng.uniform(0, s.duration_s), rng.choice(lengths), s.duration_s)
            windows.append([start, end, rng.random()])
        windows.sort(key=lambda w: -w[2])
        rows.append(submission_row(s, windows, rng.random(s.num_clips)))
    return rows


def predict_middle(train: list[Sample], samples: list[Sample]) -> list[dict]:
    q25, q50, q75 = np.percentile(_train_lengths_s(train), [25, 50, 75])
    rows = []
    for s in samples:
        mid = s.duration_s / 2
        windows = [[*_clamp_window(mid, q50, s.duration_s), 1.0],
                   [*_clamp_window(mid, q75, s.duration_s), 0.9],
                   [*_clamp_window(mid, q25, s.duration_s), 0.8]]
        centers = s.clip_times_s.mean(1)
        rows.append(submission_row(s, windows, 1.0 - np.abs(centers - mid) / s.duration_s))
    return rows


def _query_embedding(s: Sample) -> np.ndarray:
    return l2_normalise(l2_normalise(s.text_feats).mean(0))


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    x1 = np.concatenate([x, np.ones((len(x), 1))], 1).astype(np.float64)
    reg = alpha * np.eye(x1.shape[1])
    reg[-1, -1] = 0.0
    return np.linalg.solve(x1.T @ x1 + reg, x1.T @ y)


def _apply(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((len(x), 1))], 1) @ w


def predict_text_only(train: list[Sample], samples: list[Sample], alpha: float = 10.0) -> list[dict]:
    labelled = [s for s in train if len(s.windows_s)]
    x = np.stack([_query_embedding(s) for s in labelled])
    first = np.stack([s.windows_s[np.argmin(s.windows_s[:, 0])] / s.duration_s for s in labelled])
    w = _ridge(x, first, alpha)
    lengths = _train_lengths_s(train)
    alt = np.percentile(lengths, [25, 75])
    rows = []
    for s in samples:
        start_f, end_f = np.clip(_apply(w, _query_embedding(s)[None])[0], 0, 1)
        center = (start_f + end_f) / 2 * s.duration_s
        length = max(end_f - start_f, 0.0) * s.duration_s
        windows = [[*_clamp_window(center, length, s.duration_s), 1.0]]
        windows += [[*_clamp_window(center, a, s.duration_s), 0.9 - 0.1 * k]
                    for k, a in enumerate(alt)]
        centers = s.clip_times_s.mean(1)
        inside = (centers >= windows[0][0]) & (centers <= windows[0][1])
        rows.append(submission_row(s, windows, inside.astype(float)))
    return rows


class SingleClipScorer:
    """Ridge map from ONE clip's features (endpoint features dropped) to the query's sentence
    embedding, fitted on training clips (relevant clips -> the query embedding, others -> 0)."""

    def __init__(self, train: list[Sample], alpha: float = 1.0, n_endpoint: int = 2,
                 max_clips: int = 60_000, seed: int = 0) -> None:
        self.n_endpoint = n_endpoint
        xs, ys = [], []
        for s in train:
            if s.saliency is None:
                continue
            q = _query_embedding(s)
            relevant = (s.saliency.max(1) > 0).astype(np.float64)
            xs.append(self._clips(s))
            ys.append(relevant[:, None] * q[None])
        x, y = np.concatenate(xs), np.concatenate(ys)
        if len(x) > max_clips:
            keep = np.random.default_rng(seed).choice(len(x), max_clips, replace=False)
            x, y = x[keep], y[keep]
        self.w = _ridge(x, y, alpha)

    def _clips(self, s: Sample) -> np.ndarray:
        v = s.video_feats
        return v[:, :v.shape[1] - self.n_endpoint] if self.n_endpoint else v

    def scores(self, s: Sample) -> np.ndarray:
        """(L,) cosine of each mapped clip with the query embedding."""
        return l2_normalise(_apply(self.w, self._clips(s))) @ _query_embedding(s)


def runs_to_windows(scores: np.ndarray, clip_times: np.ndarray, thresholds: list[float],
                    max_windows: int = 10) -> list[list[float]]:
    """Maximal runs of clips with ``score >= threshold`` (for each threshold), as
    ``[start_s, end_s, mean score]``, highest score first, duplicates removed."""
    found: dict[tuple[int, int], float] = {}
    for thr in thresholds:
        above = np.concatenate([[False], scores >= thr, [False]])
        edges = np.flatnonzero(np.diff(above.astype(int)))
        for a, b in zip(edges[::2], edges[1::2]):
            found.setdefault((int(a), int(b)), float(scores[a:b].mean()))
    ranked = sorted(found.items(), key=lambda kv: -kv[1])[:max_windows]
    if not ranked:
        best = int(np.argmax(scores))
        ranked = [((best, best + 1), float(scores[best]))]
    return [[float(clip_times[a, 0]), float(clip_times[b - 1, 1]), sc] for (a, b), sc in ranked]


def windows_from_scores(scores: np.ndarray, clip_times: np.ndarray) -> list[list[float]]:
    """Windows of independent (L,) clip scores: the maximal runs above the video's own 90, 80,
    70, 60 and 50 % quantiles of its scores (:func:`runs_to_windows`)."""
    thresholds = list(np.quantile(scores, [0.9, 0.8, 0.7, 0.6, 0.5]))
    return runs_to_windows(scores, clip_times, thresholds)


def predict_single_clip(train: list[Sample], samples: list[Sample], alpha: float = 1.0) -> list[dict]:
    scorer = SingleClipScorer(train, alpha=alpha)
    rows = []
    for s in samples:
        sc = scorer.scores(s)
        rows.append(submission_row(s, windows_from_scores(sc, s.clip_times_s), sc))
    return rows


def predict(name: str, train: list[Sample], samples: list[Sample], **kw) -> list[dict]:
    funcs = {"random": predict_random, "middle": predict_middle, "text_only": predict_text_only,
             "single_clip": predict_single_clip}
    if name not in funcs:
        raise ValueError(f"unknown trivial predictor {name!r}; valid: {', '.join(PREDICTORS)}")
    return funcs[name](train, samples, **kw)


def ground_truth_rows(samples: list[Sample]) -> list[dict]:
    """Official-layout ground-truth rows (``relevant_windows``, ``relevant_clip_ids``,
    ``saliency_scores``) of samples with labels."""
    rows = []
    for s in samples:
        if s.saliency is None:
            raise ValueError(f"ground_truth_rows: qid {s.qid} has no labels")
        ids = np.flatnonzero(s.saliency.max(1) > 0) if len(s.windows_s) else np.zeros(0, int)
        # relevant clips are those inside a window (QVHighlights marks all of them)
        centers = s.clip_times_s.mean(1)
        inside = np.zeros(s.num_clips, bool)
        for a, b in s.windows_s:
            inside |= (centers > a) & (centers < b)
        ids = np.flatnonzero(inside) if inside.any() else ids
        rows.append({"qid": s.qid, "query": s.query, "vid": s.vid,
                     "duration": float(s.duration_s),
                     "relevant_windows": [[float(a), float(b)] for a, b in s.windows_s],
                     "relevant_clip_ids": ids.tolist(),
                     "saliency_scores": s.saliency[ids].astype(int).tolist()})
    return rows
