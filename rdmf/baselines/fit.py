"""Fit any floor or temporal reference on lists of samples and predict official submission rows.

:func:`fit_predict` is the one entry point: ``fit_predict(name, train, val, test)`` trains the
named model (:data:`BASELINES`) on ``train`` with BCE on "clip is relevant" (AdamW, a fixed
number of epochs, seeded), keeps the epoch with the best val metric, chooses the smoother width
of ``per_clip_smooth`` on val, and returns submission rows and per-clip scores for val and test.
The trivial predictors (:mod:`rdmf.data.trivial`) go through the same call.

Targets (:data:`TARGETS`, by data set):

- ``windows``: the clips the official ground truth marks relevant (a clip's centre inside a
  ground-truth window; ``rdmf.data.trivial.ground_truth_rows``) — moment data.
- ``above_median``: the fraction of annotators who score the clip above their own (lower)
  median — TVSum, whose evaluator calls those clips positive.
- ``positive``: the fraction of annotators whose score is > 0 — YouTube Highlights (``match``).

Windows come from the per-clip scores as the trivial single-clip predictor makes them
(``rdmf.data.trivial.windows_from_scores``); metrics come from :mod:`rdmf.eval`. A fit is
deterministic for a given seed at one CPU thread (``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from rdmf.data import trivial
from rdmf.data.sample import Sample, collate
from rdmf.eval import evaluate_qvhighlights, tvsum_top5_ap, youtube_ap

from .models import MODELS, build_floor, parameter_count
from .smoother import SMOOTH_WIDTHS, smooth_scores

#: every model :func:`fit_predict` knows: the learned floors, the temporal references, the
#: trivial predictors
BASELINES = tuple(MODELS) + trivial.PREDICTORS
#: data set -> what "clip is relevant" means for training
TARGETS = {"synthetic": "windows", "qvhighlights": "windows", "tvsum": "above_median",
           "youtube": "positive"}
#: data set -> the val metric that selects the epoch and the smoother width
METRICS = {"synthetic": "MR-full-mAP", "qvhighlights": "MR-full-mAP", "tvsum": "top5-mAP",
           "youtube": "mAP"}


@dataclass(frozen=True)
class FloorConfig:
    """Settings of one fit (defaults: a typical width; the same for every learned model)."""

    width: int = 128
    dropout: float = 0.1
    conv_layers: int = 2                 # conv1d: residual convolution blocks
    kernel: int = 5                      # conv1d: clips per convolution (odd)
    gru_layers: int = 1                  # bigru: stacked bidirectional layers
    lr: float = 1e-3
    weight_decay: float = 1e-4
    epochs: int = 20
    batch_size: int = 32
    eval_batch_size: int = 64
    seed: int = 0
    select_epoch: bool = True            # keep the epoch with the best val metric (else the last)
    smooth_widths: tuple[int, ...] = SMOOTH_WIDTHS
    metric: str | None = None            # None = METRICS[dataset]


@dataclass
class FloorResult:
    """What :func:`fit_predict` returns. ``rows`` / ``scores``: per split (``val``, ``test``),
    submission rows for :mod:`rdmf.eval` and per-clip scores (L,) in sample order."""

    name: str
    rows: dict[str, list[dict]]
    scores: dict[str, list[np.ndarray]]
    val_metric: float
    metric: str
    n_params: int = 0
    epoch: int | None = None             # the selected epoch (1-based)
    smooth_width: int | None = None      # per_clip_smooth: the chosen width
    val_by_width: dict[int, float] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)   # per epoch: train loss, val metric
    config: dict = field(default_factory=dict)


# --- targets and metrics --------------------------------------------------------------------
def relevance_targets(samples: Sequence[Sample], target: str) -> list[np.ndarray]:
    """Per sample, (L,) float targets in [0, 1] (``windows`` | ``above_median`` | ``positive``)."""
    if any(s.saliency is None for s in samples):
        raise ValueError("relevance_targets: every training sample needs labels")
    if target == "windows":
        out = []
        for s, gt in zip(samples, trivial.ground_truth_rows(list(samples))):
            y = np.zeros(s.num_clips, np.float32)
            y[gt["relevant_clip_ids"]] = 1.0
            out.append(y)
        return out
    if target == "above_median":
        # the lower median (torch.median), as the TVSum evaluator defines positives
        return [(s.saliency > np.sort(s.saliency, 0)[(s.num_clips - 1) // 2]).mean(1)
                .astype(np.float32) for s in samples]
    if target == "positive":
        return [(s.saliency > 0).mean(1).astype(np.float32) for s in samples]
    raise ValueError(f"unknown relevance target {target!r}; valid: windows, above_median, positive")


def evaluate_rows(rows: list[dict], samples: Sequence[Sample], dataset: str = "synthetic") -> dict:
    """The brief metrics of submission rows through :mod:`rdmf.eval` (percent)."""
    if dataset == "tvsum":
        ap = [tvsum_top5_ap(r["pred_saliency_scores"], s.saliency) for r, s in zip(rows, samples)]
        return {"top5-mAP": round(100 * float(np.mean(ap)), 2)}
    if dataset == "youtube":
        ap = [youtube_ap(r["pred_saliency_scores"], s.saliency[:, 0]) for r, s in zip(rows, samples)]
        return {"mAP": round(100 * float(np.mean(ap)), 2)}
    return evaluate_qvhighlights(rows, trivial.ground_truth_rows(list(samples)))["brief"]


def rows_from_scores(samples: Sequence[Sample], scores: Sequence[np.ndarray]) -> list[dict]:
    """Submission rows: windows thresholded from the per-clip scores, the scores as saliency."""
    return [trivial.submission_row(s, trivial.windows_from_scores(sc, s.clip_times_s), sc)
            for s, sc in zip(samples, scores)]


# --- training and prediction ----------------------------------------------------------------
def floor_logits(model, batch):
    """Per-clip relevance logits (B, L) of a floor on a padded batch."""
    return model(batch.video, batch.video_mask, batch.text, batch.text_mask)


@torch.no_grad()
def predict_scores(model, samples: Sequence[Sample], batch_size: int = 64,
                   smooth_width: int = 1) -> list[np.ndarray]:
    """Per sample, (L,) relevance probabilities (sigmoid of the logits), optionally smoothed."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(samples), batch_size):
        chunk = list(samples[start:start + batch_size])
        batch = collate(chunk)
        probs = smooth_scores(torch.sigmoid(floor_logits(model, batch)), batch.video_mask, smooth_width)
        out += [probs[i, :s.num_clips].double().numpy() for i, s in enumerate(chunk)]
    model.train(was_training)
    return out


