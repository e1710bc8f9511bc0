"""Training losses of Moment-DETR / QD-DETR (docs/design.md §5).

- span L1 (×10) and 1 − GIoU (×1) on Hungarian-matched pairs, normalised by the number of
  ground-truth moments (summed over DDP processes, as DETR does);
- foreground/background cross-entropy (×4) over all queries, background weight 0.1;
- saliency hinge (×1, margin 0.2) on one hard and one easy (positive, negative) clip pair per
  sample; QD-DETR's query-dependent negatives add −log(1 − σ(s_neg)) over every clip;
- the span and class losses are repeated on every earlier decoder layer (auxiliary losses).

Sampling of the saliency pairs uses one seeded ``torch.Generator`` per sample so that a resumed
or distributed run draws the same pairs as an uninterrupted single-process run.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as nnf

from .matcher import HungarianMatcher
from .proposals import proposal_targets
from .span_utils import cxw_to_xx, generalized_iou


def _global_mean_count(count: float, device) -> float:
    """DETR's normalisation: total count over processes divided by the world size (≥ 1)."""
    value = torch.tensor([float(count)], device=device)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value)
        value = value / dist.get_world_size()
    return max(float(value.item()), 1.0)


def saliency_pairs(saliency: torch.Tensor, mask: torch.Tensor, seeds: list[int] | None = None):
    """Pick (hard, easy) positive and negative clips per sample (Moment-DETR's recipe).

    Relevant clips are those with mean score > 0. Hard pair: the highest- and lowest-scored
    relevant clips (when all relevant clips tie, a random relevant vs a random irrelevant clip).
    Easy pair: a random relevant vs a random irrelevant clip (the hard pair again when the video
    has no irrelevant clip).

    Args:
        saliency: (B, L) mean annotator scores; mask (B, L) real clips.
        seeds: one seed per sample for the random picks (None: the global torch RNG). Seeding
            per sample makes the picks independent of how a batch is split across processes.
    Returns:
        pos (B, 2) and neg (B, 2) clip indices, valid (B,) bool (False when no clip is relevant).
    """
    B = saliency.shape[0]
    sal, real = saliency.detach().cpu().float(), mask.detach().cpu()
    pos = torch.zeros(B, 2, dtype=torch.long)
    neg = torch.zeros(B, 2, dtype=torch.long)
    valid = torch.zeros(B, dtype=torch.bool)

    for i in range(B):
        generator = None if seeds is None else torch.Generator().manual_seed(int(seeds[i]))

        def pick(indices: torch.Tensor) -> int:
            return int(indices[torch.randint(len(indices), (1,), generator=generator)])

        rel = torch.nonzero(real[i] & (sal[i] > 0)).flatten()
        irrel = torch.nonzero(real[i] & (sal[i] <= 0)).flatten()
        if len(rel) == 0:
            continue
        valid[i] = True
        scores = sal[i, rel]
        order = torch.sort(scores, stable=True).indices
        hard = (int(rel[order[-1]]), int(rel[order[0]]))
        if scores.max() == scores.min() and len(irrel):
            hard = (pick(rel), pick(irrel))
        easy = (pick(rel), pick(irrel)) if len(irrel) else hard
        pos[i] = torch.tensor([hard[0], easy[0]])
        neg[i] = torch.tensor([hard[1], easy[1]])
    return pos, neg, valid


