"""Inference on one (video features, query) pair: the API behind ``rdmf predict`` and the notebooks.

    predictor = Predictor.from_checkpoint("runs/x", device="cpu")
    predictor.feature_spec          # FeatureSpec(video_feature_types, video_dim, text_encoder, ...)
    out = predictor.predict(video_feats, text_feats, duration_s=150.0)
    out["windows"]                  # [[start_s, end_s, score], ...] best first
    out["saliency"]                 # one score per clip

Features must already be prepared exactly as in training (``rdmf.data.features``).
"""

from __future__ import annotations

import os

import numpy as np
import torch

from rdmf.model.span_utils import spans_to_windows
from rdmf.data.feature_spec import FeatureSpec
from rdmf.train.checkpoint import check_feature_spec
from rdmf.train.engine import load_model


class Predictor:
    """A trained model in eval mode with the feature spec of its checkpoint."""

    def __init__(self, model, config, feature_spec: FeatureSpec | dict,
                 device: str | torch.device = "cpu", source: str = "model"):
        self.model, self.config = model.eval(), config
        self.feature_spec = FeatureSpec.from_dict(feature_spec, source)
        self.device = torch.device(device)
        self.source = source

    @classmethod
    def from_checkpoint(cls, path_or_run_dir: str | os.PathLike, device: str = "cpu",
                        which: str = "best") -> "Predictor":
        model, config, spec, path = load_model(path_or_run_dir, which, device)
        return cls(model, config, spec, device, source=str(path))

    @torch.no_grad()
    def predict(self, video_feats: np.ndarray, text_feats: np.ndarray, duration_s: float,
                clip_len_s: float = 2.0, top_k: int = 10) -> dict:
        """Top windows and per-clip saliency for one query on one video.

        Args:
            video_feats: (L, Dv) float32, prepared as in training.
            text_feats: (N, Dt) float32, prepared as in training.
            duration_s: video length in seconds (windows are clamped to it).
            clip_len_s: clip length (windows are rounded to this grid).
            top_k: number of windows returned (at most the number of decoder queries).
        Returns:
            {"windows": [[start_s, end_s, score], ...] sorted by score (descending),
             "saliency": [L floats]}; HD-only models return no windows (empty list).
        """
        video = np.asarray(video_feats, dtype=np.float32)
        text = np.asarray(text_feats, dtype=np.float32)
        if video.ndim != 2 or text.ndim != 2:
            raise ValueError(f"predict: video_feats must be (L, Dv) and text_feats (N, Dt); got "
                             f"{video.shape} and {text.shape}")
        if video.shape[0] == 0 or text.shape[0] == 0:
            raise ValueError("predict: empty video or query features")
        check_feature_spec(self.feature_spec, video.shape[1], text.shape[1],
                           f"predict with {self.source}")
        if not (np.isfinite(video).all() and np.isfinite(text).all()):
            raise ValueError("predict: features contain NaN or inf")
        if not duration_s > 0 or not clip_len_s > 0:
            raise ValueError(f"predict: duration_s ({duration_s}) and clip_len_s ({clip_len_s}) "
                             "must be > 0")
        v = torch.from_numpy(video)[None].to(self.device)
        t = torch.from_numpy(text)[None].to(self.device)
        vm = torch.ones(v.shape[:2], dtype=torch.bool, device=self.device)
        tm = torch.ones(t.shape[:2], dtype=torch.bool, device=self.device)
        out = self.model(v, vm, t, tm)
        result = {"windows": [], "saliency": [float(x) for x in out["saliency"][0].float().cpu()]}
        if "pred_spans" in out:
            scores = out["pred_logits"][0].float().softmax(-1)[:, 0].cpu()
            windows = spans_to_windows(out["pred_spans"][0].float().cpu(), duration_s, clip_len_s)
            order = torch.sort(scores, descending=True, stable=True).indices[:top_k]
            result["windows"] = [[float(windows[q, 0]) + 0.0, float(windows[q, 1]) + 0.0,
                                  float(scores[q])]
                                 for q in order]
        return result
