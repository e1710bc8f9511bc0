"""rdmf.theory.lattice and rdmf.theory.schemes: spectra, bounds and the invariant region."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from rdmf.numerics.linear import amplification_matrices, base_state
from rdmf.numerics.validation import laplacian_matrix
from rdmf.theory import (
    amplification_matrix,
    discrete_dispersion,
    explicit_counterexample,
    explicit_diffusion_bound,
    invariant_v_bound,
    lattice_eigenvalues,
    min_unstable_length,
    semi_implicit_invariant_region,
)
from rdmf.theory import schemes as S


@pytest.mark.parametrize("boundary", ["reflecting", "periodic"])
@pytest.mark.parametrize("N", [2, 3, 10, 75])
def test_eigenvalues_equal_dense_matrix_spectrum(N, boundary):
    ref = np.sort(np.linalg.eigvalsh(laplacian_matrix(N, boundary, dx=0.5)))[::-1]
    np.testing.assert_allclose(lattice_eigenvalues(N, boundary, h=0.5), ref, atol=1e-11)


def test_eigenvalue_formulas_and_order():
    N = 6
    ev = lattice_eigenvalues(N)
    assert ev[0] == 0.0 and np.all(np.diff(ev) < 0)
    m = np.arange(N)
    np.testing.assert_allclose(ev, -4 * np.sin(np.pi * m / (2 * N)) ** 2)
    ex = lattice_eigenvalues(3, exact=True)
    assert [sp.nsimplify(e) for e in ex] == [0, -1, -3]  # −4 sin²(π/6), −4 sin²(π/3)
    per = lattice_eigenvalues(4, "periodic")
    np.testing.assert_allclose(per, [0, -2, -2, -4])


@pytest.mark.parametrize("args, match", [
    ((1,), "N .* integer ≥ 2"),
    ((2.5,), "N .* integer ≥ 2"),
    ((5, "dirichlet"), "boundary must be one of"),
    ((5, "reflecting", -1.0), "h .* finite and > 0"),
    ((5, "reflecting", float("inf")), "h .* finite and > 0"),
])
def test_eigenvalues_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        lattice_eigenvalues(*args)


def test_explicit_diffusion_bound_is_one_over_two_d():
    assert explicit_diffusion_bound(1) == sp.Rational(1, 2)
    assert explicit_diffusion_bound(2) == sp.Rational(1, 4)
    assert explicit_diffusion_bound(3) == sp.Rational(1, 6)
    with pytest.raises(ValueError, match="dim"):
        explicit_diffusion_bound(0)
    # numerically: forward Euler diffusion on a lattice blows up just beyond r = 1/2
    A = laplacian_matrix(40, "periodic")
    for r, ok in ((0.5, True), (0.52, False)):
        rho = np.abs(np.linalg.eigvals(np.eye(40) + r * A)).max()
        assert (rho <= 1 + 1e-12) == ok


def test_one_site_counterexample_exact():
    c = explicit_counterexample()
    assert c.dt == sp.Rational(100, 101)
    (u1, v1), (u2, _v2) = c.trajectory[1], c.trajectory[2]
    assert u1 == sp.Rational(1, 101) and v1 == sp.Rational(199, 101)
    assert u2 < 0 and c.first_negative_step == 2
    # no fixed step bounds it: for any dt a state inside the semi-implicit invariant region
    # leaves u ≥ 0 in one forward-Euler step
    for dt in (sp.Rational(1, 100), sp.Rational(1, 2), 3, 100):
        (u0, v0), (u1, _) = S.explicit_exit_state(dt)
        assert u1 == -3
        assert v0 <= invariant_v_bound(0.0, 0.01, 0.01, float(dt))


def test_semi_implicit_invariant_region_identities():
    R = semi_implicit_invariant_region()
    assert R.verify()
    assert sp.simplify(R.v_bar - (1 + S.dt * S.F) / (S.dt * (S.F + S.k))) == 0
    assert R.r_max == sp.Rational(1, 2)
    # the 'pieces' are non-negative on random points inside the region (r ≤ 1/2, M ≥ v_bar)
    rng = np.random.default_rng(0)
    lhs, rhs = R.v_le_M
    M = sp.Symbol("M", positive=True)
    for _ in range(20):
        F, k, dt = rng.uniform(0, 0.1), rng.uniform(0.001, 0.1), rng.uniform(0.1, 50)
        vb = (1 + dt * F) / (dt * (F + k))
        vals = {S.F: F, S.k: k, S.dt: dt, sp.Symbol("r_v", nonnegative=True): rng.uniform(0, .5),
                S.v: rng.uniform(0, vb), S.vl: rng.uniform(0, vb), S.vr: rng.uniform(0, vb),
                sp.Symbol("u'", nonnegative=True): rng.uniform(0, 1) * (1 + dt * F) / (1 + dt * F),
                M: vb}
        v = vals[S.v]
        vals[sp.Symbol("u'", nonnegative=True)] = rng.uniform(0, 1) * (1 + dt * F) / (
            1 + dt * (v * v + F))
        assert float(lhs.subs(vals)) >= -1e-9
        assert math.isclose(float(lhs.subs(vals)), float(rhs.subs(vals)), abs_tol=1e-9)


def test_invariant_v_bound_numeric():
    assert invariant_v_bound(0.5, 0.04, 0.06, 10.0) == pytest.approx(1.4 / 1.0)
    assert invariant_v_bound(5.0, 0.04, 0.06, 10.0) == 5.0
    with pytest.raises(ValueError, match="dt"):
        invariant_v_bound(1.0, 0.04, 0.06, 0.0)
    with pytest.raises(ValueError, match="F"):
        invariant_v_bound(1.0, -0.04, 0.06, 1.0)


@pytest.mark.parametrize("scheme", ["continuous", "explicit", "semi_implicit", "dct"])
def test_symbolic_amplification_matrix_equals_numeric(scheme):
    G = amplification_matrix(scheme)
    rng = np.random.default_rng(1)
    for _ in range(5):
        F, k = rng.uniform(0.02, 0.08), rng.uniform(0.04, 0.065)
        try:
            us, vs = base_state(F, k)
        except ValueError:
            continue
        Du, Dv, dt, mu = rng.uniform(0.05, 1), rng.uniform(0.01, 0.5), rng.uniform(0.1, 2), \
            rng.uniform(0, 4)
        Gs = np.array(G.subs({S.F: F, S.k: k, S.Du: Du, S.Dv: Dv, S.dt: dt, S.mu: mu,
                              S.us: us, S.vs: vs}).evalf(), dtype=float)
        Gn = amplification_matrices(F, k, Du, Dv, dt, [mu], scheme)[0]
        np.testing.assert_allclose(Gs, Gn, atol=1e-12)


def test_semi_implicit_linearisation_factorises_at_steady_states():
    A, B = S.semi_implicit_factors()
    G = amplification_matrix("semi_implicit")
    assert sp.simplify((A * G - B).subs(S.steady_state_substitution())) == sp.zeros(2, 2)


def test_explicit_factor_tends_to_continuous_rate():
    F, k, Du, Dv = 0.06, 0.062, 0.5, 0.05
    cont = discrete_dispersion(F, k, Du, Dv, 40).rate
    for scheme in ("explicit", "semi_implicit", "dct"):
        errs = [np.abs(discrete_dispersion(F, k, Du, Dv, 40, scheme=scheme, dt=dt).rate
                       - cont).max() for dt in (0.2, 0.1)]
        assert errs[1] < 0.6 * errs[0]  # first order: halves with dt


def test_mode_quantisation_on_short_lattices():
    F, k, Du, Dv = 0.06, 0.062, 0.5, 0.2
    disp = discrete_dispersion(F, k, Du, Dv, 48)
    assert disp.unstable.min() >= 1  # the homogeneous mode is stable (Hopf-stable state)
    N_min = min_unstable_length(F, k, Du, Dv)
    assert len(discrete_dispersion(F, k, Du, Dv, N_min - 1).unstable) == 0
    assert len(discrete_dispersion(F, k, Du, Dv, N_min).unstable) >= 1
    assert min_unstable_length(0.06, 0.062, 0.3, 0.3) is None  # Du = Dv: no Turing band
    with pytest.raises(ValueError, match="dt is required"):
        discrete_dispersion(F, k, Du, Dv, 10, scheme="explicit")


@pytest.mark.parametrize("kwargs, match", [
    (dict(F=-0.01), "F must be a finite number ≥ 0"),
    (dict(k=float("nan")), "k must be a finite number ≥ 0"),
    (dict(Du=float("inf")), "Du must be a finite number ≥ 0"),
    (dict(Dv=-1.0), "Dv must be a finite number ≥ 0"),
    (dict(F=0.01, k=0.1), "no non-trivial steady state"),
])
def test_dispersion_bad_kinetics(kwargs, match):
    args = dict(F=0.06, k=0.062, Du=0.5, Dv=0.2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        discrete_dispersion(**args, N=10)
    with pytest.raises(ValueError, match=match):
        min_unstable_length(**args)


def test_splitting_invariant_region_holds_for_any_dt_and_D():
    import sympy as sp
    from rdmf.theory import splitting_invariant_region
    R = splitting_invariant_region(5)
    assert R.verify()
    # the reaction substep is the semi-implicit step with r = 0: no diffusion term is left
    assert not {s.name for s in R.reaction.u_le_one[1].free_symbols} & {"r_u", "u_l", "u_r"}
    D = sp.Symbol("D", nonnegative=True)
    assert R.generator[0, 0] == -D and R.generator[2, :] == sp.Matrix([[0, D, -2 * D, D, 0]])
    # a generator with a negative off-diagonal entry (anti-diffusion) is not Markov
    bad = type(R)(R.reaction, R.generator, R.row_sums, R.shifted - 3 * D * sp.ones(5, 5))
    assert not bad.verify()
    with pytest.raises(ValueError, match="n must be"):
        splitting_invariant_region(1)
