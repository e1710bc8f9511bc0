"""Training and evaluation loops (DETR's ``engine.py``): :func:`train` and :func:`evaluate`.

A run folder holds::

    config.yaml         the exact RunConfig of the run
    metrics.jsonl       one JSON line per finished epoch (train losses, val metrics)
    last.ckpt           model + optimiser + RNG after the last finished epoch (resume point)
    best.ckpt           the epoch with the best val metric (MR-full-mAP / top5-mAP / mAP)
    val_preds.jsonl     predictions of the best checkpoint in the official submission format
    val_metrics.json    its metrics through ``rdmf.eval`` (official layout for QVHighlights)
    eval/<split>_<checkpoint>/   what ``rdmf evaluate`` writes (never over the files above)

The best epoch's files are written in the order val_preds.jsonl, val_metrics.json, best.ckpt
(which records the two files' sha256), last.ckpt: a crash in between leaves files that do not
match best.ckpt's record, which loading best.ckpt reports and resuming repairs.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from tqdm import tqdm

from rdmf.data.sample import Batch, Sample, collate
from rdmf.io import atomic_write_json, atomic_write_jsonl
from rdmf.model import build_model
from rdmf.model.losses import Criterion
from rdmf.model.span_utils import spans_to_windows
from rdmf.nonfinite import NonFiniteError
from rdmf.seed import seed_everything

from . import distributed
from .checkpoint import (BEST, BEST_FILES, LAST, best_files_out_of_step, check_best_files,
                         check_config_matches, check_feature_spec, file_sha256, load_checkpoint,
                         remove_stale_temporaries, resolve_checkpoint, save_checkpoint)
from .config import RunConfig, from_dict, save_config, to_dict
from .datasets import FeatureSpec, check_not_empty, feature_spec, ground_truth_rows, load_split


#: the wall-clock entries of a metrics row (seconds; they differ between identical runs)
TIMES = ("time_s", "data_s")


class NonFiniteLossError(NonFiniteError):
    """Training produced a NaN/inf input, output, loss or gradient; nothing was written for the
    bad step."""


# ---------------------------------------------------------------------------------------------
def resolve_device(name: str, info: distributed.DistInfo | None = None) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"config.device = {name!r} but CUDA is not available")
        if info is not None and info.enabled:
            return torch.device("cuda", info.local_rank)
    return torch.device(name)


def _autocast(config: RunConfig, device: torch.device):
    return torch.autocast(device.type, dtype=torch.bfloat16,
                          enabled=bool(config.amp and device.type == "cuda"))


def forward_batch(model, batch, negatives: bool = False):
    return model(batch.video, batch.video_mask, batch.text, batch.text_mask, negatives=negatives)


def _pair_seed(config: RunConfig, epoch: int, index: int) -> int:
    """Seed of the saliency-pair picks of one sample in one epoch (independent of sharding)."""
    return ((config.seed * 10_007 + epoch) * 1_000_003 + int(index)) % (2**63 - 1)


# --- prediction and metrics ----------------------------------------------------------------
@torch.no_grad()
def predict_samples(model, samples: Sequence[Sample], config: RunConfig,
                    device: torch.device | str = "cpu", batch_size: int | None = None,
                    progress: bool = False) -> list[dict]:
    """Official submission rows (``qid, query, vid, pred_relevant_windows, pred_saliency_scores``).

    Windows: every decoder query's span, clamped to the video, rounded to the clip grid, sorted by
    foreground probability (no NMS). Saliency: one score per real clip.
    """
    was_training = model.training
    model.eval()
    device = torch.device(device)
    batch_size = batch_size or config.eval.batch_size
    rows = []
    starts = range(0, len(samples), batch_size)
    for start in tqdm(starts, desc="predict", disable=not progress, leave=False):
        chunk = [samples[i] for i in range(start, min(start + batch_size, len(samples)))]
        batch = collate(chunk).to(device)
        with _autocast(config, device):
            out = forward_batch(model, batch)
        for i, sample in enumerate(chunk):
            L = sample.num_clips
            row = {"qid": sample.qid, "query": sample.query, "vid": sample.vid,
                   "pred_saliency_scores": [round(float(x), 6) for x in out["saliency"][i, :L].float().cpu()]}
            if "pred_spans" in out:
                row["pred_relevant_windows"] = windows_with_scores(
                    out["pred_spans"][i], out["pred_logits"][i], sample.duration_s,
                    config.data.clip_len_s)
            rows.append(row)
    model.train(was_training)
    return rows


def windows_with_scores(spans: torch.Tensor, logits: torch.Tensor, duration_s: float,
                        clip_len_s: float, top_k: int | None = None) -> list[list[float]]:
    """(Q, 2) spans and (Q, 2) logits -> [[start_s, end_s, score], ...] sorted by score."""
    scores = logits.float().softmax(-1)[:, 0].cpu()
    windows = spans_to_windows(spans.float().cpu(), duration_s, clip_len_s)
    order = torch.sort(scores, descending=True, stable=True).indices
    if top_k is not None:
        order = order[:top_k]
    # (+ 0.0 turns a rounded -0.0 into 0.0)
    return [[round(float(windows[q, 0]), 4) + 0.0, round(float(windows[q, 1]), 4) + 0.0,
             round(float(scores[q]), 6)] for q in order]


def compute_metrics(rows: list[dict], samples: Sequence[Sample], config: RunConfig) -> dict | None:
    """Metrics through :mod:`rdmf.eval`; ``None`` when the split has no labels."""
    from rdmf import eval as rdmf_eval
    if any(s.saliency is None for s in samples):
        return None
    if config.data.dataset == "tvsum":
        ap = [rdmf_eval.tvsum_top5_ap(r["pred_saliency_scores"], s.saliency)
              for r, s in zip(rows, samples)]
        return {"brief": {"top5-mAP": round(100 * float(np.mean(ap)), 2)},
                "per_video": {str(s.vid): round(100 * a, 2) for s, a in zip(samples, ap)}}
    if config.data.dataset == "youtube":
        ap = [rdmf_eval.youtube_ap(r["pred_saliency_scores"], s.saliency[:, 0])
              for r, s in zip(rows, samples)]
        return {"brief": {"mAP": round(100 * float(np.mean(ap)), 2)},
                "per_video": {str(s.vid): round(100 * a, 2) for s, a in zip(samples, ap)}}
    if any(len(s.windows_s) == 0 for s in samples) and not config.model.hd_only:
        return None
    return rdmf_eval.evaluate_qvhighlights(rows, ground_truth_rows(samples))


def _write_outputs(folder: Path, split: str, rows: list[dict], metrics: dict | None,
                   prefix: bool = True) -> dict[str, str]:
    """Write ``{split}_preds.jsonl`` and ``{split}_metrics.json`` (without the split prefix when
    ``prefix`` is false); returns {file name: sha256}."""
    names = (f"{split}_preds.jsonl", f"{split}_metrics.json") if prefix else (
        "preds.jsonl", "metrics.json")
    atomic_write_jsonl(folder / names[0], rows)
    if metrics is not None:
        atomic_write_json(folder / names[1], metrics)
    return {name: file_sha256(folder / name) for name in names if (folder / name).is_file()}


def _prepare_run_dir(run_dir: Path) -> None:
    """The run folder exists (created if needed) and is writable; else an error naming it."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir}: --run-dir is a file, not a folder")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-test.{os.getpid()}.tmp"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(f"{run_dir}: cannot write the run folder "
                         f"({err.strerror or err})") from None


