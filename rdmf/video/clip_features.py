"""CLIP image and text features for a video and its queries, as QVHighlights' CLIP features.

QVHighlights ships, per 2-second clip, the projected CLIP ViT-B/32 image embedding of the clip's
frame (512-d) and, per query, the CLIP text transformer's last hidden state of every token
(after the final layer norm, including the start and end tokens; 512-d). This module computes
the same two quantities with ``transformers.CLIPModel`` from whatever weights the user names.
Normalisation (L2 per clip / per token, temporal endpoints, 32-token cap) is NOT applied here: it
is ``rdmf.data.features.prepare_*``, shared with training, applied by the predictor.

Video features are cached per video in one HDF5 file keyed by the video's content hash and the
extractor's identity (weights + preprocessing), so that new queries on the same video skip
decoding and the image encoder.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdmf.io import atomic_path

from .decode import CLIP_LEN_S, VideoInfo, iter_clip_frames, probe_video

# OpenAI CLIP's preprocessing constants (used when the weights folder has no preprocessor config)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
THUMB_HEIGHT = 72
CACHE_VERSION = 1


class ClipExtractor:
    """Image and text features from a ``transformers.CLIPModel``.

    Args:
        model: a ``CLIPModel`` (in memory, e.g. a tiny random one in tests).
        tokenizer: its tokenizer (callable returning ``input_ids`` and ``attention_mask``).
        name: a human-readable name of the weights (hub id or folder) recorded in outputs.
        image_size: side of the square model input (default: the vision config's).
        mean, std: per-channel normalisation of [0, 1] RGB pixels.
        device: torch device string.
        batch_size: frames per forward pass.
    """

    def __init__(self, model, tokenizer, *, name: str = "in-memory", image_size: int | None = None,
                 mean=CLIP_MEAN, std=CLIP_STD, device: str = "cpu", batch_size: int = 32):
        import torch

        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.name = name
        self.image_size = int(image_size or model.config.vision_config.image_size)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self.device = device
        self.batch_size = int(batch_size)
        self._id: str | None = None

    @classmethod
    def from_pretrained(cls, name_or_path: str, *, device: str = "cpu", batch_size: int = 32,
                        progress: bool = True) -> "ClipExtractor":
        """Load weights, tokenizer and preprocessing from a local folder or a hub id.

        A hub id is resolved by ``transformers`` (its cache, or a download on the user's machine).
        """
        from transformers import AutoTokenizer, CLIPModel
        from transformers.utils import logging as hf_logging

        was_enabled = hf_logging.is_progress_bar_enabled()
        if not progress:
            hf_logging.disable_progress_bar()
        try:
            model = CLIPModel.from_pretrained(name_or_path)
            tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        except (OSError, ValueError) as err:
            text = str(err).strip()
            first_line = text.splitlines()[0] if text else type(err).__name__
            raise ValueError(f"--clip-model {name_or_path}: cannot load CLIP weights and tokenizer "
                             f"({first_line})") from None
        finally:
            if was_enabled:
                hf_logging.enable_progress_bar()
        size, mean, std = None, CLIP_MEAN, CLIP_STD
        config_file = Path(name_or_path) / "preprocessor_config.json"
        if config_file.is_file():
            pre = json.loads(config_file.read_text())
            crop = pre.get("crop_size")
            size = crop.get("height") if isinstance(crop, dict) else crop
            mean = tuple(pre.get("image_mean", mean))
            std = tuple(pre.get("image_std", std))
        return cls(model, tokenizer, name=str(name_or_path), image_size=size, mean=mean, std=std,
                   device=device, batch_size=batch_size)

    # ---------------------------------------------------------------- what it produces
    @property
    def image_dim(self) -> int:
        return int(self.model.config.projection_dim)

    @property
    def text_dim(self) -> int:
        return int(self.model.config.text_config.hidden_size)

    def feature_spec(self) -> dict:
        """What this extractor produces, in the vocabulary of a checkpoint's ``feature_spec``."""
        return {"video": {"types": ["clip"], "dims": [self.image_dim]},
                "text": {"encoder": "clip", "dim": self.text_dim},
                "clip_model": self.name}

    @property
    def extractor_id(self) -> str:
        """``clip-<16 hex>``: hash of the weights and the preprocessing (the cache key's half)."""
        if self._id is None:
            digest = hashlib.sha256()
            digest.update(json.dumps({"v": CACHE_VERSION, "size": self.image_size,
                                      "mean": self.mean.flatten().tolist(),
                                      "std": self.std.flatten().tolist()}).encode())
            for key, tensor in sorted(self.model.state_dict().items()):
                digest.update(key.encode())
                digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
            self._id = "clip-" + digest.hexdigest()[:16]
        return self._id

    # ---------------------------------------------------------------- encoders
    def preprocess(self, frames: list[np.ndarray]):
        """List of (H, W, 3) uint8 frames -> (B, 3, S, S) float32 tensor (CLIP preprocessing).

        Resize the shorter side to S (bicubic, PIL), crop the centre S x S, scale to [0, 1],
        normalise with ``mean``/``std``.
        """
        import torch
        from PIL import Image

        size = self.image_size
        batch = []
        for frame in frames:
            image = Image.fromarray(frame)
            width, height = image.size
            scale = size / min(width, height)
            new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
            image = image.resize((new_w, new_h), Image.Resampling.BICUBIC)
            left, top = (new_w - size) // 2, (new_h - size) // 2
            image = image.crop((left, top, left + size, top + size))
            batch.append(np.asarray(image, dtype=np.float32) / 255.0)
        pixels = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2)
        return (pixels - self.mean) / self.std

    def encode_images(self, frames: list[np.ndarray]) -> np.ndarray:
        """List of B (H, W, 3) uint8 frames -> (B, image_dim) float32 projected image embeddings."""
        import torch

        with torch.inference_mode():
            pixels = self.preprocess(frames).to(self.device)
            pooled = self.model.vision_model(pixel_values=pixels).pooler_output
            return self.model.visual_projection(pooled).float().cpu().numpy()

    def encode_text(self, query: str) -> np.ndarray:
        """One query -> (N_tokens, text_dim) float32 last hidden states of its valid tokens."""
        import torch

        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"empty query {query!r}: give a sentence describing the moment")
        max_len = int(self.model.config.text_config.max_position_embeddings)
        tokens = self.tokenizer(query.strip(), truncation=True, max_length=max_len,
                                return_tensors="pt")
        with torch.inference_mode():
            out = self.model.text_model(input_ids=tokens["input_ids"].to(self.device),
                                        attention_mask=tokens["attention_mask"].to(self.device))
        valid = int(tokens["attention_mask"][0].sum())
        return out.last_hidden_state[0, :valid].float().cpu().numpy()