class Criterion:
    """Weighted sum of the losses; returns (total, dict of the unweighted terms).

    ``config``: the ``loss`` section of a run config (:class:`rdmf.train.config.LossConfig`).
    """

    def __init__(self, config):
        self.config = config
        self.matcher = HungarianMatcher(config.match_span, config.match_giou, config.match_class)
        self.class_weight = torch.tensor([1.0, config.background_weight])

    def span_losses(self, out: dict, targets: list[torch.Tensor], num_spans: float) -> dict:
        spans, logits = out["pred_spans"], out["pred_logits"]
        indices = self.matcher(spans, logits, targets)
        batch_idx = torch.cat([torch.full_like(q, i) for i, (q, _) in enumerate(indices)])
        query_idx = torch.cat([q for q, _ in indices])
        matched = spans[batch_idx, query_idx].float()                          # (M, 2)
        target = torch.cat([t[j] for t, (_, j) in zip(targets, indices)]).to(matched)
        if matched.numel():
            l1 = nnf.l1_loss(matched, target, reduction="none").sum() / num_spans
            giou = (1 - torch.diag(generalized_iou(cxw_to_xx(matched), cxw_to_xx(target)))).sum() / num_spans
        else:
            l1 = giou = spans.sum() * 0.0
        labels = torch.ones(logits.shape[:2], dtype=torch.long, device=logits.device)  # background
        labels[batch_idx.to(logits.device), query_idx.to(logits.device)] = 0
        ce = nnf.cross_entropy(logits.float().transpose(1, 2), labels,
                               self.class_weight.to(logits.device), reduction="none").mean()
        return {"span": l1, "giou": giou, "class": ce}

    def proposal_losses(self, out: dict, targets: list[torch.Tensor], mask: torch.Tensor) -> dict:
        """Dense proposal losses: BCE of every real clip's foreground logit vs "inside a moment",
        and L1 of the predicted distances to the moment's start/end on the clips inside one."""
        logits = out["proposal_logits"].float()
        mask = mask.to(logits.device)
        inside, distances = proposal_targets(targets, mask)
        real = mask.float()
        bce = nnf.binary_cross_entropy_with_logits(logits, inside, reduction="none")
        l1 = (out["proposal_distances"].float() - distances).abs().sum(-1)
        # normalised by the counts over all processes (as the span losses), so DDP equals 1 process
        n_real = _global_mean_count(float(real.sum()), logits.device)
        n_inside = _global_mean_count(float(inside.sum()), logits.device)
        return {"proposal_class": (bce * real).sum() / n_real,
                "proposal_span": (l1 * inside).sum() / n_inside}

    def saliency_loss(self, out: dict, saliency: torch.Tensor, mask: torch.Tensor,
                      seeds: list[int] | None) -> dict:
        scores = out["saliency"].float()
        pos, neg, valid = saliency_pairs(saliency, mask, seeds)
        pos, neg, valid = pos.to(scores.device), neg.to(scores.device), valid.to(scores.device)
        pos_scores, neg_scores = scores.gather(1, pos), scores.gather(1, neg)
        hinge = (self.config.saliency_margin + neg_scores - pos_scores).clamp(min=0)
        # Moment-DETR: sum / (B · pairs) · 2; samples without a relevant clip contribute 0
        losses = {"saliency": (hinge * valid[:, None]).sum() / (scores.shape[0] * 2) * 2}
        if self.config.loss_dense_saliency:
            # dense per-clip relevance (UMT / UniVTG): BCE of every real clip's score vs
            # "relevant" (mean annotator score > 0), averaged over the real clips
            real = mask.to(scores.device).float()
            target = (saliency.to(scores.device) > 0).float()
            bce = nnf.binary_cross_entropy_with_logits(scores, target, reduction="none")
            losses["dense_saliency"] = (bce * real).sum() / _global_mean_count(
                float(real.sum()), scores.device)
        if "saliency_neg" in out:
            neg_pair = -nnf.logsigmoid(-out["saliency_neg"].float())   # −log(1 − σ(s))
            losses["negative"] = (neg_pair * mask).sum(1).mean()
        return losses

    def __call__(self, out: dict, spans: list[torch.Tensor], saliency: torch.Tensor,
                 mask: torch.Tensor, seeds: list[int] | None = None):
        """out: model outputs; spans: B tensors (M_i, 2); saliency, mask: (B, L);
        seeds: per-sample seeds of the saliency-pair sampling."""
        c = self.config
        losses = self.saliency_loss(out, saliency, mask, seeds)
        weights = {"saliency": c.loss_saliency, "negative": c.loss_negative,
                   "dense_saliency": c.loss_dense_saliency}
        if "pred_spans" in out:
            targets = [t.to(out["pred_spans"].device) for t in spans]
            num_spans = _global_mean_count(sum(len(t) for t in targets), out["pred_spans"].device)
            losses.update(self.span_losses(out, targets, num_spans))
            weights.update(span=c.loss_span, giou=c.loss_giou, **{"class": c.loss_class})
            if "proposal_logits" in out:
                losses.update(self.proposal_losses(out, targets, mask))
                weights.update(proposal_class=c.loss_proposal,
                               proposal_span=c.loss_proposal * c.loss_span)
            for i, aux in enumerate(out.get("aux", [])):
                for name, value in self.span_losses(aux, targets, num_spans).items():
                    losses[f"{name}_{i}"] = value
                    weights[f"{name}_{i}"] = weights[name]
        total = sum(weights[name] * value for name, value in losses.items())
        return total, losses
