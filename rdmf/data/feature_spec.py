"""What a trained model consumes: :class:`FeatureSpec`, recorded in every checkpoint by
training (:func:`rdmf.train.datasets.feature_spec`) and read back by evaluation, inference and
``rdmf predict`` through the same :meth:`FeatureSpec.from_dict`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from rdmf.data.sample import CLIP_LEN_S


@dataclass(frozen=True)
class FeatureSpec:
    """The features a model was trained on.

    ``video_dim`` is the model's whole video input width (feature types concatenated, plus the
    two temporal-endpoint features when ``endpoints``); ``video_feature_dims`` the width of
    each type when known; ``endpoints`` None when not stated; ``max_clips`` / ``max_tokens``
    the trained video length / query-token cap when recorded (None: take them from the run
    config).
    """

    video_feature_types: tuple[str, ...]
    video_dim: int | None
    text_dim: int
    text_encoder: str = "unknown"
    clip_len_s: float = CLIP_LEN_S
    dataset: str | None = None
    video_feature_dims: tuple[int, ...] | None = None
    endpoints: bool | None = None
    max_clips: int | None = None
    max_tokens: int | None = None
    clip_model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists; unset optional fields left out), safe for
        ``torch.load(weights_only=True)``."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: "Mapping[str, Any] | FeatureSpec | None",
                  source: str = "checkpoint") -> "FeatureSpec":
        """Read a recorded spec: the fields above, or the spellings of :data:`SPELLINGS`
        (including the nested ``{"video": {...}, "text": {...}}`` form); wrong types are errors
        naming ``source`` and the field."""
        if isinstance(data, FeatureSpec):
            return data
        if not isinstance(data, Mapping):
            raise ValueError(f"{source}: has no feature_spec dict (got {type(data).__name__}); "
                             "cannot tell which features the model expects")
        spec = _canonical(data)
        types = spec.get("video_feature_types") or []
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) for t in types):
            raise ValueError(f"{source}: feature_spec.video_feature_types must be a list of "
                             f"names, got {types!r}")
        dims = spec.get("video_feature_dims")
        dims = [dims] if isinstance(dims, int) else dims
        if dims is not None and len(types) != len(dims):
            raise ValueError(f"{source}: feature_spec lists {len(types)} video feature types "
                             f"but {len(dims)} dims")
        if spec.get("video_dim") is None and dims is None:
            raise ValueError(f"{source}: feature_spec gives no video feature dimension "
                             f"(keys {sorted(data)})")
        if spec.get("text_dim") is None:
            raise ValueError(f"{source}: feature_spec gives no text feature dimension "
                             f"(keys {sorted(data)})")
        for key in ("video_dim", "text_dim"):
            value = spec.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"{source}: feature_spec.{key} must be a positive integer, "
                                 f"got {value!r}")
        encoder = spec.get("text_encoder")
        if encoder is not None and not isinstance(encoder, str):
            raise ValueError(f"{source}: feature_spec.text_encoder must be a name, got "
                             f"{encoder!r}")
        return cls(
            video_feature_types=tuple(types),
            video_dim=spec.get("video_dim"), text_dim=spec["text_dim"],
            text_encoder=encoder or "unknown",
            clip_len_s=float(spec.get("clip_len_s") or CLIP_LEN_S),
            dataset=spec.get("dataset"),
            video_feature_dims=tuple(int(d) for d in dims) if dims is not None else None,
            endpoints=bool(spec["endpoints"]) if spec.get("endpoints") is not None else None,
            max_clips=_optional_int(spec.get("max_clips")),
            max_tokens=_optional_int(spec.get("max_tokens")),
            clip_model=spec.get("clip_model"))


#: other spellings of the fields (``video.types`` is the key ``types`` inside ``video``); the
#: first one present wins
SPELLINGS: dict[str, tuple[str, ...]] = {
    "video_feature_types": ("video.types", "video.feature_types", "video_feature_types",
                            "video_types"),
    "video_feature_dims": ("video.dims", "video.feature_dims", "video_feature_dims",
                           "video_dims"),
    "video_dim": ("video.dim", "video_dim"),
    "endpoints": ("video.endpoints", "video.tef", "endpoints", "tef", "temporal_endpoints"),
    "text_dim": ("text.dim", "text_dim"),
    "text_encoder": ("text.encoder", "text_encoder"),
    "max_clips": ("max_clips", "max_v_l"),
    "max_tokens": ("max_tokens", "max_q_l"),
    "clip_len_s": ("clip_len_s",),
    "dataset": ("dataset",),
    "clip_model": ("clip_model",),
}


def _canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: value}`` from the first spelling of each field that is present and not None."""
    out = {}
    for name, spellings in SPELLINGS.items():
        for spelling in spellings:
            outer, _, inner = spelling.rpartition(".")
            where = data.get(outer) if outer else data
            if isinstance(where, Mapping) and where.get(inner) is not None:
                out[name] = where[inner]
                break
    return out


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
