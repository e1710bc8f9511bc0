"""Moment retrieval and highlight detection on any video file, from Python.

>>> vp = VideoPredictor.load("runs/qvh_clip", clip_model="openai/clip-vit-base-patch32")
>>> result = vp.predict("my_video.mp4", "a man opens the fridge")[0]
>>> result.windows[0]          # [start_s, end_s, score]
>>> vp.save(result, "out/")    # JSON + PNG

The checkpoint's ``feature_spec`` is checked against the CLIP extractor when the object is built,
before any video is decoded. Features are computed once per video (and cached on disk when a
``cache_dir`` is given); each query then costs one text-encoder pass and one model pass.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rdmf.data.feature_spec import FeatureSpec
from rdmf.data.features import prepare_text_features, prepare_video_features
from rdmf.io import atomic_write_json

from .chunking import average_saliency, chunk_ranges, merge_windows
from .clip_features import ClipExtractor, VideoFeatures, extract_video_features
from .decode import CLIP_LEN_S

DEFAULT_MAX_CLIPS = 75      # QVHighlights: 150 s of 2-s clips
DEFAULT_MAX_TOKENS = 32


# -------------------------------------------------------------------- feature-spec checking
def check_compatible(expected: FeatureSpec, extractor: ClipExtractor,
                     checkpoint: str) -> FeatureSpec:
    """Raise ``ValueError`` naming the checkpoint and the CLIP weights when they do not fit.

    Returns ``expected`` with ``endpoints`` resolved (from the total width when not stated).
    """
    where = f"checkpoint {checkpoint}"
    clip_name = f"--clip-model {extractor.name}"
    types = tuple(t.lower() for t in expected.video_feature_types)
    if types and not all(t.startswith("clip") for t in types):
        described = " + ".join(types) + (f" ({expected.video_dim}-d in all)"
                                         if expected.video_dim else "")
        raise ValueError(
            f"{where} expects video features {described}, but `rdmf predict` extracts CLIP "
            "image features only: use a model trained on CLIP features alone (docs/predict.md)")
    if len(types) > 1:
        raise ValueError(f"{where} expects {len(types)} video feature types {list(types)}; "
                         "`rdmf predict` extracts one (CLIP image features)")
    if expected.video_feature_dims is not None and expected.video_feature_dims[0] != extractor.image_dim:
        raise ValueError(
            f"{where} expects {expected.video_feature_dims[0]}-d CLIP image features, but {clip_name} "
            f"produces {extractor.image_dim}-d: use the CLIP weights the model was trained with")
    endpoints = expected.endpoints
    if expected.video_dim is not None:
        if endpoints is None:
            options = {extractor.image_dim + 2: True, extractor.image_dim: False}
            if expected.video_dim not in options:
                raise ValueError(
                    f"{where} expects {expected.video_dim}-d video input, but {clip_name} "
                    f"produces {extractor.image_dim}-d image features ({extractor.image_dim + 2} "
                    "with the temporal endpoints): use the CLIP weights the model was trained "
                    "with")
            endpoints = options[expected.video_dim]
        elif expected.video_dim != extractor.image_dim + 2 * endpoints:
            raise ValueError(
                f"{where} expects {expected.video_dim}-d video input, but {clip_name} gives "
                f"{extractor.image_dim + 2 * endpoints}-d: use the CLIP weights the model was "
                "trained with")
    if endpoints is None:
        endpoints = True
    encoder = expected.text_encoder.lower()
    if encoder != "unknown" and not encoder.startswith("clip"):
        raise ValueError(
            f"{where} expects {encoder} text features, but `rdmf predict` encodes "
            f"queries with CLIP ({extractor.name}): use a model trained on CLIP text features")
    if expected.text_dim != extractor.text_dim:
        raise ValueError(
            f"{where} expects {expected.text_dim}-d text token features, but {clip_name} "
            f"produces {extractor.text_dim}-d token features")
    if abs(expected.clip_len_s - CLIP_LEN_S) > 1e-9:
        raise ValueError(f"{where} was trained on {expected.clip_len_s}-s clips; `rdmf predict` "
                         f"cuts videos into {CLIP_LEN_S}-s clips")
    return replace(expected, endpoints=endpoints)


def _with_model_limits(expected: FeatureSpec, predictor) -> FeatureSpec:
    """Trained length and token cap from the predictor's run config when the spec does not give
    them: ``data.max_clips`` (None = no cap, no chunking) and ``data.max_text_tokens``; without
    a config, QVHighlights' 75 clips and 32 tokens."""
    config = getattr(predictor, "config", None)
    data = getattr(config, "data", None)
    max_clips, max_tokens = expected.max_clips, expected.max_tokens
    if max_clips is None:
        max_clips = DEFAULT_MAX_CLIPS if data is None else (data.max_clips or 10**9)
    if max_tokens is None:
        max_tokens = (data.max_text_tokens if data is not None else None) or DEFAULT_MAX_TOKENS
    return replace(expected, max_clips=int(max_clips), max_tokens=int(max_tokens))


