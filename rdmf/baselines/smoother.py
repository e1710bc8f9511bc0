"""A fixed temporal smoother of per-clip scores: the control for "a smoother explains it".

:func:`smooth_scores` is a centred moving average of ``width`` clips (odd), reflected at each
video's TRUE length (``numpy.pad(mode="reflect")``: the edge clip is not repeated), so padding
never enters a real clip's value. ``width = 1`` is the identity.
"""

from __future__ import annotations

import torch

#: the widths ``per_clip_smooth`` chooses from on val (1 = no smoothing)
SMOOTH_WIDTHS = (1, 3, 5, 7, 9, 13)


def reflect_index(index: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Indices reflected into ``[0, length)`` (numpy ``reflect``; repeated for short videos).

    index: (B, L, K) integer, length: (B,) integer >= 1. Returns the same shape.
    """
    n = length[:, None, None]
    period = (2 * (n - 1)).clamp(min=1)
    folded = index.remainder(period)
    folded = torch.where(folded > n - 1, period - folded, folded)
    return torch.where(n == 1, torch.zeros_like(folded), folded)


def smooth_scores(scores: torch.Tensor, mask: torch.Tensor, width: int) -> torch.Tensor:
    """Centred moving average of (B, L) scores over ``width`` clips, reflected at each video's
    true length (``mask`` (B, L) bool, real clips first). Padding positions are returned as 0."""
    if width < 1 or width % 2 != 1:
        raise ValueError(f"smoother width must be an odd number of clips >= 1, got {width}")
    if width == 1:
        return scores * mask.to(scores.dtype)
    B, L = scores.shape
    half = width // 2
    offsets = torch.arange(-half, half + 1, device=scores.device)
    index = torch.arange(L, device=scores.device)[None, :, None] + offsets     # (1, L, K)
    index = reflect_index(index.expand(B, L, width), mask.sum(1))
    gathered = scores.gather(1, index.reshape(B, -1)).reshape(B, L, width)
    return gathered.mean(-1) * mask.to(scores.dtype)
