"""Training losses of Moment-DETR / QD-DETR (docs/design.md §5).

- span L1 (×10) and 1 − GIoU (×1) on Hungarian-matched pairs, normalised by the number of
  ground-truth moments (summed over DDP processes, as DETR does);
- foreground/background cross-entropy (×4) over all queries, background weight 0.1;
- saliency ranking loss (×1), chosen by ``saliency_loss`` (the same for every fusion):
  ``pair_hinge`` (the reference): hinge (margin 0.2) on one hard and one easy (positive, negative)
  clip pair per sample; ``all_pairs``: the same hinge averaged over every pair of real clips
  whose annotator scores differ; ``listwise``: ListNet's cross-entropy between the softmax of
  the predicted scores and the softmax of the annotators' mean scores / temperature;
  QD-DETR's query-dependent negatives add −log(1 − σ(s_neg)) over every clip;
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


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """Half-precision outputs (autocast) in float32; float32 and float64 as they are."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _global_mean_count(count: float, device) -> float:
    """DETR's normalisation: total count over processes divided by the world size (≥ 1)."""
    value = torch.tensor([float(count)], device=device)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value)
        value = value / dist.get_world_size()
    return max(float(value.item()), 1.0)


#: the saliency ranking losses (``LossConfig.saliency_loss``)
SALIENCY_LOSSES = ("pair_hinge", "all_pairs", "listwise")

#: the score given to padded clips inside a softmax: exp(it − any real score) is exactly 0, and
#: a row without real clips stays finite (its terms are then masked out)
_PAD_LOGIT = -1e9


def all_pairs_hinge(scores: torch.Tensor, saliency: torch.Tensor, mask: torch.Tensor,
                    margin: float) -> torch.Tensor:
    """Margin ranking loss over every ordered pair of real clips (i, j) with y_i > y_j.

    Per sample: mean over those pairs of max(0, margin − (s_i − s_j)); 0 for a sample without
    such a pair (all real clips tie, or no real clip).

    Args:
        scores: (B, L) predicted clip scores; saliency: (B, L) mean annotator scores;
        mask: (B, L) real clips.
    Returns:
        (B,) per-sample losses.
    """
    real = mask.to(scores.device).bool()
    y = saliency.to(scores.device, scores.dtype)
    pairs = (y[:, :, None] > y[:, None, :]) & real[:, :, None] & real[:, None, :]   # (B, L, L)
    hinge = (margin - (scores[:, :, None] - scores[:, None, :])).clamp(min=0)
    pairs = pairs.to(scores.dtype)
    return (hinge * pairs).sum((1, 2)) / pairs.sum((1, 2)).clamp(min=1.0)


def listwise_softmax_ce(scores: torch.Tensor, saliency: torch.Tensor, mask: torch.Tensor,
                        temperature: float) -> torch.Tensor:
    """ListNet: cross-entropy −Σ_i p_i log q_i over the real clips of each sample, with
    p = softmax(y / temperature) (the annotators' mean scores y) and q = softmax(s).

    Args:
        scores: (B, L) predicted clip scores; saliency: (B, L) mean annotator scores;
        mask: (B, L) real clips.
    Returns:
        (B,) per-sample losses (0 for a sample without real clips).
    """
    real = mask.to(scores.device).bool()
    y = saliency.to(scores.device, scores.dtype)
    target = torch.softmax((y / temperature).masked_fill(~real, _PAD_LOGIT), dim=1)
    log_q = torch.log_softmax(scores.masked_fill(~real, _PAD_LOGIT), dim=1)
    return -(target * log_q).masked_fill(~real, 0.0).sum(1)


def pair_hinge(scores: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, valid: torch.Tensor,
               margin: float) -> torch.Tensor:
    """Moment-DETR's hinge on the picked pairs (:func:`saliency_pairs`):
    max(0, margin + s_neg − s_pos) per (hard, easy) pair; 0 where ``valid`` is False.

    Args:
        scores: (B, L); pos, neg: (B, 2) clip indices; valid: (B,) bool.
    Returns:
        (B, 2) per-pair losses (Moment-DETR's batch loss is their sum / B).
    """
    hinge = (margin + scores.gather(1, neg) - scores.gather(1, pos)).clamp(min=0)
    return hinge * valid[:, None]


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
        scores = _at_least_float32(out["saliency"])
        if self.config.saliency_loss == "pair_hinge":
            # Moment-DETR: sum / (B · pairs) · 2; samples without a relevant clip contribute 0
            hinge = self._pair_hinge(scores, saliency, mask, seeds)
            losses = {"saliency": hinge.sum() / (scores.shape[0] * 2) * 2}
        else:
            losses = {"saliency": self.ranking_loss(scores, saliency, mask, seeds).mean()}
        if self.config.loss_dense_saliency:
            # dense per-clip relevance (UMT / UniVTG): BCE of every real clip's score vs
            # "relevant" (mean annotator score > 0), averaged over the real clips
            real = mask.to(scores.device, scores.dtype)
            target = (saliency.to(scores.device) > 0).to(scores.dtype)
            bce = nnf.binary_cross_entropy_with_logits(scores, target, reduction="none")
            losses["dense_saliency"] = (bce * real).sum() / _global_mean_count(
                float(real.sum()), scores.device)
        if "saliency_neg" in out:
            neg_pair = -nnf.logsigmoid(-out["saliency_neg"].float())   # −log(1 − σ(s))
            losses["negative"] = (neg_pair * mask).sum(1).mean()
        return losses

    def _pair_hinge(self, scores, saliency, mask, seeds) -> torch.Tensor:
        pos, neg, valid = saliency_pairs(saliency, mask, seeds)
        device = scores.device
        return pair_hinge(scores, pos.to(device), neg.to(device), valid.to(device),
                          self.config.saliency_margin)

    def ranking_loss(self, scores: torch.Tensor, saliency: torch.Tensor, mask: torch.Tensor,
                     seeds: list[int] | None = None) -> torch.Tensor:
        """(B,) per-sample saliency ranking losses of the configured kind; their mean is the
        batch's ``saliency`` term (Moment-DETR: samples without a relevant clip count as 0)."""
        kind, margin = self.config.saliency_loss, self.config.saliency_margin
        if kind == "pair_hinge":
            return self._pair_hinge(scores, saliency, mask, seeds).sum(1)
        if kind == "all_pairs":
            return all_pairs_hinge(scores, saliency, mask, margin)
        if kind == "listwise":
            return listwise_softmax_ce(scores, saliency, mask, self.config.saliency_temperature)
        raise ValueError(f"loss.saliency_loss: unknown kind {kind!r}; choose one of "
                         f"{', '.join(SALIENCY_LOSSES)}")

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