def padded_targets(targets: list[np.ndarray], L: int) -> torch.Tensor:
    y = torch.zeros(len(targets), L)
    for i, t in enumerate(targets):
        y[i, :len(t)] = torch.from_numpy(t)
    return y


def train_model(name: str, train: Sequence[Sample], val: Sequence[Sample], config: FloorConfig,
                dataset: str = "synthetic") -> tuple[torch.nn.Module, list[dict], int | None]:
    """Train the learned model ``name``; returns (model at the selected epoch, history, epoch)."""
    torch.manual_seed(config.seed)
    video_dim, text_dim = train[0].video_feats.shape[1], train[0].text_feats.shape[1]
    kw = ({"layers": config.conv_layers, "kernel": config.kernel} if name == "conv1d" else
          {"layers": config.gru_layers} if name == "bigru" else {})
    model = build_floor(name, video_dim, text_dim, config.width, config.dropout, **kw)
    optim = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    targets = relevance_targets(train, TARGETS[dataset])
    metric = config.metric or METRICS[dataset]
    order_rng = torch.Generator().manual_seed(config.seed)
    history, best, best_state, best_epoch = [], -np.inf, None, None
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for idx in torch.randperm(len(train), generator=order_rng).split(config.batch_size):
            batch = collate([train[i] for i in idx.tolist()])
            y = padded_targets([targets[i] for i in idx.tolist()], batch.video.shape[1])
            mask = batch.video_mask.float()
            loss = (F.binary_cross_entropy_with_logits(floor_logits(model, batch), y, reduction="none")
                    * mask).sum() / mask.sum()
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(float(loss.detach()))
        row = {"epoch": epoch, "train_loss": round(float(np.mean(losses)), 6)}
        if config.select_epoch or epoch == config.epochs:
            scores = predict_scores(model, val, config.eval_batch_size)
            row[metric] = evaluate_rows(rows_from_scores(val, scores), val, dataset)[metric]
            if config.select_epoch and row[metric] > best:
                best, best_state, best_epoch = row[metric], copy.deepcopy(model.state_dict()), epoch
        history.append(row)
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, history, best_epoch if config.select_epoch else config.epochs


def fit_predict(name: str, train: Sequence[Sample], val: Sequence[Sample],
                test: Sequence[Sample], *, dataset: str = "synthetic",
                config: FloorConfig = FloorConfig()) -> FloorResult:
    """Fit ``name`` (one of :data:`BASELINES`) on ``train``, select on ``val``, predict ``val`` and
    ``test``. ``dataset`` picks the target and the val metric (:data:`TARGETS`, :data:`METRICS`);
    ``val`` must be labelled, ``test`` need not be."""
    if name not in BASELINES:
        raise ValueError(f"unknown floor {name!r}; valid: {', '.join(BASELINES)}")
    if dataset not in TARGETS:
        raise ValueError(f"unknown data set {dataset!r}; valid: {', '.join(TARGETS)}")
    metric = config.metric or METRICS[dataset]
    train, val, test = list(train), list(val), list(test)
    if name in trivial.PREDICTORS:
        rows = {"val": trivial.predict(name, train, val), "test": trivial.predict(name, train, test)}
        scores = {k: [np.asarray(r["pred_saliency_scores"]) for r in v] for k, v in rows.items()}
        return FloorResult(name, rows, scores, evaluate_rows(rows["val"], val, dataset)[metric],
                           metric, config=asdict(config))
    model, history, epoch = train_model(name, train, val, config, dataset)
    widths = config.smooth_widths if name == "per_clip_smooth" else (1,)
    val_by_width = {}
    for width in widths:
        scores = predict_scores(model, val, config.eval_batch_size, width)
        val_by_width[width] = evaluate_rows(rows_from_scores(val, scores), val, dataset)[metric]
    width = max(widths, key=lambda w: (val_by_width[w], -w))   # ties: the narrower smoother
    scores = {split: predict_scores(model, samples, config.eval_batch_size, width)
              for split, samples in (("val", val), ("test", test))}
    rows = {split: rows_from_scores(samples, scores[split])
            for split, samples in (("val", val), ("test", test))}
    return FloorResult(name, rows, scores, val_by_width[width], metric, parameter_count(model),
                       epoch, width if name == "per_clip_smooth" else None,
                       val_by_width if name == "per_clip_smooth" else {}, history, asdict(config))
