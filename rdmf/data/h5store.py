"""HDF5 feature store: one ``.h5`` per data set and split, holding the prepared samples.

Layout (format ``H5_FORMAT``): every field of every sample concatenated along its first axis in
one contiguous, uncompressed dataset, so that one sample is one slice read per field::

    /                   attrs: format, dataset, split, n_samples, source (json), complete=1
    /video              (ΣL, Dv)   video features, the dtype of the samples (float32)
    /text               (ΣN, Dt)   query token features
    /clip_times         (ΣL, 2)    float64
    /windows            (ΣM, 2)    float64
    /saliency           (ΣL', A)   (absent when no sample has labels)
    /offsets/<field>    (n + 1,)   int64: sample i holds rows offsets[i]:offsets[i + 1]
    /checksums          (n, 5)     uint32: CRC-32 of the stored bytes of each field of each sample
    /records            (bytes,)   uint8: UTF-8 JSON list, per sample qid, vid, query,
                                   duration_s, meta and the dtype of each field

The features stored are the PREPARED ones (normalised, endpoints appended, capped), so loading
from the store gives exactly the samples of the original reader (same values, same dtypes).
Reading a sample copies one slice per field out of a memory map of the file, opened once per
process; there is no decompression and no per-sample HDF5 group, dataset or attribute lookup.

Integrity: the file is written under a temporary name and renamed when complete; the root
attribute ``complete`` is set last; the first read of a sample in a process checks the CRC-32
of its fields (a flipped byte fails the read; later epochs do not pay for the check again); a
truncated file fails to open; :meth:`H5Dataset.verify` also checks that every number is finite. Each failure is a ``ValueError`` naming the file (and the
sample and field). The annotation file beside it (``<name>.jsonl``) lists one row per sample
(official QVHighlights layout where the data set has moments).
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from rdmf.io import atomic_path, atomic_write_jsonl

from .sample import Sample

H5_FORMAT = "rdmf-h5-2"
FIELDS = ("video", "text", "clip_times", "windows", "saliency")
#: the dtype each field is stored in; None: the dtype of the first sample that has the field
STORED_DTYPES = {"video": None, "text": None, "clip_times": np.float64, "windows": np.float64,
                 "saliency": None}
COPY_ROWS = 1 << 16


def sample_arrays(sample: Sample) -> dict[str, np.ndarray | None]:
    """The array fields of ``sample`` by store field name (2-D each; saliency may be None)."""
    return {"video": np.asarray(sample.video_feats), "text": np.asarray(sample.text_feats),
            "clip_times": np.asarray(sample.clip_times_s).reshape(-1, 2),
            "windows": np.asarray(sample.windows_s).reshape(-1, 2),
            "saliency": None if sample.saliency is None else np.asarray(sample.saliency)}


def _row(sample: Sample) -> dict:
    row = {"qid": sample.qid, "vid": sample.vid, "query": sample.query,
           "duration": float(sample.duration_s), "num_clips": sample.num_clips}
    if len(sample.windows_s):
        row["relevant_windows"] = sample.windows_s.astype(float).tolist()
    if sample.saliency is not None:
        if len(sample.windows_s) and sample.saliency.shape[1] == 3:
            ids = np.flatnonzero(sample.saliency.max(1) > 0)
            centers = sample.clip_times_s.mean(1)
            inside = np.zeros(sample.num_clips, bool)
            for a, b in sample.windows_s:
                inside |= (centers > a) & (centers < b)
            ids = np.flatnonzero(inside | (sample.saliency.max(1) > 0))
            row["relevant_clip_ids"] = ids.tolist()
            row["saliency_scores"] = sample.saliency[ids].astype(int).tolist()
    if "domain" in sample.meta:
        row["domain"] = sample.meta["domain"]
    return row


def write_h5(dataset: Any, out_path: str | Path, *, dataset_name: str = "", split: str = "",
             source: dict | None = None, progress: bool = True) -> Path:
    """Write every sample of ``dataset`` (a Dataset of :class:`Sample`) into ``out_path``.

    Also writes ``out_path.with_suffix('.jsonl')`` (annotation rows). Returns ``out_path``.
    The samples are streamed to scratch files beside ``out_path`` first (one pass over the
    data set), then copied into the contiguous datasets.
    """
    import h5py
    from tqdm import tqdm

    out_path = Path(out_path)
    n = len(dataset)
    if n == 0:
        raise ValueError(f"{out_path}: {dataset_name} {split}: no samples to write; nothing was "
                         "written")
    rows, records = [], []
    offsets = {field: [0] for field in FIELDS}
    checksums = np.zeros((n, len(FIELDS)), np.uint32)
    layout: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}  # field -> (stored dtype, columns)
    with atomic_path(out_path) as tmp, tempfile.TemporaryDirectory(dir=tmp.parent,
                                                                   prefix=".h5-") as scratch:
        parts = {field: open(Path(scratch) / field, "wb") for field in FIELDS}
        try:
            for i in tqdm(range(n), desc=f"h5 {dataset_name} {split}".strip(),
                          disable=not progress):
                s = dataset[i]
                dtypes = {}
                for j, (field, arr) in enumerate(sample_arrays(s).items()):
                    if arr is None:
                        offsets[field].append(offsets[field][-1])
                        dtypes[field] = None
                        continue
                    stored = _stored(field, arr, layout, i, out_path)
                    data = np.ascontiguousarray(arr, dtype=stored)
                    checksums[i, j] = zlib.crc32(data)
                    parts[field].write(data.tobytes())
                    offsets[field].append(offsets[field][-1] + len(data))
                    dtypes[field] = arr.dtype.str
                records.append({"qid": s.qid, "vid": s.vid, "query": s.query,
                                "duration_s": float(s.duration_s), "meta": s.meta,
                                "dtypes": dtypes})
                rows.append(_row(s))
        finally:
            for handle in parts.values():
                handle.close()
        with h5py.File(tmp, "w") as h5:
            h5.attrs["format"] = H5_FORMAT
            h5.attrs["dataset"] = dataset_name
            h5.attrs["split"] = split
            h5.attrs["source"] = json.dumps(source or {})
            for field, (stored, columns) in layout.items():
                total = offsets[field][-1]
                target = h5.create_dataset(field, shape=(total, *columns), dtype=stored)
                if total:
                    part = np.memmap(Path(scratch) / field, dtype=stored, mode="r",
                                     shape=(total, *columns))
                    for a in range(0, total, COPY_ROWS):
                        target[a:a + COPY_ROWS] = part[a:a + COPY_ROWS]
                    del part
                h5.create_dataset(f"offsets/{field}", data=np.asarray(offsets[field], np.int64))
            h5.create_dataset("checksums", data=checksums)
            h5.create_dataset("records", data=np.frombuffer(json.dumps(records).encode(), np.uint8))
            h5.attrs["n_samples"] = n
            h5.flush()
            h5.attrs["complete"] = 1  # set last: a file without it was not finished
    atomic_write_jsonl(out_path.with_suffix(".jsonl"), rows)
    return out_path


def _stored(field: str, arr: np.ndarray, layout: dict, index: int, path: Path) -> np.dtype:
    """The stored dtype of ``field`` (fixed by the first sample that has it); ValueError when a
    sample's columns differ or its dtype does not convert to the stored one without loss."""
    if field not in layout:
        layout[field] = (np.dtype(STORED_DTYPES[field] or arr.dtype), arr.shape[1:])
    stored, columns = layout[field]
    if arr.shape[1:] != columns or not np.can_cast(arr.dtype, stored, "safe"):
        raise ValueError(f"{path}: sample {index}: field {field!r} of shape {arr.shape} and dtype "
                         f"{arr.dtype} does not fit the store's (rows, {columns}) {stored}")
    return stored