# --- training ------------------------------------------------------------------------------
@dataclass
class Progress:
    """Where a run stands: what ``last.ckpt`` records besides the weights."""

    epoch: int = 0
    step: int = 0
    history: list = dc_field(default_factory=list)
    best_metric: float = -math.inf
    best_epoch: int | None = None
    best_files: dict | None = None
    last_finite: dict = dc_field(default_factory=dict)


@dataclass
class Parts:
    """The trainable objects of a run."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    criterion: Criterion


def train(config: RunConfig, run_dir: str | Path, *, datasets: tuple | None = None,
          resume: bool = True) -> dict[str, Any]:
    """Train ``config`` into ``run_dir``; resume from ``run_dir/last.ckpt`` when it exists.

    Args:
        datasets: optional (train, val) sequences of Samples instead of ``config.data``.
        resume: continue an interrupted run (same config; only ``epochs`` may grow). False
            with an existing checkpoint is an error rather than a silent overwrite.
    Returns:
        summary dict: best_epoch, best_metric, metric_name, epochs, last metrics row.
    """
    config = config.replace()  # a validated copy
    info, device = setup_processes(config)
    run_dir = Path(run_dir)
    if info.is_main:
        _prepare_run_dir(run_dir)
    seed_everything(config.seed)
    train_set, val_set = load_data(config, datasets)
    config = with_feature_dims(config, train_set, val_set)
    spec = feature_spec(config.data, train_set, config.model.video_dim, config.model.text_dim)
    saved = resume_state(run_dir, config, spec, resume)
    if info.is_main:
        remove_stale_temporaries(run_dir)
    parts = build_parts(config, device)
    progress = restore(parts, saved, device)
    if info.is_main:
        progress.best_files = prepare_outputs(run_dir, config, val_set, device, saved, progress)
    train_model = wrap_for_processes(parts.model, info, device)
    for epoch in range(progress.epoch, config.optim.epochs):
        t0 = time.time()
        row = train_epoch(train_model, parts, train_set, config, epoch, progress, info, device)
        if info.is_main and evaluate_now(config, epoch):
            evaluate_epoch(parts.model, val_set, config, device, row, run_dir, progress)
        row["time_s"] = round(time.time() - t0, 3)
        progress.history.append(row)
        progress.epoch = epoch + 1
        if info.is_main:
            write_epoch(run_dir, config, spec, parts, progress, row, device)
        distributed.barrier(info)
    distributed.cleanup(info)
    return summary(run_dir, config, progress)


def setup_processes(config: RunConfig) -> tuple[distributed.DistInfo, torch.device]:
    """DDP set-up (when launched by torchrun) and this process's device."""
    backend = "cuda" if config.device.startswith("cuda") or (
        config.device == "auto" and torch.cuda.is_available()) else "cpu"
    info = distributed.setup(backend)
    return info, resolve_device(config.device, info)


