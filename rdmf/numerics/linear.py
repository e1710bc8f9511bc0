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

Numpy only (float64); no torch. The steady states and the reaction Jacobian are those of
:mod:`rdmf.theory.steady_states`.
"""

from __future__ import annotations

import math

import numpy as np

from rdmf.theory.steady_states import jacobian, upper_state

SCHEMES = ("continuous", "explicit", "semi_implicit", "dct")


def base_state(F: float, k: float, state="upper") -> tuple[float, float]:
    """The homogeneous state (u*, v*) to linearise around, as floats.

    ``state``: ``"upper"`` (the upper-v non-trivial state of :func:`rdmf.theory.upper_state`;
    ValueError if there is none), ``"trivial"`` (1, 0) or an explicit ``(u, v)`` pair.
    """
    if isinstance(state, str):
        if state == "trivial":
            return 1.0, 0.0
        if state == "upper":
            found = upper_state(F, k)
            if found is None:
                raise ValueError(
                    f"(F, k) = ({F}, {k}) has no non-trivial steady state: it needs "
                    f"F ≥ 4 (F + k)² (k ≤ sqrt(F)/2 − F = {math.sqrt(F) / 2 - F:.5g})")
            return float(found[0]), float(found[1])
        raise ValueError(f"state must be 'trivial', 'upper' or a (u, v) pair, got {state!r}")
    u, v = state
    return float(u), float(v)


def check_parameters(F, k, Du, Dv) -> None:
    """ValueError naming the first of F, k, Du, Dv that is not a finite number ≥ 0."""
    for value, name in ((F, "F"), (k, "k"), (Du, "Du"), (Dv, "Dv")):
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value)
                and value >= 0):
            raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")


def reaction_jacobian(u: float, v: float, F: float, k: float) -> np.ndarray:
    """The reaction Jacobian (2, 2) of :func:`rdmf.theory.jacobian` at one point, float64."""
    return np.asarray(jacobian(u, v, F, k), dtype=np.float64)


def amplification_matrices(F: float, k: float, Du: float, Dv: float, dt: float, mu,
                           scheme: str = "semi_implicit", state="upper") -> np.ndarray:
    """One-step amplification matrices ``G_m`` (M, 2, 2) for the lattice modes ``mu`` (M,).

    ``mu`` holds ``|Λ_m| / dx²`` (non-negative). ``scheme="continuous"`` returns ``J − μ D``.
    ``state``: ``"upper"`` (default), ``"trivial"`` or an explicit ``(u, v)``.
    """
    check_parameters(F, k, Du, Dv)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme != "continuous" and not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    if (mu < 0).any() or not np.isfinite(mu).all():
        raise ValueError("mu (|Laplacian eigenvalues| / dx²) must be finite and ≥ 0")
    u, v = base_state(F, k, state)
    J = reaction_jacobian(u, v, F, k)
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
