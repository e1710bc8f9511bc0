"""The discrete lattice the fusion layer integrates on: Laplacian spectrum and mode quantisation.

On a lattice of N sites with spacing h the continuum wavenumbers q² are replaced by the
magnitudes of the discrete Laplacian's eigenvalues (docs/design.md §3)::

    reflecting (cell-centred Neumann):  Λ_m = −(4/h²) sin²(π m / (2N)),  m = 0..N−1
    periodic:                           Λ_m = −(4/h²) sin²(π m / N),      m = 0..N−1

so the dispersion relation becomes a finite list of growth rates, one per mode. A short lattice
can miss the unstable band (q1², q2²) altogether: then no pattern forms, whatever the kinetics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..numerics.dct import BOUNDARIES


def _check_lattice(N, boundary, h):
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 2:
        raise ValueError(f"N (number of lattice sites) must be an integer ≥ 2, got {N!r}")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    try:
        ok = math.isfinite(float(h)) and float(h) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"h (lattice spacing) must be finite and > 0, got {h!r}")


def lattice_eigenvalues(N: int, boundary: str = "reflecting", h: float = 1.0, *,
                        exact: bool = False):
    """Eigenvalues of the discrete Laplacian on N sites, sorted from 0 downwards.

    Returns a float64 array (N,) in descending order (0 first, most negative last); with
    ``exact=True`` a list of SymPy expressions in the same order (h is then taken as given,
    e.g. ``sympy.Rational``). Periodic eigenvalues come in equal pairs.

    Raises ValueError for N < 2, an unknown boundary, or h not finite and > 0.
    """
    _check_lattice(N, boundary, h)
    div = 2 * N if boundary == "reflecting" else N
    if exact:
        hh = sp.nsimplify(h)
        vals = [-(4 / hh**2) * sp.sin(sp.pi * m / div) ** 2 for m in range(N)]
        return sorted(vals, key=lambda e: -float(e))
    m = np.arange(N, dtype=np.float64)
    vals = -(4.0 / float(h) ** 2) * np.sin(np.pi * m / div) ** 2
    return np.sort(vals)[::-1] + 0.0  # + 0.0: no −0.0 for the constant mode


def mode_wavenumbers_sq(N: int, boundary: str = "reflecting", h: float = 1.0) -> np.ndarray:
    """|Λ_m| in mode order m = 0..N−1 (not sorted for periodic): the lattice's q²."""
    _check_lattice(N, boundary, h)
    div = 2 * N if boundary == "reflecting" else N
    return (4.0 / float(h) ** 2) * np.sin(np.pi * np.arange(N) / div) ** 2


def mode_wavelength(m: int, N: int, boundary: str = "reflecting", h: float = 1.0) -> float:
    """Wavelength (in units of h) of lattice mode m: 2N h / m (reflecting), N h / m (periodic)."""
    _check_lattice(N, boundary, h)
    if m <= 0:
        return math.inf
    return (2 * N if boundary == "reflecting" else N) * float(h) / m


@dataclass(frozen=True)
class DiscreteDispersion:
    """Growth rate of every lattice mode m = 0..N−1 (arrays of shape (N,))."""

    m: np.ndarray
    q2: np.ndarray          # |Λ_m| (lattice q²)
    rate: np.ndarray        # continuous-time or discrete-time growth rate
    scheme: str
    dt: float | None

    @property
    def unstable(self) -> np.ndarray:
        """Mode numbers with positive growth rate (the homogeneous mode m = 0 included)."""
        return self.m[self.rate > 0]

    @property
    def most_unstable(self) -> int:
        return int(self.m[np.argmax(self.rate)])


def discrete_dispersion(F: float, k: float, Du: float, Dv: float, N: int,
                        boundary: str = "reflecting", h: float = 1.0, *,
                        scheme: str = "continuous", dt: float | None = None,
                        state="upper") -> DiscreteDispersion:
    """The dispersion relation on the lattice: one growth rate per mode.

    ``scheme="continuous"``: ``max Re eig(J − |Λ_m| D)``; ``"explicit"``, ``"semi_implicit"``,
    ``"dct"``: the discrete-time rate ``ln max|eig G_m| / dt`` (see
    :mod:`rdmf.numerics.linear`), which is what a simulation with step dt measures.
    """
    from ..numerics.linear import growth_rates

    _check_lattice(N, boundary, h)
    if scheme != "continuous" and dt is None:
        raise ValueError(f"dt is required for scheme={scheme!r}")
    q2 = mode_wavenumbers_sq(N, boundary, h)
    rate = growth_rates(F, k, Du, Dv, q2, scheme, 1.0 if dt is None else dt, state)
    return DiscreteDispersion(np.arange(N), q2, rate, scheme, dt)


def continuous_band(F: float, k: float, Du: float, Dv: float, state="upper"):
    """The unstable band (q1², q2²) of the continuum dispersion (det(J − q² D) < 0), or None.

    Only the Turing band: the interval where ``Du Dv q⁴ − h q² + det J < 0`` with
    ``h = Dv J11 + Du J22``.
    """
    from ..numerics.linear import base_state, check_parameters, reaction_jacobian

    check_parameters(F, k, Du, Dv)
    u, v = base_state(F, k, state)
    J = reaction_jacobian(u, v, F, k)
    det = float(np.linalg.det(J))
    hh = Dv * J[0, 0] + Du * J[1, 1]
    a = Du * Dv
    if a <= 0:
        return None
    disc = hh * hh - 4 * a * det
    if hh <= 0 or disc <= 0:
        return None
    r = math.sqrt(disc)
    return ((hh - r) / (2 * a), (hh + r) / (2 * a))


def min_unstable_length(F: float, k: float, Du: float, Dv: float,
                        boundary: str = "reflecting", h: float = 1.0, *,
                        N_max: int = 10_000, state="upper") -> int | None:
    """Smallest N ≥ 2 whose lattice has a mode m ≥ 1 inside the unstable band (None if no N ≤
    N_max does, e.g. when there is no band at all)."""
    _check_lattice(2, boundary, h)
    band = continuous_band(F, k, Du, Dv, state)
    if band is None:
        return None
    for N in range(2, N_max + 1):
        q2 = mode_wavenumbers_sq(N, boundary, h)[1:]
        if ((q2 > band[0]) & (q2 < band[1])).any():
            return N
    return None