def load_data(config: RunConfig, datasets: tuple | None) -> tuple:
    """(train, val) sequences of Samples: ``datasets`` when given, else read per ``config.data``."""
    if datasets is None:
        return (load_split(config.data, config.data.train_split),
                load_split(config.data, config.data.val_split))
    train_set, val_set = datasets
    check_not_empty(train_set, "train split")
    check_not_empty(val_set, "val split")
    return train_set, val_set


def _dataset_dims(dataset, config: RunConfig, what: str) -> tuple[int, int]:
    first = dataset[0]
    video_dim, text_dim = first.video_feats.shape[1], first.text_feats.shape[1]
    for name, have, want in (("video_dim", video_dim, config.model.video_dim),
                             ("text_dim", text_dim, config.model.text_dim)):
        if want is not None and int(want) != int(have):
            raise ValueError(f"{what}: features have {name} = {have} but "
                             f"config.model.{name} = {want}")
    return int(video_dim), int(text_dim)


def with_feature_dims(config: RunConfig, train_set, val_set) -> RunConfig:
    """``config`` with ``model.video_dim`` / ``text_dim`` read from the train split; a set
    config value or a val split of other dims is an error."""
    video_dim, text_dim = _dataset_dims(train_set, config, "train split")
    config = config.replace({"model": {"video_dim": video_dim, "text_dim": text_dim}})
    _dataset_dims(val_set, config, "val split")
    return config


