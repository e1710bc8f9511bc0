"""Bifurcation curves in the (F, k) plane and the vectorised region map.

Every non-trivial state is fixed by its own (u, v): from u v = F + k and F (1 − u) = u v²,

    F = u v² / (1 − u),   k = u v − F,                                   (state → parameters)

and the upper state is the one with u < 1/2. In these coordinates the curves are explicit:

- saddle-node (u = 1/2):                   F = v²,            k = v/2 − v²  (k = sqrt(F)/2 − F)
- Hopf (tr J = 0, i.e. v = u (1 − u)):     F = u³ (1 − u),    k = u² (1 − u)²
  (implicitly (F + k)² = F sqrt(k))
- Turing boundary for Du/Dv = σ:           v = σ u / c(u)²,
  c(u) = sqrt((1 − 2u)/(1 − u)) + sqrt(2)

(the last from σ_c = (v/u) c(u)², the critical ratio of :func:`turing_analysis` written in u, v).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._checks import check_array, check_scalar
from .steady_states import F_, k_, saddle_node_k, upper_state

REGIONS = {
    0: "no state",        # only (1, 0): monostable, every pattern needs a finite seed
    1: "stable",          # upper state stable with and without diffusion (bistable with (1, 0))
    2: "Turing",          # stable without diffusion, unstable band with diffusion
    3: "Hopf",            # upper state oscillatory-unstable (tr J > 0), no Turing band
    4: "Hopf + Turing",   # tr J > 0 and the Turing condition holds as well
}
"""Region codes of :func:`classify_fk` and their names."""

NO_STATE, STABLE, TURING, HOPF, HOPF_TURING = range(5)


def params_from_state(u, v):
    """(F, k) at which (u, v) is a non-trivial steady state (NumPy or SymPy), 0 < u < 1."""
    F = u * v**2 / (1 - u)
    return F, u * v - F


def hopf_F(k):
    """The Hopf curve as F(k) = (sqrt(k) − 2k − sqrt(k (1 − 4 sqrt(k)))) / 2, 0 < k ≤ 1/16.

    SymPy expression for a symbolic k, float/array otherwise."""
    if isinstance(k, sp.Basic):
        return (sp.sqrt(k) - 2 * k - sp.sqrt(k * (1 - 4 * sp.sqrt(k)))) / 2
    k = np.asarray(k, dtype=float)
    if np.any(~np.isfinite(k) | (k < 0) | (k > 1 / 16)):
        raise ValueError("k must lie in [0, 1/16] on the Hopf curve")
    out = (np.sqrt(k) - 2 * k - np.sqrt(k * (1 - 4 * np.sqrt(k)))) / 2
    return float(out) if out.ndim == 0 else out


def _invert_increasing(func, target, lo, hi, iterations=64):
    """Vectorised bisection for func(x) = target on [lo, hi], func increasing."""
    lo = np.full_like(target, lo)
    hi = np.full_like(target, hi)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        below = func(mid) < target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return (lo + hi) / 2


def hopf_curve(F=None, *, n: int = 200, symbolic: bool = False):
    """The Hopf curve of the upper state, k_H(F), for 0 < F ≤ 1/16 (it ends at the BT point).

    - ``symbolic=True``: the implicit equation ``Eq((F + k)**2, F*sqrt(k))`` (with k > F, the
      upper state; the branch k < F of the same equation is the saddle, where tr J = 0 is no Hopf
      bifurcation).
    - ``F=None``: ``(F, k)`` arrays of ``n`` points from near the origin to (1/16, 1/16).
    - ``F`` given (scalar or array in (0, 1/16]): k_H(F), via u with F = u³(1 − u) (increasing on
      (0, 1/2], solved by bisection to machine precision), k = u²(1 − u)².

    The upper state is Hopf-unstable for k_H(F) < k < sqrt(F)/2 − F.
    """
    if symbolic:
        return sp.Eq((F_ + k_) ** 2, F_ * sp.sqrt(k_))
    if F is None:
        if n < 2:
            raise ValueError(f"n must be >= 2, got {n}")
        u = np.linspace(0.5, 0.0, n, endpoint=False)[::-1]
        return u**3 * (1 - u), u**2 * (1 - u) ** 2
    Fa = check_array(F, "F", positive=True)
    if np.any(Fa > 1 / 16):
        raise ValueError("F must lie in (0, 1/16] on the Hopf curve (it ends at the "
                         f"Bogdanov-Takens point F = 1/16), got max F = {Fa.max()!r}")
    u = _invert_increasing(lambda x: x**3 * (1 - x), Fa, 0.0, 0.5)
    k = u**2 * (1 - u) ** 2
    return float(k) if k.ndim == 0 else k


def turing_curve(sigma: float = 2.0, *, n: int = 400, return_state: bool = False):
    """The Turing boundary σ_c(F, k) = σ of the upper state, sampled at ``n`` values of u.

    Returns ``(F, k)`` arrays ordered by u ∈ (0, 1/2] (from the origin to the saddle-node curve),
    restricted to k ≥ 0; with ``return_state=True`` also ``(u, v)``. The upper state is Turing
    unstable (or Hopf + Turing) on the side of larger k, up to the saddle-node curve.
    Points with tr J < 0 (below the Hopf curve) bound the pure-Turing region.
    """
    sigma = check_scalar(sigma, "sigma", positive=True, allow_symbol=False)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    u = np.linspace(0.5, 0.0, n, endpoint=False)[::-1]
    c = np.sqrt((1 - 2 * u) / (1 - u)) + np.sqrt(2.0)
    v = sigma * u / c**2
    F, k = params_from_state(u, v)
    keep = k >= 0
    if return_state:
        return F[keep], k[keep], u[keep], v[keep]
    return F[keep], k[keep]


def upper_state_arrays(F, k):
    """Vectorised upper state: ``(exists, u, v, trace, det, sigma_c)`` arrays for (F, k) arrays.

    Floats with no tolerance (use :func:`steady_states` for exact decisions on the curve itself).
    Where no state exists the other arrays hold NaN; ``exists`` says where they are meaningful.
    """
    F = check_array(F, "F", positive=True)
    k = check_array(k, "k")
    F, k = np.broadcast_arrays(F, k)
    s = F + k
    disc = 1 - 4 * s**2 / F
    exists = disc >= 0
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.where(exists, disc, np.nan))
        u = 2 * s**2 / (F * (1 + d))  # = (1 − d)/2 without cancellation for small F
        v = s / u
        v2 = F * (1 - u) / u
        trace = k - v2
        det = s * F * d / u
        sigma_c = (np.sqrt(det) + np.sqrt(2 * s * v2)) ** 2 / s**2
    return exists, u, v, trace, det, sigma_c


def classify_fk(F, k, sigma: float | None = 2.0) -> np.ndarray:
    """Region code (see :data:`REGIONS`) of the upper state for Du/Dv = σ, vectorised over F, k.

    ``sigma=None`` classifies the reaction alone (no diffusion): codes 0, 1, 3 only.
    A 300×300 grid takes milliseconds. Returns an int8 array of the broadcast shape.
    """
    if sigma is not None:
        sigma = check_scalar(sigma, "sigma", positive=True, allow_symbol=False)
    exists, _, _, trace, det, sigma_c = upper_state_arrays(F, k)
    with np.errstate(invalid="ignore"):
        hopf = exists & (trace > 0)
        if sigma is None:
            turing = np.zeros_like(exists)
        else:
            turing = exists & (det > 0) & (sigma > sigma_c)
    codes = np.full(exists.shape, NO_STATE, dtype=np.int8)
    codes[exists] = STABLE
    codes[turing & ~hopf] = TURING
    codes[hopf & ~turing] = HOPF
    codes[hopf & turing] = HOPF_TURING
    return codes


def fk_grid(sigma: float | None = 2.0, *, F_range=(0.0, 0.12), k_range=(0.0, 0.075), n: int = 300):
    """Region map on an n×n grid of cell centres: returns ``(F, k, codes)``, each (n, n),
    F varying along axis 0 and k along axis 1. ``sigma=None``: reaction only (no Turing)."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    (F0, F1), (k0, k1) = F_range, k_range
    if not (0 <= F0 < F1 and 0 <= k0 < k1):
        raise ValueError("F_range and k_range must be increasing and >= 0, "
                         f"got {F_range}, {k_range}")
    Fc = F0 + (np.arange(n) + 0.5) * (F1 - F0) / n
    kc = k0 + (np.arange(n) + 0.5) * (k1 - k0) / n
    F, k = np.meshgrid(Fc, kc, indexing="ij")
    return F, k, classify_fk(F, k, sigma)


