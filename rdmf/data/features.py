"""Feature normalisation shared by every data set, training and prediction (Moment-DETR rules).

- Each video feature type is L2-normalised per clip, the types are concatenated, then two
  temporal-endpoint features ``(i / L, (i + 1) / L)`` are appended (SlowFast 2304 + CLIP 512 + 2
  = 2818 for QVHighlights).
- Text token features are L2-normalised per token and capped at ``max_tokens`` (32).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def l2_normalise(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=axis, keepdims=True), EPS)


def temporal_endpoints(num_clips: int) -> np.ndarray:
    """(L, 2) temporal-endpoint features: start and end of each clip as a fraction of the video."""
    start = np.arange(num_clips, dtype=np.float32) / max(num_clips, 1)
    return np.stack([start, start + 1.0 / max(num_clips, 1)], axis=1).astype(np.float32)


def prepare_video_features(feature_types: list[np.ndarray], *, add_endpoints: bool = True,
                           normalise: bool = True, max_clips: int | None = None) -> np.ndarray:
    """Per-type L2 normalisation, concatenation, optional cap, temporal-endpoint features.

    Args:
        feature_types: list of (L_t, D_t) arrays, one per feature type; trimmed to the shortest L.
        max_clips: cap on the number of clips (75 for QVHighlights), None for no cap.
    Returns:
        (L, sum D_t [+ 2]) float32.
    """
    if not feature_types:
        raise ValueError("prepare_video_features: no feature types given")
    length = min(f.shape[0] for f in feature_types)
    if max_clips is not None:
        length = min(length, max_clips)
    parts = [(l2_normalise(f[:length]) if normalise else np.asarray(f[:length], np.float32))
             for f in feature_types]
    if add_endpoints:
        parts.append(temporal_endpoints(length))
    return np.concatenate(parts, axis=1).astype(np.float32)


def prepare_text_features(tokens: np.ndarray, *, max_tokens: int = 32,
                          normalise: bool = True) -> np.ndarray:
    """(N, D) token features -> (min(N, max_tokens), D) float32, L2-normalised per token."""
    tokens = np.asarray(tokens, dtype=np.float32)
    if tokens.ndim == 1:
        tokens = tokens[None]
    tokens = tokens[:max_tokens]
    return l2_normalise(tokens) if normalise else tokens
