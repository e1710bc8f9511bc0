"""Many small highlight-detection runs in one process, vectorised over runs.

TVSum's protocol is many small runs (10 domains × 5 leave-one-video-out folds × fusions × seeds),
each a few dozen optimiser steps on 4 videos. :func:`train_batched` trains R runs of ONE config
(same fusion, same architecture and recipe) that differ in seed and data (fold, domain) as one
model batched over runs:

- every parameter is stacked over runs, (R, ...) (``torch.func.stack_module_state``); each run's
  initial weights are those :func:`rdmf.train.engine.train` would build for its seed;
- the forward pass is ``torch.vmap`` over the run axis of ``torch.func.functional_call`` on one
  copy of the model; the ``rd`` fusion's integrator has data-dependent checks that vmap cannot
  trace, so for ``rd`` the projections, encoder and head are vmapped and the fusion is called
  once per run (the fused kernel on CUDA, the PyTorch reference elsewhere);
- each run reads its own batches (its seed's batch order and saliency pairs, as the engine
  does); batches are padded to one shape, the missing samples of a run filled with copies of
  its first sample whose weight is 0, so that they contribute nothing;
- the losses are the engine's (:class:`rdmf.model.losses.Criterion`'s per-sample saliency
  ranking loss and the dense clip loss), one value per run; their sum is differentiated once;
- gradient clipping is per run (each run's own gradient norm); the optimiser is the engine's
  (AdamW, same parameter groups) over the stacked tensors: Adam, its weight decay and the
  learning rate are elementwise, so one optimiser over (R, ...) tensors is exactly R optimisers.

So with dropout off the weights after N steps equal those of R one-by-one engine runs to
rounding (``tests/test_batched.py``). With dropout on, each run draws its own masks but not
from the stream a one-by-one run would use.

Scope: the highlight-only models of the TVSum / YouTube recipes (``model.hd_only``), without
QD-DETR's query negatives (they roll the text inside a batch, which padding would change).
All runs must have the same number of batches per epoch (TVSum folds: 4 train videos each).
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as nnf
from torch.func import functional_call, stack_module_state, vmap
from torch.nn.attention import SDPBackend, sdpa_kernel

from rdmf.data.sample import Sample, collate
from rdmf.model.losses import Criterion
from rdmf.model.transformer import masked_mean, sine_positions
from rdmf.nonfinite import NonFiniteError
from rdmf.seed import seed_everything

from .config import RunConfig
from .engine import (build_parts, compute_metrics, epoch_batches, resolve_device,
                     with_feature_dims)


def _pair_seed(config: RunConfig, epoch: int, index: int) -> int:
    """The engine's seed of one sample's saliency-pair picks in one epoch (the agreement test
    with ``pair_hinge`` fails if the two differ)."""
    return ((config.seed * 10_007 + epoch) * 1_000_003 + int(index)) % (2**63 - 1)


def _autocast(config: RunConfig, device: torch.device):
    """bfloat16 autocast on CUDA when ``config.amp`` (as the engine)."""
    return torch.autocast(device.type, dtype=torch.bfloat16,
                          enabled=bool(config.amp and device.type == "cuda"))


@dataclass
class BatchedRun:
    """One run of a batched training: its seed, its train and val samples, a name for reports."""

    seed: int
    train: Sequence[Sample]
    val: Sequence[Sample]
    name: str = ""


@dataclass
class RunStack:
    """R models of one architecture as stacked tensors: ``params`` / ``buffers`` map each name
    of the model's ``named_parameters()`` / ``named_buffers()`` to an (R, ...) tensor; ``base``
    is one copy of the model (on the meta device) that ``functional_call`` runs them through."""

    base: torch.nn.Module
    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]

    @property
    def runs(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def state_dict(self, run: int) -> dict[str, torch.Tensor]:
        """The weights of run ``run`` as the model's ``state_dict()`` keys (loadable into
        :func:`rdmf.model.build_model`'s model)."""
        return {name: value[run].detach().clone()
                for name, value in {**self.params, **self.buffers}.items()}


