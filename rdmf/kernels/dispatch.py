"""``integrate``: the fused Triton kernel on CUDA when it applies, the PyTorch reference otherwise.

:func:`integrate` has exactly the signature of :func:`rdmf.numerics.integrate` and returns the
same values (to floating-point rounding): the RD layer can call it unconditionally.

The fused path is taken when all of these hold:

- ``FUSED_ENABLED`` (environment ``RDMF_FUSED_RD=0`` turns it off);
- the state is on a CUDA device and Triton imports (on the CPU: never, except through
  :func:`integrate_fused` under ``TRITON_INTERPRET=1``, which the tests use);
- ``scheme="semi_implicit"``, ``boundary="reflecting"``, no ``return_trajectory``, kinetics
  constant along the lattice (scalar, (C,) or (B, C); a space-varying feed F(x) is not fused);
- (B, C, L) with B·C ≥ 1, 1 ≤ L ≤ 4096, a floating dtype, and a mask whose real clips come first.

The kernel implements the ``semi_implicit`` scheme only. The RD layer's default scheme ``dct``
(exact diffusion + reaction, :mod:`rdmf.numerics.dct`) and its space-varying feed therefore run
on the PyTorch reference on every device: a CUDA call that falls back for such a deliberate
choice (another scheme, periodic boundaries, a trajectory, space-varying kinetics) is counted in
:data:`FALLBACKS` (reason -> calls) and logged once per reason at INFO level on the
``rdmf.kernels`` logger; a CUDA state whose shape/dtype/mask the kernel cannot take falls back
with a warning, once per reason. CPU tensors always take the reference (not counted). With ``check=True`` a non-finite value on a real site of ``u0`` or ``v0`` raises a
ValueError on both paths (one host sync); padded sites may hold anything: the kernel never reads
them into real sites or into the parameter gradients.

Inputs are normalised, not rejected: non-contiguous states are made contiguous, integer states
become the default float dtype, and u0/v0 of different dtypes are promoted to a common one.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import Counter

import torch

from rdmf.nonfinite import NonFiniteError
from rdmf.numerics import gray_scott as reference

CHECKPOINT_EVERY = 4  # S: the backward replays at most S − 1 steps per adjoint step
USE_GATHER: bool | None = None  # True: tl.gather exchange (slow to compile for long rows); else scratch
#: master switch (benchmarks compare against the reference with it off); env RDMF_FUSED_RD=0
FUSED_ENABLED = os.environ.get("RDMF_FUSED_RD", "1") != "0"
FUSED_CALLS = 0  # how many calls took the fused path (the benchmarks report it)
_WARNED: set[str] = set()
#: CUDA calls that fell back to the PyTorch reference, by reason (deliberate choices and limits)
FALLBACKS: Counter[str] = Counter()
_LOGGER = logging.getLogger("rdmf.kernels")
_TRITON_ERROR: str | None = None


def triton_available() -> bool:
    """True when the fused kernels import (Triton present and compatible)."""
    global _TRITON_ERROR
    try:
        from . import triton_gray_scott  # noqa: F401
    except Exception as exc:  # ImportError, or an incompatible Triton build
        _TRITON_ERROR = f"{type(exc).__name__}: {exc}"
        return False
    return True


def _warn_once(reason: str) -> None:
    if reason in _WARNED:
        return
    _WARNED.add(reason)
    warnings.warn(f"rdmf.kernels: fused Gray-Scott kernel not used ({reason}); falling back to "
                  "the PyTorch integrator", RuntimeWarning, stacklevel=3)


def mask_lengths(mask: torch.Tensor | None, B: int, L: int, device) -> torch.Tensor | None:
    """(B, L) mask -> (B,) int32 true lengths, or None if some video has a real clip after padding."""
    if mask is None:
        return torch.full((B,), L, dtype=torch.int32, device=device)
    mask = mask.to(device=device, dtype=torch.bool)
    lengths = mask.sum(dim=1)
    prefix = torch.arange(L, device=device).unsqueeze(0) < lengths.unsqueeze(1)
    if not bool((prefix == mask).all()):
        return None
    return lengths.to(torch.int32).contiguous()


def _space_varying(params) -> bool:
    return any(isinstance(p, torch.Tensor) and p.dim() == 3 and p.shape[-1] > 1 for p in params)


def unsupported_reason(u0: torch.Tensor, v0: torch.Tensor, *, scheme: str, boundary: str,
                       return_trajectory: bool, params=()) -> tuple[str, bool] | None:
    """Why the fused kernel cannot run this call: (reason, warn?) or None when it can.

    ``warn`` is True for limits of the kernel (shape, dtype), False for deliberate choices.
    ``params``: the kinetics (F, k, Du, Dv, dt), checked for variation along the lattice.
    """
    if scheme != "semi_implicit":
        return f"scheme={scheme!r} (the kernel implements 'semi_implicit' only)", False
    if _space_varying(params):
        return "space-varying kinetics (B, C, L)", False
    if boundary != "reflecting":
        return f"boundary={boundary!r}", False
    if return_trajectory:
        return "return_trajectory=True", False
    if u0.dim() != 3 or u0.shape != v0.shape:
        return "state shape", False  # the reference raises the proper error
    B, C, L = u0.shape
    if B * C == 0 or L == 0:
        return "empty state", False
    from .triton_gray_scott import MAX_L
    if L > MAX_L:
        return f"L = {L} > {MAX_L}", True
    if u0.is_complex() or v0.is_complex():
        return "complex state", True
    return None


def _check_state(x, name: str, mask=None) -> None:
    """NonFiniteError (a ValueError) if a real site of the (B, C, L) state is NaN/inf (padding
    may hold anything)."""
    if not (isinstance(x, torch.Tensor) and x.is_floating_point()):
        return
    bad = ~torch.isfinite(x.detach())
    if (isinstance(mask, torch.Tensor) and x.dim() == 3 and mask.dim() == 2
            and mask.shape == (x.shape[0], x.shape[2])):
        bad = bad & mask.to(device=x.device, dtype=torch.bool).unsqueeze(1)
    if bool(bad.any()):
        raise NonFiniteError(f"{name} has {int(bad.sum())} non-finite value(s) (NaN/inf) on "
                             "real sites: the Gray-Scott integration needs a finite initial state")


def _normalise_states(u0: torch.Tensor, v0: torch.Tensor):
    dtype = torch.promote_types(u0.dtype, v0.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    return u0.to(dtype).contiguous(), v0.to(dtype).contiguous()


def _flat_param(value, name: str, like: torch.Tensor, acc: torch.dtype) -> torch.Tensor:
    """Scalar, (C,) or (B, C) -> contiguous (B·C,) in the compute dtype, differentiably."""
    B, C, _ = like.shape
    shape_like = torch.empty((B, C, 0), dtype=acc, device=like.device)
    t = reference.as_param(value, name, shape_like)  # (B|1, C|1, 1), validated
    return t.expand(B, C, 1).reshape(B * C).contiguous()


def integrate_fused(u0, v0, F, k, Du, Dv, dt, steps, mask=None, *, boundary="reflecting",
                    scheme="semi_implicit", dx=1.0, check=True, on_violation="raise",
                    return_trajectory=False):
    """The fused kernel, unconditionally (same arguments as :func:`rdmf.numerics.integrate`).

    Raises ValueError when the call is outside what the kernel supports. Runs on CUDA tensors,
    or on CPU tensors under Triton's interpreter. Returns (u_K, v_K) (B, C, L) in the (promoted)
    state dtype; arithmetic is float32 (float64 for float64 states).
    """
    if check:
        _check_state(u0, "u0", mask)
        _check_state(v0, "v0", mask)
    # the reference validates shapes, mask and kinetics exactly as it would integrate them
    reference.integrate(u0, v0, F, k, Du, Dv, dt, 0, mask, boundary=boundary, scheme=scheme,
                        dx=dx, check=check, on_violation=on_violation)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    why = unsupported_reason(u0, v0, scheme=scheme, boundary=boundary,
                             return_trajectory=return_trajectory, params=(F, k, Du, Dv, dt))
    if why is not None:
        raise ValueError(f"the fused kernel does not support this call: {why[0]}")
    u0, v0 = _normalise_states(u0, v0)
    B, C, L = u0.shape
    lengths = mask_lengths(mask, B, L, u0.device)
    if lengths is None:
        raise ValueError("mask: the fused kernel needs the real clips of each video first")
    if int(steps) == 0:
        return u0, v0
    from . import triton_gray_scott as tgs
    from .autograd import FusedGrayScott
    acc = tgs.compute_dtype(u0.dtype)
    params = [_flat_param(p, n, u0, acc) for p, n in
              ((F, "F"), (k, "k"), (Du, "Du"), (Dv, "Dv"), (dt, "dt"))]
    return FusedGrayScott.apply(u0, v0, *params, lengths, int(steps), float(dx),
                                int(CHECKPOINT_EVERY), USE_GATHER, torch.is_grad_enabled())


def integrate(u0, v0, F, k, Du, Dv, dt, steps, mask=None, *, boundary="reflecting",
              scheme="semi_implicit", dx=1.0, check=True, on_violation="raise",
              return_trajectory=False):
    """Drop-in :func:`rdmf.numerics.integrate`: fused on CUDA where supported, else the reference.

    Args and returns as :func:`rdmf.numerics.integrate` (layout (B, C, L), mask (B, L)).
    """
    kwargs = dict(boundary=boundary, scheme=scheme, dx=dx, check=check,
                  on_violation=on_violation, return_trajectory=return_trajectory)
    if check:
        _check_state(u0, "u0", mask)
        _check_state(v0, "v0", mask)
    if not (FUSED_ENABLED and isinstance(u0, torch.Tensor) and u0.is_cuda):
        return reference.integrate(u0, v0, F, k, Du, Dv, dt, steps, mask, **kwargs)
    if not triton_available():
        FALLBACKS["Triton unavailable"] += 1
        _warn_once(f"Triton unavailable: {_TRITON_ERROR}")
        return reference.integrate(u0, v0, F, k, Du, Dv, dt, steps, mask, **kwargs)
    why = unsupported_reason(u0, v0, scheme=scheme, boundary=boundary,
                             return_trajectory=return_trajectory, params=(F, k, Du, Dv, dt))
    if why is None and mask is not None and mask.dim() == 2 and mask.shape == (
            u0.shape[0], u0.shape[2]):
        if mask_lengths(mask, u0.shape[0], u0.shape[2], u0.device) is None:
            why = ("mask with padding before a real clip", True)
    if why is not None:
        if why[1]:
            _warn_once(why[0])
        elif why[0] not in FALLBACKS:
            _LOGGER.info("fused Gray-Scott kernel not used (%s): the PyTorch integrator runs "
                         "this call", why[0])
        FALLBACKS[why[0]] += 1
        return reference.integrate(u0, v0, F, k, Du, Dv, dt, steps, mask, **kwargs)
    global FUSED_CALLS
    FUSED_CALLS += 1
    return integrate_fused(u0, v0, F, k, Du, Dv, dt, steps, mask, **kwargs)
