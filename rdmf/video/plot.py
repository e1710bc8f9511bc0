"""The figure ``rdmf predict`` writes: saliency over time, predicted windows, frames of the top one.

Top panel: per-clip saliency at the clip centres; the top windows shaded (the best one darkest
and labelled with its score). Bottom strip: up to ``num_frames`` frames evenly sampled from the
clips inside the top window. Written atomically with the project's fixed PNG metadata.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from rdmf.figures import apply_style, figure_bytes
from rdmf.io import atomic_write_bytes


def frames_in_window(centres_s: np.ndarray, window: tuple[float, float], num_frames: int
                     ) -> list[int]:
    """Indices of up to ``num_frames`` clips, evenly spread, whose centre lies in ``window``.

    Falls back to the clip nearest the window's middle when no centre lies inside it.
    """
    centres_s = np.asarray(centres_s, dtype=np.float64)
    inside = np.flatnonzero((centres_s >= window[0]) & (centres_s <= window[1]))
    if inside.size == 0:
        middle = 0.5 * (window[0] + window[1])
        return [int(np.argmin(np.abs(centres_s - middle)))]
    if inside.size <= num_frames:
        return inside.tolist()
    picks = np.linspace(0, inside.size - 1, num_frames).round().astype(int)
    return inside[picks].tolist()


def plot_prediction(result, *, num_windows: int = 3, num_frames: int = 6):
    """Matplotlib figure for a :class:`rdmf.video.predict.QueryPrediction`."""
    import matplotlib.pyplot as plt

    apply_style()
    centres = np.asarray(result.centres_s, dtype=np.float64)
    saliency = np.asarray(result.saliency, dtype=np.float64)
    thumbs = result.thumbnails
    has_strip = thumbs is not None and len(result.windows) > 0
    fig = plt.figure(figsize=(10.0, 4.6 if has_strip else 3.0))
    grid = fig.add_gridspec(2 if has_strip else 1, num_frames,
                            height_ratios=[2.2, 1.0] if has_strip else [1.0])
    ax = fig.add_subplot(grid[0, :])
    ax.plot(centres, saliency, color="C0", lw=1.4, marker="o", ms=2.5, label="saliency")
    colours = ["C3", "C1", "C2", "C4", "C5"]
    for rank, (start, end, score) in enumerate(result.windows[:num_windows]):
        ax.axvspan(start, end, color=colours[rank % len(colours)],
                   alpha=0.35 if rank == 0 else 0.15,
                   label=f"#{rank + 1} [{start:.0f}, {end:.0f}] s  score {score:.2f}")
    ax.set_xlim(0.0, result.duration_s)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("saliency")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    title = textwrap.shorten(f"\u201c{result.query}\u201d  \u2014  {Path(result.video).name}",
                             width=110)
    ax.set_title(title, fontsize=9)
    if has_strip:
        start, end, _ = result.windows[0]
        for slot, index in enumerate(frames_in_window(centres, (start, end), num_frames)):
            strip = fig.add_subplot(grid[1, slot])
            strip.imshow(thumbs[index])
            strip.set_title(f"{centres[index]:.0f} s", fontsize=7)
            strip.axis("off")
    fig.tight_layout()
    return fig


def save_prediction_figure(result, path: str | Path, **kwargs) -> Path:
    """Render :func:`plot_prediction` to ``path`` (PNG, atomic, fixed metadata)."""
    import matplotlib.pyplot as plt

    fig = plot_prediction(result, **kwargs)
    try:
        data = figure_bytes(fig)
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, data)