def turing_sliver_width(sigma: float = 2.0, F=None):
    """Width in k of the pure-Turing region at the given F values (default: 200 points from the
    Turing-Hopf point to F = 0.12).

    The region lies between the Turing boundary k_T(F) (below) and the Hopf curve k_H(F) for
    F ≤ 1/16, or the saddle-node curve sqrt(F)/2 − F for F > 1/16 (above). Returns ``(F, width)``;
    width is 0 where the region is empty. Uses the explicit curves in u (no grid).
    """
    from .turing import turing_hopf_point
    if F is None:
        F_th = float(turing_hopf_point(sigma)[0])
        F = np.linspace(F_th, 0.12, 200)
    F = check_array(F, "F", positive=True)
    upper = np.sqrt(F) / 2 - F
    on_hopf = F <= 1 / 16
    upper[on_hopf] = hopf_curve(F[on_hopf])
    Ft, kt = turing_curve(sigma, n=20000)
    order = np.argsort(Ft)  # F increases with u along the Turing boundary
    k_t = np.interp(F, Ft[order], kt[order], left=np.nan, right=np.nan)
    width = np.where(np.isfinite(k_t), np.maximum(upper - k_t, 0.0), 0.0)
    return F, width


def upper_state_focus_k(F: float, *, iterations: int = 200) -> float:
    """The k in (k_H(F), k_SN(F)) where the upper state's eigenvalues turn from complex to real.

    Between the Hopf and saddle-node curves the upper state is unstable (tr J > 0, det J > 0).
    Its eigenvalues are complex (an unstable focus: oscillations grow) while
    (tr J)² < 4 det J, which holds at the Hopf curve (tr J = 0), and real (an unstable node) once
    (tr J)² > 4 det J, which holds near the fold (det J → 0). Returns the k of the switch,
    found by bisection on (tr J)² − 4 det J with tr J = k − v², det J = (F + k)(v² − F).
    Defined for 0 < F < 1/16 (below the Bogdanov-Takens point).
    """
    F = float(check_scalar(F, "F", positive=True, allow_symbol=False))
    if not F < 1 / 16:
        raise ValueError(f"F must be below the Bogdanov-Takens point 1/16, got {F!r}")

    def disc(k: float) -> float:
        state = upper_state(F, k)
        v2 = state[1] ** 2
        return (k - v2) ** 2 - 4 * (F + k) * (v2 - F)

    lo, hi = hopf_curve(F), saddle_node_k(F)
    hi = hi - 1e-15 * max(1.0, hi)
    if not (disc(lo) < 0 < disc(hi)):
        raise ValueError(f"no focus-to-node switch found between k_H and k_SN at F = {F}")
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if disc(mid) < 0 else (lo, mid)
    return (lo + hi) / 2