@dataclass
class BatchedResult:
    """What :func:`train_batched` returns: one summary per run and the trained stack."""

    runs: list[dict[str, Any]]
    stack: RunStack
    time_s: float = 0.0
    steps: int = 0
    saliency_terms: list[list[float]] = field(default_factory=list)   # (steps, R) saliency term


# --- set-up ------------------------------------------------------------------------------------
def check_batchable(config: RunConfig) -> None:
    """A ValueError naming the setting when ``config`` is outside what batched runs train."""
    if not config.model.hd_only:
        raise ValueError("batched runs train highlight-only models: set model.hd_only = true "
                         "(the TVSum / YouTube presets do)")
    if config.loss.query_negatives:
        raise ValueError("batched runs do not support loss.query_negatives (the negatives roll "
                         "the text inside a batch, which the padding of batched runs changes)")


def build_stack(config: RunConfig, runs: Sequence[BatchedRun], device: torch.device):
    """(stack, optimiser, scheduler): each run's model and optimiser built exactly as
    :func:`rdmf.train.engine.train` builds them after ``seed_everything(run.seed)``, the weights
    stacked, and one optimiser of the engine's class and parameter groups over the stacks."""
    models, first = [], None
    for run in runs:
        seed_everything(run.seed)
        parts = build_parts(config.replace({"seed": run.seed}), device)
        models.append(parts.model)
        first = first or parts
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    names = {id(p): name for name, p in first.model.named_parameters()}
    groups = [{**{k: v for k, v in group.items() if k != "params"},
               "params": [params[names[id(p)]] for p in group["params"]]}
              for group in first.optimizer.param_groups]
    kind = type(first.optimizer)
    accepted = inspect.signature(kind).parameters
    optimizer = kind(groups, **{k: v for k, v in first.optimizer.defaults.items() if k in accepted})
    scheduler = torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=config.optim.lr_drop_epochs or 10**9, gamma=0.1)
    return RunStack(base, params, buffers), optimizer, scheduler


# --- batches -----------------------------------------------------------------------------------
@dataclass
class StackedBatch:
    """One padded batch per run, stacked: video (R, B, L, Dv), video_mask (R, B, L), text
    (R, B, N, Dt), text_mask (R, B, N), saliency (R, B, L) mean annotator scores, weight (R, B)
    (1 for a real sample, 0 for a filler), and the samples of each run."""

    video: torch.Tensor
    video_mask: torch.Tensor
    text: torch.Tensor
    text_mask: torch.Tensor
    saliency: torch.Tensor
    weight: torch.Tensor
    samples: list[list[Sample]]


def stack_batches(per_run: Sequence[Sequence[Sample]], device: torch.device,
                  dtype: torch.dtype) -> StackedBatch:
    """Pad each run's samples to the largest batch (copies of its first sample, weight 0) and
    all of them to the longest video and query; stack over runs."""
    size = max(len(s) for s in per_run)
    filled = [list(s) + [s[0]] * (size - len(s)) for s in per_run]
    batches = [collate(s) for s in filled]
    L = max(b.video.shape[1] for b in batches)
    N = max(b.text.shape[1] for b in batches)

    def pad(t: torch.Tensor, length: int) -> torch.Tensor:
        return nnf.pad(t, (0, 0, 0, length - t.shape[1])) if t.dim() == 3 else \
            nnf.pad(t, (0, length - t.shape[1]))

    def stack(name: str, length: int, kind=None):
        return torch.stack([pad(getattr(b, name), length) for b in batches]).to(
            device, kind if kind is not None else dtype)

    weight = torch.tensor([[1.0] * len(s) + [0.0] * (size - len(s)) for s in per_run],
                          dtype=dtype, device=device)
    return StackedBatch(stack("video", L), stack("video_mask", L, torch.bool), stack("text", N),
                        stack("text_mask", N, torch.bool), stack("saliency", L), weight,
                        [list(s) for s in per_run])


