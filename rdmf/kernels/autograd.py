"""``torch.autograd.Function`` around the fused Gray-Scott kernels.

The Function sees flat, contiguous, already-broadcast inputs: states (B, C, L) of one storage
dtype and the kinetics as (B·C,) vectors in the compute dtype. Broadcasting a scalar, (C,) or
(B, C) parameter to (B·C,) happens outside (in :mod:`rdmf.kernels.dispatch`) with ordinary
differentiable torch ops, so autograd sums the per-row gradients back to each parameter's shape.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import triton_gray_scott as tgs


class FusedGrayScott(torch.autograd.Function):
    """(u0, v0, F, k, Du, Dv, dt) -> (u_K, v_K): K fused semi-implicit steps, fused adjoint."""

    @staticmethod
    def forward(ctx, u0, v0, F, k, Du, Dv, dt, lengths, steps: int, dx: float,
                checkpoint_every: int, use_gather: bool | None, grad_enabled: bool = True):
        # grad mode is off inside forward: the caller says whether the graph is being recorded
        needs_grad = grad_enabled and any(ctx.needs_input_grad[:7])
        params = (F, k, Du, Dv, dt)
        uK, vK, cku, ckv = tgs.gray_scott_forward(
            u0, v0, params, lengths, steps, dx,
            save_every=checkpoint_every if needs_grad else None, use_gather=use_gather)
        ctx.steps, ctx.dx, ctx.every, ctx.use_gather = steps, dx, checkpoint_every, use_gather
        if needs_grad:
            ctx.save_for_backward(u0, v0, cku, ckv, lengths, *params)
        return uK, vK

    @staticmethod
    @once_differentiable
    def backward(ctx, guK, gvK):
        u0, v0, cku, ckv, lengths, *params = ctx.saved_tensors
        guK = torch.zeros_like(u0) if guK is None else guK.to(u0.dtype).contiguous()
        gvK = torch.zeros_like(v0) if gvK is None else gvK.to(v0.dtype).contiguous()
        gu0, gv0, gp = tgs.gray_scott_backward(
            u0, v0, cku, ckv, guK, gvK, tuple(params), lengths, ctx.steps, ctx.dx, ctx.every,
            use_gather=ctx.use_gather)
        need = ctx.needs_input_grad
        grads = [gu0 if need[0] else None, gv0 if need[1] else None]
        grads += [gp[i] if need[2 + i] else None for i in range(5)]
        return (*grads, None, None, None, None, None, None)