class H5Dataset(Dataset):
    """Samples from a store written by :func:`write_h5`.

    The file is opened once per process (a DataLoader worker opens its own on first use); the
    offsets and the per-sample records are read once, when the data set is built. The checksums
    of a sample are checked on its first read in this object.
    """

    def __init__(self, path: str | Path, *, verify: bool = False) -> None:
        self.path = Path(path)
        self._file = None
        self._pid = None
        self._arrays: dict[str, Any] = {}
        h5 = self._open()
        attrs = dict(h5.attrs)
        if attrs.get("format") != H5_FORMAT:
            raise ValueError(f"{self.path}: not an rdmf feature store of this version (format "
                             f"{attrs.get('format')!r}, expected {H5_FORMAT!r}); re-run "
                             "rdmf data prepare")
        if int(attrs.get("complete", 0)) != 1:
            raise ValueError(f"{self.path}: incomplete feature store (attribute 'complete' "
                             "missing: the writer was interrupted); re-run rdmf data prepare")
        self.n = int(attrs["n_samples"])
        self.dataset_name, self.split = str(attrs["dataset"]), str(attrs["split"])
        self.source = json.loads(attrs.get("source", "{}"))
        try:
            self.records = json.loads(h5["records"][()].tobytes().decode())
            self.offsets = {field: h5[f"offsets/{field}"][()] for field in FIELDS
                            if f"offsets/{field}" in h5}
            self.checksums = h5["checksums"][()]
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"{self.path}: corrupt feature store ({err})") from None
        counts = {len(self.records), len(self.checksums),
                  *(len(o) - 1 for o in self.offsets.values())}
        if counts != {self.n} or not {"video", "text", "clip_times", "windows"} <= set(self.offsets):
            raise ValueError(f"{self.path}: corrupt feature store: {self.n} samples announced, "
                             f"{sorted(counts)} present")
        self._checked = np.zeros(self.n, bool)  # samples whose checksums this process checked
        if verify:
            self.verify()

    def _open(self):
        import h5py
        if self._file is None or self._pid != os.getpid():
            if not self.path.is_file():
                raise FileNotFoundError(f"{self.path}: feature store not found "
                                        "(create it with rdmf data prepare)")
            try:
                self._file = h5py.File(self.path, "r")
            except OSError as err:
                raise ValueError(f"{self.path}: corrupt or truncated HDF5 file ({err})") from None
            self._pid = os.getpid()
            self._arrays = {}
        return self._file

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_file"], state["_arrays"] = None, {}
        return state

    def __len__(self) -> int:
        return self.n

    def _read(self, index: int) -> dict[str, np.ndarray | None]:
        """The stored arrays of sample ``index`` by field, in their original dtypes."""
        h5 = self._open()
        dtypes = self.records[index]["dtypes"]
        out: dict[str, np.ndarray | None] = {}
        for field, offsets in self.offsets.items():
            if dtypes.get(field) is None:
                out[field] = None
                continue
            if field not in self._arrays:
                self._arrays[field] = self._mapped(h5[field])
            array = self._arrays[field]
            a, b = int(offsets[index]), int(offsets[index + 1])
            out[field] = np.array(array[a:b]) if b > a else np.zeros((0, *array.shape[1:]),
                                                                     array.dtype)
        out.setdefault("saliency", None)
        return out

    def _mapped(self, dataset):
        """A read-only memory map of a contiguous, unfiltered dataset (what :func:`write_h5`
        writes): a sample is then a copy of a slice of it, with no HDF5 call per read. Any other
        layout is read through h5py."""
        offset = dataset.id.get_offset()
        if offset is None or dataset.chunks is not None or dataset.compression is not None:
            return dataset
        # a plain ndarray view of the map: its slices skip np.memmap's per-slice Python hook
        return np.asarray(np.memmap(self.path, dtype=dataset.dtype, mode="r", offset=offset,
                                    shape=dataset.shape))

    def _check(self, index: int, arrays: dict[str, np.ndarray | None]) -> None:
        for j, field in enumerate(FIELDS):
            value = arrays[field]
            if value is not None and zlib.crc32(np.ascontiguousarray(value)) != self.checksums[index, j]:
                raise ValueError(f"{self.path}: corrupt feature store, sample {index} unreadable "
                                 f"(field {field!r} fails its CRC-32 checksum)")

    def _sample(self, index: int, arrays: dict[str, np.ndarray | None]) -> Sample:
        record = self.records[index]
        dtypes = record["dtypes"]
        for field, value in arrays.items():
            if value is not None and value.dtype.str != dtypes[field]:
                arrays[field] = value.astype(dtypes[field])  # exact: stored by a safe cast
        return Sample(qid=record["qid"], vid=str(record["vid"]), query=str(record["query"]),
                      video_feats=arrays["video"], text_feats=arrays["text"],
                      duration_s=float(record["duration_s"]), clip_times_s=arrays["clip_times"],
                      windows_s=arrays["windows"], saliency=arrays["saliency"],
                      meta=record["meta"])

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < self.n:
            raise IndexError(index)
        try:
            arrays = self._read(index)
        except (OSError, KeyError) as err:
            raise ValueError(f"{self.path}: corrupt feature store, sample {index} unreadable "
                             f"({err})") from None
        if not self._checked[index]:
            self._check(index, arrays)
            self._checked[index] = True
        return self._sample(index, arrays)

    def verify(self) -> None:
        """Read every sample, check that every number is finite and every checksum matches;
        ValueError naming the sample and field on the first failure."""
        for i in range(self.n):
            try:
                arrays = self._read(i)
            except (OSError, KeyError) as err:
                raise ValueError(f"{self.path}: corrupt feature store, sample {i} unreadable "
                                 f"({err})") from None
            record = self.records[i]
            values = dict(arrays, duration_s=np.asarray(record["duration_s"]))
            for field, value in values.items():
                if value is not None and not np.isfinite(np.asarray(value, np.float64)).all():
                    raise ValueError(f"{self.path}: sample {i} (qid {record['qid']}, vid "
                                     f"{record['vid']}): field {field!r} holds NaN or inf")
            self._check(i, arrays)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._arrays = {}


def store_format(path: str | Path) -> str | None:
    """The ``format`` attribute of an HDF5 file, or None when ``path`` is no readable HDF5 file."""
    import h5py
    try:
        with h5py.File(path, "r") as h5:
            value = h5.attrs.get("format")
    except OSError:
        return None
    return None if value is None else str(value)


def read_source(path: str | Path) -> dict:
    """The provenance a store records (its ``source`` attribute); empty when ``path`` is no
    readable HDF5 file or records none."""
    import h5py
    try:
        with h5py.File(path, "r") as h5:
            value = h5.attrs.get("source")
    except OSError:
        return {}
    try:
        out = json.loads(value) if value is not None else {}
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a file written by :func:`write_h5` (this format or an earlier one)."""
    return (store_format(path) or "").startswith("rdmf-h5-")
