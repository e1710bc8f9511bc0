"""One entry point for every data set: :func:`build_dataset`."""

from __future__ import annotations

import json
from pathlib import Path

from torch.utils.data import Dataset

from rdmf.paths import data_root as resolve_data_root
from rdmf.paths import generated_data_dir

from . import synth
from .h5store import H5_FORMAT, H5Dataset, read_source, store_format, write_h5

DATASETS = ("synthetic", "qvhighlights", "tvsum", "youtube")
ROOT_FOLDERS = {"qvhighlights": "qvhighlights", "tvsum": "tvsum", "youtube": "youtube_highlights"}
_DEFAULT = object()


def real_dataset_dir(name: str, data_root=None) -> Path:
    """``<data root>/<folder of name>``; a clear error when the root is unset or lacks it."""
    root = resolve_data_root(data_root, must_exist=True)
    path = root / ROOT_FOLDERS[name]
    if not path.is_dir():
        raise FileNotFoundError(f"data root {root} has no {ROOT_FOLDERS[name]}/ folder "
                                f"(needed for data set {name!r})")
    return path


def h5_path(name: str, split: str, *, domain=None, size="ci", seed=0, clip_noise=1.0,
            synth_params=None) -> Path:
    """Default location of a data set's store under ``data/h5/``."""
    base = generated_data_dir() / "h5"
    if name == "synthetic":
        return base / "synthetic" / synth.dataset_name(size, seed, clip_noise, synth_params) / f"{split}.h5"
    tag = f"{domain}_{split}" if domain else split
    return base / name / f"{tag}.h5"


