"""Linear stability of the Gray-Scott schemes on a lattice: one 2×2 matrix per lattice mode.

Around a homogeneous steady state (u*, v*), a perturbation ``(δu, δv) φ_m`` along the lattice
eigenvector ``φ_m`` (Laplacian eigenvalue ``−μ_m``, ``μ_m = |Λ_m| / dx²``) stays in that mode
and is multiplied at every step by a 2×2 amplification matrix ``G_m``:

- continuous time: ``d/dt w = (J − μ D) w``; growth rate ``max Re eig(J − μ D)``;
- ``explicit`` (forward Euler): ``G = I + dt (J − μ D)``;
- ``semi_implicit`` (u first, linearly implicit reaction)::

      A w' = B w,   A = [[1 + dt (v*² + F), 0], [−dt v*², 1 + dt (F + k)]]
                    B = [[1 − dt Du μ, −2 dt u* v*], [0, 1 − dt Dv μ + 2 dt u* v*]]

  (the linearisation of u' = (u + dt Du Δu + dt F) / (1 + dt (v² + F)) and of
  v' = (v + dt Dv Δv + dt u' v²) / (1 + dt (F + k)); derived in SymPy in
  :mod:`rdmf.theory.schemes`);
- ``dct`` (exact diffusion, then the reaction step): ``G = A⁻¹ B₀ diag(e^{−dt Du μ}, e^{−dt Dv μ})``
  with ``B₀ = B(μ = 0)``.

The discrete-time growth rate of mode m is ``ln max|eig G_m| / dt``: this, not the
continuous-time eigenvalue, is what a simulation with step dt measures.

Numpy only (float64); no torch.
"""

from __future__ import annotations

import math

import numpy as np

SCHEMES = ("continuous", "explicit", "semi_implicit", "dct")


def homogeneous_states(F: float, k: float) -> list[tuple[float, float]]:
    """Real homogeneous steady states as floats: (1, 0), then the upper-v and the saddle state.

    Uses ``d = sqrt(1 − 4 (F + k)² / F)``; a discriminant within 1e−12 of 0 counts as the
    saddle-node double root. For exact work use :mod:`rdmf.theory`.
    """
    _check_kinetics(F, k)
    states = [(1.0, 0.0)]
    if F > 0:
        disc = 1.0 - 4.0 * (F + k) ** 2 / F
        if disc > -1e-12:
            d = math.sqrt(max(disc, 0.0))
            states.append(((1 - d) / 2, F * (1 + d) / (2 * (F + k))))
            if d > 0:
                states.append(((1 + d) / 2, F * (1 - d) / (2 * (F + k))))
    return states


def upper_state(F: float, k: float) -> tuple[float, float]:
    """The non-trivial steady state with the larger v; ValueError if none exists."""
    states = homogeneous_states(F, k)
    if len(states) < 2:
        raise ValueError(f"(F, k) = ({F}, {k}) has no non-trivial steady state: it needs "
                         f"F ≥ 4 (F + k)² (k ≤ sqrt(F)/2 − F = {math.sqrt(F) / 2 - F:.5g})")
    return states[1]


def jacobian(u: float, v: float, F: float, k: float) -> np.ndarray:
    """Reaction Jacobian [[−v² − F, −2uv], [v², 2uv − (F + k)]] (2, 2)."""
    return np.array([[-v * v - F, -2 * u * v], [v * v, 2 * u * v - (F + k)]], dtype=np.float64)


def _state(F, k, state):
    if isinstance(state, str):
        if state == "trivial":
            return 1.0, 0.0
        if state == "upper":
            return upper_state(F, k)
        raise ValueError(f"state must be 'trivial', 'upper' or a (u, v) pair, got {state!r}")
    u, v = state
    return float(u), float(v)


def amplification_matrices(F: float, k: float, Du: float, Dv: float, dt: float, mu,
                           scheme: str = "semi_implicit", state="upper") -> np.ndarray:
    """One-step amplification matrices ``G_m`` (M, 2, 2) for the lattice modes ``mu`` (M,).

    ``mu`` holds ``|Λ_m| / dx²`` (non-negative). ``scheme="continuous"`` returns ``J − μ D``.
    ``state``: ``"upper"`` (default), ``"trivial"`` or an explicit ``(u, v)``.
    """
    _check_kinetics(F, k)
    _check_nonneg(Du, "Du")
    _check_nonneg(Dv, "Dv")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme != "continuous" and not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    if (mu < 0).any() or not np.isfinite(mu).all():
        raise ValueError("mu (|Laplacian eigenvalues| / dx²) must be finite and ≥ 0")
    u, v = _state(F, k, state)
    J = jacobian(u, v, F, k)
    D = np.diag([Du, Dv])
    M = J[None] - mu[:, None, None] * D[None]
    if scheme == "continuous":
        return M
    if scheme == "explicit":
        return np.eye(2)[None] + dt * M
    A = np.array([[1 + dt * (v * v + F), 0.0], [-dt * v * v, 1 + dt * (F + k)]])
    Ainv = np.linalg.inv(A)
    if scheme == "semi_implicit":
        Bm = np.zeros((len(mu), 2, 2))
        Bm[:, 0, 0] = 1 - dt * Du * mu
        Bm[:, 0, 1] = -2 * dt * u * v
        Bm[:, 1, 1] = 1 - dt * Dv * mu + 2 * dt * u * v
        return Ainv[None] @ Bm
    B0 = np.array([[1.0, -2 * dt * u * v], [0.0, 1 + 2 * dt * u * v]])
    E = np.zeros((len(mu), 2, 2))
    E[:, 0, 0] = np.exp(-dt * Du * mu)
    E[:, 1, 1] = np.exp(-dt * Dv * mu)
    return (Ainv @ B0)[None] @ E


def growth_rates(F: float, k: float, Du: float, Dv: float, mu, scheme: str = "semi_implicit",
                 dt: float = 1.0, state="upper") -> np.ndarray:
    """Growth rate (M,) of each lattice mode: ``max Re eig(J − μ D)`` (continuous) or the
    discrete-time rate ``ln max|eig G_m| / dt`` of the scheme."""
    G = amplification_matrices(F, k, Du, Dv, dt, mu, scheme, state)
    eig = np.linalg.eigvals(G)
    if scheme == "continuous":
        return eig.real.max(axis=-1)
    with np.errstate(divide="ignore"):
        return np.log(np.abs(eig).max(axis=-1)) / dt


def _check_nonneg(x, name):
    if not (isinstance(x, (int, float, np.floating)) and math.isfinite(x) and x >= 0):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {x!r}")


def _check_kinetics(F, k):
    _check_nonneg(F, "F")
    _check_nonneg(k, "k")
