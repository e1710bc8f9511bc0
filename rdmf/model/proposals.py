"""Dense clip-level moment proposals for a two-stage DETR decoder.

Every encoded clip predicts whether it lies inside a moment of the query (a text-conditioned
foreground logit) and the distances from its centre to that moment's start and end (as fractions
of the video), as the anchor-free dense heads of UniVTG / FCOS do. The highest-scored clips'
windows, thinned by 1-D non-maximum suppression, seed the decoder's queries (Deformable DETR's
"two-stage" variant), so the decoder refines windows that already sit on the relevant clips
instead of learning positions from scratch.

Clip ``i`` of a video with ``n`` real clips is centred at ``t_i = (i + 0.5) / n`` on the
normalised time axis (the axis of the span targets: clips tile the video).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .heads import MLP, SaliencyHead
from .span_utils import xx_to_cxw


def clip_centers(mask: torch.Tensor) -> torch.Tensor:
    """(B, L) bool mask of real clips -> (B, L) normalised clip centres ``(i + 0.5) / n``."""
    n = mask.float().sum(1, keepdim=True).clamp(min=1.0)
    index = torch.arange(mask.shape[1], device=mask.device, dtype=torch.float32)[None]
    return (index + 0.5) / n


class ProposalHead(nn.Module):
    """(B, L, d) encoded clips + pooled query (B, d) -> foreground logits (B, L) and
    (start, end) windows (B, L, 2) in normalised time."""

    def __init__(self, dim: int):
        super().__init__()
        self.score = SaliencyHead(dim, "text_dot")
        self.bounds = MLP(dim, dim, 2, 3)

    def forward(self, clips: torch.Tensor, query: torch.Tensor, mask: torch.Tensor):
        logits = self.score(clips, query).float()
        distances = self.bounds(clips).float().sigmoid()              # (B, L, 2) left, right
        t = clip_centers(mask)
        windows = torch.stack([t - distances[..., 0], t + distances[..., 1]], -1).clamp(0.0, 1.0)
        return logits, distances, windows


@torch.no_grad()
def select_proposals(logits: torch.Tensor, windows: torch.Tensor, mask: torch.Tensor, k: int,
                     iou_threshold: float = 0.7) -> torch.Tensor:
    """Indices (B, k) of the clips whose windows seed the decoder: highest logit first, skipping
    a window whose IoU with an already chosen one exceeds ``iou_threshold``; when fewer than
    ``k`` survive, the best skipped ones fill the rest (and with fewer real clips than ``k``,
    the chosen ones repeat). Padded clips are never chosen."""
    scores = logits.detach().float().masked_fill(~mask, float("-inf")).cpu().numpy()
    win = windows.detach().float().cpu().numpy()
    out = np.zeros((scores.shape[0], k), dtype=np.int64)
    for b in range(scores.shape[0]):
        order = [int(i) for i in np.argsort(-scores[b], kind="stable") if np.isfinite(scores[b, i])]
        start, end = win[b, :, 0], win[b, :, 1]
        chosen, skipped = [], []
        for i in order:
            if len(chosen) == k:
                break
            if chosen:
                c = np.asarray(chosen)
                inter = np.clip(np.minimum(end[c], end[i]) - np.maximum(start[c], start[i]), 0, None)
                union = (end[c] - start[c]) + (end[i] - start[i]) - inter
                if np.any(inter / np.maximum(union, 1e-9) > iou_threshold):
                    skipped.append(i)
                    continue
            chosen.append(i)
        chosen += skipped[:k - len(chosen)]
        base = list(chosen) or [0]
        while len(chosen) < k:            # fewer real clips than queries: repeat, best first
            chosen.append(base[(len(chosen) - len(base)) % len(base)])
        out[b] = chosen
    return torch.as_tensor(out, device=logits.device)


def gather_proposals(windows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """(B, L, 2) (start, end) windows, (B, k) clip indices -> (B, k, 2) (center, width), detached,
    widths at least 1e-3."""
    chosen = windows.detach().gather(1, index[..., None].expand(-1, -1, 2))
    spans = xx_to_cxw(chosen)
    return torch.stack([spans[..., 0], spans[..., 1].clamp(min=1e-3)], -1)


def proposal_targets(spans: list[torch.Tensor], mask: torch.Tensor):
    """Dense targets of the proposal head.

    Args:
        spans: B tensors (M_i, 2) of ground-truth (center, width), normalised.
        mask: (B, L) real clips.
    Returns:
        inside (B, L) float (1 where the clip centre lies in a moment), distances (B, L, 2) to
        the start and end of the containing moment (the shortest one when several contain it).
    """
    t = clip_centers(mask)
    inside = torch.zeros_like(t)
    distances = torch.zeros(*t.shape, 2, device=t.device)
    best_width = torch.full_like(t, float("inf"))
    for b, target in enumerate(spans):
        for center, width in target.to(t.device).float():
            start, end = center - width / 2, center + width / 2
            hit = (t[b] >= start) & (t[b] <= end) & mask[b] & (width < best_width[b])
            inside[b] = torch.where(hit, torch.ones_like(inside[b]), inside[b])
            best_width[b] = torch.where(hit, width, best_width[b])
            distances[b, :, 0] = torch.where(hit, t[b] - start, distances[b, :, 0])
            distances[b, :, 1] = torch.where(hit, end - t[b], distances[b, :, 1])
    return inside, distances
