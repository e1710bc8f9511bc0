"""A tiny planted-signal data set for tests and smoke runs (seconds to train on CPU).

Each query names one of ``events`` event types; its video is a sequence of 2-s clips showing
random background events, with the queried event inside one ground-truth window. Clip features
are a fixed random embedding of the shown event plus noise; query tokens are a different fixed
embedding of the event plus noise. NOT the project's synthetic benchmark
(:mod:`rdmf.data.synth`): only a fast, dependency-free fixture for the training machinery.
"""

from __future__ import annotations

import numpy as np

from rdmf.data.sample import Sample


def toy_samples(n: int, *, seed: int = 0, num_clips: int = 12, video_dim: int = 16,
                text_dim: int = 8, events: int = 4, noise: float = 0.3,
                clip_len_s: float = 2.0, ragged: bool = True) -> list[Sample]:
    """``n`` samples; videos of ``num_clips`` clips (fewer when ``ragged``), one moment each."""
    rng = np.random.default_rng(seed)
    fixed = np.random.default_rng(12345)
    video_codes = fixed.normal(size=(events, video_dim)).astype(np.float32)
    text_codes = fixed.normal(size=(events, text_dim)).astype(np.float32)
    samples = []
    for i in range(n):
        L = int(rng.integers(num_clips // 2 + 2, num_clips + 1)) if ragged else num_clips
        event = int(rng.integers(events))
        width = int(rng.integers(2, max(3, L // 2)))
        start = int(rng.integers(0, L - width + 1))
        shown = rng.choice([e for e in range(events) if e != event], size=L)
        shown[start:start + width] = event
        video = video_codes[shown] + noise * rng.normal(size=(L, video_dim))
        n_tok = int(rng.integers(2, 5))
        text = text_codes[event] + noise * rng.normal(size=(n_tok, text_dim))
        saliency = np.zeros((L, 3), np.float32)
        saliency[start:start + width] = rng.integers(1, 5, size=(width, 3))
        samples.append(Sample(
            qid=i, vid=f"toy{i:04d}", query=f"event {event}",
            video_feats=video.astype(np.float32), text_feats=text.astype(np.float32),
            duration_s=L * clip_len_s,
            clip_times_s=np.stack([np.arange(L), np.arange(L) + 1], 1).astype(np.float32) * clip_len_s,
            windows_s=np.array([[start * clip_len_s, (start + width) * clip_len_s]], np.float32),
            saliency=saliency))
    return samples


def toy_highlight_samples(n: int, *, seed: int = 0, annotators: int = 5, **kwargs) -> list[Sample]:
    """:func:`toy_samples` labelled as TVSum is: every clip scored 1-5 by ``annotators`` users,
    higher inside the planted moment; no windows (highlight detection only)."""
    rng = np.random.default_rng(seed + 7919)
    samples = toy_samples(n, seed=seed, **kwargs)
    for sample in samples:
        L = sample.num_clips
        start, end = (sample.windows_s[0] / (sample.duration_s / L)).astype(int)
        base = np.full(L, 1.5)
        base[start:end] = 3.5
        scores = np.clip(np.rint(base[:, None] + rng.normal(size=(L, annotators))), 1, 5)
        sample.saliency = scores.astype(np.float32)
        sample.windows_s = np.zeros((0, 2), np.float32)
    return samples
