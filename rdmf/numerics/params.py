"""Kinetic parameters of the integrators: broadcasting to the (B, C, L) layout and host-side
checks. Shared by the 1-D integrators, the diffusion propagator and the 2-D grids."""

from __future__ import annotations

import math

import torch

Tensorish = float | torch.Tensor


def as_param(x: Tensorish, name: str, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a scalar, (C,) or (B, C) parameter to (B|1, C|1, 1) on ``like``'s device/dtype.

    A (B|1, C|1, L) tensor (a parameter that varies along the lattice, e.g. a space-varying feed
    F(x)) is returned as it is.
    """
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
    if (t.dim() == 3 and t.shape[-1] in (1, like.shape[-1]) and t.shape[0] in (1, B)
            and t.shape[1] in (1, C)):
        return t
    raise ValueError(f"{name}: expected a scalar, (C,), (B, C) or (B, C, L) parameter, got shape "
                     f"{tuple(t.shape)}")


def check_finite_nonneg(value: Tensorish, name: str, *, positive: bool = False) -> None:
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


def bound_tolerance(dtype: torch.dtype) -> float:
    """Slack for bound checks: a few ulps of the working precision (float32 squashes land on
    the bound itself)."""
    return 8 * torch.finfo(dtype).eps if dtype.is_floating_point else 1e-12
