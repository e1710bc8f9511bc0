"""Spans on the normalised time axis: (center, width) <-> (start, end), IoU and generalised IoU.

Spans are normalised by the video duration, so a span lives in [0, 1]. Shapes: ``(..., 2)``.
"""

from __future__ import annotations

import torch


def cxw_to_xx(spans: torch.Tensor) -> torch.Tensor:
    """(..., 2) (center, width) -> (..., 2) (start, end)."""
    center, width = spans.unbind(-1)
    return torch.stack([center - 0.5 * width, center + 0.5 * width], dim=-1)


def xx_to_cxw(spans: torch.Tensor) -> torch.Tensor:
    """(..., 2) (start, end) -> (..., 2) (center, width)."""
    start, end = spans.unbind(-1)
    return torch.stack([0.5 * (start + end), end - start], dim=-1)


def pairwise_iou(spans1: torch.Tensor, spans2: torch.Tensor):
    """IoU of every pair of (start, end) spans: (N, 2), (M, 2) -> (N, M) iou and union."""
    area1 = spans1[:, 1] - spans1[:, 0]
    area2 = spans2[:, 1] - spans2[:, 0]
    left = torch.max(spans1[:, None, 0], spans2[None, :, 0])
    right = torch.min(spans1[:, None, 1], spans2[None, :, 1])
    inter = (right - left).clamp(min=0)
    union = area1[:, None] + area2[None, :] - inter
    return inter / union.clamp(min=1e-8), union


def generalized_iou(spans1: torch.Tensor, spans2: torch.Tensor) -> torch.Tensor:
    """Generalised IoU (Rezatofighi et al. 2019) of every pair of (start, end) spans: (N, M)."""
    iou, union = pairwise_iou(spans1, spans2)
    left = torch.min(spans1[:, None, 0], spans2[None, :, 0])
    right = torch.max(spans1[:, None, 1], spans2[None, :, 1])
    enclosing = (right - left).clamp(min=0)
    return iou - (enclosing - union) / enclosing.clamp(min=1e-8)


def spans_to_windows(spans: torch.Tensor, duration_s: float, clip_len_s: float,
                     num_clips: int | None = None) -> torch.Tensor:
    """(Q, 2) normalised (center, width) -> (Q, 2) [start_s, end_s] on the clip grid.

    Windows are clamped to the video (to ``num_clips * clip_len_s`` when given, else to
    ``duration_s``) and rounded to multiples of ``clip_len_s``; a window that would collapse to zero
    length keeps one clip.
    """
    xx = cxw_to_xx(spans.float()) * float(duration_s)
    limit = float(duration_s)
    if num_clips is not None:
        limit = min(limit, num_clips * clip_len_s)
    xx = (torch.round(xx / clip_len_s) * clip_len_s).clamp(0.0, limit)
    start, end = xx.unbind(-1)
    empty = end - start < 1e-6
    fits = start + clip_len_s <= limit + 1e-6
    end = torch.where(empty & fits, start + clip_len_s, end)
    start = torch.where(empty & ~fits, torch.full_like(start, max(limit - clip_len_s, 0.0)), start)
    end = torch.where(empty & ~fits, torch.full_like(end, limit), end)
    return torch.stack([start, end], dim=-1)
