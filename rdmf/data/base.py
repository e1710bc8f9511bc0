"""What every reader shares: lazy loading of records, checks that name file/id/field, counted skips.

A reader builds a list of light records (ids, paths, annotations) at construction — checking the
annotations — and loads features lazily in ``__getitem__``, checking them as they arrive
(NaN/inf, feature dimension consistent across videos).
"""

from __future__ import annotations

import os
import warnings
import zipfile
import zlib
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
        with open(path, "rb") as handle:  # closed here whatever np.load finds inside
            loaded = np.load(handle)
            if key is None:
                if not isinstance(loaded, np.ndarray):
                    raise ValueError("an .npz archive where a .npy array was expected")
                arr = loaded
            else:
                if not isinstance(loaded, np.lib.npyio.NpzFile):
                    raise ValueError("not an .npz archive (a bare .npy array?)")
                if key not in loaded:
                    raise KeyError(f"{path}: no key {key!r} ({what} features of {ident}); "
                                   f"keys: {sorted(loaded.files)}")
                arr = loaded[key]
            arr = np.asarray(arr, dtype=np.float32)
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{path}: unreadable {what} features of {ident} ({err})") from None
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{path}: {what} features of {ident} have shape {arr.shape}, "
                         "expected (length, dim) with length >= 1")
    check_finite(arr, path=path, ident=ident, field=f"{what} features")
    return arr


def file_name_id(value: Any, *, where: Any, field: str) -> str:
    """``value`` as a file-name component: a non-empty string without a path separator, so that a
    path built from it (``<folder>/{value}.npz``) stays inside its folder."""
    name = str(value)
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or os.path.isabs(name)):
        raise ValueError(f"{where}: field {field!r} is {value!r}: not a plain file name (a path "
                         "built from it would leave its data folder)")
    return name


def as_float(value: Any, *, where: Any, field: str, numeric_string: bool = False) -> float:
    """A finite number from a JSON value (not a bool or null; a string only with
    ``numeric_string``, as in releases that store numbers as text); else an error naming it."""
    if numeric_string and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{where}: field {field!r} is {value!r}, expected a finite number")
    return float(value)


def as_array(value: Any, *, where: Any, field: str, shape: str, columns: int | None = None,
             integer: bool = False) -> np.ndarray:
    """A finite 2-D float array from a JSON list of rows (``columns`` per row when given); a
    string, null, ragged or wrongly shaped value is an error naming the field and ``shape``."""
    bad = ValueError(f"{where}: field {field!r} is {_short(value)}, expected {shape}")
    if not isinstance(value, list) or any(isinstance(v, (str, bool)) or v is None
                                          for v in _flat(value)):
        raise bad
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise bad from None
    if arr.size == 0:
        return arr.reshape(0, columns or 0)
    if arr.ndim != 2 or (columns is not None and arr.shape[1] != columns):
        raise bad
    if not np.isfinite(arr).all() or (integer and (arr != np.round(arr)).any()):
        raise bad
    return arr


def as_list(value: Any, *, where: Any, field: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{where}: field {field!r} is {_short(value)}, expected a list")
    return value


def as_int_list(value: Any, *, where: Any, field: str) -> list[int]:
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int)
                                          for v in value):
        raise ValueError(f"{where}: field {field!r} is {_short(value)}, expected a list of "
                         "integer clip indices")
    return list(value)


def _flat(value: Any):
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


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
