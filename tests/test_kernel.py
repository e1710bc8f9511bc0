"""Fused Triton Gray-Scott kernel vs the PyTorch reference, on the CPU through Triton's interpreter.

The interpreter is switched on inside this process before Triton is imported. Sizes are tiny
(the interpreter runs each program in NumPy); the long lattices are in test_kernel_gpu.py.
Tolerances: float64 1e-10 (same arithmetic, different order); float32 states vs the float32
reference 2e-5 abs; bfloat16 states (float32 arithmetic inside) vs the float32 reference on the
same rounded inputs 1.5e-2 abs (one bf16 rounding of an O(1) output), gradients 3e-2 relative.
"""

from __future__ import annotations

import os
import sys
import warnings

if "triton" not in sys.modules:
    os.environ["TRITON_INTERPRET"] = "1"

import pytest  # noqa: E402
import torch  # noqa: E402

triton = pytest.importorskip("triton")
from rdmf.kernels import dispatch  # noqa: E402
from rdmf.numerics import integrate as reference_integrate  # noqa: E402
from rdmf.numerics import lattice_mask  # noqa: E402

if os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("Triton was imported without the interpreter in this process: run this file on "
                "its own (python -m pytest tests/test_kernel.py)", allow_module_level=True)

from rdmf.kernels import triton_gray_scott as tgs  # noqa: E402

NAMES = ("u0", "v0", "F", "k", "Du", "Dv", "dt")