# -------------------------------------------------------------------- results
@dataclass
class QueryPrediction:
    """The answer for one (video, query) pair; ``to_json()`` is the file ``rdmf predict`` writes.

    ``windows``: [[start_s, end_s, score], ...] by descending score; ``saliency``: (L,) per clip.
    """

    video: str
    query: str
    windows: list[list[float]]
    saliency: list[float]
    clip_len_s: float
    duration_s: float
    centres_s: list[float]
    chunks: list[list[int]]
    video_sha256: str
    extractor_id: str
    clip_model: str
    checkpoint: str
    features_from_cache: bool = False
    extra: dict = field(default_factory=dict)
    thumbnails: np.ndarray | None = field(default=None, repr=False)  # (L, h, w, 3), not saved

    def to_json(self) -> dict:
        return {
            "video": self.video,
            "query": self.query,
            "windows": [[float(s), float(e), float(c)] for s, e, c in self.windows],
            "saliency": [float(x) for x in self.saliency],
            "clip_len_s": self.clip_len_s,
            "duration_s": self.duration_s,
            "num_clips": len(self.saliency),
            "clip_centres_s": [float(t) for t in self.centres_s],
            "chunks_clips": self.chunks,
            "video_sha256": self.video_sha256,
            "extractor": self.extractor_id,
            "clip_model": self.clip_model,
            "checkpoint": self.checkpoint,
            **self.extra,
        }

    def file_stem(self) -> str:
        """``<video stem>__<query slug>_<8 hex>`` (unique per video and query)."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.query.lower()).strip("-")[:40] or "query"
        digest = hashlib.sha256(f"{self.video_sha256}\n{self.query}".encode()).hexdigest()[:8]
        return f"{Path(self.video).stem}__{slug}_{digest}"


# -------------------------------------------------------------------- the predictor
class VideoPredictor:
    """Decode -> CLIP features (cached) -> model, for any video file and free-text queries.

    Args:
        predictor: an object with ``feature_spec`` (dict) and
            ``predict(video_feats (L, Dv), text_feats (N, Dt), duration_s, clip_len_s, top_k)
            -> {"windows": [[s, e, score], ...], "saliency": [L floats]}``
            (``rdmf.inference.Predictor``).
        extractor: a :class:`ClipExtractor`.
        checkpoint: a name for the checkpoint, recorded in outputs and errors.
        cache_dir: where per-video feature files go (None: no cache).
        overlap_clips: overlap of consecutive chunks for long videos (default half a chunk).
        top_k: windows kept per query.
        nms_iou: long videos only: a window whose temporal IoU with a better-scoring kept
            window (from any chunk) is at least this is dropped (rdmf.video.chunking).
    """

    def __init__(self, predictor, extractor: ClipExtractor, *, checkpoint: str = "in-memory",
                 cache_dir: str | Path | None = None, overlap_clips: int | None = None,
                 top_k: int = 10, nms_iou: float = 0.5, progress: bool = True):
        self.predictor = predictor
        self.extractor = extractor
        self.checkpoint = str(checkpoint)
        expected = FeatureSpec.from_dict(getattr(predictor, "feature_spec", None),
                                         source=f"checkpoint {checkpoint}")
        expected = _with_model_limits(expected, predictor)
        self.expected = check_compatible(expected, extractor, self.checkpoint)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.overlap_clips = overlap_clips
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        self.top_k = int(top_k)
        self.nms_iou = float(nms_iou)
        self.progress = progress
        self._memory: dict[str, VideoFeatures] = {}

    @classmethod
    def load(cls, checkpoint: str | Path, clip_model: str, *, device: str = "cpu",
             **kwargs) -> "VideoPredictor":
        """Load ``rdmf.inference.Predictor.from_checkpoint(checkpoint)`` and CLIP weights."""
        from rdmf.inference import Predictor

        checkpoint = Path(checkpoint)
        if not checkpoint.exists():
            raise FileNotFoundError(f"--checkpoint {checkpoint}: no such file or run folder")
        predictor = Predictor.from_checkpoint(checkpoint, device=device)
        extractor = ClipExtractor.from_pretrained(clip_model, device=device,
                                                  progress=kwargs.get("progress", True))
        return cls(predictor, extractor, checkpoint=str(checkpoint), **kwargs)

    # ------------------------------------------------------------ features
    def features(self, video: str | Path) -> VideoFeatures:
        """Raw CLIP features of ``video`` (memoised per path and file content; disk cache)."""
        video = Path(video)
        stat = video.stat() if video.is_file() else None
        key = f"{video.resolve()}:{stat.st_size}:{stat.st_mtime_ns}" if stat else None
        if key in self._memory:
            return self._memory[key]
        feats = extract_video_features(video, self.extractor, cache_dir=self.cache_dir,
                                       clip_len_s=self.expected.clip_len_s,
                                       progress=self.progress)
        if key is not None:
            self._memory = {key: feats}  # keep the last video only
        return feats

    # ------------------------------------------------------------ prediction
    def predict(self, video: str | Path, queries: str | list[str]) -> list[QueryPrediction]:
        """One :class:`QueryPrediction` per query (queries validated before any decoding)."""
        queries = [queries] if isinstance(queries, str) else list(queries)
        if not queries:
            raise ValueError("no query given")
        for number, query in enumerate(queries, start=1):
            if not isinstance(query, str) or not query.strip():
                raise ValueError(f"query {number} is empty: give a sentence describing the moment")
        feats = self.features(video)
        return [self._predict_one(feats, query.strip()) for query in queries]

    def _predict_one(self, feats: VideoFeatures, query: str) -> QueryPrediction:
        expected = self.expected
        clip_len_s = feats.info.clip_len_s
        duration_s = feats.info.duration_s
        text = prepare_text_features(self.extractor.encode_text(query),
                                     max_tokens=expected.max_tokens)
        chunks = chunk_ranges(feats.num_clips, expected.max_clips, self.overlap_clips)
        chunk_windows, chunk_saliency, offsets = [], [], []
        for start, end in chunks:
            video = prepare_video_features([feats.clip_features[start:end]],
                                           add_endpoints=expected.endpoints)
            offset_s = start * clip_len_s
            chunk_duration_s = min(end * clip_len_s, duration_s) - offset_s
            out = self.predictor.predict(video, text, chunk_duration_s, clip_len_s=clip_len_s,
                                         top_k=self.top_k)
            saliency = np.asarray(out["saliency"], dtype=np.float64).reshape(-1)
            chunk_windows.append([list(map(float, w[:3])) for w in out["windows"]])
            chunk_saliency.append(saliency[: end - start])
            offsets.append(offset_s)
        saliency = average_saliency(chunks, chunk_saliency, feats.num_clips)
        if len(chunks) == 1:  # the model's own answer, unchanged (no NMS, as in training)
            windows = [[min(max(s, 0.0), duration_s), min(max(e, 0.0), duration_s), c]
                       for s, e, c in chunk_windows[0][: self.top_k]]
        else:
            windows = merge_windows(chunk_windows, offsets, duration_s, top_k=self.top_k,
                                    nms_iou=self.nms_iou)
        return QueryPrediction(
            video=feats.info.path, query=query, windows=windows, saliency=saliency.tolist(),
            clip_len_s=clip_len_s, duration_s=duration_s, centres_s=feats.centres_s.tolist(),
            chunks=[[int(s), int(e)] for s, e in chunks], video_sha256=feats.video_sha256,
            extractor_id=feats.extractor_id, clip_model=self.extractor.name,
            checkpoint=self.checkpoint, features_from_cache=feats.from_cache,
            thumbnails=feats.thumbnails)

    # ------------------------------------------------------------ outputs
    @staticmethod
    def save(result: QueryPrediction, out_dir: str | Path, *, figure: bool = True
             ) -> dict[str, Path]:
        """Write ``<stem>.json`` (and ``<stem>.png``) into ``out_dir`` atomically."""
        return save_prediction(result, out_dir, figure=figure)


def prediction_paths(result: QueryPrediction, out_dir: str | Path, *, figure: bool = True
                     ) -> dict[str, Path]:
    """``{"json": <out_dir>/<stem>.json[, "png": <out_dir>/<stem>.png]}``, always inside
    ``out_dir`` (the stem is built from the video name and the query; a name that would leave
    the folder is a ``ValueError``)."""
    out_dir = Path(out_dir)
    stem = result.file_stem()
    paths = {"json": out_dir / f"{stem}.json"}
    if figure:
        paths["png"] = out_dir / f"{stem}.png"
    for path in paths.values():
        if path.parent != out_dir or path.name in (".", "..") or "/" in stem or "\\" in stem:
            raise ValueError(f"{result.video}: output name {stem!r} would leave {out_dir}")
    return paths


def save_prediction(result: QueryPrediction, out_dir: str | Path, *, figure: bool = True
                    ) -> dict[str, Path]:
    """Write ``<out_dir>/<stem>.json`` and ``<stem>.png`` atomically; returns their paths."""
    from .plot import save_prediction_figure

    paths = prediction_paths(result, out_dir, figure=figure)
    if figure:
        save_prediction_figure(result, paths["png"])
    atomic_write_json(paths["json"], result.to_json(), ndigits=6)
    return paths