def build_dataset(name: str, split: str, *, data_root=None, domain: str | None = None,
                  size: str = "ci", seed: int = 0, h5: bool | str | Path = False,
                  max_clips=_DEFAULT, clip_noise: float = 1.0, synth_params: dict | None = None,
                  strict: bool = False, progress: bool = False, **kw) -> Dataset:
    """A ``Dataset`` of :class:`rdmf.data.sample.Sample`.

    Args:
        name: ``synthetic`` | ``qvhighlights`` | ``tvsum`` | ``youtube``.
        split: ``train`` | ``val`` | ``test`` (TVSum/YouTube: train | val).
        data_root: real data root (else ``$RDMF_DATA_ROOT``); unused for ``synthetic``.
        domain: TVSum / YouTube domain, or ``"all"`` (required for those two).
        size, seed, clip_noise: which synthetic set (generated under ``data/synthetic/`` on first
            use; ``clip_noise`` scales its clutter and noise, 1.0 = default difficulty;
            ``synth_params`` overrides other difficulty knobs of ``synth.DEFAULT_PARAMS``).
        h5: ``True`` to read from the HDF5 store at the default place (written on first use,
            and written again when it holds an older store format or other data: its recorded
            :func:`provenance` differs from these arguments'), or the path of a store (a store
            recording other data is then an error).
        max_clips: video length cap (default 75 for QVHighlights/synthetic, none for TVSum and
            YouTube).
        strict: TVSum/YouTube ids without annotation or features raise instead of being
            skipped with a counted warning.
        kw: passed to the reader (e.g. ``feature_types``, ``features_dir``, ``missing``,
            ``layout``, ``test_with_gt``).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid: {', '.join(DATASETS)}")
    if h5:
        path = Path(h5) if not isinstance(h5, bool) else h5_path(
            name, split, domain=domain, size=size, seed=seed, clip_noise=clip_noise,
            synth_params=synth_params)
        wanted = provenance(name, split, data_root=data_root, domain=domain, size=size,
                            seed=seed, max_clips=max_clips, clip_noise=clip_noise,
                            synth_params=synth_params, strict=strict, reader_kw=kw)
        if isinstance(h5, bool) and (store_format(path) != H5_FORMAT
                                     or stale_fields(path, wanted)):
            source = build_dataset(name, split, data_root=data_root, domain=domain, size=size,
                                   seed=seed, max_clips=max_clips, clip_noise=clip_noise,
                                   synth_params=synth_params, strict=strict, **kw)
            write_h5(source, path, dataset_name=name, split=split, progress=progress,
                     source=describe(source, wanted))
        store = H5Dataset(path)
        stale = stale_fields(path, wanted, store.source)
        if stale:
            raise ValueError(f"{path}: the feature store was written for other data ("
                             + "; ".join(stale) + "); write it again (rdmf data prepare) or "
                             "read the per-file arrays")
        return store
    if name == "synthetic":
        from .qvhighlights import MomentDataset
        if split not in synth.SPLITS:
            raise ValueError(f"unknown synthetic split {split!r}; valid: {', '.join(synth.SPLITS)}")
        folder = synth.ensure(size, seed, clip_noise=clip_noise, params=synth_params,
                              progress=progress)
        ds = MomentDataset(folder / "annotations" / f"synthetic_{split}.jsonl",
                           [folder / "video_features"], folder / "text_features",
                           max_clips=75 if max_clips is _DEFAULT else max_clips,
                           name="synthetic", **kw)
        ds.folder, ds.meta = folder, synth.read_meta(folder)
        return ds
    if name == "qvhighlights":
        from .qvhighlights import qvhighlights_dataset
        return qvhighlights_dataset(real_dataset_dir(name, data_root), split,
                                    max_clips=75 if max_clips is _DEFAULT else max_clips, **kw)
    cap = None if max_clips is _DEFAULT else max_clips
    if name == "tvsum":
        from .tvsum import TVSumDataset
        return TVSumDataset(real_dataset_dir(name, data_root), split, domain, strict=strict,
                            max_clips=cap, **kw)
    from .youtube import YouTubeDataset
    return YouTubeDataset(real_dataset_dir(name, data_root), split, domain, strict=strict,
                          max_clips=cap, **kw)


def input_files(ds) -> dict[str, set[Path]]:
    """The files a reader reads (annotations, features), grouped by file name."""
    paths = [getattr(ds, "annotation_file", None)]
    for record in getattr(ds, "records", ()):
        paths += list(record.get("video_paths", ())) + [record.get("text_path"),
                                                         record.get("source")]
    out: dict[str, set[Path]] = {}
    for path in paths:
        if path is not None:
            out.setdefault(Path(path).name, set()).add(Path(path))
    return out


def provenance(name: str, split: str, *, data_root=None, domain=None, size="ci", seed=0,
               max_clips=_DEFAULT, clip_noise=1.0, synth_params=None, strict=False,
               reader_kw: dict | None = None) -> dict:
    """Everything that decides the samples :func:`build_dataset` reads, as plain JSON values: the
    data set, split and domain, the resolved data root (real data) or the synthetic set's size,
    seed, clip noise, knobs and generator version, the clip cap, ``strict`` and the reader's
    other arguments. A store records it (``source``) and is read only for the same values."""
    if max_clips is _DEFAULT:
        max_clips = 75 if name in ("synthetic", "qvhighlights") else None
    out = {"dataset": name, "split": split, "domain": domain, "strict": bool(strict),
           "max_clips": max_clips,
           "reader": json.loads(json.dumps(dict(sorted((reader_kw or {}).items())), default=str))}
    if name == "synthetic":
        out.update(size=size, seed=seed, clip_noise=float(clip_noise),
                   params=synth.resolve_params(synth_params),
                   generator_version=synth.GENERATOR_VERSION)
    else:
        out["data_root"] = str(resolve_data_root(data_root, must_exist=True))
    return out


def stale_fields(path, wanted: dict, recorded: dict | None = None) -> list[str]:
    """The provenance fields on which the store at ``path`` (or its ``recorded`` source) differs
    from ``wanted`` (:func:`provenance`), as ``"field: stored X, wanted Y"``; empty when it
    holds exactly the wanted samples."""
    if recorded is None:
        recorded = read_source(path)
    return [f"{key}: stored " + (repr(recorded[key]) if key in recorded else "nothing")
            + f", wanted {value!r}" for key, value in wanted.items()
            if recorded.get(key, _DEFAULT) != value]


def describe(ds, wanted: dict) -> dict:
    """Provenance stored in an h5 file: :func:`provenance` plus the sample count and what the
    reader skipped."""
    out = {**wanted, "n_samples": len(ds)}
    if getattr(ds, "skipped", None):
        out["skipped"] = dict(ds.skipped)
    return out
