"""One helper to save every figure: fixed size, dpi and metadata, so that regenerating a figure
changes no bytes unless the science changed."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display anywhere: CI, papermill, the GPU machine
import matplotlib.pyplot as plt  # noqa: E402

from .io import atomic_write_bytes  # noqa: E402
from .paths import reports_dir  # noqa: E402

DPI = 110
# PNG metadata: no software version, no timestamp -> byte-identical re-runs.
_PNG_METADATA = {"Software": None}


def apply_style() -> None:
    """The project's plotting defaults (call once per notebook)."""
    plt.rcParams.update({
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "font.size": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "rdmf",
        "path.simplify": False,
    })


def figure_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA, bbox_inches="tight")
    return buffer.getvalue()


def save_figure(fig, name: str, profile: str = "ci", *, close: bool = False) -> Path:
    """Save ``fig`` as ``reports/<profile>/figures/<name>.png`` (atomically) and return the path."""
    path = reports_dir(profile) / "figures" / f"{name}.png"
    atomic_write_bytes(path, figure_bytes(fig))
    if close:
        plt.close(fig)
    return path