# -------------------------------------------------------------------- per-video features
@dataclass
class VideoFeatures:
    """Raw (un-normalised) CLIP features of every clip of one video.

    Attributes:
        clip_features: (L, D) float32 projected CLIP image embeddings, one per clip.
        centres_s: (L,) float64 time of the frame that represents each clip.
        thumbnails: (L, h, w, 3) uint8 small frames (for figures).
        info: the decoder's :class:`VideoInfo`.
        video_sha256: content hash of the file.
        extractor_id: :attr:`ClipExtractor.extractor_id`.
        from_cache: True when read from the cache instead of decoded.
    """

    clip_features: np.ndarray
    centres_s: np.ndarray
    thumbnails: np.ndarray
    info: VideoInfo
    video_sha256: str
    extractor_id: str
    from_cache: bool = False

    @property
    def num_clips(self) -> int:
        return int(self.clip_features.shape[0])


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def cache_file(cache_dir: str | Path, video_sha256: str, extractor_id: str) -> Path:
    """``<cache_dir>/<video sha256[:20]>__<extractor id>.h5``.

    Both parts are hashes (hex digits, letters, ``-``), so the file stays inside ``cache_dir``;
    anything else is a ``ValueError``.
    """
    name = f"{video_sha256[:20]}__{extractor_id}.h5"
    if not re.fullmatch(r"[0-9a-f]{1,20}__[A-Za-z0-9-]+\.h5", name):
        raise ValueError(f"feature cache: {name!r} is not a cache file name (a video hash and an "
                         f"extractor id); refusing to write outside {cache_dir}")
    return Path(cache_dir) / name