def resume_state(run_dir: Path, config: RunConfig, spec: FeatureSpec, resume: bool) -> dict | None:
    """The state of ``run_dir/last.ckpt`` when it exists (None otherwise), checked against the
    config and feature spec of this run."""
    last_path = run_dir / LAST
    if not last_path.is_file():
        return None
    if not resume:
        raise ValueError(f"{run_dir}: already holds a run ({LAST}); resume it or choose a "
                         "new run folder")
    state = load_checkpoint(last_path)
    saved_config = to_dict(from_dict(state["config"], source=f"{last_path} (config)"))
    check_config_matches(last_path, saved_config, to_dict(config))
    check_feature_spec(FeatureSpec.from_dict(state["feature_spec"]), spec.video_dim,
                       spec.text_dim, str(last_path))
    return state


def build_parts(config: RunConfig, device: torch.device) -> Parts:
    """Model (from ``config.model`` only), AdamW, StepLR and the criterion (``config.loss``)."""
    model = build_model(config.model).to(device)
    optimizer = torch.optim.AdamW(param_groups(model, config), lr=config.optim.lr,
                                  weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=config.optim.lr_drop_epochs or 10**9, gamma=0.1)
    return Parts(model, optimizer, scheduler, Criterion(config.loss))


def kinetic_parameter_names(model: torch.nn.Module) -> list[str]:
    """Full names of the RD layers' learned kinetics (:meth:`RDFusion.kinetic_parameters`)."""
    from rdmf.model.rd_fusion import RDFusion
    names = []
    for prefix, module in model.named_modules():
        if isinstance(module, RDFusion):
            names += [f"{prefix}.{n}" if prefix else n for n in module.kinetic_parameters()]
    return names


def param_groups(model: torch.nn.Module, config: RunConfig) -> list[dict]:
    """AdamW groups: every weight (lr, weight decay of ``config.optim``), then — for an RDMF
    model with learned kinetics — the kinetics (log F, log k, log Du, log σ, log dt, feed gain):
    learning rate × ``model.rd.kinetics_lr_mult`` and no weight decay (decay would pull each
    log-value towards log 1, the edge of its range)."""
    kinetic = set(kinetic_parameter_names(model))
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if n not in kinetic], "name": "weights"}]
    if kinetic:
        groups.append({"params": [p for n, p in named if n in kinetic], "name": "rd_kinetics",
                       "lr": config.optim.lr * config.model.rd.kinetics_lr_mult,
                       "weight_decay": 0.0})
    return groups


def restore(parts: Parts, state: dict | None, device: torch.device) -> Progress:
    """Load a checkpoint's weights, optimiser, scheduler and RNG into ``parts``; its progress."""
    if state is None:
        return Progress()
    load_weights(parts.model, state["model"], "checkpoint")
    parts.optimizer.load_state_dict(state["optimizer"])
    parts.scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    if device.type == "cuda" and state["rng"].get("cuda") is not None:
        torch.cuda.set_rng_state(state["rng"]["cuda"], device)
    best = state["best_metric"]
    return Progress(epoch=int(state["epoch"]), step=int(state["step"]),
                    history=list(state["history"]),
                    best_metric=float(best) if best is not None else -math.inf,
                    best_epoch=state["best_epoch"], best_files=state.get("best_files"))


def prepare_outputs(run_dir: Path, config: RunConfig, val_set, device: torch.device,
                    state: dict | None, progress: Progress) -> dict | None:
    """Write config.yaml; remove the files of a run that died before its first checkpoint, or
    repair the best epoch's files after a crash. Returns the hashes best.ckpt records."""
    save_config(config, run_dir / "config.yaml")
    if state is not None:
        return _repair_best_files(run_dir, config, val_set, device, progress.best_files)
    orphans = ("metrics.jsonl",) + (() if (run_dir / BEST).is_file() else BEST_FILES)
    for name in orphans:
        (run_dir / name).unlink(missing_ok=True)
    return progress.best_files


