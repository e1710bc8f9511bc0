"""Sliding windows over videos longer than the model's trained length, and how they are merged.

The model was trained on videos of at most ``max_clips`` clips (75 clips = 150 s for
QVHighlights), with temporal-endpoint features relative to that length. A longer video is cut
into chunks of exactly ``max_clips`` clips starting every ``max_clips - overlap_clips`` clips;
the last chunk is aligned to the video's end (so it may overlap its neighbour more). Each chunk is
predicted as a video of its own (endpoint features relative to the chunk). Then:

- **Saliency**: each clip's score is the mean of the scores it received from every chunk that
  covers it.
- **Windows**: every chunk's windows are shifted to video time and pooled; then, highest score
  first (ties: earlier chunk, then earlier window), a window is dropped when its temporal IoU
  with a window already kept is at least ``nms_iou`` (0.5); the first ``top_k`` survivors are
  the answer, clamped to ``[0, duration_s]``. A moment cut by a chunk border is thus represented
  by the chunk that sees more of it with more confidence.
"""

from __future__ import annotations

import numpy as np


def chunk_ranges(num_clips: int, max_clips: int, overlap_clips: int | None = None
                 ) -> list[tuple[int, int]]:
    """Clip ranges ``[(start, end), ...]`` (end exclusive) covering ``range(num_clips)``.

    ``overlap_clips`` defaults to half a chunk. One range when the video fits.
    """
    if num_clips <= 0:
        raise ValueError(f"chunk_ranges: num_clips must be positive, got {num_clips}")
    if max_clips <= 0:
        raise ValueError(f"chunk_ranges: max_clips must be positive, got {max_clips}")
    if num_clips <= max_clips:
        return [(0, num_clips)]
    overlap = max_clips // 2 if overlap_clips is None else int(overlap_clips)
    if not 0 <= overlap < max_clips:
        raise ValueError(f"overlap_clips must be in [0, {max_clips}), got {overlap}")
    stride = max_clips - overlap
    starts = list(range(0, num_clips - max_clips, stride)) + [num_clips - max_clips]
    return [(start, start + max_clips) for start in starts]


def temporal_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def average_saliency(chunks: list[tuple[int, int]], scores: list[np.ndarray],
                     num_clips: int) -> np.ndarray:
    """(num_clips,) mean over the chunks covering each clip of their (end - start,) scores."""
    total = np.zeros(num_clips, dtype=np.float64)
    count = np.zeros(num_clips, dtype=np.float64)
    for (start, end), chunk_scores in zip(chunks, scores):
        chunk_scores = np.asarray(chunk_scores, dtype=np.float64)
        if chunk_scores.shape != (end - start,):
            raise ValueError(f"saliency of chunk [{start}, {end}) has shape {chunk_scores.shape}, "
                             f"expected ({end - start},)")
        total[start:end] += chunk_scores
        count[start:end] += 1
    if np.any(count == 0):
        raise ValueError("chunks do not cover every clip")
    return total / count


def merge_windows(chunk_windows: list[list[list[float]]], offsets_s: list[float],
                  duration_s: float, *, top_k: int = 10, nms_iou: float = 0.5
                  ) -> list[list[float]]:
    """Pool per-chunk windows ``[[start, end, score], ...]`` (chunk time) into video windows.

    See the module docstring for the rule. Returns at most ``top_k`` ``[start_s, end_s, score]``
    sorted by descending score.
    """
    pooled = []
    for order, (windows, offset) in enumerate(zip(chunk_windows, offsets_s)):
        for rank, (start, end, score) in enumerate(windows):
            start = min(max(float(start) + offset, 0.0), duration_s)
            end = min(max(float(end) + offset, 0.0), duration_s)
            if end > start:
                pooled.append((-float(score), order, rank, start, end))
    pooled.sort()
    kept: list[list[float]] = []
    for neg_score, _, _, start, end in pooled:
        if all(temporal_iou((start, end), (k[0], k[1])) < nms_iou for k in kept):
            kept.append([start, end, -neg_score])
            if len(kept) >= top_k:
                break
    return kept