def make_case(B, C, L, dtype=torch.float64, seed=0, lengths=None):
    """Random state near the Gray-Scott working range, mixed parameter shapes, ragged mask."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, lo=0.0, hi=1.0):
        return (lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float64)).to(dtype)

    u0 = rand(B, C, L, lo=0.3)
    v0 = rand(B, C, L, hi=0.6)
    F = rand(C, lo=0.01, hi=0.06)             # per channel
    k = rand(B, C, lo=0.03, hi=0.07)          # per sample and channel
    Du = torch.tensor(0.2, dtype=dtype)       # 0-d
    Dv = rand(C, lo=0.02, hi=0.1)
    dt = rand(1, C, lo=0.5, hi=2.0)           # (1, C)
    if lengths is None:
        lengths = [max(1, L - (3 * b) % max(L, 1)) for b in range(B)]
    mask = lattice_mask(lengths, L)
    return [u0, v0, F, k, Du, Dv, dt], mask


def run(fn, inputs, steps, mask, weights, **kw):
    leaves = [x.detach().clone().requires_grad_() for x in inputs]
    uK, vK = fn(*leaves, steps, mask, **kw)
    loss = (uK.double() * weights[0]).sum() + (vK.double() * weights[1]).sum()
    grads = torch.autograd.grad(loss, leaves)
    return (uK.detach(), vK.detach()), grads


def weights_for(shape, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64), torch.randn(
        shape, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("B,C,L,K,lengths", [
    (1, 1, 1, 3, [1]),
    (2, 2, 2, 5, [2, 1]),
    (3, 2, 75, 6, [75, 40, 1]),
    (2, 3, 9, 9, [9, 0]),          # an empty video: nothing moves
    (1, 2, 16, 1, [16]),
])
def test_float64_forward_and_gradients_match_reference(B, C, L, K, lengths):
    inputs, mask = make_case(B, C, L, lengths=lengths)
    w = weights_for((B, C, L))
    out_f, g_f = run(dispatch.integrate_fused, inputs, K, mask, w)
    out_r, g_r = run(reference_integrate, inputs, K, mask, w)
    for a, b in zip(out_f, out_r):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    for name, a, b in zip(NAMES, g_f, g_r):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9, msg=f"gradient of {name}")


@pytest.mark.parametrize("every", [1, 3, 64])
def test_checkpoint_interval_does_not_change_gradients(monkeypatch, every):
    monkeypatch.setattr(dispatch, "CHECKPOINT_EVERY", every)
    inputs, mask = make_case(2, 2, 12, lengths=[12, 7])
    w = weights_for((2, 2, 12))
    _, g_f = run(dispatch.integrate_fused, inputs, 7, mask, w)
    _, g_r = run(reference_integrate, inputs, 7, mask, w)
    for name, a, b in zip(NAMES, g_f, g_r):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9, msg=f"gradient of {name}")


def test_gather_neighbour_path_matches_reference(monkeypatch):
    """The optional tl.gather exchange (the default is the scratch line)."""
    inputs, mask = make_case(2, 2, 20, lengths=[20, 13])
    w = weights_for((2, 2, 20))
    out_r, g_r = run(reference_integrate, inputs, 6, mask, w)
    monkeypatch.setattr(dispatch, "USE_GATHER", True)
    out_s, g_s = run(dispatch.integrate_fused, inputs, 6, mask, w)
    for a, b in zip(out_s, out_r):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    for name, a, b in zip(NAMES, g_s, g_r):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9, msg=f"gradient of {name}")


@pytest.mark.parametrize("L,K", [(2, 4), (75, 8)])
def test_float32_matches_reference(L, K):
    inputs, mask = make_case(2, 3, L, dtype=torch.float32, lengths=[L, max(1, L // 2)])
    w = weights_for((2, 3, L))
    out_f, g_f = run(dispatch.integrate_fused, inputs, K, mask, w)
    out_r, _ = run(reference_integrate, inputs, K, mask, w)
    for a, b in zip(out_f, out_r):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-5)
    _, g_64 = run(reference_integrate, [x.double() for x in inputs], K, mask, w)
    for name, a, b in zip(NAMES, g_f, g_64):
        torch.testing.assert_close(a.double(), b, atol=1e-4, rtol=1e-4, msg=f"gradient of {name}")


def test_bfloat16_state_float32_accumulation():
    inputs, mask = make_case(2, 2, 33, dtype=torch.float32, lengths=[33, 20])
    inputs[0], inputs[1] = inputs[0].bfloat16(), inputs[1].bfloat16()
    w = weights_for((2, 2, 33))
    out_f, g_f = run(dispatch.integrate_fused, inputs, 8, mask, w)
    ref_inputs = [inputs[0].float(), inputs[1].float(), *inputs[2:]]
    out_r, g_r = run(reference_integrate, ref_inputs, 8, mask, w)
    for a, b in zip(out_f, out_r):
        assert a.dtype == torch.bfloat16
        torch.testing.assert_close(a.float(), b, atol=1.5e-2, rtol=0)
    for name, a, b in zip(NAMES, g_f, g_r):
        scale = b.abs().max().clamp_min(1e-3)
        assert (a.float() - b).abs().max() / scale < 3e-2, f"gradient of {name}"


def test_padded_sites_unchanged_and_their_gradient_passes_through():
    inputs, mask = make_case(2, 1, 8, lengths=[8, 3])
    w = weights_for((2, 1, 8))
    (uK, vK), grads = run(dispatch.integrate_fused, inputs, 5, mask, w)
    pad = ~mask.unsqueeze(1)
    assert torch.equal(uK[pad], inputs[0][pad]) and torch.equal(vK[pad], inputs[1][pad])
    assert torch.equal(grads[0][pad], w[0][pad]) and torch.equal(grads[1][pad], w[1][pad])


def test_nan_in_padding_does_not_reach_parameter_gradients():
    inputs, mask = make_case(2, 2, 6, lengths=[6, 2])
    inputs[1] = inputs[1].clone()
    inputs[1][1, :, 4] = float("nan")
    w = weights_for((2, 2, 6))
    (uK, _), grads = run(dispatch.integrate_fused, inputs, 4, mask, w)  # check=True: real sites only
    assert torch.isfinite(uK[mask.unsqueeze(1).expand_as(uK)]).all()
    for name, g in zip(NAMES[2:], grads[2:]):
        assert torch.isfinite(g).all(), f"gradient of {name}"


@pytest.mark.parametrize("fn", [dispatch.integrate, dispatch.integrate_fused])
def test_nan_in_state_is_reported(fn):
    inputs, mask = make_case(1, 2, 5)
    inputs[0][0, 1, 2] = float("nan")
    with pytest.raises(ValueError, match="u0 has 1 non-finite"):
        fn(*inputs, 3, mask)


def test_non_contiguous_and_integer_and_mixed_dtypes_are_normalised():
    inputs, mask = make_case(2, 3, 7, dtype=torch.float32, lengths=[7, 4])
    u_t = inputs[0].transpose(0, 1).contiguous().transpose(0, 1)  # same values, not contiguous
    assert not u_t.is_contiguous()
    out = dispatch.integrate_fused(u_t, inputs[1].double(), *inputs[2:], 4, mask)
    ref = reference_integrate(inputs[0].double(), inputs[1].double(),
                              *[x.double() for x in inputs[2:]], 4, mask)
    assert out[0].dtype == torch.float64
    torch.testing.assert_close(out[0], ref[0], atol=1e-6, rtol=1e-6)
    ones = torch.ones(1, 1, 4, dtype=torch.int64)
    u_int, _ = dispatch.integrate_fused(ones, ones * 0, 0.04, 0.06, 0.2, 0.1, 1.0, 3)
    assert u_int.dtype == torch.get_default_dtype()


def test_zero_steps_and_single_output_gradient():
    inputs, mask = make_case(1, 2, 4)
    u, v = dispatch.integrate_fused(*inputs, 0, mask)
    assert torch.equal(u, inputs[0]) and torch.equal(v, inputs[1])
    leaves = [x.clone().requires_grad_() for x in inputs]
    uK, _ = dispatch.integrate_fused(*leaves, 3, mask)
    uK.sum().backward()  # v_K unused: its incoming gradient is zero
    ref = [x.clone().requires_grad_() for x in inputs]
    reference_integrate(*ref, 3, mask)[0].sum().backward()
    for name, a, b in zip(NAMES, leaves, ref):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-10, rtol=1e-9, msg=name)


def test_bad_arguments_raise_clear_errors():
    inputs, mask = make_case(2, 2, 5)
    with pytest.raises(ValueError, match="per-channel parameter has 3 entries"):
        dispatch.integrate_fused(inputs[0], inputs[1], torch.ones(3), *inputs[3:], 2, mask)
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        dispatch.integrate_fused(*inputs, -1, mask)
    with pytest.raises(ValueError, match="prefix|real clips of each video first"):
        dispatch.integrate_fused(*inputs, 2, torch.tensor([[1, 0, 1, 1, 1], [1] * 5]).bool())
    with pytest.raises(ValueError, match="does not support this call: scheme='explicit'"):
        dispatch.integrate_fused(*inputs, 2, mask, scheme="explicit")


def test_cpu_dispatch_is_the_reference():
    inputs, mask = make_case(2, 2, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = dispatch.integrate(*inputs, 3, mask)
    want = reference_integrate(*inputs, 3, mask)
    assert all(torch.equal(a, b) for a, b in zip(got, want))


def test_unsupported_cuda_shapes_fall_back_with_one_warning(monkeypatch):
    """Pretend the CPU tensor is on CUDA to exercise the fallback decisions."""
    monkeypatch.setattr(dispatch, "_WARNED", set())
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    u0 = torch.full((1, 1, tgs.MAX_L + 1), 0.5, dtype=torch.float64)
    v0 = torch.full_like(u0, 0.25)
    with pytest.warns(RuntimeWarning, match="fused Gray-Scott kernel not used"):
        got = dispatch.integrate(u0, v0, 0.04, 0.06, 0.2, 0.1, 1.0, 2)
    want = reference_integrate(u0, v0, 0.04, 0.06, 0.2, 0.1, 1.0, 2)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dispatch.integrate(u0, v0, 0.04, 0.06, 0.2, 0.1, 1.0, 2)  # second time: silent


def test_launch_config_covers_long_rows():
    cfg = tgs.launch_config(64 * 256, 4096)
    assert cfg["BLOCK_L"] == 4096 and cfg["BLOCK_R"] == 1
    assert tgs.launch_config(8, 75)["BLOCK_L"] == 128
    with pytest.raises(ValueError, match="exceeds the fused kernel's limit"):
        tgs.launch_config(1, tgs.MAX_L + 1)


def test_rd_layer_gradients_identical_through_fused_kernel(monkeypatch):
    """The model's RD layer (when merged) gives the same outputs and gradients on either path."""
    model = pytest.importorskip("rdmf.model")
    if not hasattr(model, "RDFusion"):
        pytest.skip("rdmf.model.RDFusion not available on this branch")
    import rdmf.numerics as numerics
    torch.manual_seed(0)
    layer = model.RDFusion(16, model.RDSettings()).double()
    B, L, N = 3, 12, 4
    x, t = torch.randn(B, L, 16, dtype=torch.float64), torch.randn(B, N, 16, dtype=torch.float64)
    vmask = torch.arange(L)[None] < torch.tensor([12, 7, 1])[:, None]
    tmask = torch.ones(B, N, dtype=torch.bool)

    def run():
        layer.zero_grad()
        out = layer(x, vmask, t, tmask)
        (out * torch.linspace(0, 1, 16, dtype=torch.float64)).sum().backward()
        return out.detach(), [p.grad.clone() for p in layer.parameters() if p.grad is not None]

    out_ref, g_ref = run()
    monkeypatch.setattr(numerics, "integrate", dispatch.integrate_fused)
    out_fused, g_fused = run()
    torch.testing.assert_close(out_fused, out_ref, atol=1e-12, rtol=1e-10)
    assert len(g_fused) == len(g_ref) > 0
    for a, b in zip(g_fused, g_ref):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9)


