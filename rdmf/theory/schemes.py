"""What the time-stepping schemes guarantee, derived in SymPy (docs/design.md §3).

- :func:`explicit_diffusion_bound`: forward Euler on the lattice heat equation is bounded and
  positive iff ``r = D dt / h² ≤ 1/(2 d)`` (1/2 in 1-D, 1/4 in 2-D).
- :func:`explicit_counterexample`: with the reaction, no fixed dt keeps forward Euler bounded:
  one site, ``F = k = 1/100``, ``u0 = v0 = 1``, ``dt = 1/(v0² + F)`` (the first step satisfies
  the positivity condition ``dt (v² + F) ≤ 1`` with equality) gives ``u < 0`` after two steps
  (exact rationals), because autocatalysis raised v in between. For any fixed dt,
  :func:`explicit_exit_state` gives a state inside the semi-implicit invariant region that
  forward Euler maps to ``u < 0`` in one step.
- :func:`semi_implicit_invariant_region`: the linearly implicit step (u first) keeps
  ``u ∈ [0, 1]``, ``v ≥ 0`` and ``v ≤ max(max v0, (1 + dt F)/(dt (F + k)))`` for any dt when
  ``r ≤ 1/2``: each claim reduces to a SymPy identity whose right-hand side is a sum of
  non-negative terms.
- :func:`splitting_invariant_region`: the ``dct`` splitting (exact diffusion, then the
  semi-implicit reaction without diffusion) keeps the same region for ANY dt and any D — the
  RD layer's default, whose diffusion reach is therefore not capped.
- :func:`amplification_matrix`: the linearisation of each scheme around a homogeneous state
  (one lattice mode, Laplacian eigenvalue −μ), the symbolic twin of
  :func:`rdmf.numerics.linear.amplification_matrices`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

# the literature's symbols
F, k, Du, Dv, dt, mu = sp.symbols("F k D_u D_v dt mu", nonnegative=True)
u, v, us, vs = sp.symbols("u v u_s v_s", nonnegative=True)
r, theta = sp.symbols("r theta", real=True)
# neighbours of the site on a 1-D lattice (left, right)
ul, ur, vl, vr = sp.symbols("u_l u_r v_l v_r", nonnegative=True)


def explicit_diffusion_bound(dim: int = 1) -> sp.Rational:
    """The largest r = D dt / h² for which forward Euler diffusion is stable on a d-dim grid.

    Von Neumann: a Fourier mode is multiplied by ``g = 1 − 4 r Σ_i sin²(θ_i / 2)``; |g| ≤ 1 for
    every θ iff ``4 r d ≤ 2``. (r ≤ 1/(2d) is also exactly the condition that the new value is
    a non-negative combination of old ones — the discrete maximum principle.)
    """
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be an integer ≥ 1, got {dim!r}")
    g_worst = 1 - 4 * r * dim  # every sin² = 1 (the checkerboard mode)
    sol = sp.solve(sp.Eq(g_worst, -1), r)
    return sp.Rational(sol[0])


def explicit_diffusion_factor(dim: int = 1):
    """Von Neumann amplification factor ``1 − 4 r Σ sin²(θ_i/2)`` (SymPy expression)."""
    thetas = sp.symbols(f"theta_1:{dim + 1}", real=True)
    return 1 - 4 * r * sum(sp.sin(t / 2) ** 2 for t in thetas), thetas


def explicit_step_reaction(u0, v0, F_, k_, dt_):
    """One forward-Euler reaction step on one site (no diffusion), exact for rationals."""
    uvv = u0 * v0 * v0
    return u0 + dt_ * (-uvv + F_ * (1 - u0)), v0 + dt_ * (uvv - (F_ + k_) * v0)


@dataclass(frozen=True)
class Counterexample:
    F: sp.Rational
    k: sp.Rational
    dt: sp.Rational
    trajectory: list  # [(u0, v0), (u1, v1), (u2, v2)] exact rationals

    @property
    def first_negative_step(self) -> int | None:
        for n, (u_n, _) in enumerate(self.trajectory):
            if u_n < 0:
                return n
        return None


def explicit_counterexample(F_=sp.Rational(1, 100), k_=sp.Rational(1, 100), u0=1, v0=1,
                            steps: int = 2) -> Counterexample:
    """The one-site failure of forward Euler: ``dt = 1/(v0² + F)`` (the largest step for which
    the first step is positivity-preserving) still gives ``u < 0`` after two steps, because the
    first step raises v and the bound ``dt (v² + F) ≤ 1`` no longer holds."""
    F_, k_, u0, v0 = (sp.nsimplify(x) for x in (F_, k_, u0, v0))
    dt_ = 1 / (v0**2 + F_)
    traj = [(u0, v0)]
    for _ in range(steps):
        traj.append(explicit_step_reaction(*traj[-1], F_, k_, dt_))
    return Counterexample(F_, k_, dt_, traj)


def explicit_exit_state(dt_, F_=sp.Rational(1, 100), k_=sp.Rational(1, 100)):
    """For a step dt, the state (u, v) = (1, 2/sqrt(dt)) and its forward-Euler image.

    ``u1 = 1 − dt v² = −3 < 0`` whatever dt is, while ``v = 2/sqrt(dt)`` lies below the
    semi-implicit bound ``(1 + dt F)/(dt (F + k))`` whenever ``dt < (1/(2 (F + k)))²``
    (= 625 for F = k = 1/100): a state the true dynamics and the semi-implicit scheme keep in
    the region, which forward Euler throws out of it. Returns ((u0, v0), (u1, v1)) exactly.
    """
    dt_ = sp.nsimplify(dt_)
    v0 = 2 / sp.sqrt(dt_)
    return (sp.Integer(1), v0), explicit_step_reaction(sp.Integer(1), v0, sp.nsimplify(F_),
                                                      sp.nsimplify(k_), dt_)


def semi_implicit_step_symbolic(r_u=None, r_v=None):
    """The semi-implicit update of one site with neighbours (u_l, u_r), (v_l, v_r)::

        u' = (u + r_u (u_l − 2u + u_r) + dt F) / (1 + dt (v² + F))
        v' = (v + r_v (v_l − 2v + v_r) + dt u' v²) / (1 + dt (F + k))
    """
    r_u = sp.Symbol("r_u", nonnegative=True) if r_u is None else r_u
    r_v = sp.Symbol("r_v", nonnegative=True) if r_v is None else r_v
    u_new = (u + r_u * (ul - 2 * u + ur) + dt * F) / (1 + dt * (v**2 + F))
    v_new = (v + r_v * (vl - 2 * v + vr) + dt * u_new * v**2) / (1 + dt * (F + k))
    return u_new, v_new, r_u, r_v


@dataclass(frozen=True)
class InvariantRegion:
    """The semi-implicit scheme's invariant region and the identities that prove it.

    Each ``*_identity`` is ``(lhs, rhs)`` with ``simplify(lhs − rhs) == 0``; ``rhs`` is a sum of
    products of non-negative factors whenever ``u, u_l, u_r ∈ [0, 1]``, ``v, v_l, v_r ∈ [0, M]``,
    ``r ≤ 1/2`` and ``M ≥ v_bar``.
    """

    u_nonneg: tuple      # numerator of u' = (1 − 2 r_u) u + r_u (u_l + u_r) + dt F
    u_le_one: tuple      # numerator of 1 − u'
    v_nonneg: tuple      # numerator of v'
    u_prod_bound: tuple  # (1 + dt F) − dt u' v² ≥ 0 with u' ≤ (1 + dt F)/(1 + dt (v² + F))
    v_le_M: tuple        # M (1 + dt (F + k)) − numerator of v' ≥ M dt (F + k) − (1 + dt F)
    v_bar: sp.Expr       # (1 + dt F) / (dt (F + k)): the fixed point of the v-bound
    r_max: sp.Rational   # 1/2

    def verify(self) -> bool:
        return all(sp.simplify(lhs - rhs) == 0 for lhs, rhs in
                   (self.u_nonneg, self.u_le_one, self.v_nonneg, self.u_prod_bound, self.v_le_M))


def semi_implicit_invariant_region() -> InvariantRegion:
    """Derive the invariant region of the semi-implicit step (docs/design.md §3) in SymPy.

    1. u' ≥ 0: its numerator is ``(1 − 2 r_u) u + r_u (u_l + u_r) + dt F`` (≥ 0 for r_u ≤ 1/2).
    2. u' ≤ 1: ``den − num = (1 − 2 r_u)(1 − u) + r_u (1 − u_l) + r_u (1 − u_r) + dt v²``.
    3. v' ≥ 0: numerator ``(1 − 2 r_v) v + r_v (v_l + v_r) + dt u' v²``.
    4. Since u_l, u_r, u ≤ 1, ``u' ≤ (1 + dt F)/(1 + dt (v² + F))``, hence
       ``dt u' v² ≤ (1 + dt F) − (1 + dt F)² / (1 + dt (v² + F)) < 1 + dt F``.
    5. With all v's ≤ M: ``M (1 + dt (F + k)) − num(v') ≥ M dt (F + k) − (1 + dt F)``, which is
       ≥ 0 iff ``M ≥ (1 + dt F)/(dt (F + k))``. So ``v ≤ max(max v0, v_bar)`` at every step.
    """
    u_new, v_new, r_u, r_v = semi_implicit_step_symbolic()
    num_u, den_u = sp.fraction(sp.together(u_new))
    u_nonneg = (sp.expand(num_u), (1 - 2 * r_u) * u + r_u * (ul + ur) + dt * F)
    u_le_one = (sp.expand(den_u - num_u),
                (1 - 2 * r_u) * (1 - u) + r_u * (1 - ul) + r_u * (1 - ur) + dt * v**2)
    # v' with u' kept as a symbol (its sign is established by the first two identities)
    up = sp.Symbol("u'", nonnegative=True)
    num_v = v + r_v * (vl - 2 * v + vr) + dt * up * v**2
    v_nonneg = (sp.expand(num_v), (1 - 2 * r_v) * v + r_v * (vl + vr) + dt * up * v**2)
    u_upper = (1 + dt * F) / (1 + dt * (v**2 + F))
    u_prod_bound = ((1 + dt * F) - dt * u_upper * v**2, (1 + dt * F) ** 2 / (1 + dt * (v**2 + F)))
    M = sp.Symbol("M", positive=True)
    # with v, v_l, v_r ≤ M and u' ≤ u_upper: the slack splits into non-negative pieces plus
    # M dt (F + k) − (1 + dt F) (the only term whose sign needs M ≥ v_bar)
    slack = M * (1 + dt * (F + k)) - num_v
    pieces = ((1 - 2 * r_v) * (M - v) + r_v * (M - vl) + r_v * (M - vr)
              + dt * v**2 * (u_upper - up) + (1 + dt * F) ** 2 / (1 + dt * (v**2 + F))
              + M * dt * (F + k) - (1 + dt * F))
    v_le_M = (slack, pieces)
    v_bar = (1 + dt * F) / (dt * (F + k))
    return InvariantRegion(u_nonneg, u_le_one, v_nonneg, u_prod_bound, v_le_M, v_bar,
                           sp.Rational(1, 2))


@dataclass(frozen=True)
class SplittingRegion:
    """The invariant region of the ``dct`` splitting scheme and what proves it.

    ``reaction``: the semi-implicit identities with r_u = r_v = 0 (the reaction substep), which
    need no condition on dt. ``generator``: the reflecting lattice Laplacian Δ of ``n`` sites
    (symbolic D ≥ 0): its rows sum to 0 (``row_sums``) and ``D Δ + 2 D I`` has no negative entry
    (``shifted``), so ``exp(t D Δ) = e^{−2Dt} exp(t (D Δ + 2 D I))`` is entrywise non-negative
    with rows summing to 1 for every t ≥ 0: a Markov operator, which keeps every field inside
    [min, max] of its input.
    """

    reaction: InvariantRegion
    generator: sp.Matrix
    row_sums: sp.Matrix
    shifted: sp.Matrix

    def verify(self) -> bool:
        D = next(iter(self.generator.free_symbols))
        nonneg = all(e == 0 or all(c >= 0 for c in sp.Poly(e, D).coeffs()) for e in self.shifted)
        return (self.reaction.verify() and all(sp.simplify(x) == 0 for x in self.row_sums)
                and nonneg)


def splitting_invariant_region(n: int = 5) -> SplittingRegion:
    """Derive the invariant region of the ``dct`` splitting scheme (docs/design.md §3) in SymPy.

    1. Diffusion substep ``exp(dt D Δ)``: Δ (reflecting, cell-centred, ``n`` sites) has rows
       summing to 0 and non-negative off-diagonal entries, so the operator is Markov for every
       dt D ≥ 0 (see :class:`SplittingRegion`): u stays in [0, 1], v in [0, M].
    2. Reaction substep: the semi-implicit step with r_u = r_v = 0; its identities
       (:func:`semi_implicit_invariant_region`) hold for any dt > 0, so u' ∈ [0, 1], v' ≥ 0 and
       v' ≤ M whenever M ≥ (1 + dt F)/(dt (F + k)). Everything is per site: with a feed F(x)
       that varies along the lattice, M ≥ max_x (1 + dt F(x))/(dt (F(x) + k)) does it.

    Hence u ∈ [0, 1], 0 ≤ v ≤ max(max v0, max_x v_bar(x)) at every step, for any dt and D.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer ≥ 2, got {n!r}")
    semi = semi_implicit_invariant_region()
    r_u, r_v = sp.Symbol("r_u", nonnegative=True), sp.Symbol("r_v", nonnegative=True)
    zero = {r_u: 0, r_v: 0}
    reaction = InvariantRegion(
        *[(lhs.subs(zero), rhs.subs(zero)) for lhs, rhs in
          (semi.u_nonneg, semi.u_le_one, semi.v_nonneg, semi.u_prod_bound, semi.v_le_M)],
        semi.v_bar, sp.oo)
    D = sp.Symbol("D", nonnegative=True)
    lap = sp.zeros(n, n)
    for i in range(n):
        for j in (max(i - 1, 0), min(i + 1, n - 1)):   # the reflecting ghost is the site itself
            lap[i, j] += 1
            lap[i, i] -= 1
    generator = D * lap
    return SplittingRegion(reaction, generator, generator * sp.ones(n, 1),
                           generator + 2 * D * sp.eye(n))


