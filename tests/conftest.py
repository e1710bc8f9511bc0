"""Shared test fixtures: the real-data root (skipped with a reason when absent), tmp dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Without a GPU, Triton kernels run in Triton's interpreter; the variable must be set before
# Triton is first imported (by any test module), so it is set here, at collection start.
try:
    import torch as _torch

    if not _torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
except ImportError:  # pragma: no cover
    pass

REPO = Path(__file__).resolve().parent.parent


def _real_data_root() -> Path | None:
    env = os.environ.get("RDMF_DATA_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")  # the development/CI layout
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return None


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