@pytest.mark.parametrize("dtype,use_gather", [(torch.float64, None), (torch.bfloat16, None),
                                              (torch.float32, True)])
def test_verify_compare_passes_on_small_cases(dtype, use_gather):
    from rdmf.kernels.verify import compare, gpu_cases
    row = compare(3, 2, 10, 5, dtype, torch.device("cpu"), use_gather=use_gather)
    assert row["passed"], row
    assert {c[2] for c in gpu_cases()} >= {1, 2, 75, 1000, 4096}


def test_persistent_programs_loop_over_several_tiles():
    """R = 9 rows of L = 600: tiles of 4 rows, 3 tiles on 2 programs (program 0 does two)."""
    cfg = tgs.launch_config(9, 600)
    assert cfg["n_tiles"] == 3 and cfg["grid"] == (2,)
    inputs, mask = make_case(3, 3, 600, lengths=[600, 333, 1])
    w = weights_for((3, 3, 600))
    out_f, g_f = run(dispatch.integrate_fused, inputs, 3, mask, w)
    out_r, g_r = run(reference_integrate, inputs, 3, mask, w)
    for a, b in zip(out_f, out_r):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
    for name, a, b in zip(NAMES, g_f, g_r):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9, msg=f"gradient of {name}")


def test_no_grad_call_stores_no_checkpoints(monkeypatch):
    calls = []
    real = tgs.gray_scott_forward
    monkeypatch.setattr(tgs, "gray_scott_forward",
                        lambda *a, **k: calls.append(k["save_every"]) or real(*a, **k))
    inputs, mask = make_case(1, 2, 8)
    leaves = [x.clone().requires_grad_() for x in inputs]
    with torch.no_grad():
        out = dispatch.integrate_fused(*leaves, 9, mask)
    assert not out[0].requires_grad
    dispatch.integrate_fused(*leaves, 9, mask)
    assert calls == [None, dispatch.CHECKPOINT_EVERY]


