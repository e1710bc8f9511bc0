"""The Gray-Scott integrators: identities, masks, boundaries, gradients and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rdmf.numerics import (
    SCHEMES,
    DiffusionPropagator,
    StabilityError,
    as_param,
    integrate,
    laplacian_1d,
    laplacian_basis,
    lattice_mask,
    step_explicit,
    step_semi_implicit,
)
from rdmf.numerics.grid2d import integrate_2d, laplacian_2d
from rdmf.numerics.validation import laplacian_matrix
from rdmf.theory import lattice_eigenvalues

KIN = dict(F=0.04, k=0.06, Du=0.2, Dv=0.1)


def _fields(B=3, C=2, L=12, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(B, C, L, generator=g, dtype=dtype),
            0.5 * torch.rand(B, C, L, generator=g, dtype=dtype))


# ---------------------------------------------------------------- Laplacian and eigenbasis
@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
def test_laplacian_equals_dense_matrix(boundary):
    u, _ = _fields(L=9)
    A = torch.tensor(laplacian_matrix(9, boundary, dx=0.5))
    np.testing.assert_allclose(laplacian_1d(u, None, boundary, dx=0.5), u @ A.T, atol=1e-12)


@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
@pytest.mark.parametrize("n", [2, 3, 8, 11])
def test_basis_diagonalises_laplacian_with_theory_eigenvalues(boundary, n):
    V, lam = laplacian_basis(n, boundary)
    A = torch.tensor(laplacian_matrix(n, boundary))
    torch.testing.assert_close(V.T @ V, torch.eye(n, dtype=V.dtype), atol=1e-12, rtol=0)
    torch.testing.assert_close(A @ V, V * lam, atol=1e-12, rtol=0)
    np.testing.assert_allclose(np.sort(lam.numpy())[::-1], lattice_eigenvalues(n, boundary),
                               atol=1e-12)


@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
def test_propagator_equals_matrix_exponential(boundary):
    from scipy.linalg import expm

    u, _ = _fields(B=2, C=3, L=10)
    D = torch.tensor([0.1, 0.5, 2.0], dtype=torch.float64)
    prop = DiffusionPropagator(None, 10, D, 0.7, 1.0, like=u, boundary=boundary)
    out = prop(u)
    A = laplacian_matrix(10, boundary)
    for c in range(3):
        P = torch.tensor(expm(0.7 * float(D[c]) * A))
        torch.testing.assert_close(out[:, c], u[:, c] @ P.T, atol=1e-12, rtol=0)


def test_propagator_ragged_equals_per_sample_runs():
    u, _ = _fields(B=3, C=2, L=10)
    mask = lattice_mask([10, 6, 1], 10)
    out = DiffusionPropagator(mask, 10, 0.3, 2.0, 1.0, like=u)(u)
    for b, n in enumerate([10, 6, 1]):
        ref = DiffusionPropagator(None, n, 0.3, 2.0, 1.0, like=u[b:b + 1, :, :n])(u[b:b + 1, :, :n])
        torch.testing.assert_close(out[b:b + 1, :, :n], ref, atol=1e-12, rtol=0)
        assert torch.equal(out[b, :, n:], u[b, :, n:])  # padding untouched


# ---------------------------------------------------------------- schemes
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
def test_padding_never_changes_real_clips(scheme, boundary):
    """A masked batch equals each video run alone, whatever sits in the padding."""
    u, v = _fields(B=3, C=2, L=12)
    lengths = [12, 7, 2]
    mask = lattice_mask(lengths, 12)
    garbage_u, garbage_v = u.clone(), v.clone()
    garbage_u[~mask.unsqueeze(1).expand_as(u)] = float("nan")
    garbage_v[~mask.unsqueeze(1).expand_as(v)] = float("inf")
    kw = dict(scheme=scheme, boundary=boundary, check=False)
    out_u, out_v = integrate(garbage_u, garbage_v, **KIN, dt=0.5, steps=25, mask=mask, **kw)
    for b, n in enumerate(lengths):
        ref_u, ref_v = integrate(u[b:b + 1, :, :n], v[b:b + 1, :, :n], **KIN, dt=0.5, steps=25,
                                 **kw)
        torch.testing.assert_close(out_u[b:b + 1, :, :n], ref_u, atol=1e-12, rtol=0)
        torch.testing.assert_close(out_v[b:b + 1, :, :n], ref_v, atol=1e-12, rtol=0)
        assert out_u[b, :, n:].isnan().all() and out_v[b, :, n:].isinf().all()  # returned as given


@pytest.mark.parametrize("scheme", SCHEMES)
def test_gradients_are_clean_with_garbage_padding(scheme):
    u, v = _fields(B=2, C=1, L=6)
    mask = lattice_mask([6, 3], 6)
    pad = ~mask.unsqueeze(1)
    u = torch.where(pad, torch.full_like(u, float("inf")), u).requires_grad_()
    v = torch.where(pad, torch.full_like(v, float("nan")), v).requires_grad_()
    out_u, out_v = integrate(u, v, **KIN, dt=0.5, steps=5, mask=mask, scheme=scheme)
    (out_u.masked_fill(pad, 0).sum() + out_v.masked_fill(pad, 0).sum()).backward()
    assert torch.isfinite(u.grad).all() and torch.isfinite(v.grad).all()
    assert (u.grad.masked_select(pad) == 0).all()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_per_channel_parameters_equal_separate_runs(scheme):
    u, v = _fields(B=2, C=3, L=10)
    F = torch.tensor([0.02, 0.04, 0.06], dtype=torch.float64)
    Dv = torch.tensor([[0.05, 0.1, 0.2], [0.2, 0.1, 0.05]], dtype=torch.float64)
    out_u, out_v = integrate(u, v, F, 0.06, 0.2, Dv, 0.5, 20, scheme=scheme, check=False)
    for b in range(2):
        for c in range(3):
            ref = integrate(u[b:b + 1, c:c + 1], v[b:b + 1, c:c + 1], float(F[c]), 0.06, 0.2,
                            float(Dv[b, c]), 0.5, 20, scheme=scheme, check=False)
            torch.testing.assert_close(out_u[b, c], ref[0][0, 0], atol=1e-13, rtol=0)
            torch.testing.assert_close(out_v[b, c], ref[1][0, 0], atol=1e-13, rtol=0)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_homogeneous_steady_states_are_fixed_points(scheme):
    from rdmf.theory import steady_states

    for (us, vs) in steady_states(0.03, 0.055):
        u = torch.full((1, 1, 8), us, dtype=torch.float64)
        v = torch.full((1, 1, 8), vs, dtype=torch.float64)
        out_u, out_v = integrate(u, v, 0.03, 0.055, 0.2, 0.1, 0.7, 30, scheme=scheme,
                                 check=False)
        torch.testing.assert_close(out_u, u, atol=1e-12, rtol=0)
        torch.testing.assert_close(out_v, v, atol=1e-12, rtol=0)


def test_semi_implicit_step_matches_formula_at_one_site():
    u = torch.tensor([[[0.3]]], dtype=torch.float64)
    v = torch.tensor([[[2.0]]], dtype=torch.float64)
    F, k, dt = 0.04, 0.06, 3.0
    un, vn = step_semi_implicit(u, v, F, k, 0.1, 0.1, dt)
    u_exp = (0.3 + dt * F) / (1 + dt * (4.0 + F))
    assert math.isclose(un.item(), u_exp, rel_tol=1e-14)
    assert math.isclose(vn.item(), (2.0 + dt * u_exp * 4.0) / (1 + dt * (F + k)), rel_tol=1e-14)
    ue, ve = step_explicit(u, v, F, k, 0.1, 0.1, dt)
    assert math.isclose(ue.item(), 0.3 + dt * (-0.3 * 4 + F * 0.7), rel_tol=1e-14)


def test_dct_diffusion_conserves_mass_and_stays_in_range_for_huge_steps():
    u, v = _fields(B=2, C=1, L=16)
    mask = lattice_mask([16, 9], 16)
    F = k = 0.0  # pure diffusion + the (mass-conserving) exchange u v² between u and v
    out_u, out_v = integrate(u, v * 0, F, k, 3.0, 1.0, 50.0, 10, mask, scheme="dct")
    for b, n in enumerate([16, 9]):
        assert math.isclose(out_u[b, 0, :n].sum().item(), u[b, 0, :n].sum().item(), rel_tol=1e-12)
        assert out_u[b, 0, :n].min() >= u[b, 0, :n].min() - 1e-12
        assert out_u[b, 0, :n].max() <= u[b, 0, :n].max() + 1e-12


def test_2d_laplacian_is_sum_of_1d_laplacians():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 5, 7, generator=g, dtype=torch.float64)
    for boundary in ("reflecting", "periodic"):
        rows = laplacian_1d(x.reshape(2, 5, 7), None, boundary).reshape(2, 1, 5, 7)
        cols = laplacian_1d(x.transpose(-1, -2).reshape(2, 7, 5), None, boundary)
        cols = cols.reshape(2, 1, 7, 5).transpose(-1, -2)
        torch.testing.assert_close(laplacian_2d(x, boundary), rows + cols, atol=1e-12, rtol=0)


@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
def test_2d_schemes_agree_with_each_other_for_small_steps(boundary):
    from rdmf.numerics.validation import pearson_seed

    u0, v0 = (torch.tensor(a).reshape(1, 1, 12, 12) for a in pearson_seed(12))
    outs = [integrate_2d(u0, v0, 0.04, 0.06, 0.2, 0.1, 0.05, 200, boundary=boundary, scheme=s)
            for s in SCHEMES]
    for u, v in outs[1:]:
        assert (u - outs[0][0]).abs().max() < 2e-3 and (v - outs[0][1]).abs().max() < 2e-3


# ---------------------------------------------------------------- stability detection
def test_diffusion_bound_violation_is_an_error_naming_the_range():
    u, v = _fields()
    with pytest.raises(StabilityError, match=r"Du·dt/dx² = 0\.6.*r ∈ \[0, 0\.5\]"):
        integrate(u, v, 0.04, 0.06, 0.6, 0.1, 1.0, 5)
    with pytest.raises(StabilityError, match="1/4"):
        integrate_2d(u[..., None].expand(-1, -1, -1, 4), v[..., None].expand(-1, -1, -1, 4),
                     0.04, 0.06, 0.3, 0.1, 1.0, 5)
    integrate(u, v, 0.04, 0.06, 0.6, 0.1, 1.0, 5, scheme="dct")  # exact diffusion: no bound


def test_per_channel_bound_is_checked_elementwise():
    u, v = _fields(B=1, C=2)
    # channel 0: big D, small dt; channel 1: small D, big dt — both r = 0.4
    integrate(u, v, 0.04, 0.06, torch.tensor([0.8, 0.1]), 0.05, torch.tensor([0.5, 4.0]), 3)


def test_explicit_scheme_failure_is_detected_not_silent():
    u = torch.ones(1, 1, 4, dtype=torch.float64)
    v = torch.ones(1, 1, 4, dtype=torch.float64)
    dt = 1 / (1 + 0.01)  # the one-site counterexample, on a uniform lattice
    with pytest.raises(StabilityError, match="step 1 violates"):
        integrate(u, v, 0.01, 0.01, 0.0, 0.0, dt, 5, scheme="explicit")
    with pytest.warns(RuntimeWarning, match="violates"):
        out_u, _ = integrate(u, v, 0.01, 0.01, 0.0, 0.0, dt, 2, scheme="explicit",
                             on_violation="warn")
    assert out_u.min() < 0  # the counterexample: u < 0 after two steps


def test_blow_up_is_never_silent():
    u = torch.ones(1, 1, 4, dtype=torch.float64)
    v = 5 * torch.ones(1, 1, 4, dtype=torch.float64)
    with pytest.warns(RuntimeWarning) as record:
        out_u, _ = integrate(u, v, 0.01, 0.01, 0.0, 0.0, 5.0, 60, scheme="explicit",
                             on_violation="warn")
    assert not torch.isfinite(out_u).all()
    assert any("non-finite" in str(w.message) for w in record)
    with pytest.raises(StabilityError):
        integrate(u, v, 0.01, 0.01, 0.0, 0.0, 5.0, 60, scheme="explicit")


def test_explicit_check_ignores_padding():
    u, v = _fields(B=2, C=1, L=8)
    mask = lattice_mask([8, 4], 8)
    v = torch.where(mask.unsqueeze(1), v, torch.full_like(v, 100.0))  # huge v in padding only
    integrate(u, v, 0.04, 0.06, 0.2, 0.1, 0.5, 5, mask, scheme="explicit")


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("scheme", SCHEMES)
def test_gradcheck_through_fields_and_kinetics(scheme):
    torch.manual_seed(0)
    u0 = torch.rand(2, 1, 5, dtype=torch.float64, requires_grad=True)
    v0 = (0.3 * torch.rand(2, 1, 5, dtype=torch.float64)).requires_grad_()
    F = torch.tensor([0.04], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([0.06], dtype=torch.float64, requires_grad=True)
    Du = torch.tensor([0.2], dtype=torch.float64, requires_grad=True)
    dt = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    mask = lattice_mask([5, 3], 5)

    def run(u0, v0, F, k, Du, dt):
        u, v = integrate(u0, v0, F, k, Du, 0.1, dt, 4, mask, scheme=scheme)
        return u, v

    assert torch.autograd.gradcheck(run, (u0, v0, F, k, Du, dt), eps=1e-6, atol=1e-7)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(F=-0.1), "F must be ≥ 0"),
    (dict(k=float("nan")), "k must be finite"),
    (dict(dt=0.0), "dt must be > 0"),
    (dict(Dv=float("inf")), "Dv must be finite"),
    (dict(scheme="rk4"), "scheme must be one of"),
    (dict(boundary="dirichlet"), "boundary must be one of"),
    (dict(steps=-1), "steps must be a non-negative integer"),
    (dict(steps=2.5), "steps must be a non-negative integer"),
    (dict(on_violation="ignore"), "on_violation"),
    (dict(dx=0.0), "dx must be finite and > 0"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, match):
    u, v = _fields()
    args = dict(F=0.04, k=0.06, Du=0.2, Dv=0.1, dt=0.5, steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        integrate(u, v, **args)


def test_bad_shapes_and_masks():
    u, v = _fields(B=2, C=3, L=6)
    with pytest.raises(ValueError, match="per-channel parameter has 2 entries"):
        integrate(u, v, torch.tensor([0.1, 0.2]), 0.06, 0.2, 0.1, 0.5, 2)
    with pytest.raises(ValueError, match=r"\(B, C, L\)"):
        integrate(u[0], v[0], **KIN, dt=0.5, steps=2)
    with pytest.raises(ValueError, match="mask must be"):
        integrate(u, v, **KIN, dt=0.5, steps=2, mask=torch.ones(2, 5, dtype=torch.bool))
    holes = torch.tensor([[True, False, True, True, True, True]] * 2)
    with pytest.raises(ValueError, match="not a prefix mask"):
        integrate(u, v, **KIN, dt=0.5, steps=2, mask=holes)
    with pytest.raises(ValueError, match="u0 has non-finite"):
        integrate(u * float("nan"), v, **KIN, dt=0.5, steps=2)
    with pytest.raises(ValueError, match="does not broadcast"):
        as_param(torch.ones(3, 3), "F", u)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("scheme", SCHEMES)
def test_cuda_matches_cpu(scheme):
    u, v = _fields(B=3, C=2, L=12)
    mask = lattice_mask([12, 7, 3], 12)
    cpu = integrate(u, v, **KIN, dt=0.5, steps=20, mask=mask, scheme=scheme, check=False)
    gpu = integrate(u.cuda(), v.cuda(), **KIN, dt=0.5, steps=20, mask=mask.cuda(), scheme=scheme,
                    check=False)
    for a, b in zip(cpu, gpu):
        torch.testing.assert_close(b.cpu(), a, atol=1e-10, rtol=0)
