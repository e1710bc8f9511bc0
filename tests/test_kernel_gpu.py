"""Fused Triton Gray-Scott kernel on a CUDA GPU vs the float64 PyTorch reference (same device).

Skips cleanly without CUDA, without Triton, or when this process runs Triton's interpreter (run it
on its own: ``python -m pytest tests/test_kernel_gpu.py``; benchmarks/gpu_check.sh does).
The grid (L = 1, 2, 75, 1000, 4096; ragged masks; float32, bfloat16, float64; both neighbour
exchanges) and the tolerances live in :mod:`rdmf.kernels.verify`: float64 1e-9; float32 forward 5e-5
abs, gradients 2e-3 of the largest entry; bfloat16 forward 2e-2 abs, gradients 5e-2.
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
from rdmf.kernels.verify import compare, gpu_cases, make_case as _make_case  # noqa: E402
from rdmf.numerics import integrate as reference_integrate  # noqa: E402

DEV = torch.device("cuda")


def make_case(B, C, L, dtype):
    return _make_case(B, C, L, dtype, DEV)


@pytest.mark.parametrize("B,C,L,K,dtype,use_gather", gpu_cases(),
                         ids=lambda v: str(v).replace("torch.", ""))
def test_fused_matches_float64_reference(B, C, L, K, dtype, use_gather):
    row = compare(B, C, L, K, dtype, DEV, use_gather=use_gather)
    assert row["output_dtype_ok"]
    assert row["forward_max_abs_err"] <= row["forward_tol"], row
    for name, err in row["grad_max_rel_err"].items():
        assert err <= row["grad_tol"], f"gradient of {name}: {err:.3g} > {row['grad_tol']:g}"


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