def wrap_for_processes(model: torch.nn.Module, info, device: torch.device) -> torch.nn.Module:
    """``model`` inside DistributedDataParallel when several processes train, else itself."""
    if not info.enabled:
        return model
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)


def epoch_batches(n: int, config: RunConfig, epoch: int) -> list[list[int]]:
    """The sample indices of each batch of ``epoch``: a seeded permutation of ``range(n)``."""
    generator = torch.Generator().manual_seed(config.seed * 10_007 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i:i + config.optim.batch_size] for i in range(0, n, config.optim.batch_size)]


def train_epoch(train_model, parts: Parts, train_set, config: RunConfig, epoch: int,
                progress: Progress, info, device: torch.device) -> dict:
    """One pass over the train split; returns the epoch's metrics row (losses averaged over
    batches, learning rate after the scheduler step, ``data_s``: the seconds spent reading and
    collating the batches, the model's compute excluded)."""
    batches = epoch_batches(len(train_set), config, epoch)
    train_model.train()
    sums: dict[str, float] = {}
    data_s = 0.0
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{config.optim.epochs}", leave=False,
               disable=not (config.progress and info.is_main))
    for batch_no, global_idx in enumerate(bar):
        start = time.perf_counter()
        local_idx, batch = read_batch(train_set, global_idx, info, device)
        data_s += time.perf_counter() - start
        values = train_step(train_model, parts, batch, local_idx, config, (epoch, batch_no),
                            progress, info, device)
        for key, value in values.items():
            sums[key] = sums.get(key, 0.0) + value
        bar.set_postfix(loss=f"{values['loss']:.3f}")
    parts.scheduler.step()
    count = max(len(batches), 1)
    return {"epoch": epoch + 1, "step": progress.step,
            "lr": parts.optimizer.param_groups[0]["lr"],
            "train_loss": sums.get("loss", 0.0) / count,
            "train": {k: v / count for k, v in sums.items() if k != "loss"},
            "data_s": round(data_s, 4)}


def read_batch(train_set, global_idx: list[int], info,
               device: torch.device) -> tuple[list[int], Batch]:
    """This process's share of one batch: its sample indices, and the samples read from
    ``train_set`` by index and collated on ``device``."""
    local_idx = distributed.shard(global_idx, info)
    return local_idx, collate([train_set[i] for i in local_idx]).to(device)


def train_step(train_model, parts: Parts, batch: Batch, local_idx: list[int], config: RunConfig,
               position: tuple[int, int], progress: Progress, info,
               device: torch.device) -> dict[str, float]:
    """Forward, loss, backward, clip and step on this process's share of one batch (``batch``,
    the samples ``local_idx`` of the train split); every non-finite input, output, loss or
    gradient norm raises :class:`NonFiniteLossError` before the optimiser moves. Returns the
    loss terms averaged over processes."""
    epoch, batch_no = position
    samples = batch.samples
    seeds = [_pair_seed(config, epoch, i) for i in local_idx]
    where = (info, epoch, batch_no, progress.step, samples, progress.last_finite)
    _check_finite(torch.stack([batch.video.sum(), batch.text.sum()]), "input features", *where, {})
    nan = torch.tensor(float("nan"), device=device)
    try:
        with _autocast(config, device):
            out = forward_batch(train_model, batch,
                           negatives=config.loss.query_negatives and len(batch) > 1)
    except NonFiniteError as err:   # e.g. the RD integrator refuses non-finite fields
        _check_finite(nan, f"forward pass ({err})", *where, {})
    # before the matcher: a NaN span or logit has no assignment
    _check_finite(_all_finite(out, device), "model output", *where, {})
    try:
        loss, terms = parts.criterion(out, batch.spans, batch.saliency, batch.video_mask, seeds)
    except NonFiniteError as err:
        _check_finite(nan, f"loss ({err})", *where, {})
    _check_finite(loss, "loss", *where, terms)
    parts.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip = config.optim.grad_clip if config.optim.grad_clip > 0 else float("inf")
    grad_norm = torch.nn.utils.clip_grad_norm_(parts.model.parameters(), clip)
    _check_finite(grad_norm, "gradient norm", *where, terms)
    parts.optimizer.step()
    progress.step += 1
    values = _mean_over_processes({"loss": loss, **terms}, info)
    progress.last_finite = {"step": progress.step, **values}
    return values


