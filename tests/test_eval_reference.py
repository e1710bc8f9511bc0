"""Equality, value by value, of the package's AP functions with the independent re-derivation of
the official evaluators (``tests/official_reference.py``) on random inputs with many ties."""

from __future__ import annotations

import numpy as np

import official_reference as ref
from rdmf.eval import highlight_average_precision, tvsum_top5_ap, youtube_ap


def test_highlight_ap_equals_official_get_ap_bitwise():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(2, 40))
        labels = (rng.random(n) < rng.random()).astype(float)
        scores = rng.choice([0.0, 0.5, 1.0, rng.random()], size=n) if rng.random() < 0.5 \
            else rng.random(n)
        assert highlight_average_precision(labels, scores) == ref.official_get_ap(labels, scores)


def test_tvsum_and_youtube_equal_reference():
    rng = np.random.default_rng(4)
    for _ in range(50):
        n = int(rng.integers(6, 40))
        users = rng.integers(1, 6, size=(n, 20))
        scores = rng.choice([0.0, 0.5, rng.random()], size=n).astype(np.float32)
        assert tvsum_top5_ap(scores, users) == ref.tvsum_video_ap(scores, users)
        match = rng.integers(-1, 2, size=n)
        assert youtube_ap(scores, match) == ref.youtube_video_ap(scores, match)