# --- forward -----------------------------------------------------------------------------------
def forward_runs(stack: RunStack, batch: StackedBatch, randomness: str = "different") -> torch.Tensor:
    """Saliency scores (R, B, L) of every run on its own batch. Attention runs through PyTorch's
    math kernel, which vmap batches (the fused CPU kernels have no batching rule)."""
    with sdpa_kernel([SDPBackend.MATH]):
        return _forward(stack, batch, randomness)


def _forward(stack: RunStack, batch: StackedBatch, randomness: str) -> torch.Tensor:
    base = stack.base
    args = (batch.video, batch.video_mask, batch.text, batch.text_mask)
    if base.config.fusion != "rd":
        def one_run(params, buffers, video, video_mask, text, text_mask):
            return functional_call(base, (params, buffers),
                                   (video, video_mask, text, text_mask))["saliency"]
        return vmap(one_run, randomness=randomness)(stack.params, stack.buffers, *args)
    return _forward_rd(stack, batch, randomness)


def _sub(tree: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tree.items() if k.startswith(prefix)}


def _forward_rd(stack: RunStack, batch: StackedBatch, randomness: str) -> torch.Tensor:
    """:meth:`rdmf.model.model.MomentModel.forward` of an HD-only model, with the ``rd`` fusion
    called once per run (its integrator is not vmappable) and everything else vmapped."""
    base = stack.base
    params, buffers = stack.params, stack.buffers
    tree = lambda prefix: (_sub(params, prefix), _sub(buffers, prefix))  # noqa: E731

    def project(p_video, p_text, video, video_mask, text):
        x = functional_call(base.video_proj, p_video, (video,))
        t = functional_call(base.text_proj, p_text, (text,))
        return x, t, sine_positions(video_mask, x.shape[-1]).to(x.dtype)

    x, t, pos = vmap(project, randomness=randomness)(
        tree("video_proj."), tree("text_proj."), batch.video, batch.video_mask, batch.text)
    p_fusion, b_fusion = tree("fusion.")
    fused = torch.stack([
        functional_call(base.fusion, ({k: v[r] for k, v in p_fusion.items()},
                                      {k: v[r] for k, v in b_fusion.items()}),
                        (x[r], batch.video_mask[r], t[r], batch.text_mask[r], pos[r]))[0]
        for r in range(stack.runs)])
    L = batch.video.shape[2]

    def encode_and_read(p_encoder, p_head, tokens, video_mask, pos, t, text_mask):
        memory = functional_call(base.encoder, p_encoder, (tokens, video_mask, pos))
        query = masked_mean(t, text_mask)
        return functional_call(base.saliency_head, p_head, (memory[:, :L], query))

    return vmap(encode_and_read, randomness=randomness)(
        tree("encoder."), tree("saliency_head."), fused, batch.video_mask, pos, t,
        batch.text_mask)


# --- losses, clipping --------------------------------------------------------------------------
def run_losses(criterion: Criterion, scores: torch.Tensor, batch: StackedBatch,
               seeds: list[list[int]] | None) -> dict[str, torch.Tensor]:
    """The engine's loss terms, one value per run: ``saliency`` (R,), and ``dense_saliency``
    (R,) when ``loss_dense_saliency`` > 0. ``seeds``: per run, the saliency-pair seeds of its
    real samples (the pair hinge)."""
    R, B, L = scores.shape
    if scores.dtype in (torch.float16, torch.bfloat16):   # as the Criterion: autocast outputs
        scores = scores.float()                           # in float32
    flat = lambda t: t.reshape(R * B, *t.shape[2:])  # noqa: E731
    flat_seeds = None
    if seeds is not None:
        flat_seeds = [s for run, w in zip(seeds, batch.weight.tolist())
                      for s in list(run) + [0] * (len(w) - len(run))]
    per_sample = criterion.ranking_loss(flat(scores), flat(batch.saliency),
                                        flat(batch.video_mask), flat_seeds).reshape(R, B)
    weight = batch.weight.to(scores.dtype)
    out = {"saliency": (per_sample * weight).sum(1) / weight.sum(1)}
    if criterion.config.loss_dense_saliency:
        real = batch.video_mask.to(scores.dtype) * weight[:, :, None]
        target = (batch.saliency > 0).to(scores.dtype)   # (R, B, L)
        bce = nnf.binary_cross_entropy_with_logits(scores, target, reduction="none")
        out["dense_saliency"] = (bce * real).sum((1, 2)) / real.sum((1, 2)).clamp(min=1.0)
    return out


