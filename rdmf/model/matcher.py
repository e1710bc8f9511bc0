"""Hungarian matching of predicted spans to ground-truth moments (DETR / Moment-DETR)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from rdmf.nonfinite import NonFiniteError

from .span_utils import cxw_to_xx, generalized_iou


class HungarianMatcher(nn.Module):
    """One-to-one assignment minimising ``w_L1 · L1 + w_giou · (−GIoU) + w_class · (−p_fg)``.

    docs/design.md §5 weights: 10, 1, 4. Spans are normalised (center, width).
    """

    def __init__(self, cost_span: float = 10.0, cost_giou: float = 1.0, cost_class: float = 4.0):
        super().__init__()
        self.cost_span, self.cost_giou, self.cost_class = cost_span, cost_giou, cost_class

    @torch.no_grad()
    def forward(self, pred_spans: torch.Tensor, pred_logits: torch.Tensor,
                target_spans: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Match per sample.

        Args:
            pred_spans: (B, Q, 2) normalised (center, width).
            pred_logits: (B, Q, 2) foreground (index 0) / background logits.
            target_spans: B tensors (M_i, 2) normalised (center, width).
        Returns:
            B pairs (query indices, target indices), each (min(Q, M_i),) int64.
        Raises:
            NonFiniteError: a predicted span or logit is NaN/inf (no assignment exists).
        """
        prob_fg = pred_logits.float().softmax(-1)[..., 0]
        out = []
        for spans, fg, target in zip(pred_spans.float(), prob_fg, target_spans):
            if target.numel() == 0:
                empty = torch.zeros(0, dtype=torch.int64)
                out.append((empty, empty))
                continue
            target = target.to(spans)
            cost = (self.cost_span * torch.cdist(spans, target, p=1)
                    - self.cost_giou * generalized_iou(cxw_to_xx(spans), cxw_to_xx(target))
                    - self.cost_class * fg[:, None])
            if not bool(torch.isfinite(cost).all()):
                raise NonFiniteError("matching cost has NaN/inf entries (non-finite predicted "
                                     "spans or logits)")
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            out.append((torch.as_tensor(rows, dtype=torch.int64),
                        torch.as_tensor(np.asarray(cols), dtype=torch.int64)))
        return out
