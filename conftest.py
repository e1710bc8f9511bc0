"""Test-session environment, for the unit tests (tests/) and nbval (notebooks/) alike.

- The real-data root comes from ``RDMF_DATA_ROOT`` only (nothing looks for ``../shared``). It is
  handed to the real-data tests through ``RDMF_TEST_DATA_ROOT`` (the ``real_data_root`` fixture)
  and removed from the environment, so that every notebook nbval re-runs sees what a newcomer's
  clone sees: the stored outputs in ``notebooks/`` are those of a run without the data root.
  Without it, the real-data tests skip with a reason.
- Without a GPU, Triton kernels run in Triton's interpreter: ``TRITON_INTERPRET`` must be set
  before Triton is first imported, so it is set here, before any test module is collected.
"""

from __future__ import annotations

import os
from pathlib import Path

_root = os.environ.pop("RDMF_DATA_ROOT", "")
if _root:
    os.environ["RDMF_TEST_DATA_ROOT"] = str(Path(_root).expanduser().resolve())

try:
    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("TRITON_INTERPRET", "1")
except ImportError:  # pragma: no cover - torch is a hard dependency
    pass
