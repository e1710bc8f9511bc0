"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``, checked against
the config and the feature spec they were made with.

A checkpoint is a dict of tensors and plain Python values only::

    format, config (dict), feature_spec (dict), model, optimizer, scheduler, epoch (completed),
    step, best_metric, best_epoch, metric_name, history (list of metrics.jsonl rows), rng
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from rdmf.io import atomic_path

FORMAT = "rdmf-checkpoint-v1"
BEST, LAST = "best.ckpt", "last.ckpt"
# fields that may change between an interrupted run and its resumption without changing results
RESUMABLE_CHANGES = {"epochs", "progress", "eval_batch_size", "data_root", "device"}


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the format tag) atomically: a crash never leaves a half-written file."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)
    return Path(path)


def resolve_checkpoint(path_or_run_dir: str | os.PathLike, which: str = "best") -> Path:
    """A checkpoint file, or ``<run_dir>/{best,last}.ckpt``; a clear error when missing."""
    path = Path(path_or_run_dir)
    if path.is_dir():
        name = {"best": BEST, "last": LAST}.get(which)
        if name is None:
            raise ValueError(f"checkpoint: choose 'best' or 'last', got {which!r}")
        candidate = path / name
        if not candidate.is_file():
            raise FileNotFoundError(f"{path}: no {name} in this run folder (was training started "
                                    "and did it finish one epoch?)")
        return candidate
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint or run folder")
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ValueError(f"{path}: not a readable rdmf checkpoint ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: not an rdmf checkpoint (expected format {FORMAT!r})")
    for key in ("config", "feature_spec", "model"):
        if key not in state:
            raise ValueError(f"{path}: checkpoint lacks {key!r}")
    return state


def config_differences(saved: dict, current: dict, ignore=RESUMABLE_CHANGES) -> list[str]:
    """Human-readable list of the config fields that differ (``field: saved -> current``)."""
    keys = sorted((set(saved) | set(current)) - set(ignore))
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys
            if saved.get(k) != current.get(k)]


def check_config_matches(path: str | os.PathLike, saved: dict, current: dict) -> None:
    diffs = config_differences(saved, current)
    if diffs:
        raise ValueError(f"{path}: checkpoint was written with another config ("
                         + "; ".join(diffs[:6]) + (" ..." if len(diffs) > 6 else "")
                         + "); use a new run folder or the same settings")


def check_feature_spec(spec: dict, video_dim: int, text_dim: int, where: str) -> None:
    """Error naming both sides when features do not match the checkpoint's feature spec."""
    problems = []
    if int(spec["video_dim"]) != int(video_dim):
        problems.append(f"video features have {video_dim} dims, the checkpoint expects "
                        f"{spec['video_dim']} ({'+'.join(spec.get('video_feature_types', []))})")
    if int(spec["text_dim"]) != int(text_dim):
        problems.append(f"text features have {text_dim} dims, the checkpoint expects "
                        f"{spec['text_dim']} ({spec.get('text_encoder')})")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
