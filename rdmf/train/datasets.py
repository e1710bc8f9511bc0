"""Glue between the data sets of :mod:`rdmf.data` and training: loading a split, the feature spec
a checkpoint records, and ground-truth rows in the official QVHighlights layout."""

from __future__ import annotations

from typing import Sequence

from rdmf.data.feature_spec import FeatureSpec
from rdmf.data.sample import Sample

#: what each data set feeds the model when the data set itself does not say (``feature_spec``)
DEFAULT_FEATURE_SPECS = {
    "synthetic": {"video_feature_types": ["synthetic_minilm_projection"],
                  "text_encoder": "all-MiniLM-L6-v2"},
    "qvhighlights": {"video_feature_types": ["slowfast", "clip"], "text_encoder": "clip"},
    "tvsum": {"video_feature_types": ["i3d_rgb", "i3d_opt"], "text_encoder": "clip"},
    "youtube": {"video_feature_types": ["i3d_rgb", "i3d_opt"], "text_encoder": "none"},
}


def load_split(config, split: str):
    """The ``split`` of the data set a run config's ``data`` section (:class:`DataConfig`)
    names, through ``rdmf.data.build_dataset`` (from its HDF5 store when ``config.h5``); an
    empty split is an error naming the data set, split and data root."""
    try:
        from rdmf.data import build_dataset
    except ImportError:
        raise ValueError("rdmf.data.build_dataset is not available in this checkout: the data "
                         "readers are missing") from None
    kwargs = {"data_root": config.data_root, "domain": config.domain, "size": config.size,
              "seed": config.seed, "max_clips": config.max_clips}
    if config.dataset == "synthetic":
        kwargs["clip_noise"] = config.clip_noise
    if config.video_feature_types:
        kwargs["feature_types"] = tuple(config.video_feature_types)
    dataset = build_dataset(config.dataset, split, h5=config.h5, **kwargs)
    check_not_empty(dataset, f"data set {config.dataset!r}, split {split!r}"
                    + (f", domain {config.domain!r}" if config.domain else "")
                    + (f", data root {config.data_root}" if config.data_root else ""))
    return dataset


def check_not_empty(dataset, what: str) -> None:
    if dataset is None or len(dataset) == 0:
        raise ValueError(f"{what}: the split is empty (no samples to train or evaluate on)")


def feature_spec(config, dataset, video_dim: int, text_dim: int) -> FeatureSpec:
    """Feature types and dims the model is trained on (recorded in every checkpoint).

    ``config``: a run config's ``data`` section; ``dataset`` may state its own ``feature_spec``
    (a dict in :meth:`FeatureSpec.from_dict`'s spellings).
    """
    spec = dict(DEFAULT_FEATURE_SPECS.get(config.dataset, {}))
    spec.update(getattr(dataset, "feature_spec", None) or {})
    if config.video_feature_types:
        spec["video_feature_types"] = list(config.video_feature_types)
    spec.update({"video_dim": int(video_dim), "text_dim": int(text_dim),
                 "clip_len_s": float(config.clip_len_s), "dataset": config.dataset})
    return FeatureSpec.from_dict(spec, source=f"data set {config.dataset!r}")


def ground_truth_rows(samples: Sequence[Sample]) -> list[dict]:
    """Official-layout ground-truth rows of labelled samples (the data layer's definition)."""
    from rdmf.data.trivial import ground_truth_rows as rows
    return rows(list(samples))
