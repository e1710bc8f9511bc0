"""Test-session environment, for the unit tests (tests/) and nbval (notebooks/) alike.

- The real-data root: ``RDMF_DATA_ROOT`` if set, else ``../shared/data`` beside the checkout (the
  development and CI layout). The notebooks' stored outputs, which nbval compares, are those of a
  checkout with the real data present; without it, the real-data unit tests skip with a reason.
- Without a GPU, Triton kernels run in Triton's interpreter: ``TRITON_INTERPRET`` must be set
  before Triton is first imported, so it is set here, before any test module is collected.
"""

from __future__ import annotations

import os
from pathlib import Path

_shared = Path(__file__).resolve().parent.parent / "shared" / "data"
if not os.environ.get("RDMF_DATA_ROOT") and _shared.is_dir():
    os.environ["RDMF_DATA_ROOT"] = str(_shared)

try:
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
except ImportError:  # pragma: no cover - torch is a hard dependency
    pass