def invariant_v_bound(v0_max: float, F_: float, k_: float, dt_: float) -> float:
    """Numeric ``max(max v0, (1 + dt F)/(dt (F + k)))`` (inf when F + k = 0)."""
    for name, x in (("v0_max", v0_max), ("F", F_), ("k", k_)):
        if not (math.isfinite(x) and x >= 0):
            raise ValueError(f"{name} must be finite and ≥ 0, got {x!r}")
    if not (math.isfinite(dt_) and dt_ > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt_!r}")
    if F_ + k_ == 0:
        return math.inf
    return max(v0_max, (1 + dt_ * F_) / (dt_ * (F_ + k_)))


def semi_implicit_factors() -> tuple[sp.Matrix, sp.Matrix]:
    """(A, B) with ``A G = B`` for the semi-implicit G at a steady state (u_s v_s² = F (1 − u_s))::

        A = [[1 + dt (v_s² + F), 0], [−dt v_s², 1 + dt (F + k)]]
        B = [[1 − dt D_u μ, −2 dt u_s v_s], [0, 1 − dt D_v μ + 2 dt u_s v_s]]
    """
    A = sp.Matrix([[1 + dt * (vs**2 + F), 0], [-dt * vs**2, 1 + dt * (F + k)]])
    B = sp.Matrix([[1 - dt * Du * mu, -2 * dt * us * vs],
                   [0, 1 - dt * Dv * mu + 2 * dt * us * vs]])
    return A, B