def evaluate_now(config: RunConfig, epoch: int) -> bool:
    """Every ``eval.every`` epochs and after the last."""
    return (epoch + 1) % config.eval.every == 0 or epoch + 1 == config.optim.epochs


def evaluate_epoch(model, val_set, config: RunConfig, device: torch.device, row: dict,
                   run_dir: Path, progress: Progress) -> None:
    """Val metrics into ``row``; a new best epoch writes val_preds.jsonl / val_metrics.json and
    is recorded in ``progress``."""
    rows = predict_samples(model, val_set, config, device)
    metrics = compute_metrics(rows, val_set, config)
    if metrics is None:
        return
    row["val"] = metrics["brief"]
    value = metrics["brief"].get(config.metric_name)
    if value is None:
        raise ValueError(f"config.eval.metric: {config.metric_name!r} is not among the "
                         f"val metrics {sorted(metrics['brief'])}")
    if value > progress.best_metric:
        progress.best_metric, progress.best_epoch = float(value), row["epoch"]
        row["best"] = True
        progress.best_files = _write_outputs(run_dir, "val", rows, metrics)


def checkpoint_state(config: RunConfig, spec: FeatureSpec, parts: Parts, progress: Progress,
                     device: torch.device) -> dict[str, Any]:
    """What best.ckpt / last.ckpt hold: config, feature spec, weights, optimiser, scheduler,
    progress and RNG states."""
    return {"config": to_dict(config), "feature_spec": spec.to_dict(),
            "model": parts.model.state_dict(), "optimizer": parts.optimizer.state_dict(),
            "scheduler": parts.scheduler.state_dict(), "epoch": progress.epoch,
            "step": progress.step,
            "best_metric": None if progress.best_epoch is None else progress.best_metric,
            "best_epoch": progress.best_epoch, "metric_name": config.metric_name,
            "history": progress.history, "best_files": progress.best_files,
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}}


def write_epoch(run_dir: Path, config: RunConfig, spec: FeatureSpec, parts: Parts,
                progress: Progress, row: dict, device: torch.device) -> None:
    """best.ckpt (a new best epoch), last.ckpt and metrics.jsonl after a finished epoch."""
    state = checkpoint_state(config, spec, parts, progress, device)
    if row.get("best"):
        save_checkpoint(run_dir / BEST, state)
    save_checkpoint(run_dir / LAST, state)
    atomic_write_jsonl(run_dir / "metrics.jsonl", progress.history)
    if config.progress:
        tqdm.write(_epoch_line(row, config))


def summary(run_dir: Path, config: RunConfig, progress: Progress) -> dict[str, Any]:
    """What :func:`train` returns."""
    return {"run_dir": str(run_dir), "metric_name": config.metric_name,
            "best_metric": None if progress.best_epoch is None else progress.best_metric,
            "best_epoch": progress.best_epoch, "epochs": len(progress.history),
            "last": progress.history[-1] if progress.history else None}


def _all_finite(out: dict, device: torch.device) -> torch.Tensor:
    """0.0 when every floating-point tensor of ``out`` is finite, else NaN."""
    finite = all(bool(torch.isfinite(v.detach()).all()) for v in out.values()
                 if isinstance(v, torch.Tensor) and v.is_floating_point())
    return torch.tensor(0.0 if finite else float("nan"), device=device)