def clip_per_run(grads: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale each run's slice of the stacked gradients as ``clip_grad_norm_`` scales one run's
    gradients (max_norm / (norm + 1e-6), at most 1); returns the (R,) norms before clipping."""
    R = grads[0].shape[0]
    norms = torch.stack([g.reshape(R, -1).norm(2, dim=1) for g in grads], 1).norm(2, dim=1)
    if math.isfinite(max_norm):
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.view(R, *([1] * (g.dim() - 1))).to(g.dtype))
    return norms


# --- training ----------------------------------------------------------------------------------
def train_batched(config: RunConfig, runs: Sequence[BatchedRun], *,
                  device: str | torch.device | None = None,
                  evaluate: bool = True) -> BatchedResult:
    """Train ``runs`` (same ``config`` but their seeds and data) as one model batched over runs.

    Follows :func:`rdmf.train.engine.train` step for step: per run the engine's batch order,
    saliency-pair seeds, loss, gradient clip, optimiser and learning-rate schedule; each run is
    evaluated on its own val samples every ``eval.every`` epochs and after the last (TVSum
    top-5 mAP, YouTube mAP, via :func:`rdmf.train.engine.compute_metrics`). Nothing is written.

    Returns:
        :class:`BatchedResult`: per run ``name``, ``seed``, ``history`` (one row per epoch:
        ``epoch``, ``train`` loss terms, ``val`` metrics where evaluated), ``last`` (the last
        epoch's val metrics), ``best_metric`` / ``best_epoch`` (the best evaluated epoch, as
        the engine's ``best.ckpt``); and the trained :class:`RunStack`.
    """
    if not runs:
        raise ValueError("train_batched: no runs")
    config = config.replace()
    check_batchable(config)
    device = resolve_device(str(device or config.device))
    config = with_feature_dims(config, runs[0].train, runs[0].val)
    for run in runs[1:]:
        with_feature_dims(config, run.train, run.val)
    stack, optimizer, scheduler = build_stack(config, runs, device)
    criterion = Criterion(config.loss)
    dtype = next(iter(stack.params.values())).dtype
    configs = [config.replace({"seed": run.seed}) for run in runs]
    history: list[list[dict]] = [[] for _ in runs]
    best = [(-math.inf, None) for _ in runs]
    saliency_terms = []
    clip = config.optim.grad_clip if config.optim.grad_clip > 0 else float("inf")
    start, steps = time.perf_counter(), 0
    stack.base.train()
    for epoch in range(config.optim.epochs):
        order = [epoch_batches(len(run.train), c, epoch) for run, c in zip(runs, configs)]
        counts = {len(o) for o in order}
        if len(counts) != 1:
            raise ValueError(f"batched runs need the same number of batches per epoch; the runs "
                             f"have {sorted(len(o) for o in order)} (train sizes "
                             f"{[len(r.train) for r in runs]}, batch {config.optim.batch_size})")
        sums = [dict() for _ in runs]
        for batch_no in range(counts.pop()):
            indices = [o[batch_no] for o in order]
            batch = stack_batches([[run.train[i] for i in idx] for run, idx in zip(runs, indices)],
                                  device, dtype)
            seeds = [[_pair_seed(c, epoch, i) for i in idx] for c, idx in zip(configs, indices)]
            with _autocast(config, device):
                scores = forward_runs(stack, batch)
            terms = run_losses(criterion, scores, batch,
                               seeds if config.loss.saliency_loss == "pair_hinge" else None)
            weights = {"saliency": config.loss.loss_saliency,
                       "dense_saliency": config.loss.loss_dense_saliency}
            loss = sum(weights[k] * v for k, v in terms.items())        # (R,)
            _check_runs(loss, "loss", runs, epoch, batch_no)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            grads = [p.grad for p in stack.params.values() if p.grad is not None]
            _check_runs(clip_per_run(grads, clip), "gradient norm", runs, epoch, batch_no)
            optimizer.step()
            steps += 1
            values = {"loss": loss.detach(), **{k: v.detach() for k, v in terms.items()}}
            saliency_terms.append(terms["saliency"].detach().cpu().tolist())
            for r in range(len(runs)):
                for key, value in values.items():
                    sums[r][key] = sums[r].get(key, 0.0) + float(value[r])
        scheduler.step()
        metrics = None
        if evaluate and ((epoch + 1) % config.eval.every == 0 or epoch + 1 == config.optim.epochs):
            metrics = evaluate_runs(stack, config, [run.val for run in runs], device)
        for r in range(len(runs)):
            n = max(len(order[r]), 1)
            row = {"epoch": epoch + 1, "train_loss": sums[r].get("loss", 0.0) / n,
                   "train": {k: v / n for k, v in sums[r].items() if k != "loss"}}
            if metrics is not None and metrics[r] is not None:
                row["val"] = metrics[r]["brief"]
                value = row["val"][config.metric_name]
                if value > best[r][0]:
                    best[r] = (float(value), epoch + 1)
            history[r].append(row)
    summaries = [{"name": run.name, "seed": run.seed, "history": history[r],
                  "last": history[r][-1].get("val") if history[r] else None,
                  "best_metric": None if best[r][1] is None else best[r][0],
                  "best_epoch": best[r][1], "metric_name": config.metric_name}
                 for r, run in enumerate(runs)]
    return BatchedResult(summaries, stack, round(time.perf_counter() - start, 3), steps,
                         saliency_terms)


def _check_runs(values: torch.Tensor, what: str, runs, epoch: int, batch_no: int) -> None:
    bad = ~torch.isfinite(values.detach())
    if bool(bad.any()):
        names = [runs[r].name or f"run {r} (seed {runs[r].seed})"
                 for r in torch.nonzero(bad).flatten().tolist()]
        raise NonFiniteError(f"non-finite {what} at epoch {epoch + 1}, batch {batch_no} in "
                             f"{', '.join(names)}")


# --- evaluation --------------------------------------------------------------------------------
@torch.no_grad()
def predict_runs(stack: RunStack, config: RunConfig, val_sets: Sequence[Sequence[Sample]],
                 device: torch.device | str = "cpu") -> list[list[np.ndarray]]:
    """Saliency scores of every run on its own samples: per run, one (L_i,) array per sample."""
    device = torch.device(device)
    dtype = next(iter(stack.params.values())).dtype
    was_training = stack.base.training
    stack.base.eval()
    out: list[list[np.ndarray]] = [[] for _ in val_sets]
    size = config.eval.batch_size
    longest = max(len(v) for v in val_sets)
    try:
        for start in range(0, longest, size):
            chunks = [list(v[start:start + size]) or [v[0]] for v in val_sets]
            batch = stack_batches(chunks, device, dtype)
            with _autocast(config, device):
                scores = forward_runs(stack, batch, randomness="error").float().cpu()
            for r, v in enumerate(val_sets):
                for i, sample in enumerate(v[start:start + size]):
                    out[r].append(scores[r, i, :sample.num_clips].numpy())
    finally:
        stack.base.train(was_training)
    return out


def evaluate_runs(stack: RunStack, config: RunConfig, val_sets: Sequence[Sequence[Sample]],
                  device: torch.device | str = "cpu") -> list[dict | None]:
    """Per run the metrics of its val samples, as :func:`rdmf.train.engine.compute_metrics`
    gives them (``brief`` + ``per_video``; None for a split without labels)."""
    scores = predict_runs(stack, config, val_sets, device)
    out = []
    for run_scores, samples in zip(scores, val_sets):
        rows = [{"qid": s.qid, "vid": s.vid,
                 "pred_saliency_scores": [round(float(x), 6) for x in sc]}
                for s, sc in zip(samples, run_scores)]
        out.append(compute_metrics(rows, samples, config))
    return out
