"""Gray-Scott on 2-D grids (B, C, H, W): the same three schemes as the 1-D lattice.

Used for Pearson-style pattern galleries and the 2-D cross-check with py-pde; the fusion layer
itself lives on the 1-D lattice (:mod:`rdmf.numerics.gray_scott`). Grids are unmasked. The
5-point Laplacian ``(x_N + x_S + x_E + x_W − 4 x) / dx²`` with reflecting (cell-centred Neumann:
the ghost cell is the boundary cell) or periodic boundaries; explicit diffusion needs
``r = D dt / dx² ≤ 1/4``. The ``dct`` scheme applies exact diffusion separably along both axes
(``exp(t D (Δ_x + Δ_y)) = exp(t D Δ_x) exp(t D Δ_y)``) and is bounded for every dt.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch

from .dct import laplacian_basis
from .params import as_param, bound_tolerance, check_finite_nonneg
from .gray_scott import (
    BOUNDARIES,
    StabilityError,
    check_run_options,
    explicit_condition_violated,
    react_semi_implicit,
)

DIFFUSION_BOUND_2D = 0.25


def as_param_2d(x, name: str, like: torch.Tensor) -> torch.Tensor:
    """Scalar, (C,), (B, C) or (B|1, C|1, 1, 1) parameter -> (B|1, C|1, 1, 1) on ``like``."""
    if isinstance(x, torch.Tensor) and x.dim() == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    return as_param(x, name, like[..., 0]).unsqueeze(-1)


def laplacian_2d(x: torch.Tensor, boundary: str = "reflecting", dx: float = 1.0) -> torch.Tensor:
    """5-point Laplacian of a (B, C, H, W) field."""
    if boundary == "reflecting":
        p = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    elif boundary == "periodic":
        p = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="circular")
    else:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    return (p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]
            - 4 * x) / (dx * dx)


class DiffusionPropagator2D:
    """Exact diffusion over one step on a (H, W) grid, per sample and channel."""

    def __init__(self, H: int, W: int, D, dt, dx: float = 1.0, *, like: torch.Tensor,
                 boundary: str = "reflecting"):
        self.Vh, lam_h = laplacian_basis(H, boundary, dtype=like.dtype, device=like.device)
        self.Vw, lam_w = laplacian_basis(W, boundary, dtype=like.dtype, device=like.device)
        lam = lam_h.reshape(H, 1) + lam_w.reshape(1, W)
        D_, dt_ = as_param_2d(D, "D", like), as_param_2d(dt, "dt", like)
        self.decay = torch.exp(dt_ * D_ * lam / (dx * dx))  # (B|1, C|1, H, W)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        coeffs = self.Vh.transpose(0, 1) @ x @ self.Vw
        return self.Vh @ (coeffs * self.decay) @ self.Vw.transpose(0, 1)


def integrate_2d(u0: torch.Tensor, v0: torch.Tensor, F, k, Du, Dv, dt, steps: int, *,
                 boundary: Literal["reflecting", "periodic"] = "periodic",
                 scheme: Literal["semi_implicit", "explicit", "dct"] = "semi_implicit",
                 dx: float = 1.0, check: bool = True,
                 on_violation: Literal["raise", "warn"] = "raise",
                 return_trajectory: bool = False, every: int = 1):
    """Integrate Gray-Scott on 2-D grids.

    Args:
        u0, v0: (B, C, H, W) initial fields.
        F, k, Du, Dv, dt: scalar, (C,) or (B, C) (e.g. one (F, k) per gallery panel).
        steps: number of steps K ≥ 0.
        boundary, scheme, dx, check, on_violation: as :func:`rdmf.numerics.integrate`
            (explicit diffusion bound r ≤ 1/4 here).
        return_trajectory: also return the list of (u, v) every ``every`` steps.

    Returns:
        (u_K, v_K) of shape (B, C, H, W), plus the trajectory if asked.
    """
    if not isinstance(u0, torch.Tensor) or u0.dim() != 4 or u0.shape != v0.shape:
        raise ValueError("u0 and v0 must both be (B, C, H, W) tensors of the same shape; got "
                         f"{tuple(getattr(u0, 'shape', ()))} and {tuple(getattr(v0, 'shape', ()))}")
    check_run_options(scheme, boundary, on_violation, steps, dx)
    F_, k_, Du_, Dv_, dt_ = (as_param_2d(p, n, u0) for p, n in
                             ((F, "F"), (k, "k"), (Du, "Du"), (Dv, "Dv"), (dt, "dt")))
    if check:
        for name, value, positive in (("F", F, False), ("k", k, False), ("Du", Du, False),
                                      ("Dv", Dv, False), ("dt", dt, True)):
            check_finite_nonneg(value, name, positive=positive)
        if scheme != "dct" and not (isinstance(dt, torch.Tensor) and dt.requires_grad):
            tol = bound_tolerance(u0.dtype)
            for name, D, D_ in (("Du", Du, Du_), ("Dv", Dv, Dv_)):
                if isinstance(D, torch.Tensor) and D.requires_grad:
                    continue
                r_max = float((D_.detach().double() * dt_.detach().double()).max()) / dx**2
                if r_max > DIFFUSION_BOUND_2D * (1 + tol):
                    raise StabilityError(
                        f"{name}·dt/dx² = {r_max:.4g} exceeds the 2-D explicit-diffusion bound "
                        f"1/4 of the {scheme!r} scheme (valid range r ∈ [0, 0.25]): lower dt or "
                        "use scheme='dct'")
    H, W = u0.shape[-2:]
    if scheme == "dct":
        prop_u = DiffusionPropagator2D(H, W, Du_, dt_, dx, like=u0, boundary=boundary)
        prop_v = DiffusionPropagator2D(H, W, Dv_, dt_, dx, like=u0, boundary=boundary)
    u, v = u0, v0
    trajectory, warned = [], False
    for step in range(int(steps)):
        if scheme == "semi_implicit":
            u = (u + dt_ * Du_ * laplacian_2d(u, boundary, dx) + dt_ * F_) / (
                1 + dt_ * (v * v + F_))
            v = (v + dt_ * Dv_ * laplacian_2d(v, boundary, dx) + dt_ * u * v * v) / (
                1 + dt_ * (F_ + k_))
        elif scheme == "explicit":
            if check and explicit_condition_violated(v, F_, k_, Du_, Dv_, dt_, dx, neighbours=4):
                msg = (f"explicit Euler (2-D): step {step} violates dt·(v² + F) ≤ 1 − 4 r_u or "
                       "dt·(F + k) ≤ 1 − 4 r_v (use scheme='semi_implicit')")
                if on_violation == "raise":
                    raise StabilityError(msg)
                if not warned:
                    warnings.warn(msg, RuntimeWarning, stacklevel=2)
                    warned = True
            uvv = u * v * v
            u, v = (u + dt_ * (Du_ * laplacian_2d(u, boundary, dx) - uvv + F_ * (1 - u)),
                    v + dt_ * (Dv_ * laplacian_2d(v, boundary, dx) + uvv - (F_ + k_) * v))
        else:
            u, v = react_semi_implicit(prop_u(u), prop_v(v), F_, k_, dt_)
        if return_trajectory and (step + 1) % every == 0:
            trajectory.append((u, v))
    if check and steps > 0 and not bool((torch.isfinite(u) & torch.isfinite(v)).all()):
        msg = (f"the {scheme!r} 2-D integration produced non-finite values: the step size is "
               "beyond the scheme's stability bound")
        if on_violation == "raise":
            raise StabilityError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    if return_trajectory:
        return u, v, trajectory
    return u, v
