"""Draw the (F, k) region map onto a Matplotlib Axes (notebooks 01, 02 and 06 share it).

Orientation follows Pearson (1993): k on the x-axis, F on the y-axis. Use :func:`scatter_fk` to
put points (e.g. learned kinetics) on the map without thinking about the orientation.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from .curves import REGIONS, fk_grid, hopf_curve, turing_curve
from .steady_states import bogdanov_takens_point
from .turing import turing_hopf_point

REGION_COLORS = {
    0: "#f2f2f2",  # no state
    1: "#a6cee3",  # stable
    2: "#e31a1c",  # Turing
    3: "#fdbf6f",  # Hopf
    4: "#cab2d6",  # Hopf + Turing
}


def scatter_fk(ax, F, k, **kwargs):
    """``ax.scatter`` in the map's orientation (x = k, y = F)."""
    return ax.scatter(np.asarray(k), np.asarray(F), **kwargs)


def draw_fk_map(ax, sigma: float | None = 2.0, *, F_range=(0.0, 0.12), k_range=(0.0, 0.075),
                n: int = 300, curves: bool = True, points: bool = True, legend: bool = True,
                alpha: float = 1.0):
    """Fill ``ax`` with the region map of the upper state for Du/Dv = ``sigma``.

    Regions (:data:`rdmf.theory.curves.REGIONS`) on an n×n grid, plus (``curves``) the exact
    saddle-node, Hopf and Turing curves and (``points``) the Bogdanov-Takens and Turing-Hopf
    points. ``sigma=None`` draws the reaction alone (no diffusion: no Turing regions or curve).
    Returns a dict of the artists (``"image"``, ``"saddle_node"``, ...). The axes limits
    are the given ranges; x is k, y is F.
    """
    F, k, codes = fk_grid(sigma, F_range=F_range, k_range=k_range, n=n)
    cmap = ListedColormap([REGION_COLORS[c] for c in sorted(REGIONS)])
    norm = BoundaryNorm(np.arange(len(REGIONS) + 1) - 0.5, cmap.N)
    (F0, F1), (k0, k1) = F_range, k_range
    artists = {"image": ax.imshow(codes, origin="lower", extent=(k0, k1, F0, F1), cmap=cmap,
                                  norm=norm, aspect="auto", interpolation="nearest", alpha=alpha)}
    if curves:
        Fs = np.linspace(max(F0, 1e-9), F1, 2000)
        artists["saddle_node"], = ax.plot(np.sqrt(Fs) / 2 - Fs, Fs, color="k", lw=1.2,
                                          label="saddle-node  k = √F/2 − F")
        Fh, kh = hopf_curve(n=800)
        artists["hopf"], = ax.plot(kh, Fh, color="k", lw=1.2, ls="--", label="Hopf")
        if sigma is not None:
            Ft, kt = turing_curve(sigma, n=4000)
            artists["turing"], = ax.plot(kt, Ft, color="#b2182b", lw=1.0, ls=":",
                                         label=f"Turing boundary (Du/Dv = {sigma:g})")
    if points:
        Fb, kb = (float(x) for x in bogdanov_takens_point())
        artists["bt"] = scatter_fk(ax, Fb, kb, marker="o", color="k", s=25, zorder=5,
                                   label="Bogdanov-Takens (1/16, 1/16)")
        if sigma is not None and 1 < sigma < 3 + 2 * np.sqrt(2):
            Fth, kth = (float(x) for x in turing_hopf_point(sigma))
            artists["turing_hopf"] = scatter_fk(ax, Fth, kth, marker="*", color="#b2182b", s=70,
                                                zorder=5, label="Turing-Hopf point")
    ax.set_xlim(k0, k1)
    ax.set_ylim(F0, F1)
    ax.set_xlabel("k (kill rate)")
    ax.set_ylabel("F (feed rate)")
    if legend:
        shown = sorted(REGIONS) if sigma is not None else [0, 1, 3]
        handles = [Patch(facecolor=REGION_COLORS[c], edgecolor="0.6", lw=0.5, label=REGIONS[c])
                   for c in shown]
        handles += [h for key, h in artists.items() if key != "image"]
        artists["legend"] = ax.legend(handles=handles, fontsize=7, loc="upper left")
    return artists
