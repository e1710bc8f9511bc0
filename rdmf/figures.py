"""One helper to save every figure: fixed size, dpi and metadata, so that regenerating a figure
changes no bytes unless the science changed.

Inside a Jupyter kernel (a notebook, papermill, nbval) :func:`save_figure` also shows the figure
inline, as the very PNG it saved, and then closes it, so the notebook shows it once and its text
outputs hold no ``<Figure size ...>`` repr. Outside a kernel nothing is shown.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import matplotlib


def _in_kernel() -> bool:
    """True inside an IPython kernel (Jupyter, papermill, nbval), false in a plain interpreter."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _headless() -> bool:
    """No kernel, no display and no backend chosen by the user: CI, scripts, the GPU machine."""
    if _in_kernel() or os.environ.get("MPLBACKEND"):
        return False
    if sys.platform in ("darwin", "win32"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


if _headless():
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .io import atomic_write_bytes  # noqa: E402
from .paths import reports_dir  # noqa: E402
from .reports import keep_without_data  # noqa: E402

DPI = 110
# PNG metadata: no software version, no timestamp -> byte-identical re-runs.
_PNG_METADATA = {"Software": None}

# One colour per numerical scheme, used by every figure that compares them.
SCHEME_COLORS = {"explicit": "C0", "semi_implicit": "C1", "dct": "C2"}
SCHEME_LINESTYLES = {"explicit": "--", "semi_implicit": "-", "dct": ":"}


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


def data_ylim(curves, margin: float = 0.08) -> tuple[float, float]:
    """y-limits that hold every curve whole (a list of arrays), with ``margin`` of the range."""
    lo = min(float(min(c)) for c in curves)
    hi = max(float(max(c)) for c in curves)
    return lo - margin * (hi - lo), hi + margin * (hi - lo)


def figure_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata=_PNG_METADATA, bbox_inches="tight")
    return buffer.getvalue()


def display_png(png: bytes) -> bool:
    """Show PNG bytes as a notebook output (only the ``image/png`` item, no text repr); returns
    whether anything was shown (false outside a kernel)."""
    if not _in_kernel():
        return False
    from IPython.display import display

    display({"image/png": base64.b64encode(png).decode("ascii")}, raw=True)
    return True


def show_figure(fig) -> bytes:
    """Show ``fig`` inline without saving it (a figure whose content changes from run to run, such
    as a timing chart) and close it; returns the PNG bytes."""
    png = figure_bytes(fig)
    if display_png(png):
        plt.close(fig)
    return png


def save_figure(fig, name: str, profile: str = "ci", *, close: bool = False,
                lacks_data: bool = False) -> Path:
    """Save ``fig`` as ``reports/<profile>/figures/<name>.png`` (atomically) and return the path.

    Inside a kernel the saved PNG is also shown inline and the figure is closed (so the inline
    backend does not show it a second time); elsewhere it is closed only with ``close=True``.
    ``lacks_data=True`` says this run lacks the real data the figure is made from: an existing
    file (made with the data) is then kept, and the figure shown inline is this run's
    (``rdmf.reports.keep_without_data``).
    """
    path = reports_dir(profile) / "figures" / f"{name}.png"
    png = figure_bytes(fig)
    if not keep_without_data(path, not lacks_data):
        atomic_write_bytes(path, png)
    if display_png(png) or close:
        plt.close(fig)
    return path