def _thumbnail(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))


def _thumb_size(info: VideoInfo) -> tuple[int, int]:
    width = round(THUMB_HEIGHT * info.width / max(info.height, 1))
    return (int(min(max(width, 8), 4 * THUMB_HEIGHT)), THUMB_HEIGHT)


def write_cache(path: Path, features: VideoFeatures) -> None:
    import h5py

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            handle.create_dataset("clip_features", data=features.clip_features)
            handle.create_dataset("centres_s", data=features.centres_s)
            handle.create_dataset("thumbnails", data=features.thumbnails, compression="gzip")
            handle.attrs["info"] = json.dumps(features.info.to_dict())
            handle.attrs["video_sha256"] = features.video_sha256
            handle.attrs["extractor_id"] = features.extractor_id
            handle.attrs["cache_version"] = CACHE_VERSION


def read_cache(path: Path, video_path: str | Path) -> VideoFeatures | None:
    """The cached features, or None when the file is absent, stale or unreadable."""
    import h5py

    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as handle:
            if int(handle.attrs.get("cache_version", -1)) != CACHE_VERSION:
                return None
            info = json.loads(handle.attrs["info"])
            info["path"] = str(video_path)  # same content may live under another name
            return VideoFeatures(
                clip_features=handle["clip_features"][()].astype(np.float32),
                centres_s=handle["centres_s"][()].astype(np.float64),
                thumbnails=handle["thumbnails"][()],
                info=VideoInfo(**info), video_sha256=str(handle.attrs["video_sha256"]),
                extractor_id=str(handle.attrs["extractor_id"]), from_cache=True)
    except (OSError, KeyError, ValueError, TypeError):
        return None  # a damaged cache entry is recomputed, never trusted


def extract_video_features(video: str | Path, extractor: ClipExtractor, *,
                           cache_dir: str | Path | None = None, clip_len_s: float = CLIP_LEN_S,
                           progress: bool = True) -> VideoFeatures:
    """Decode one frame per clip and encode it with CLIP, or read the result from the cache.

    Returns :class:`VideoFeatures` with ``clip_features`` (L, image_dim), L = ceil(duration / 2 s).
    """
    from tqdm.auto import tqdm

    video = Path(video)
    info = probe_video(video, clip_len_s)  # clear errors for missing / corrupt / empty files
    video_sha = sha256_file(video)
    path = None
    if cache_dir is not None:
        path = cache_file(cache_dir, video_sha, extractor.extractor_id)
        cached = read_cache(path, video)
        if cached is not None and abs(cached.info.clip_len_s - clip_len_s) < 1e-9:
            return cached
    thumb_size = _thumb_size(info)
    feats = np.zeros((info.num_clips, extractor.image_dim), dtype=np.float32)
    thumbs = np.zeros((info.num_clips, thumb_size[1], thumb_size[0], 3), dtype=np.uint8)
    centres = np.zeros(info.num_clips, dtype=np.float64)
    bar = tqdm(total=info.num_clips, desc=f"decode + CLIP {video.name}", unit="clip",
               disable=not progress, file=sys.stderr, leave=False)
    pending: list[tuple[int, np.ndarray]] = []

    def flush():
        index = [i for i, _ in pending]
        feats[index] = extractor.encode_images([frame for _, frame in pending])
        bar.update(len(pending))
        pending.clear()

    try:
        for i, centre, frame in iter_clip_frames(video, clip_len_s, info=info, progress=False):
            centres[i] = centre
            thumbs[i] = _thumbnail(frame, thumb_size)
            pending.append((i, frame))
            if len(pending) >= extractor.batch_size:
                flush()
        if pending:
            flush()
    finally:
        bar.close()
    result = VideoFeatures(clip_features=feats, centres_s=centres, thumbnails=thumbs, info=info,
                           video_sha256=video_sha, extractor_id=extractor.extractor_id)
    if path is not None:
        try:
            write_cache(path, result)
        except OSError as err:  # a read-only or full cache folder: the features are still good
            print(f"warning: feature cache {path.parent}: cannot write {path.name} "
                  f"({err.strerror or err}); continuing without caching", file=sys.stderr)
    return result
