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
