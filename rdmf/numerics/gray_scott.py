"""Gray-Scott on the 1-D lattice of video clips: the integrators the fusion layer calls.

    u_t = Du Δu − u v² + F (1 − u)
    v_t = Dv Δv + u v² − (F + k) v

Layout is (B, C, L) everywhere: B videos, C independent RD channels, L clips (lattice sites,
spacing ``dx``). Videos of different lengths share a batch through ``mask`` (B, L) (True on real
clips, real clips first): the boundary of each video sits at its true length, and padded sites
never exchange mass with real ones (they are returned unchanged).

Parameters ``F, k, Du, Dv`` may be Python floats, 0-d tensors, per-channel (C,) or per-sample
and per-channel (B, C) tensors; ``dt`` likewise. Everything is differentiable: no in-place ops
on tensors that need gradients.

Schemes (DESIGN §3):

- ``semi_implicit`` (default): explicit diffusion, linearly implicit reaction, ``u`` first::

      u ← (u + r_u Δu + dt F) / (1 + dt (v² + F))
      v ← (v + r_v Δv + dt u v²) / (1 + dt (F + k))

  With ``r = D dt / dx² ≤ 1/2`` it keeps u ∈ [0, 1] and v ≥ 0 for any dt.
- ``explicit``: forward Euler. No fixed step keeps it bounded (autocatalysis), so its sufficient
  positivity condition is checked at every step (``on_violation``).
- ``dct``: operator splitting with exact diffusion in the DCT-II basis (reflecting boundaries)
  followed by the semi-implicit reaction step; see :mod:`rdmf.numerics.dct`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import torch

Tensorish = float | torch.Tensor
SCHEMES = ("semi_implicit", "explicit", "dct")
BOUNDARIES = ("reflecting", "periodic")
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


def as_param(x: Tensorish, name: str, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a scalar, (C,) or (B, C) parameter to (B|1, C|1, 1) on ``like``'s device/dtype."""
    t = torch.as_tensor(x, dtype=like.dtype, device=like.device)
    B, C, _ = like.shape
    if t.dim() == 0:
        return t.reshape(1, 1, 1)
    if t.dim() == 1:
        if t.shape[0] not in (1, C):
            raise ValueError(f"{name}: per-channel parameter has {t.shape[0]} entries, "
                             f"the state has C = {C} channels")
        return t.reshape(1, -1, 1)
    if t.dim() == 2:
        if t.shape[0] not in (1, B) or t.shape[1] not in (1, C):
            raise ValueError(f"{name}: parameter of shape {tuple(t.shape)} does not broadcast "
                             f"to (B, C) = ({B}, {C})")
        return t.unsqueeze(-1)
    if t.dim() == 3 and t.shape[-1] == 1:
        return t
    raise ValueError(f"{name}: expected a scalar, (C,) or (B, C) parameter, got shape "
                     f"{tuple(t.shape)}")


def _check_finite_nonneg(value: Tensorish, name: str, *, positive: bool = False) -> None:
    """Validate a parameter that does not need gradients (cheap host-side checks)."""
    if isinstance(value, torch.Tensor):
        if value.requires_grad or value.numel() == 0:
            return
        t = value.detach()
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} must be finite, got non-finite values")
        low = t.min().item()
    else:
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value}")
        low = float(value)
    if positive and low <= 0:
        raise ValueError(f"{name} must be > 0, got {low}")
    if low < 0:
        raise ValueError(f"{name} must be ≥ 0, got {low}")


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


def explicit_condition_violated(v, F, k, Du, Dv, dt, dx=1.0) -> bool:
    """Sufficient positivity condition of forward Euler at the current state (per site)::

        dt (v² + F) ≤ 1 − 2 r_u   and   dt (F + k) ≤ 1 − 2 r_v,   r = D dt / dx²
    """
    with torch.no_grad():
        r_u, r_v = Du * dt / dx**2, Dv * dt / dx**2
        bad_u = dt * (v * v + F) > 1 - 2 * r_u + 1e-12
        bad_v = dt * (F + k) > 1 - 2 * r_v + 1e-12
        return bool(bad_u.any() or bad_v.any())


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
    if u0.shape != v0.shape or u0.dim() != 3:
        raise ValueError(f"u0 and v0 must both be (B, C, L); got {tuple(u0.shape)} and "
                         f"{tuple(v0.shape)}")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    if mask is not None:
        if mask.shape != (u0.shape[0], u0.shape[2]):
            raise ValueError(f"mask must be (B, L) = ({u0.shape[0]}, {u0.shape[2]}), "
                             f"got {tuple(mask.shape)}")
        mask = mask.to(device=u0.device, dtype=torch.bool)
    if check:
        for name, value, positive in (("F", F, False), ("k", k, False), ("Du", Du, False),
                                      ("Dv", Dv, False), ("dt", dt, True)):
            _check_finite_nonneg(value, name, positive=positive)
        if scheme in ("semi_implicit", "explicit"):
            for name, D in (("Du", Du), ("Dv", Dv)):
                if isinstance(D, torch.Tensor) and D.requires_grad:
                    continue
                if isinstance(dt, torch.Tensor) and dt.requires_grad:
                    continue
                r = torch.as_tensor(D, dtype=torch.float64).max() * torch.as_tensor(
                    dt, dtype=torch.float64).max() / dx**2
                if r > DIFFUSION_BOUND + 1e-12:
                    raise StabilityError(
                        f"{name}·dt/dx² = {float(r):.4g} exceeds the explicit-diffusion bound 1/2 "
                        f"of the {scheme!r} scheme: lower dt (≤ {DIFFUSION_BOUND * dx**2 / float(torch.as_tensor(D).max()):.4g}) "
                        "or use scheme='dct'")

    F_, k_, Du_, Dv_, dt_ = (as_param(p, n, u0) for p, n in
                             ((F, "F"), (k, "k"), (Du, "Du"), (Dv, "Dv"), (dt, "dt")))
    u, v = u0, v0
    keep = None if mask is None else mask.unsqueeze(1)
    trajectory = []
    warned = False
    if scheme == "dct":
        from .dct import DiffusionPropagator
        prop_u = DiffusionPropagator(mask, u0.shape[-1], Du_, dt_, dx, like=u0)
        prop_v = DiffusionPropagator(mask, u0.shape[-1], Dv_, dt_, dx, like=u0)
    for step in range(int(steps)):
        if scheme == "semi_implicit":
            u_new, v_new = step_semi_implicit(u, v, F_, k_, Du_, Dv_, dt_, mask, boundary, dx)
        elif scheme == "explicit":
            if check and explicit_condition_violated(v, F_, k_, Du_, Dv_, dt_, dx):
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
            u_half, v_half = prop_u(u), prop_v(v)
            zero = torch.zeros((), dtype=u.dtype, device=u.device)
            u_new, v_new = step_semi_implicit(u_half, v_half, F_, k_, zero, zero, dt_, mask,
                                              boundary, dx)
        if keep is not None:
            u_new = torch.where(keep, u_new, u0)
            v_new = torch.where(keep, v_new, v0)
        u, v = u_new, v_new
        if return_trajectory:
            trajectory.append((u, v))
    if return_trajectory:
        return u, v, trajectory
    return u, v