@pytest.mark.parametrize("scheme, space_varying", [("dct", False), ("dct", True),
                                                    ("semi_implicit", True)])
def test_schemes_the_kernel_lacks_fall_back_to_the_reference_explicitly(monkeypatch, caplog,
                                                                        scheme, space_varying):
    """The fused kernel implements ``semi_implicit`` with lattice-constant kinetics only: on CUDA,
    the layer's default ``dct`` scheme and its space-varying feed F(x) run on the PyTorch
    reference, and the dispatcher counts and logs the fallback."""
    import logging
    monkeypatch.setattr(dispatch, "FALLBACKS", type(dispatch.FALLBACKS)())
    monkeypatch.setattr(torch.Tensor, "is_cuda", property(lambda self: True))
    monkeypatch.setattr(dispatch, "triton_available", lambda: True)
    called = []
    monkeypatch.setattr(dispatch, "integrate_fused", lambda *a, **kw: called.append(1))
    inputs, mask = make_case(2, 3, 7)
    u0, v0, F, k, Du, Dv, dt = inputs
    if space_varying:
        F = torch.rand(2, 3, 7, dtype=u0.dtype) * 0.05 + 0.01
    with caplog.at_level(logging.INFO, logger="rdmf.kernels"):
        got = dispatch.integrate(u0, v0, F, k, Du, Dv, dt, 3, mask, scheme=scheme,
                                 on_violation="warn")
        dispatch.integrate(u0, v0, F, k, Du, Dv, dt, 3, mask, scheme=scheme, on_violation="warn")
    want = reference_integrate(u0, v0, F, k, Du, Dv, dt, 3, mask, scheme=scheme,
                               on_violation="warn")
    assert not called
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    reason = f"scheme={scheme!r}" if scheme != "semi_implicit" else "space-varying kinetics"
    (key, count), = dispatch.FALLBACKS.items()
    assert key.startswith(reason) and count == 2
    assert sum("fused Gray-Scott kernel not used" in r.getMessage() for r in caplog.records) == 1
