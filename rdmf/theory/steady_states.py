"""Homogeneous steady states of Gray-Scott, their Jacobian, the saddle-node curve and the
Bogdanov-Takens point.

    u_t = Du ∇²u − u v² + F (1 − u)
    v_t = Dv ∇²v + u v² − (F + k) v

Non-trivial states satisfy u v = F + k and u (1 − u) = (F + k)² / F, so

    u = (1 ∓ d) / 2,   v = F (1 ± d) / (2 (F + k)),   d = sqrt(1 − 4 (F + k)² / F),

real iff F ≥ 4 (F + k)², i.e. k ≤ sqrt(F)/2 − F (the saddle-node curve). The state with the minus
sign in u (larger v) is the "upper" state; the other is a saddle (det J < 0).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from ._checks import check_array, check_scalar, exact, has_free_symbols, is_symbolic

# The literature's symbols, positive so that SymPy simplifies square roots correctly.
F_, k_ = sp.symbols("F k", positive=True)
u_, v_ = sp.symbols("u v", positive=True)
Du_, Dv_ = sp.symbols("D_u D_v", positive=True)
q2_, lam_ = sp.symbols("q2 lambda")
sigma_ = sp.symbols("sigma", positive=True)


def reaction(u, v, F, k):
    """The reaction terms (f, g) = (−u v² + F (1 − u), u v² − (F + k) v); SymPy or NumPy."""
    return -u * v**2 + F * (1 - u), u * v**2 - (F + k) * v


def steady_states(F, k, *, tol: float = 0.0):
    """The real homogeneous steady states (u, v) of Gray-Scott at (F, k).

    Order: the trivial state (1, 0), then the upper-v state, then the saddle.

    - SymPy symbols (or expressions with free symbols): all three closed forms are returned,
      valid where F ≥ 4 (F + k)².
    - Exact SymPy numbers (``Rational(1, 25)``): exact SymPy results, existence decided exactly.
    - Python/NumPy numbers: floats. Existence is decided in exact rationals, reading each float as
      the decimal its ``repr`` shows (0.04 is 1/25). On the saddle-node curve the double root is
      returned ONCE, so ``steady_states(0.04, 0.06) == [(1.0, 0.0), (0.5, 0.2)]``.
      ``tol`` (default 0, exact) treats a relative discriminant ``|F − 4 (F+k)²| / F ≤ tol`` as
      zero, for inputs that were themselves computed in floating point.

    Raises ``ValueError`` for negative or non-finite F or k, or F = 0.
    """
    F = check_scalar(F, "F", positive=True)
    k = check_scalar(k, "k")
    if has_free_symbols(F, k):
        d = sp.sqrt(1 - 4 * (F + k) ** 2 / F)
        return [(sp.Integer(1), sp.Integer(0)),
                ((1 - d) / 2, F * (1 + d) / (2 * (F + k))),
                ((1 + d) / 2, F * (1 - d) / (2 * (F + k)))]
    if is_symbolic(F, k):  # exact SymPy numbers: decide existence exactly
        F, k = sp.sympify(F), sp.sympify(k)
        disc = sp.simplify(F - 4 * (F + k) ** 2)  # F · d², same sign as d²
        if tol and abs(float(disc)) <= tol * float(F):
            disc = sp.Integer(0)
        states = [(sp.Integer(1), sp.Integer(0))]
        negative = disc.is_negative
        if negative is None:  # SymPy could not decide: the sign of a 50-digit evaluation
            negative = bool(sp.N(disc, 50) < 0)
        if negative:
            return states
        d = sp.sqrt(disc / F)
        states.append((sp.simplify((1 - d) / 2), sp.simplify(F * (1 + d) / (2 * (F + k)))))
        if not disc.is_zero:
            states.append((sp.simplify((1 + d) / 2), sp.simplify(F * (1 - d) / (2 * (F + k)))))
        return states
    found = float_states(exact(F), exact(k), tol)
    return [(1.0, 0.0)] + [(u, v) for u, v, _ in found]


def float_states(Fq: Fraction, kq: Fraction, tol: float = 0.0):
    """Non-trivial states as floats ``[(u, v, d), ...]`` (upper first) from exact F, k.

    Existence is decided exactly; the floats avoid cancellation: the small root u₋ is computed
    as 2 c / (1 + d) with c = (F + k)²/F = u₋ u₊, the small v₋ as (F + k)/u₊.
    """
    disc = Fq - 4 * (Fq + kq) ** 2  # F · d², same sign as d²
    if tol and abs(disc) <= tol * Fq:
        disc = Fraction(0)
    if disc < 0:
        return []
    d = float(np.sqrt(float(disc / Fq)))
    c2 = float(2 * (Fq + kq) ** 2 / Fq)  # exact before rounding: u = 1/2 at (0.04, 0.06)
    ratio = float(Fq / (2 * (Fq + kq)))  # exact before rounding: v = 1/5 at (0.04, 0.06)
    states = [(c2 / (1 + d), ratio * (1 + d), d)]
    if disc > 0:
        u_plus = (1 + d) / 2
        states.append((u_plus, float(Fq + kq) / u_plus, d))
    return states


def upper_state(F, k, *, tol: float = 0.0):
    """The upper-v non-trivial state (u, v) as floats, or ``None`` when F < 4 (F + k)²."""
    states = steady_states(F, k, tol=tol)
    return states[1] if len(states) > 1 else None


def jacobian(u, v, F, k):
    """The reaction Jacobian J = [[−v² − F, −2uv], [v², 2uv − (F + k)]].

    SymPy inputs give a 2×2 ``sympy.Matrix``; numbers or arrays give a NumPy array of shape
    ``(..., 2, 2)`` broadcast over the inputs.
    """
    if is_symbolic(u, v, F, k):
        return sp.Matrix([[-v**2 - F, -2 * u * v], [v**2, 2 * u * v - (F + k)]])
    u, v, F, k = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(v, dtype=float),
                                     check_array(F, "F", positive=True), check_array(k, "k"))
    J = np.empty(u.shape + (2, 2))
    J[..., 0, 0] = -v**2 - F
    J[..., 0, 1] = -2 * u * v
    J[..., 1, 0] = v**2
    J[..., 1, 1] = 2 * u * v - (F + k)
    return J


def trace_det_closed_form():
    """tr J and det J on a non-trivial state, in closed form (SymPy, symbols F, k, v).

    Using u v = F + k:  tr J = k − v²  and  det J = (F + k)(v² − F).
    Returns ``(trace, det)``.
    """
    return k_ - v_**2, (F_ + k_) * (v_**2 - F_)


def saddle_node_k(F):
    """The saddle-node (existence) curve k = sqrt(F)/2 − F: non-trivial states exist for k below it.

    Works for SymPy expressions, scalars and NumPy arrays (F > 0)."""
    if is_symbolic(F):
        return sp.sqrt(check_scalar(F, "F", positive=True)) / 2 - F
    F = np.asarray(F, dtype=float)
    if np.any(~np.isfinite(F) | (F <= 0)):
        raise ValueError("F must be finite and > 0 for the saddle-node curve")
    out = np.sqrt(F) / 2 - F
    return float(out) if out.ndim == 0 else out


@lru_cache(maxsize=1)
def bogdanov_takens_point():
    """The Bogdanov-Takens point (F, k) = (1/16, 1/16), derived, not typed in.

    A double-zero eigenvalue needs tr J = 0 and det J = 0 on a non-trivial state:
    det = 0 gives v² = F, tr = 0 gives v² = k, so F = k; the state is then the double root
    (u = 1/2, v = 2(F + k)) of the saddle-node, F = 4 (F + k)² = 16 F², hence F = 1/16.
    Returns a tuple of SymPy Rationals (they compare equal to the floats 0.0625).
    """
    tr, det = trace_det_closed_form()
    f, g = reaction(u_, v_, F_, k_)
    sols = sp.solve([f, g, tr, det], [u_, v_, F_, k_], dict=True)
    points = {(s[F_], s[k_]) for s in sols if s[F_] > 0}
    if len(points) != 1:  # pragma: no cover - a SymPy regression would land here
        raise RuntimeError(f"expected one Bogdanov-Takens point, SymPy found {points}")
    F, k = points.pop()
    return sp.Rational(F), sp.Rational(k)
