"""Cells of the comparison tables and the row label of each fusion.

A cell is ``None`` (missing), a number, or ``{"mean", "std", "n"}`` over seeds.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

FUSION_LABELS = {"rd": "RDMF (rd)", "concat": "concat (Moment-DETR)",
                 "cross_attention": "cross-attention (QD-DETR)"}


def stat(values: Sequence[float | None]) -> dict | None:
    """{"mean", "std", "n"} of the non-missing values (sample std, 0 for one value)."""
    a = np.asarray([v for v in values if v is not None and not
                    (isinstance(v, float) and math.isnan(v))], float)
    if a.size == 0:
        return None
    return {"mean": round(float(a.mean()), 2),
            "std": round(float(a.std(ddof=1)) if a.size > 1 else 0.0, 2), "n": int(a.size)}


def fmt(cell: Any) -> str:
    if cell is None:
        return "–"
    if isinstance(cell, dict):
        if cell["n"] > 1:
            return f"{cell['mean']:.2f} ± {cell['std']:.2f}"
        return f"{cell['mean']:.2f}"
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)


def value(cell: Any) -> float | None:
    if cell is None:
        return None
    return float(cell["mean"]) if isinstance(cell, dict) else float(cell)
