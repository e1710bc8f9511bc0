"""Shared test fixtures: the real-data root (skipped with a reason when absent), tmp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _real_data_root() -> Path | None:
    env = os.environ.get("RDMF_TEST_DATA_ROOT")  # RDMF_DATA_ROOT, moved aside by ../conftest.py
    path = Path(env) if env else None
    return path.resolve() if path is not None and path.is_dir() else None


@pytest.fixture(scope="session")
def real_data_root() -> Path:
    root = _real_data_root()
    if root is None:
        pytest.skip("real benchmark data not found: set RDMF_DATA_ROOT (e.g. ../shared/data)")
    return root


@pytest.fixture(autouse=True)
def _torch_threads():
    import torch
    torch.set_num_threads(1)
    yield


# --- the tiny randomly initialised CLIP of the video tests (tests/tiny_clip.py) ----------------
@pytest.fixture(scope="module")
def extractor():
    """A feature extractor around the tiny CLIP (seed 0)."""
    from tiny_clip import make_tiny_clip

    from rdmf.video.clip_features import ClipExtractor

    model, tokenizer = make_tiny_clip(seed=0)
    return ClipExtractor(model, tokenizer, name="tiny-0")


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    """The tiny CLIP saved as a model folder (what ``--clip-model`` points at)."""
    from tiny_clip import save_tiny_clip

    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny_clip", seed=0)
