"""Writing results under ``reports/``: rounded JSON, and a rule for results that need the real data.

- **Rounded values.** Floats in report JSON are rounded to ``SIGNIFICANT_DIGITS`` significant
  digits, so that the last-digit noise of another machine's floating point (another BLAS, another
  thread count) changes no byte of a theory result or a table; a change that survives rounding is
  a change of the science.
- **Results that need the real data stay as committed.** A run without a data root (a newcomer's
  clone) cannot regenerate a figure or table built from TVSum, YouTube Highlights or QVHighlights;
  it keeps the existing file and says so (``keep_without_data``) instead of overwriting it with an
  emptier one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .io import atomic_write_json

SIGNIFICANT_DIGITS = 6
"""Significant digits of every float in a report JSON."""


def round_significant(obj: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """``obj`` with every finite float rounded to ``digits`` significant digits (recursively
    through dicts, lists and tuples; ints, strings, NaN and infinities unchanged)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}") if math.isfinite(obj) else obj
    if isinstance(obj, dict):
        return {key: round_significant(value, digits) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_significant(value, digits) for value in obj]
    return obj


def write_report_json(path: str | Path, obj: Any, *, ndigits: int | None = None) -> Path:
    """Write a report JSON atomically with floats rounded to ``SIGNIFICANT_DIGITS`` significant
    digits (and, with ``ndigits``, to that many decimals as well)."""
    return atomic_write_json(path, round_significant(obj), ndigits=ndigits)


def keep_without_data(path: str | Path, have_data: bool, what: str = "the real data") -> bool:
    """Whether to keep ``path`` as it is because this run lacks the data it was made from.

    True when ``have_data`` is False and ``path`` exists: the caller must not write it. The kept
    file is named in one printed line, so that a run says what it left.
    """
    path = Path(path)
    if have_data or not path.exists():
        return False
    print(f"kept {shown_path(path)} as it is: it was made with {what}, which this run does not have")
    return True


def shown_path(path: Path) -> str:
    """``path`` relative to the checkout when inside it (for messages)."""
    from .paths import repo_root

    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)
