"""Fused Triton Gray-Scott kernel on a CUDA GPU vs the float64 PyTorch reference (same device).

Skips cleanly without CUDA, without Triton, or when this process runs Triton's interpreter (run it
on its own: ``python -m pytest tests/test_kernel_gpu.py``; benchmarks/gpu_check.sh does).
Tolerances, against the float64 reference from the same (rounded) inputs:
float64 1e-9; float32 forward 5e-5 abs, gradients 2e-3 of the largest entry;
bfloat16 forward 2e-2 abs, gradients 5e-2 of the largest entry.
"""

from __future__ import annotations

import os

import pytest
import torch

pytestmark = pytest.mark.gpu

if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("TRITON_INTERPRET=1 in this process: run this file on its own",
                allow_module_level=True)
pytest.importorskip("triton")

from rdmf.kernels import dispatch  # noqa: E402
from rdmf.numerics import integrate as reference_integrate  # noqa: E402
from rdmf.numerics import lattice_mask  # noqa: E402

NAMES = ("u0", "v0", "F", "k", "Du", "Dv", "dt")
DEV = torch.device("cuda")
TOL = {torch.float64: (1e-9, 1e-9), torch.float32: (5e-5, 2e-3), torch.bfloat16: (2e-2, 5e-2)}


def make_case(B, C, L, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)

    u0, v0 = rand(B, C, L, lo=0.3), rand(B, C, L, hi=0.6)
    F, k = rand(C, lo=0.01, hi=0.06), rand(B, C, lo=0.03, hi=0.07)
    Du, Dv, dt = torch.tensor(0.2, dtype=torch.float64), rand(C, lo=0.02, hi=0.1), rand(
        1, C, lo=0.5, hi=2.0)
    lengths = [L] + [max(1, (L * (b + 1)) // (B + 1)) for b in range(B - 1)]
    mask = lattice_mask(lengths, L).to(DEV)
    state = [x.to(dtype).to(DEV) for x in (u0, v0)]
    pdtype = torch.float64 if dtype == torch.float64 else torch.float32
    params = [x.to(pdtype).to(DEV) for x in (F, k, Du, Dv, dt)]
    return state + params, mask


def run(fn, inputs, steps, mask, w):
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    uK, vK = fn(*leaves, steps, mask)
    loss = (uK.double() * w[0]).sum() + (vK.double() * w[1]).sum()
    return (uK.detach(), vK.detach()), torch.autograd.grad(loss, leaves)


GRID = [(B, C, L, K, dtype)
        for (B, C, L, K) in [(1, 1, 1, 4), (3, 2, 2, 5), (4, 8, 75, 16), (2, 4, 1000, 16),
                             (2, 2, 4096, 16), (2, 4, 75, 64), (1, 2, 4096, 1)]
        for dtype in (torch.float32, torch.bfloat16, torch.float64)]


@pytest.mark.parametrize("B,C,L,K,dtype", GRID)
@pytest.mark.parametrize("use_gather", [None, False])
def test_fused_matches_float64_reference(monkeypatch, B, C, L, K, dtype, use_gather):
    if use_gather is False and (dtype != torch.float32 or L == 1):
        pytest.skip("scratch path: float32 only")
    monkeypatch.setattr(dispatch, "USE_GATHER", use_gather)
    inputs, mask = make_case(B, C, L, dtype)
    g = torch.Generator(device=DEV).manual_seed(1)
    w = [torch.randn(B, C, L, generator=g, device=DEV, dtype=torch.float64) for _ in range(2)]
    out_f, g_f = run(dispatch.integrate_fused, inputs, K, mask, w)
    out_r, g_r = run(reference_integrate, [x.double() for x in inputs], K, mask, w)
    atol, grel = TOL[dtype]
    for a, b in zip(out_f, out_r):
        assert a.dtype == dtype
        torch.testing.assert_close(a.double(), b, atol=atol, rtol=0)
    for name, a, b in zip(NAMES, g_f, g_r):
        err = (a.double() - b).abs().max().item()
        scale = max(b.abs().max().item(), 1e-6)
        assert err <= grel * scale + 1e-12, f"gradient of {name}: {err:.3g} vs scale {scale:.3g}"


def test_dispatch_uses_fused_kernel_on_cuda(monkeypatch):
    calls = []
    real = dispatch.integrate_fused
    monkeypatch.setattr(dispatch, "integrate_fused",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    inputs, mask = make_case(2, 4, 75, torch.float32)
    got = dispatch.integrate(*inputs, 8, mask)
    want = reference_integrate(*inputs, 8, mask)
    assert calls, "dispatch did not take the fused path on CUDA"
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=5e-5, rtol=0)


def test_fallback_for_periodic_boundary_is_silent_and_exact():
    inputs, mask = make_case(2, 2, 30, torch.float32)
    got = dispatch.integrate(*inputs, 4, mask, boundary="periodic")
    want = reference_integrate(*inputs, 4, mask, boundary="periodic")
    assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_nan_state_is_reported_on_cuda():
    inputs, mask = make_case(1, 2, 16, torch.float32)
    inputs[1][0, 0, 3] = float("nan")
    with pytest.raises(ValueError, match="v0 has 1 non-finite"):
        dispatch.integrate(*inputs, 4, mask)


def test_autocast_training_step_runs():
    inputs, mask = make_case(4, 8, 75, torch.float32)
    leaves = [x.clone().requires_grad_() for x in inputs]
    with torch.autocast("cuda", dtype=torch.bfloat16):
        uK, vK = dispatch.integrate(*leaves, 16, mask)
        loss = (uK.float() - 0.5).pow(2).mean() + vK.float().mean()
    loss.backward()
    assert all(torch.isfinite(x.grad).all() for x in leaves)