def steady_state_substitution() -> dict:
    """``{F: u_s v_s² / (1 − u_s)}``: the steady-state relation F (1 − u_s) = u_s v_s²."""
    return {F: us * vs**2 / (1 - us)}


def amplification_matrix(scheme: str = "semi_implicit") -> sp.Matrix:
    """Linearisation of one step around (u*, v*) for one lattice mode (Laplacian eigenvalue −μ).

    Returns G (2×2 SymPy matrix in F, k, D_u, D_v, dt, mu, u_s, v_s) with
    ``(δu', δv') = G (δu, δv)``;
    ``"continuous"`` returns ``J − μ D``. Valid at a steady state (u* v*² = F (1 − u*)).
    """
    x, y = sp.symbols("x y")  # δu, δv
    eps = sp.Symbol("epsilon")
    lap_u, lap_v = -mu * x, -mu * y  # Δ acting on the mode
    U, V = us + eps * x, vs + eps * y
    if scheme == "continuous":
        J = sp.Matrix([[-vs**2 - F, -2 * us * vs], [vs**2, 2 * us * vs - (F + k)]])
        return J - mu * sp.diag(Du, Dv)
    if scheme == "explicit":
        u1 = U + dt * (Du * eps * lap_u - U * V**2 + F * (1 - U))
        v1 = V + dt * (Dv * eps * lap_v + U * V**2 - (F + k) * V)
    elif scheme == "semi_implicit":
        u1 = (U + dt * Du * eps * lap_u + dt * F) / (1 + dt * (V**2 + F))
        v1 = (V + dt * Dv * eps * lap_v + dt * u1 * V**2) / (1 + dt * (F + k))
    elif scheme == "dct":
        Ud = us + eps * x * sp.exp(-dt * Du * mu)
        Vd = vs + eps * y * sp.exp(-dt * Dv * mu)
        u1 = (Ud + dt * F) / (1 + dt * (Vd**2 + F))
        v1 = (Vd + dt * u1 * Vd**2) / (1 + dt * (F + k))
    else:
        raise ValueError("scheme must be 'continuous', 'explicit', 'semi_implicit' or 'dct', "
                         f"got {scheme!r}")
    d_u = sp.diff(u1, eps).subs(eps, 0)
    d_v = sp.diff(v1, eps).subs(eps, 0)
    G = sp.Matrix([[sp.diff(d_u, x), sp.diff(d_u, y)], [sp.diff(d_v, x), sp.diff(d_v, y)]])
    # use the steady-state relation F (1 − u*) = u* v*² only where it appears: leave G general
    return G.applyfunc(sp.simplify)
