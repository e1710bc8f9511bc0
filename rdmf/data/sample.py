"""The one sample structure every data set produces, and the one collate the model consumes.

Conventions
-----------
- Clip ``i`` covers ``clip_times_s[i] = (start, end)`` seconds. For QVHighlights and TVSum clips
  are 2 s (``start = 2 i``); YouTube Highlights rows are 100-frame windows at a 50-frame stride,
  converted to seconds with the video's frame rate.
- ``windows_s``: ground-truth moments ``(M, 2)`` in seconds, ``end > start``, inside
  ``[0, duration_s]``; empty ``(0, 2)`` for HD-only data or test splits without ground truth.
- ``saliency``: ``(L, A)`` per-clip scores of ``A`` annotators (QVHighlights 0-4 with zeros
  outside the relevant clips, TVSum 1-5 of 20 users, YouTube: one column with ``match`` in
  {-1, 0, 1}). ``None`` when a split has no labels.
- ``video_feats`` ``(L, Dv)`` float32, already normalised as the data set prescribes (each feature
  type L2-normalised, temporal-endpoint features appended); ``text_feats`` ``(N, Dt)`` float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

CLIP_LEN_S = 2.0
"""Seconds per clip of the benchmarks' clip grid (QVHighlights, TVSum, the synthetic set,
``rdmf predict``)."""


@dataclass
class Sample:
    qid: Any
    vid: str
    query: str
    video_feats: np.ndarray          # (L, Dv) float32
    text_feats: np.ndarray           # (N, Dt) float32
    duration_s: float
    clip_times_s: np.ndarray         # (L, 2) float, start/end of each clip in seconds
    windows_s: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # (M, 2)
    saliency: np.ndarray | None = None   # (L, A) float32 per-annotator clip scores
    meta: dict = field(default_factory=dict)

    @property
    def num_clips(self) -> int:
        return int(self.video_feats.shape[0])

    def saliency_mean(self) -> np.ndarray:
        """(L,) mean over annotators (zeros when unlabelled)."""
        if self.saliency is None:
            return np.zeros(self.num_clips, np.float32)
        return self.saliency.mean(axis=1).astype(np.float32)


@dataclass
class Batch:
    """A padded batch. Shapes: B samples, L = longest video, N = longest query."""

    video: torch.Tensor          # (B, L, Dv) float32
    video_mask: torch.Tensor     # (B, L) bool, True for real clips
    text: torch.Tensor           # (B, N, Dt) float32
    text_mask: torch.Tensor      # (B, N) bool, True for real tokens
    spans: list[torch.Tensor]    # B tensors (M_i, 2): (center, width) normalised by duration
    saliency: torch.Tensor       # (B, L) float32 mean annotator score (0 on padding)
    duration_s: torch.Tensor     # (B,) float32
    samples: list[Sample]        # the originals (ids, windows in seconds, clip times)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        move = lambda t: t.to(device, non_blocking=non_blocking)  # noqa: E731
        return Batch(move(self.video), move(self.video_mask), move(self.text), move(self.text_mask),
                     [move(s) for s in self.spans], move(self.saliency), move(self.duration_s),
                     self.samples)

    def __len__(self) -> int:
        return len(self.samples)


def windows_to_spans(windows_s: np.ndarray, duration_s: float) -> torch.Tensor:
    """(M, 2) [start, end] seconds -> (M, 2) normalised (center, width)."""
    windows_s = np.asarray(windows_s, np.float32).reshape(-1, 2)
    if not len(windows_s):   # saliency-only data (TVSum, YouTube): nothing to compute
        return torch.zeros((0, 2), dtype=torch.float32)
    w = torch.as_tensor(windows_s) / float(duration_s)
    return torch.stack([(w[:, 0] + w[:, 1]) / 2, w[:, 1] - w[:, 0]], dim=1)


def _lazy_zeros(*shape: int) -> torch.Tensor:
    """``torch.zeros(*shape)`` (default dtype) on memory the OS zeroes page by page on first
    touch (NumPy allocates zeros with ``calloc``): the padding of a batch whose longest video is
    much longer than the rest is never written here, so it costs no memory traffic in collation.
    """
    dtype = np.dtype(str(torch.get_default_dtype()).removeprefix("torch."))
    return torch.from_numpy(np.zeros(shape, dtype))


def collate(samples: list[Sample]) -> Batch:
    """Pad a list of samples into a :class:`Batch` (zeros on padding, masks mark real entries)."""
    if not samples:
        raise ValueError("collate: empty list of samples")
    dims_v = {s.video_feats.shape[1] for s in samples}
    dims_t = {s.text_feats.shape[1] for s in samples}
    if len(dims_v) != 1 or len(dims_t) != 1:
        raise ValueError(f"collate: mixed feature dimensions in one batch: video {sorted(dims_v)}, "
                         f"text {sorted(dims_t)} (vids {[s.vid for s in samples][:5]}...)")
    B = len(samples)
    L = max(s.num_clips for s in samples)
    N = max(s.text_feats.shape[0] for s in samples)
    video = _lazy_zeros(B, L, dims_v.pop())
    video_mask = torch.zeros(B, L, dtype=torch.bool)
    text = _lazy_zeros(B, N, dims_t.pop())
    text_mask = torch.zeros(B, N, dtype=torch.bool)
    saliency = torch.zeros(B, L)
    for i, s in enumerate(samples):
        n_clips, n_tok = s.num_clips, s.text_feats.shape[0]
        video[i, :n_clips] = torch.from_numpy(np.ascontiguousarray(s.video_feats, np.float32))
        video_mask[i, :n_clips] = True
        text[i, :n_tok] = torch.from_numpy(np.ascontiguousarray(s.text_feats, np.float32))
        text_mask[i, :n_tok] = True
        saliency[i, :n_clips] = torch.from_numpy(s.saliency_mean())
    spans = [windows_to_spans(s.windows_s, s.duration_s) for s in samples]
    duration = torch.tensor([float(s.duration_s) for s in samples])
    return Batch(video, video_mask, text, text_mask, spans, saliency, duration, list(samples))
