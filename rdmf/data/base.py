"""What every reader shares: lazy loading of records, checks that name file/id/field, counted skips.

A reader builds a list of light records (ids, paths, annotations) at construction — checking the
annotations — and loads features lazily in ``__getitem__``, checking them as they arrive
(NaN/inf, feature dimension consistent across videos).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from .sample import Sample


class DataWarning(UserWarning):
    """Skipped ids and other recoverable data problems."""


def load_array(path: Path, key: str | None, *, what: str, ident: Any) -> np.ndarray:
    """Load ``path`` (``.npy`` or ``key`` of an ``.npz``) as float32; clear errors naming file/id."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} features of {ident} not found")
    try:
        if key is None:
            arr = np.load(path)
        else:
            with np.load(path) as npz:
                if key not in npz:
                    raise KeyError(f"{path}: no key {key!r} ({what} features of {ident}); "
                                   f"keys: {sorted(npz.files)}")
                arr = npz[key]
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: unreadable {what} features of {ident} ({err})") from None
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{path}: {what} features of {ident} have shape {arr.shape}, "
                         "expected (length, dim) with length >= 1")
    check_finite(arr, path=path, ident=ident, field=f"{what} features")
    return arr


def check_finite(arr: np.ndarray, *, path: Any, ident: Any, field: str) -> None:
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{path}: {field} of {ident} contain NaN or inf (first at index {bad})")


def check_windows(windows: np.ndarray, duration_s: float, *, path: Any, ident: Any,
                  field: str = "relevant_windows", tol: float = 1e-6) -> None:
    """Windows ``(M, 2)`` must satisfy ``0 <= start < end <= duration``."""
    for start, end in np.asarray(windows, np.float64).reshape(-1, 2):
        if not (np.isfinite(start) and np.isfinite(end)):
            raise ValueError(f"{path}: {field} of {ident}: non-finite window [{start}, {end}]")
        if end <= start:
            raise ValueError(f"{path}: {field} of {ident}: window [{start}, {end}] has end <= start")
        if start < -tol or end > duration_s + tol:
            raise ValueError(f"{path}: {field} of {ident}: window [{start}, {end}] lies outside "
                             f"the video [0, {duration_s}]")


def check_query(query: Any, *, path: Any, ident: Any) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"{path}: field 'query' of {ident} is empty")
    return query


class RecordDataset(Dataset):
    """Base class: ``self.records`` (list of dict) and ``self.load(record) -> Sample``."""

    name = "dataset"

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.skipped: dict[str, int] = {}
        self._dims: dict[str, tuple[int, Any]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> Sample:
        record = self.records[index]
        sample = self.load(record)
        self._check_dim("video", sample.video_feats.shape[1], sample.vid)
        self._check_dim("text", sample.text_feats.shape[1], sample.qid)
        return sample

    def load(self, record: dict) -> Sample:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_dim(self, kind: str, dim: int, ident: Any) -> None:
        first = self._dims.setdefault(kind, (dim, ident))
        if first[0] != dim:
            raise ValueError(f"{self.name}: {kind} feature dimension mismatch: {ident} has {dim}, "
                             f"{first[1]} has {first[0]}")

    def skip(self, reason: str, ident: Any, *, strict: bool) -> None:
        """Count a skipped id (or raise with ``strict``)."""
        if strict:
            raise ValueError(f"{self.name}: {ident}: {reason} (strict mode)")
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def warn_skipped(self) -> None:
        if self.skipped:
            parts = ", ".join(f"{n} {reason}" for reason, n in self.skipped.items())
            warnings.warn(f"{self.name}: skipped {sum(self.skipped.values())} ids ({parts})",
                          DataWarning, stacklevel=3)

    def samples(self) -> list[Sample]:
        """Load every sample (checks them all)."""
        return [self[i] for i in range(len(self))]
