"""Gray-Scott on the 1-D lattice of video clips: the integrators the fusion layer calls.

    u_t = Du Δu − u v² + F (1 − u)
    v_t = Dv Δv + u v² − (F + k) v

Layout is (B, C, L) everywhere: B videos, C independent RD channels, L clips (lattice sites,
spacing ``dx``). Videos of different lengths share a batch through ``mask`` (B, L) (True on real
clips, real clips first): the boundary of each video sits at its true length, and padded sites
never exchange mass with real ones (they are returned unchanged).

Parameters ``F, k, Du, Dv`` may be Python floats, 0-d tensors, per-channel (C,) or per-sample
and per-channel (B, C) tensors; ``dt`` likewise. ``F`` and ``k`` may also vary along the lattice,
(B, C, L) (the RD layer's space-varying feed F(x)); every bound below holds site by site. Everything is differentiable: no in-place ops
on tensors that need gradients.

Schemes (docs/design.md §3):

- ``semi_implicit`` (default): explicit diffusion, linearly implicit reaction, ``u`` first::

      u ← (u + r_u Δu + dt F) / (1 + dt (v² + F))
      v ← (v + r_v Δv + dt u v²) / (1 + dt (F + k))

  With ``r = D dt / dx² ≤ 1/2`` it keeps u ∈ [0, 1] and v ≥ 0 for any dt.
- ``explicit``: forward Euler. No fixed step keeps it bounded (autocatalysis), so its sufficient
  positivity condition is checked at every step (``on_violation``).
- ``dct``: Lie splitting, exact diffusion ``exp(dt D Δ)`` in the Laplacian's eigenbasis (DCT-II
  for reflecting, real Fourier for periodic boundaries) followed by the semi-implicit reaction
  step without diffusion; bounded for every dt and every D (no r bound): the propagator is a
  Markov operator and the reaction substep keeps u ∈ [0, 1], v ∈ [0, max(max v0,
  max_x (1 + dt F)/(dt (F + k)))] for any dt (:func:`rdmf.theory.splitting_invariant_region`);
  see :mod:`rdmf.numerics.dct`. The RD layer's default.

All three are first order in dt and converge to the same semi-discrete (method-of-lines) ODE.
``F = 0`` and ``k = 0`` are allowed here (no feed / no kill); the theory functions that need a
non-trivial steady state reject them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import torch

from .dct import BOUNDARIES, DiffusionPropagator
from .params import Tensorish, as_param, bound_tolerance, check_finite_nonneg

SCHEMES = ("semi_implicit", "explicit", "dct")
DIFFUSION_BOUND = 0.5  # r = D dt / dx² ≤ 1/2 for explicit diffusion in 1-D


class StabilityError(ValueError):
    """An integration violates the condition that keeps its scheme bounded."""


@dataclass(frozen=True)
class GrayScottParams:
    """Kinetics of one run; each field broadcastable to (B, C, 1) after :func:`as_param`."""

    F: Tensorish
    k: Tensorish
    Du: Tensorish
    Dv: Tensorish


def lattice_mask(lengths: torch.Tensor | list[int], L: int | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """(B,) true lengths -> (B, L) bool mask, True on the first ``length`` sites."""
    lengths = torch.as_tensor(lengths, device=device)
    L = int(lengths.max()) if L is None else L
    return torch.arange(L, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def _neighbours(x: torch.Tensor, mask: torch.Tensor | None, boundary: str):
    """Left and right neighbour of every site; at a boundary the reflecting ghost is the site itself."""
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    L = x.shape[-1]
    if boundary == "reflecting":
        left = torch.cat([x[..., :1], x[..., :-1]], dim=-1)
        right = torch.cat([x[..., 1:], x[..., -1:]], dim=-1)
        if mask is not None:
            # the last real site of each video reflects onto itself, not onto padding
            next_real = torch.cat([mask[:, 1:], torch.zeros_like(mask[:, :1])], dim=1)
            right = torch.where(next_real.unsqueeze(1), right, x)
        return left, right
    # periodic: wrap at each video's true length
    idx = torch.arange(L, device=x.device)
    if mask is None:
        left_idx = ((idx - 1) % L).expand(x.shape[0], L)
        right_idx = ((idx + 1) % L).expand(x.shape[0], L)
    else:
        n = mask.sum(dim=1, keepdim=True).clamp_min(1)
        left_idx = torch.where(idx < n, (idx - 1) % n, idx)
        right_idx = torch.where(idx < n, (idx + 1) % n, idx)
    C = x.shape[1]
    left = x.gather(-1, left_idx.unsqueeze(1).expand(-1, C, -1))
    right = x.gather(-1, right_idx.unsqueeze(1).expand(-1, C, -1))
    return left, right


def laplacian_1d(x: torch.Tensor, mask: torch.Tensor | None = None,
                 boundary: str = "reflecting", dx: float = 1.0) -> torch.Tensor:
    """Discrete Laplacian ``(x[i-1] − 2 x[i] + x[i+1]) / dx²`` of a (B, C, L) field.

    Zero on padded sites (``mask`` False), which neither receive nor give mass.
    """
    left, right = _neighbours(x, mask, boundary)
    lap = (left + right - 2 * x) / (dx * dx)
    if mask is not None:
        lap = lap * mask.unsqueeze(1).to(lap.dtype)
    return lap


def step_semi_implicit(u, v, F, k, Du, Dv, dt, mask=None, boundary="reflecting", dx=1.0):
    """One linearly implicit step (u first). Tensors (B, C, L), params as :func:`as_param`."""
    lap_u = laplacian_1d(u, mask, boundary, dx)
    lap_v = laplacian_1d(v, mask, boundary, dx)
    u_new = (u + dt * Du * lap_u + dt * F) / (1 + dt * (v * v + F))
    v_new = (v + dt * Dv * lap_v + dt * u_new * v * v) / (1 + dt * (F + k))
    return u_new, v_new


def step_explicit(u, v, F, k, Du, Dv, dt, mask=None, boundary="reflecting", dx=1.0):
    """One forward-Euler step. Tensors (B, C, L), params as :func:`as_param`."""
    uvv = u * v * v
    u_new = u + dt * (Du * laplacian_1d(u, mask, boundary, dx) - uvv + F * (1 - u))
    v_new = v + dt * (Dv * laplacian_1d(v, mask, boundary, dx) + uvv - (F + k) * v)
    return u_new, v_new


def explicit_condition_violated(v, F, k, Du, Dv, dt, dx=1.0, mask=None, *,
                                neighbours: int = 2) -> bool:
    """Sufficient positivity condition of forward Euler at the current state (per real site)::

        dt (v² + F) ≤ 1 − 2 d r_u   and   dt (F + k) ≤ 1 − 2 d r_v,   r = D dt / dx²

    (``2 d`` = ``neighbours``: 2 on a 1-D lattice, 4 on a 2-D grid). Under it every new value
    is a non-negative combination of old ones, so u ∈ [0, 1] and v ≥ 0 survive one step; it
    must be re-checked at every step because v can grow (no fixed dt satisfies it for all v).
    Padded sites (``mask`` (B, L) False) are ignored.
    """
    with torch.no_grad():
        tol = bound_tolerance(v.dtype)
        r_u, r_v = Du * dt / dx**2, Dv * dt / dx**2
        bad_u = dt * (v * v + F) > 1 - neighbours * r_u + tol
        bad_v = (dt * (F + k) > 1 - neighbours * r_v + tol).expand_as(v)
        bad = bad_u | bad_v
        if mask is not None:
            bad = bad & mask.unsqueeze(1)
        return bool(bad.any())


def check_prefix_mask(mask: torch.Tensor) -> torch.Tensor:
    """Return (B,) lengths of a (B, L) mask; ValueError unless real sites come first."""
    lengths = mask.sum(dim=1)
    if not torch.equal(mask, lattice_mask(lengths, mask.shape[1])):
        bad = (mask != lattice_mask(lengths, mask.shape[1])).any(dim=1).nonzero()[0, 0].item()
        raise ValueError(f"mask row {bad} is not a prefix mask: real clips must come first "
                         "(True…True False…False)")
    return lengths


def react_semi_implicit(u, v, F, k, dt):
    """The reaction half of the ``dct`` splitting: the semi-implicit step without diffusion."""
    u_new = (u + dt * F) / (1 + dt * (v * v + F))
    v_new = (v + dt * u_new * v * v) / (1 + dt * (F + k))
    return u_new, v_new


def check_run_options(scheme: str, boundary: str, on_violation: str, steps, dx: float) -> None:
    """Validate the options shared by the 1-D and 2-D integrators (ValueError naming the option)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if on_violation not in ("raise", "warn"):
        raise ValueError(f"on_violation must be 'raise' or 'warn', got {on_violation!r}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    if not (math.isfinite(dx) and dx > 0):
        raise ValueError(f"dx must be finite and > 0, got {dx}")


def integrate(u0: torch.Tensor, v0: torch.Tensor, F: Tensorish, k: Tensorish, Du: Tensorish,
              Dv: Tensorish, dt: Tensorish, steps: int, mask: torch.Tensor | None = None, *,
              boundary: Literal["reflecting", "periodic"] = "reflecting",
              scheme: Literal["semi_implicit", "explicit", "dct"] = "semi_implicit",
              dx: float = 1.0, check: bool = True,
              on_violation: Literal["raise", "warn"] = "raise",
              return_trajectory: bool = False):
    """Integrate ``steps`` steps of Gray-Scott on the (masked) 1-D lattice.

    Args:
        u0, v0: initial fields (B, C, L).
        F, k, Du, Dv, dt: kinetics and time step (scalar, (C,) or (B, C)).
        steps: number of steps K ≥ 0.
        mask: (B, L) bool, True on real clips (real clips first); None = all real.
        boundary: ``"reflecting"`` (Neumann, cell-centred) or ``"periodic"``.
        scheme: ``"semi_implicit"`` (default), ``"explicit"`` or ``"dct"``.
        check: validate parameters (finite, non-negative, r ≤ 1/2 for the explicit-diffusion
            schemes) when they carry no gradient, and the explicit scheme's condition per step.
        on_violation: ``"raise"`` a :class:`StabilityError` or ``"warn"`` once.
        return_trajectory: also return the list of (u, v) after every step.

    Returns:
        (u_K, v_K) of shape (B, C, L), plus the trajectory if asked. Padded sites keep u0, v0.
    """
    if not isinstance(u0, torch.Tensor) or not isinstance(v0, torch.Tensor):
        raise ValueError("u0 and v0 must be torch tensors of shape (B, C, L)")
    if u0.shape != v0.shape or u0.dim() != 3:
        raise ValueError(f"u0 and v0 must both be (B, C, L); got {tuple(u0.shape)} and "
                         f"{tuple(v0.shape)}")
    check_run_options(scheme, boundary, on_violation, steps, dx)
    if mask is not None:
        if mask.shape != (u0.shape[0], u0.shape[2]):
            raise ValueError(f"mask must be (B, L) = ({u0.shape[0]}, {u0.shape[2]}), "
                             f"got {tuple(mask.shape)}")
        mask = mask.to(device=u0.device, dtype=torch.bool)
        check_prefix_mask(mask)
    F_, k_, Du_, Dv_, dt_ = (as_param(p, n, u0) for p, n in
                             ((F, "F"), (k, "k"), (Du, "Du"), (Dv, "Dv"), (dt, "dt")))
    if check:
        for name, value, positive in (("F", F, False), ("k", k, False), ("Du", Du, False),
                                      ("Dv", Dv, False), ("dt", dt, True)):
            check_finite_nonneg(value, name, positive=positive)
        real = None if mask is None else mask.unsqueeze(1)
        for name, field in (("u0", u0), ("v0", v0)):
            finite = torch.isfinite(field.detach())
            if real is not None:
                finite = finite | ~real
            if not bool(finite.all()):
                raise ValueError(f"{name} has non-finite values on real sites")
        if scheme in ("semi_implicit", "explicit"):
            _check_diffusion_bound(scheme, dx, DIFFUSION_BOUND, ("Du", Du, Du_), ("Dv", Dv, Dv_),
                                   dt, dt_, u0.dtype)

    keep = None if mask is None else mask.unsqueeze(1)
    if keep is None:
        u, v = u0, v0
    else:  # padding enters no arithmetic (no NaN/inf from garbage, clean gradients); restored below
        u, v = torch.where(keep, u0, 0.0), torch.where(keep, v0, 0.0)
    trajectory = []
    warned = False
    if scheme == "dct":
        L = u0.shape[-1]
        prop_u = DiffusionPropagator(mask, L, Du_, dt_, dx, like=u0, boundary=boundary)
        prop_v = DiffusionPropagator(mask, L, Dv_, dt_, dx, like=u0, boundary=boundary)
    for step in range(int(steps)):
        if scheme == "semi_implicit":
            u_new, v_new = step_semi_implicit(u, v, F_, k_, Du_, Dv_, dt_, mask, boundary, dx)
        elif scheme == "explicit":
            if check and explicit_condition_violated(v, F_, k_, Du_, Dv_, dt_, dx, mask):
                msg = (f"explicit Euler: step {step} violates dt·(v² + F) ≤ 1 − 2 r_u or "
                       "dt·(F + k) ≤ 1 − 2 r_v; the state may leave u ∈ [0, 1], v ≥ 0 "
                       "(use scheme='semi_implicit')")
                if on_violation == "raise":
                    raise StabilityError(msg)
                if not warned:
                    warnings.warn(msg, RuntimeWarning, stacklevel=2)
                    warned = True
            u_new, v_new = step_explicit(u, v, F_, k_, Du_, Dv_, dt_, mask, boundary, dx)
        else:
            u_new, v_new = react_semi_implicit(prop_u(u), prop_v(v), F_, k_, dt_)
        if keep is not None:
            u_new = torch.where(keep, u_new, 0.0)
            v_new = torch.where(keep, v_new, 0.0)
        u, v = u_new, v_new
        if return_trajectory:
            trajectory.append((u, v) if keep is None else
                              (torch.where(keep, u, u0), torch.where(keep, v, v0)))
    if check and steps > 0:
        _check_finite_result(u, v, mask, scheme, on_violation)
    if keep is not None:
        u, v = torch.where(keep, u, u0), torch.where(keep, v, v0)
    if return_trajectory:
        return u, v, trajectory
    return u, v


def _check_diffusion_bound(scheme, dx, bound, *named, dtype=torch.float64):
    """StabilityError when some channel's r = D dt / dx² exceeds ``bound`` (explicit diffusion).

    ``named`` = (name, raw D, broadcast D) pairs, then raw dt, broadcast dt, working dtype.
    Parameters that require grad are skipped (the layer squashes them into range itself).
    """
    *pairs, dt, dt_, work_dtype = named
    if isinstance(dt, torch.Tensor) and dt.requires_grad:
        return
    tol = bound_tolerance(work_dtype)
    for name, D, D_ in pairs:
        if isinstance(D, torch.Tensor) and D.requires_grad:
            continue
        r = (D_.detach().double() * dt_.detach().double() / dx**2)
        r_max = float(r.max())
        if r_max > bound * (1 + tol):
            D_max = float(D_.detach().max())
            raise StabilityError(
                f"{name}·dt/dx² = {r_max:.4g} exceeds the explicit-diffusion bound {bound:g} of "
                f"the {scheme!r} scheme (valid range r ∈ [0, {bound:g}]): lower dt "
                f"(≤ {bound * dx**2 / D_max:.4g} for {name} = {D_max:.4g}) or use scheme='dct'")


def _check_finite_result(u, v, mask, scheme, on_violation):
    with torch.no_grad():
        finite = torch.isfinite(u) & torch.isfinite(v)
        if mask is not None:
            finite = finite | ~mask.unsqueeze(1)
        if not bool(finite.all()):
            msg = (f"the {scheme!r} integration produced non-finite values: the step size is "
                   "beyond the scheme's stability bound")
            if on_violation == "raise":
                raise StabilityError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