def _repair_best_files(run_dir: Path, config: RunConfig, val_set, device: torch.device,
                       recorded: dict | None) -> dict | None:
    """Bring val_preds.jsonl / val_metrics.json back in step with best.ckpt after a crash
    between their writes: predict them again with best.ckpt's weights. Returns the hashes
    best.ckpt records."""
    best_path = run_dir / BEST
    if not best_path.is_file():
        return recorded
    best = load_checkpoint(best_path)
    if not best_files_out_of_step(best_path, best):
        return best.get("best_files", recorded)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        model = build_model(config.model).to(device)   # (its initialisation must not move the RNG)
    load_weights(model, best["model"], str(best_path))
    rows = predict_samples(model, val_set, config, device)
    digests = _write_outputs(run_dir, "val", rows, compute_metrics(rows, val_set, config))
    if digests != best.get("best_files"):
        save_checkpoint(best_path, {**best, "best_files": digests})
    return digests


def _mean_over_processes(terms: dict[str, torch.Tensor], info) -> dict[str, float]:
    """Loss terms as floats, averaged over DDP processes (what one process on the whole batch
    would log)."""
    values = torch.stack([v.detach().float().reshape(()) for v in terms.values()])
    if info.enabled:   # on the tensors' device: NCCL reduces CUDA tensors only
        torch.distributed.all_reduce(values)
        values = values / info.world_size
    return dict(zip(terms, values.cpu().tolist()))


def _epoch_line(row: dict, config: RunConfig) -> str:
    text = f"epoch {row['epoch']}/{config.optim.epochs}  loss {row['train_loss']:.4f}"
    if "val" in row:
        text += f"  val {config.metric_name} {row['val'].get(config.metric_name)}"
    return text + ("  (best)" if row.get("best") else "")


def _check_finite(value: torch.Tensor, what: str, info, epoch: int, batch_no: int, step: int,
                  samples: Sequence[Sample], last_finite: dict, terms: dict) -> None:
    finite = torch.isfinite(value.detach()).all().float().reshape(1)
    if info.enabled:
        torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)
    if finite.item() >= 1:
        return
    bad = {k: float(v.detach()) for k, v in terms.items() if not math.isfinite(float(v.detach()))}
    if bad:
        terms_text = f"non-finite terms {bad}; "
    elif info.enabled and bool(torch.isfinite(value.detach()).all()):
        terms_text = "non-finite on another process; "
    else:
        terms_text = ""
    raise NonFiniteLossError(
        f"non-finite {what} at epoch {epoch + 1}, batch {batch_no}, step {step + 1}; "
        f"batch qids {[s.qid for s in samples][:16]}; {terms_text}"
        f"last finite values {last_finite or '(none: first step)'}; no checkpoint was written "
        "for this epoch")


def load_weights(model: torch.nn.Module, weights: dict, where: str) -> None:
    """``model.load_state_dict(weights)``; a one-line ValueError naming ``where`` when they do not
    fit (the earlier RD-layer layout with sigmoid-squashed ``raw_F`` … gets its own message)."""
    if any(key.endswith(".rd.raw_F") or key == "raw_F" for key in weights):
        raise ValueError(f"{where}: weights of the earlier RD-layer layout (sigmoid-squashed "
                         "raw_F, raw_k, raw_r, …); this version learns log F, log k, log Du, log σ, "
                         "log dt (docs/design.md §4): retrain, or load it with the version that "
                         "wrote it")
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        raise ValueError(f"{where}: weights do not match the model its config describes "
                         f"({str(err).splitlines()[0]})") from None


