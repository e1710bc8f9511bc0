"""HDF5 feature store: one ``.h5`` per data set and split, holding the prepared samples.

Layout (format ``H5_FORMAT``)::

    /                      attrs: format, dataset, split, n_samples, source (json), complete=1
    /samples/{i:07d}/video         (L, Dv) float32, gzip, one chunk per video, fletcher32
    /samples/{i:07d}/text          (N, Dt) float32, gzip, fletcher32
    /samples/{i:07d}/clip_times    (L, 2)
    /samples/{i:07d}/windows       (M, 2)
    /samples/{i:07d}/saliency      (L, A)   (absent when the split has no labels)
        attrs: qid (json), vid, query, duration_s, meta (json)

The features stored are the PREPARED ones (normalised, endpoints appended, capped), so loading
from the store gives exactly the samples of the original reader. Integrity: the file is written
under a temporary name and renamed when complete; the root attribute ``complete`` is set last;
every array has an HDF5 Fletcher-32 checksum (a flipped byte fails the read); a truncated file
fails to open; :meth:`H5Dataset.verify` also checks that every number is finite. Each failure is
a ``ValueError`` naming the file (and the sample and field).
The annotation file beside it (``<name>.jsonl``) lists one row per sample (official QVHighlights
layout where the data set has moments).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from rdmf.io import atomic_path, atomic_write_jsonl

from .sample import Sample

H5_FORMAT = "rdmf-h5-1"


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
             source: dict | None = None, progress: bool = True, compression_level: int = 4) -> Path:
    """Write every sample of ``dataset`` (a Dataset of :class:`Sample`) into ``out_path``.

    Also writes ``out_path.with_suffix('.jsonl')`` (annotation rows). Returns ``out_path``.
    """
    import h5py
    from tqdm import tqdm

    out_path = Path(out_path)
    if len(dataset) == 0:
        raise ValueError(f"{out_path}: {dataset_name} {split}: no samples to write; nothing was "
                         "written")
    rows = []
    with atomic_path(out_path) as tmp:
        with h5py.File(tmp, "w") as h5:
            h5.attrs["format"] = H5_FORMAT
            h5.attrs["dataset"] = dataset_name
            h5.attrs["split"] = split
            h5.attrs["source"] = json.dumps(source or {})
            group = h5.create_group("samples")
            n = len(dataset)
            for i in tqdm(range(n), desc=f"h5 {dataset_name} {split}".strip(), disable=not progress):
                s = dataset[i]
                g = group.create_group(f"{i:07d}")
                opts = dict(compression="gzip", compression_opts=compression_level,
                            fletcher32=True)
                g.create_dataset("video", data=s.video_feats, chunks=s.video_feats.shape, **opts)
                g.create_dataset("text", data=s.text_feats, chunks=s.text_feats.shape, **opts)
                g.create_dataset("clip_times", data=np.asarray(s.clip_times_s), fletcher32=True)
                g.create_dataset("windows", data=np.asarray(s.windows_s).reshape(-1, 2),
                                 fletcher32=True)
                if s.saliency is not None:
                    g.create_dataset("saliency", data=s.saliency, fletcher32=True)
                g.attrs["qid"] = json.dumps(s.qid)
                g.attrs["vid"] = s.vid
                g.attrs["query"] = s.query
                g.attrs["duration_s"] = float(s.duration_s)
                g.attrs["meta"] = json.dumps(s.meta)
                rows.append(_row(s))
            h5.attrs["n_samples"] = n
            h5.flush()
            h5.attrs["complete"] = 1  # set last: a file without it was not finished
    atomic_write_jsonl(out_path.with_suffix(".jsonl"), rows)
    return out_path


class H5Dataset(Dataset):
    """Samples from a store written by :func:`write_h5` (opened lazily, once per process)."""

    def __init__(self, path: str | Path, *, verify: bool = False) -> None:
        self.path = Path(path)
        self._file = None
        self._pid = None
        h5 = self._open()
        attrs = dict(h5.attrs)
        if attrs.get("format") != H5_FORMAT:
            raise ValueError(f"{self.path}: not an rdmf feature store (format "
                             f"{attrs.get('format')!r}, expected {H5_FORMAT!r})")
        if int(attrs.get("complete", 0)) != 1:
            raise ValueError(f"{self.path}: incomplete feature store (attribute 'complete' "
                             "missing: the writer was interrupted); re-run rdmf data prepare")
        self.n = int(attrs["n_samples"])
        self.dataset_name, self.split = str(attrs["dataset"]), str(attrs["split"])
        self.source = json.loads(attrs.get("source", "{}"))
        if "samples" not in h5 or len(h5["samples"]) != self.n:
            raise ValueError(f"{self.path}: corrupt feature store: {self.n} samples announced, "
                             f"{len(h5['samples']) if 'samples' in h5 else 0} present")
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
        return self._file

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_file"] = None
        return state

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < self.n:
            raise IndexError(index)
        try:
            g = self._open()["samples"][f"{index:07d}"]
            saliency = g["saliency"][()] if "saliency" in g else None
            return Sample(qid=json.loads(g.attrs["qid"]), vid=str(g.attrs["vid"]),
                          query=str(g.attrs["query"]), video_feats=g["video"][()],
                          text_feats=g["text"][()], duration_s=float(g.attrs["duration_s"]),
                          clip_times_s=g["clip_times"][()], windows_s=g["windows"][()],
                          saliency=saliency, meta=json.loads(g.attrs["meta"]))
        except (OSError, KeyError) as err:
            raise ValueError(f"{self.path}: corrupt feature store, sample {index} unreadable "
                             f"({err})") from None

    def verify(self) -> None:
        """Read every array (Fletcher-32 checks each chunk) and check that every number is
        finite; ValueError naming the sample and field on the first failure."""
        for i in range(self.n):
            s = self[i]
            fields = {"video": s.video_feats, "text": s.text_feats, "clip_times": s.clip_times_s,
                      "windows": s.windows_s, "saliency": s.saliency,
                      "duration_s": np.asarray(s.duration_s)}
            for field, value in fields.items():
                if value is not None and not np.isfinite(np.asarray(value, np.float64)).all():
                    raise ValueError(f"{self.path}: sample {i} (qid {s.qid}, vid {s.vid}): "
                                     f"field {field!r} holds NaN or inf")


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a file written by :func:`write_h5` (its ``format`` attribute)."""
    import h5py
    try:
        with h5py.File(path, "r") as h5:
            return h5.attrs.get("format") == H5_FORMAT
    except OSError:
        return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
