"""Linear stability of the upper homogeneous state with diffusion: dispersion relation, Turing
band, critical diffusion ratio and the Turing-Hopf point.

Small perturbations ∝ exp(λ t + i q·x) of a homogeneous state grow with the eigenvalues λ of
J − q² D, D = diag(Du, Dv):

    λ² − T(q²) λ + Δ(q²) = 0,   T = tr J − q² (Du + Dv),   Δ = det J − q² h + q⁴ Du Dv,
    h = Dv J11 + Du J22.

With tr J < 0, T(q²) < 0 for every q², so an instability needs Δ(q²) < 0 for some q²: that is
h > 0 and h² > 4 Du Dv det J (Turing 1952). Where it holds the unstable band is the interval
between the two roots of Δ(q²) = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ._checks import check_scalar, exact, is_symbolic
from .steady_states import F_, float_states, jacobian, k_, steady_states


class NoSteadyStateError(ValueError):
    """Raised by :func:`turing_analysis` where only the trivial state (1, 0) exists."""


@dataclass(frozen=True)
class TuringAnalysis:
    """Linear analysis of the upper-v state at one (F, k, Du, Dv). All numbers are floats.

    ``trace``/``det``: of the reaction Jacobian J; ``h = Dv J11 + Du J22``.
    ``hopf_stable``: tr J < 0 and det J > 0 (stable without diffusion).
    ``q2_band``: the open interval (lo, hi) of q² where det(J − q² D) < 0 (a real eigenvalue is
    positive: the diffusion-driven band), or ``None`` where there is none. It is reported even
    when the state is Hopf-unstable.
    ``turing_unstable``: ``hopf_stable`` and ``q2_band is not None`` (Turing's definition).
    ``q2_max``/``growth_max``: the q² ≥ 0 maximising the largest real part of λ(q²), and that
    real part (negative for a stable state).
    ``sigma_critical``: the ratio Du/Dv above which h > 2 sqrt(Du Dv det J) holds at this state
    (it depends on the state only, not on Du and Dv).
    """

    F: float
    k: float
    Du: float
    Dv: float
    u: float
    v: float
    trace: float
    det: float
    h: float
    hopf_stable: bool
    turing_unstable: bool
    q2_band: tuple[float, float] | None
    q2_max: float
    growth_max: float
    sigma_critical: float

    @property
    def sigma(self) -> float:
        """Du / Dv."""
        return self.Du / self.Dv

    @property
    def wavelength_max(self) -> float:
        """2π / q of the most unstable mode (``inf`` when q2_max = 0)."""
        return math.inf if self.q2_max == 0 else 2 * math.pi / math.sqrt(self.q2_max)


def _state_quantities(F: float, k: float, u: float, v: float, d: float):
    """J entries, trace and det on the upper state (d = sqrt(1 − 4 (F+k)²/F) = 1 − 2u), in forms
    that are exact at d = 0."""
    s = F + k
    v2 = v * v
    J11, J12, J21, J22 = -v2 - F, -2.0 * s, v2, s  # u v = F + k on the state
    trace = k - v2
    det = s * F * d / u                   # = (F + k)(v² − F), 0 exactly on the saddle-node curve
    return J11, J12, J21, J22, trace, det


def _max_real_growth(p, trace, det, h, Du, Dv):
    """Largest real part of λ(q² = p) (NumPy, broadcasting)."""
    T = trace - p * (Du + Dv)
    Delta = det - p * h + p * p * Du * Dv
    disc = T * T - 4 * Delta
    return np.where(disc >= 0, (T + np.sqrt(np.maximum(disc, 0.0))) / 2, T / 2)


def _most_unstable(trace, det, h, Du, Dv) -> tuple[float, float]:
    """argmax over q² ≥ 0 of the largest Re λ(q²), and the maximum.

    Where λ is real and stationary, dλ/dq² = 0 gives λ = (h − 2 Du Dv q²)/(Du + Dv); putting it
    back into the characteristic equation leaves the quadratic
        −P (Du − Dv)² p² + 2 P (S tr − 2h) p + (h² − S tr h + S² det) = 0,
    P = Du Dv, S = Du + Dv, p = q². The maximum is at one of its non-negative roots or at p = 0
    (in the complex region Re λ = T/2 decreases with p).
    """
    P, S = Du * Dv, Du + Dv
    a = -P * (Du - Dv) ** 2
    b = 2 * P * (S * trace - 2 * h)
    c = h * h - S * trace * h + S * S * det
    candidates = [0.0]
    if a != 0:
        disc = b * b - 4 * a * c
        if disc >= 0:
            r = math.sqrt(disc)
            candidates += [(-b + r) / (2 * a), (-b - r) / (2 * a)]
    elif b != 0:
        candidates.append(-c / b)
    candidates = np.array([p for p in candidates if p >= 0 and math.isfinite(p)])
    growth = _max_real_growth(candidates, trace, det, h, Du, Dv)
    i = int(np.argmax(growth))
    return float(candidates[i]), float(growth[i])


def sigma_critical_at(J22, det, J12J21):
    """(sqrt(det) + sqrt(−J12 J21))² / J22²: the Du/Dv above which h > 2 sqrt(Du Dv det).

    Writing s = sqrt(Du/Dv), the condition reads J22 s² − 2 sqrt(det) s + J11 > 0, whose positive
    root is (sqrt(det) + sqrt(det − J11 J22)) / J22 and det − J11 J22 = −J12 J21."""
    return (math.sqrt(max(det, 0.0)) + math.sqrt(-J12J21)) ** 2 / J22**2


def turing_analysis(F, k, Du, Dv, *, tol: float = 0.0) -> TuringAnalysis:
    """Linear (Turing) analysis of the upper-v state at (F, k) with diffusivities (Du, Dv).

    Existence of the state is decided exactly (see :func:`steady_states`; ``tol`` as there).
    Raises :class:`NoSteadyStateError` (a ``ValueError``) where only (1, 0) exists, i.e.
    F < 4 (F + k)²; ``ValueError`` naming the argument for negative/non-finite input, F = 0,
    Du ≤ 0 or Dv ≤ 0.
    """
    F = check_scalar(F, "F", positive=True, allow_symbol=False)
    k = check_scalar(k, "k", allow_symbol=False)
    Du = float(check_scalar(Du, "Du", positive=True, allow_symbol=False))
    Dv = float(check_scalar(Dv, "Dv", positive=True, allow_symbol=False))
    found = float_states(exact(F), exact(k), tol)
    if not found:
        raise NoSteadyStateError(
            f"no non-trivial steady state at F={float(F)!r}, k={float(k)!r}: it needs "
            f"k <= sqrt(F)/2 - F = {math.sqrt(float(F)) / 2 - float(F):.6g} (only (1, 0) exists)")
    F, k = float(F), float(k)
    u, v, d = found[0]
    J11, J12, J21, J22, trace, det = _state_quantities(F, k, u, v, d)
    h = Dv * J11 + Du * J22
    hopf_stable = trace < 0 and det > 0
    P = Du * Dv
    band = None
    disc = h * h - 4 * P * det
    if h > 0 and disc > 0:
        root = math.sqrt(disc)
        hi = (h + root) / (2 * P)
        lo = 2 * det / (h + root)  # = (h − root)/(2P) without cancellation
        band = (lo, hi)
    q2_max, growth_max = _most_unstable(trace, det, h, Du, Dv)
    return TuringAnalysis(
        F=F, k=k, Du=Du, Dv=Dv, u=u, v=v, trace=trace, det=det, h=h,
        hopf_stable=hopf_stable, turing_unstable=hopf_stable and band is not None,
        q2_band=band, q2_max=q2_max, growth_max=growth_max,
        sigma_critical=sigma_critical_at(J22, det, J12 * J21))


def dispersion(q2, F, k, Du, Dv, u=None, v=None):
    """Growth rates λ(q²): both eigenvalues of J − q² D at the state (u, v).

    ``u, v`` default to the upper state (``NoSteadyStateError`` if there is none); pass (1, 0)
    for the trivial state. NumPy: returns a complex array of shape ``q2.shape + (2,)`` holding
    (λ₊, λ₋), λ₊ the one with the larger real part. SymPy (any argument symbolic): returns the
    tuple of expressions (λ₊, λ₋).
    """
    if is_symbolic(q2, F, k, Du, Dv, u, v):
        if u is None or v is None:
            u, v = steady_states(F, k)[1]
        J = jacobian(u, v, F, k)
        T = J.trace() - q2 * (Du + Dv)
        Delta = sp.expand((J[0, 0] - Du * q2) * (J[1, 1] - Dv * q2) - J[0, 1] * J[1, 0])
        root = sp.sqrt(T**2 - 4 * Delta)
        return (T + root) / 2, (T - root) / 2
    for value, name in ((Du, "Du"), (Dv, "Dv")):
        check_scalar(value, name)
    if u is None or v is None:
        a = turing_analysis(F, k, Du, Dv)
        u, v = a.u, a.v
    else:
        check_scalar(F, "F", positive=True)
        check_scalar(k, "k")
    q2 = np.asarray(q2, dtype=float)
    if np.any(~np.isfinite(q2) | (q2 < 0)):
        raise ValueError("q2 must be finite and >= 0")
    J = jacobian(u, v, F, k)
    T = J[0, 0] + J[1, 1] - q2 * (Du + Dv)
    Delta = (J[0, 0] - Du * q2) * (J[1, 1] - Dv * q2) - J[0, 1] * J[1, 0]
    root = np.sqrt((T * T - 4 * Delta).astype(complex))
    return np.stack([(T + root) / 2, (T - root) / 2], axis=-1)


def growth_rate(q2, F, k, Du, Dv, u=None, v=None) -> np.ndarray:
    """max Re λ(q²) (NumPy), shape ``q2.shape``; see :func:`dispersion`."""
    return dispersion(q2, F, k, Du, Dv, u, v).real.max(axis=-1)


class TuringHopfPoint(tuple):
    """(F, k) of the Turing-Hopf point, with the state as ``.u`` and ``.v``; unpacks as F, k."""

    def __new__(cls, F, k, u, v, sigma):
        obj = super().__new__(cls, (F, k))
        obj.F, obj.k, obj.u, obj.v, obj.sigma = F, k, u, v, sigma
        return obj

    @property
    def state(self):
        return self.u, self.v


def turing_hopf_point(sigma=2) -> TuringHopfPoint:
    """Where the Turing line meets the Hopf line of the upper state, exactly, for Du/Dv = σ.

    On the Hopf line tr J = 0, so J22 = −J11 = F + k and h = Dv (F + k)(σ − 1); with
    det J = (F + k)(k − F) the Turing condition h² = 4 Du Dv det becomes
    (F + k)(σ − 1)² = 4σ (k − F). Parametrising states by u (v = u(1 − u) on the Hopf line,
    F = u³(1 − u), k = u²(1 − u)²) this is linear in u:

        u = (8 − (σ − 3)²) / (8σ),   v = u (1 − u).

    σ = 2 gives u = 7/16, v = 63/256, (F, k) = (3087/65536, 3969/65536). Valid for
    1 < σ < 3 + 2√2 (outside, the point leaves the upper branch). Floats are read as their
    decimal repr; results are exact SymPy numbers (or expressions for a symbolic σ).
    """
    if isinstance(sigma, sp.Basic) and sigma.free_symbols:
        s = sigma
    else:
        s = check_scalar(sigma, "sigma", positive=True)
        if not isinstance(s, sp.Basic):
            q = exact(s)
            s = sp.Rational(q.numerator, q.denominator)
        if not (1 < s < 3 + 2 * sp.sqrt(2)):
            raise ValueError(f"sigma (= Du/Dv) must lie in (1, 3 + 2*sqrt(2)) ≈ (1, 5.828) for a "
                             f"Turing-Hopf point on the upper state, got {sigma!r}")
    u = sp.simplify((8 - (s - 3) ** 2) / (8 * s))
    v = sp.factor(u * (1 - u))
    F = sp.factor(u**3 * (1 - u))
    k = sp.factor(v**2)
    return TuringHopfPoint(F, k, u, v, s)


def dispersion_relation():
    """The characteristic polynomial det(J − q² D − λ I) on the upper state, as a SymPy expression
    in the symbols λ, q2, u, v, F, k, D_u, D_v (useful for display in the notebooks)."""
    from .steady_states import Du_, Dv_, lam_, q2_, u_, v_
    J = jacobian(u_, v_, F_, k_)
    M = J - sp.diag(Du_ * q2_, Dv_ * q2_) - lam_ * sp.eye(2)
    return sp.expand(M.det())


@dataclass(frozen=True)
class MostUnstableMode:
    """The most unstable wavenumber of a Turing band and its growth rate, in closed form.

    ``lam_of_p``: the real eigenvalue at a stationary point of λ(q²), λ = (h − 2 Du Dv p)/(Du + Dv),
    from ∂/∂p of the characteristic equation. ``quadratic``: what is left of the characteristic
    equation once λ is eliminated, a quadratic in p = q². ``p_roots``: its two roots (the most
    unstable q² is the root where λ is largest). Symbols: ``h``, ``tr``, ``det`` stand for
    h = Dv J11 + Du J22, tr J and det J.
    """

    p: sp.Symbol
    h: sp.Symbol
    tr: sp.Symbol
    det: sp.Symbol
    lam_of_p: sp.Expr
    quadratic: sp.Expr
    p_roots: tuple

    def numeric(self, trace: float, det: float, h: float, Du: float, Dv: float) -> tuple[float, float]:
        """(q2_max, growth_max) from the closed forms at numbers: the root with the larger λ."""
        from .steady_states import Du_, Dv_
        subs = {self.tr: trace, self.det: det, self.h: h, Du_: Du, Dv_: Dv}
        best = None
        for root in self.p_roots:
            p_val = complex(root.evalf(30, subs=subs))
            if abs(p_val.imag) > 1e-12 or p_val.real < 0:
                continue
            lam_val = float(self.lam_of_p.evalf(30, subs={**subs, self.p: p_val.real}))
            if best is None or lam_val > best[1]:
                best = (p_val.real, lam_val)
        if best is None:
            raise ValueError("no real non-negative stationary q²: the band's maximum is at q² = 0")
        return best


def most_unstable_mode() -> MostUnstableMode:
    """Derive the most unstable q² and its growth rate (Turing band, real λ) with SymPy.

    The characteristic equation G(λ, p) = λ² − (tr − p S) λ + det − p h + p² P = 0 (S = Du + Dv,
    P = Du Dv) defines λ(p); at its maximum dλ/dp = −G_p/G_λ = 0, i.e. G_p = S λ − h + 2 P p = 0.
    Solving for λ and substituting into G leaves a quadratic in p, solved in closed form.
    """
    from .steady_states import Du_, Dv_, lam_
    p, h, tr, det = sp.symbols("p h tr det", real=True)
    S, P = Du_ + Dv_, Du_ * Dv_
    G = lam_**2 - (tr - p * S) * lam_ + det - p * h + p**2 * P
    lam_of_p = sp.solve(sp.diff(G, p), lam_)[0]
    quadratic = sp.expand(sp.numer(sp.together(G.subs(lam_, lam_of_p))))
    # the roots of a p² + b p + c, a = −P (Du − Dv)², b = 2 P (S tr − 2h), in a readable form
    c = h**2 - S * tr * h + S**2 * det
    w = S * tr - 2 * h
    root = sp.sqrt(w**2 + (Du_ - Dv_) ** 2 * c / P)
    roots = ((w - root) / (Du_ - Dv_) ** 2, (w + root) / (Du_ - Dv_) ** 2)
    return MostUnstableMode(p, h, tr, det, sp.simplify(lam_of_p), sp.collect(quadratic, p), roots)