# --- evaluation ----------------------------------------------------------------------------
def load_model(path_or_run_dir: str | Path, which: str = "best", device: str | torch.device = "cpu",
               data_root: str | None = None):
    """(model in eval mode, config, feature spec, checkpoint path) of a run folder or file."""
    device = _torch_device(device, "device")
    path = resolve_checkpoint(path_or_run_dir, which)
    state = load_checkpoint(path)
    if path.name == BEST:
        check_best_files(path, state)
    config = from_dict(state["config"], source=f"{path} (config)")
    if data_root is not None:
        config = config.replace({"data": {"data_root": str(data_root)}})
    model = build_model(config.model)
    load_weights(model, state["model"], str(path))
    spec = FeatureSpec.from_dict(state["feature_spec"], f"{path} (feature_spec)")
    return model.to(device).eval(), config, spec, path


def evaluate(run_dir: str | Path, split: str = "val", *, checkpoint: str = "best",
             data_root: str | None = None, dataset=None, device: str = "cpu",
             write: bool = True, out_dir: str | Path | None = None) -> dict | None:
    """Predict ``split`` with a run's checkpoint. Returns the metrics (None without labels).

    With ``write``, ``preds.jsonl``, ``metrics.json`` (labelled splits) and ``eval.json`` (what
    was evaluated) go to ``out_dir``, by default ``eval/<split>_<checkpoint>/`` beside the
    checkpoint: never over the files training wrote. An existing ``out_dir`` must be empty or
    hold an earlier ``eval.json``.
    """
    device = str(device)
    if device != "auto":
        _torch_device(device, "--device")
    path = resolve_checkpoint(run_dir, checkpoint)
    folder = Path(out_dir) if out_dir is not None else (
        path.parent / "eval" / f"{_safe_name(split)}_{_safe_name(path.stem)}")
    if write:
        _check_eval_folder(folder)
    model, config, spec, path = load_model(path, checkpoint, resolve_device(device), data_root)
    if dataset is None:
        dataset = load_split(config.data, split)
    check_not_empty(dataset, f"split {split!r}")
    video_dim, text_dim = dataset[0].video_feats.shape[1], dataset[0].text_feats.shape[1]
    check_feature_spec(spec, video_dim, text_dim, f"split {split!r} vs {path}")
    rows = predict_samples(model, dataset, config, resolve_device(device), progress=config.progress)
    metrics = compute_metrics(rows, dataset, config)
    if write:
        record = {"checkpoint": str(path), "split": split, "checkpoint_sha256": file_sha256(path)}
        # the marker first, so that a folder interrupted mid-write is still recognised as ours
        atomic_write_json(folder / EVAL_MARKER, {**record, "files": None})
        if metrics is None:
            (folder / "metrics.json").unlink(missing_ok=True)   # an earlier evaluation's
        digests = _write_outputs(folder, split, rows, metrics, prefix=False)
        atomic_write_json(folder / EVAL_MARKER, {**record, "files": digests})
    return metrics


EVAL_MARKER = "eval.json"


def _torch_device(name: str | torch.device, option: str) -> torch.device:
    """``torch.device(name)``; an unknown device type is an error naming ``option``."""
    try:
        return torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"{option}: unknown device {str(name)!r}; choose cpu, cuda or "
                         "cuda:N") from None


def _safe_name(text: str) -> str:
    """``text`` as one folder-name component (no separators, no leading dot)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text)).lstrip(".") or "_"


def _check_eval_folder(folder: Path) -> None:
    """An evaluation writes only into a folder of its own: new, empty, or one holding an earlier
    evaluation's ``eval.json``."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: --out is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / EVAL_MARKER).is_file():
        raise ValueError(f"{folder}: --out holds files that an evaluation did not write (no "
                         f"{EVAL_MARKER}); choose a new or empty folder")
    if folder.is_dir() and (folder / EVAL_MARKER).is_file():
        foreign = sorted(p.name for p in folder.iterdir()
                         if p.name not in (EVAL_MARKER, "preds.jsonl", "metrics.json"))
        if foreign:
            raise ValueError(f"{folder}: --out holds files that an evaluation did not write "
                             f"({', '.join(foreign[:3])}); choose a new or empty folder")
