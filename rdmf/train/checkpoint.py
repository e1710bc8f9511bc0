"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``, checked against
the config and the feature spec they were made with.

A checkpoint is a dict of tensors and plain Python values only::

    format, config (dict), feature_spec (dict), model, optimizer, scheduler, epoch (completed),
    step, best_metric, best_epoch, metric_name, history (list of metrics.jsonl rows), rng,
    best_files (sha256 of the best epoch's val_preds.jsonl / val_metrics.json), checksum

``checksum`` is a sha256 over every other entry (tensor bytes, dtypes, shapes and values): a
damaged file that still unpickles is refused at load. Files of the first format
(``rdmf-checkpoint-v1``) carry no checksum and load unchecked.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import torch

from rdmf.io import atomic_path

FORMAT = "rdmf-checkpoint-v2"
FORMATS = ("rdmf-checkpoint-v1", FORMAT)   # v1: no checksum
BEST, LAST = "best.ckpt", "last.ckpt"
#: the files written with best.ckpt, whose hashes it records
BEST_FILES = ("val_preds.jsonl", "val_metrics.json")
#: every file training writes into a run folder (their stale temporaries are removed on resume)
RUN_FILES = (BEST, LAST, "config.yaml", "metrics.jsonl") + BEST_FILES
# fields that may change between an interrupted run and its resumption without changing results
RESUMABLE_CHANGES = {"optim.epochs", "progress", "eval.batch_size", "data.data_root", "data.h5",
                     "device"}


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (plus the format tag and its checksum) atomically: a crash never leaves a
    half-written file."""
    payload = {"format": FORMAT, **{k: v for k, v in state.items() if k != "checksum"}}
    payload["checksum"] = content_checksum(payload)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def content_checksum(state: dict) -> str:
    """sha256 over a checkpoint's entries (except ``checksum``): tensor dtype, shape and bytes,
    and the repr of every plain value, in order."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in state.items() if k != "checksum"})
    return "sha256:" + digest.hexdigest()


def _feed(digest, value) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}:".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}:".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"{type(value).__name__}:{value!r};".encode())


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def best_files_out_of_step(best_path: Path, state: dict) -> list[str]:
    """The best-epoch files next to ``best_path`` whose content is not the one ``state``
    recorded (an interrupted write); files that are absent are not counted."""
    recorded = state.get("best_files") or {}
    return [name for name, digest in recorded.items()
            if (best_path.parent / name).is_file()
            and file_sha256(best_path.parent / name) != digest]


def check_best_files(best_path: Path, state: dict) -> None:
    """Error naming the file when a best-epoch file does not belong to ``best_path``."""
    stale = best_files_out_of_step(best_path, state)
    if stale:
        raise ValueError(f"{best_path.parent / stale[0]}: does not belong to {best_path.name} "
                         f"(epoch {state.get('best_epoch')}): a write of the best-epoch files was "
                         "interrupted; re-run the same `rdmf train` command to repair the run "
                         "folder")


_TEMPORARY = re.compile(r"\.(" + "|".join(re.escape(n) for n in RUN_FILES) + r")\.[^/]+\.tmp")


def is_run_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file of an atomic write of a run file
    (``.last.ckpt.XXXX.tmp``, ...)."""
    return _TEMPORARY.fullmatch(name) is not None


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Remove the temporary files an interrupted atomic write of a run file left behind.
    Only names of the files training writes are touched."""
    removed = []
    for path in sorted(Path(run_dir).glob(".*.tmp")):
        if is_run_temporary(path.name) and path.is_file():
            path.unlink()
            removed.append(path)
    return removed


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
    if not isinstance(state, dict) or state.get("format") not in FORMATS:
        raise ValueError(f"{path}: not an rdmf checkpoint (expected format {FORMAT!r})")
    if state["format"] != FORMATS[0]:
        stored = state.get("checksum")
        if not isinstance(stored, str):
            raise ValueError(f"{path}: checkpoint lacks its checksum (damaged file)")
        if content_checksum(state) != stored:
            raise ValueError(f"{path}: checksum mismatch: the file is damaged (its content is "
                             "not what was written)")
    for key in ("config", "feature_spec", "model"):
        if key not in state:
            raise ValueError(f"{path}: checkpoint lacks {key!r}")
    for key in ("config", "feature_spec", "model"):
        if not isinstance(state[key], dict):
            raise ValueError(f"{path}: checkpoint field {key} must be a mapping, got "
                             f"{type(state[key]).__name__}")
    check_feature_spec_fields(state["feature_spec"], str(path))
    return state


def check_feature_spec_fields(spec: dict, where: str) -> None:
    """A feature spec reads as a :class:`FeatureSpec` with a positive integer ``video_dim``;
    anything else is an error naming the field."""
    from rdmf.data.feature_spec import FeatureSpec
    if FeatureSpec.from_dict(spec, where).video_dim is None:
        raise ValueError(f"{where}: feature_spec.video_dim must be a positive integer, got None")


def config_differences(saved: dict, current: dict, ignore=RESUMABLE_CHANGES) -> list[str]:
    """Human-readable list of the config fields that differ (``section.field: saved ->
    current``) between two nested config dicts."""
    from .config import flatten
    saved, current = flatten(saved), flatten(current)
    keys = sorted((set(saved) | set(current)) - set(ignore))
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys
            if saved.get(k) != current.get(k)]


def check_config_matches(path: str | os.PathLike, saved: dict, current: dict) -> None:
    diffs = config_differences(saved, current)
    if diffs:
        raise ValueError(f"{path}: checkpoint was written with another config ("
                         + "; ".join(diffs[:6]) + (" ..." if len(diffs) > 6 else "")
                         + "); use a new run folder or the same settings")


def check_feature_spec(spec, video_dim: int, text_dim: int, where: str) -> None:
    """Error naming both sides when features do not match a :class:`FeatureSpec` (or a
    recorded spec dict)."""
    from rdmf.data.feature_spec import FeatureSpec
    spec = FeatureSpec.from_dict(spec, where)
    problems = []
    if spec.video_dim is not None and int(spec.video_dim) != int(video_dim):
        problems.append(f"video features have {video_dim} dims, the checkpoint expects "
                        f"{spec.video_dim} ({'+'.join(spec.video_feature_types)})")
    if int(spec.text_dim) != int(text_dim):
        problems.append(f"text features have {text_dim} dims, the checkpoint expects "
                        f"{spec.text_dim} ({spec.text_encoder})")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
