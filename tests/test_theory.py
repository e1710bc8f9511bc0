"""rdmf.theory: symbolic identities, literature values, and agreement with an independent NumPy
eigenvalue computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize_scalar

from rdmf.theory import (HOPF, HOPF_TURING, NO_STATE, STABLE, TURING, NoSteadyStateError,
                         bogdanov_takens_point, classify_fk, dispersion, hopf_curve, hopf_F,
                         jacobian, params_from_state, reaction, saddle_node_k, steady_states,
                         trace_det_closed_form, turing_analysis, turing_curve, turing_hopf_point,
                         turing_sliver_width)
from rdmf.theory.steady_states import F_, k_, u_, v_

# ---------------------------------------------------------------- symbolic identities


def test_symbolic_states_are_steady_and_satisfy_uv_equals_F_plus_k():
    states = steady_states(F_, k_)
    assert states[0] == (1, 0)
    assert len(states) == 3
    for u, v in states[1:]:
        assert sp.simplify(u * v - (F_ + k_)) == 0
        f, g = reaction(u, v, F_, k_)
        assert sp.simplify(f) == 0 and sp.simplify(g) == 0


def test_trace_and_det_closed_forms_on_symbolic_states():
    trace, det = trace_det_closed_form()
    for u, v in steady_states(F_, k_)[1:]:
        J = jacobian(u, v, F_, k_)
        assert sp.simplify(J.trace() - trace.subs(v_, v)) == 0
        assert sp.simplify(J.det() - det.subs(v_, v)) == 0
    # and the general closed forms with u v = F + k imposed (k eliminated)
    J = jacobian(u_, v_, F_, u_ * v_ - F_)
    assert sp.simplify(J.trace() - trace.subs(k_, u_ * v_ - F_)) == 0
    assert sp.simplify(J.det() - det.subs(k_, u_ * v_ - F_)) == 0


def test_trivial_state_jacobian_is_diagonal():
    J = jacobian(sp.Integer(1), sp.Integer(0), F_, k_)
    assert sp.simplify(J - sp.diag(-F_, -(F_ + k_))) == sp.zeros(2, 2)


def test_hopf_curve_parametrisation_has_zero_trace():
    u = sp.symbols("u", positive=True)
    v = u * (1 - u)
    F, k = params_from_state(u, v)
    f, g = reaction(u, v, F, k)
    assert sp.simplify(f) == 0 and sp.simplify(g) == 0
    assert sp.simplify(jacobian(u, v, F, k).trace()) == 0
    # implicit form (F + k)² = F sqrt(k), with sqrt(k) = u (1 − u) on 0 < u < 1
    assert sp.simplify((F + k) ** 2 - F * v) == 0
    assert hopf_curve(symbolic=True) == sp.Eq((F_ + k_) ** 2, F_ * sp.sqrt(k_))


def test_hopf_F_of_k_matches_implicit_equation_and_inverse():
    k = np.linspace(1e-4, 1 / 16, 50)
    F = hopf_F(k)
    np.testing.assert_allclose((F + k) ** 2, F * np.sqrt(k), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(hopf_curve(F), k, rtol=1e-9)


def test_saddle_node_curve_is_double_root():
    Fs = sp.Rational(3, 100)
    states = steady_states(Fs, saddle_node_k(Fs))
    assert len(states) == 2 and states[1][0] == sp.Rational(1, 2)


# ---------------------------------------------------------------- literature values


def test_bogdanov_takens_point_is_one_sixteenth():
    assert bogdanov_takens_point() == (sp.Rational(1, 16), sp.Rational(1, 16))
    states = steady_states(sp.Rational(1, 16), sp.Rational(1, 16))
    assert states[1:] == [(sp.Rational(1, 2), sp.Rational(1, 4))]
    u, v = states[1]
    J = jacobian(u, v, sp.Rational(1, 16), sp.Rational(1, 16))
    assert J.trace() == 0 and J.det() == 0


def test_turing_hopf_point_for_sigma_two_is_exact():
    point = turing_hopf_point(2)
    F, k = point
    assert (F, k) == (sp.Rational(3087, 65536), sp.Rational(3969, 65536))
    assert point.state == (sp.Rational(7, 16), sp.Rational(63, 256))
    assert steady_states(F, k)[1] == point.state
    J = jacobian(point.u, point.v, F, k)
    Du, Dv = 2, 1
    h = Dv * J[0, 0] + Du * J[1, 1]
    assert J.trace() == 0 and J.det() > 0
    assert h**2 - 4 * Du * Dv * J.det() == 0
    assert turing_hopf_point(2.0) == point  # floats read as their decimal repr


def test_turing_hopf_point_symbolic_sigma_satisfies_both_conditions():
    s = sp.symbols("sigma", positive=True)
    point = turing_hopf_point(s)
    J = jacobian(point.u, point.v, point.F, point.k)
    assert sp.simplify(J.trace()) == 0
    h = J[0, 0] + s * J[1, 1]
    assert sp.simplify(h**2 - 4 * s * J.det()) == 0


def test_double_root_at_004_006_given_as_floats():
    assert 0.04 - 4 * (0.04 + 0.06) ** 2 < 0  # the trap: floats say "no state"
    assert steady_states(0.04, 0.06) == [(1.0, 0.0), (0.5, 0.2)]
    assert steady_states(sp.Rational(1, 25), sp.Rational(3, 50)) == [
        (1, 0), (sp.Rational(1, 2), sp.Rational(1, 5))]
    a = turing_analysis(0.04, 0.06, 2.0, 1.0)
    assert (a.u, a.v, a.det) == (0.5, 0.2, 0.0)
    # just beyond the curve: only the trivial state; a float-computed point with tol
    assert steady_states(0.04, 0.0600001) == [(1.0, 0.0)]
    F = 0.03
    assert len(steady_states(F, math.sqrt(F) / 2 - F, tol=1e-12)) == 2


def test_three_states_and_order():
    states = steady_states(0.03, 0.05)
    assert len(states) == 3
    (_, _), (u1, v1), (u2, v2) = states
    assert v1 > v2 and u1 < 0.5 < u2
    for u, v in states:
        f, g = reaction(u, v, 0.03, 0.05)
        assert abs(f) < 1e-15 and abs(g) < 1e-15


def test_pure_turing_sliver_width_for_sigma_two():
    F, width = turing_sliver_width(2.0)
    assert width[0] == pytest.approx(0.0, abs=1e-9)  # it starts at the Turing-Hopf point
    assert 2e-4 < width.max() < 6e-4


# ---------------------------------------------------------------- vs an independent eigensolver


def _numeric_growth(u, v, F, k, Du, Dv, q2):
    """max Re eig(J − q² D) by np.linalg.eigvals; q2 scalar or (N,) array."""
    J = np.array([[-v * v - F, -2 * u * v], [v * v, 2 * u * v - (F + k)]])
    q2 = np.asarray(q2, dtype=float)
    M = J - q2[..., None, None] * np.diag([Du, Dv])
    return np.linalg.eigvals(M).real.max(axis=-1)


def _random_cases(n, seed=0):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n:
        u = rng.uniform(0.05, 0.5)
        v = rng.uniform(0.02, 1 - u)
        F, k = params_from_state(u, v)
        if k <= 0:
            continue
        sigma = math.exp(rng.uniform(math.log(0.5), math.log(30.0)))
        Dv = math.exp(rng.uniform(math.log(1e-2), math.log(2.0)))
        cases.append((float(F), float(k), sigma * Dv, Dv))
    return cases


@pytest.mark.parametrize("seed", [0, 1])
def test_turing_analysis_agrees_with_numpy_eigenvalues(seed):
    n_turing = n_band = 0
    for F, k, Du, Dv in _random_cases(100, seed):
        a = turing_analysis(F, k, Du, Dv)
        f, g = reaction(a.u, a.v, F, k)
        assert abs(f) < 1e-12 and abs(g) < 1e-12
        J = np.array([[-a.v**2 - F, -2 * a.u * a.v], [a.v**2, 2 * a.u * a.v - (F + k)]])
        assert a.trace == pytest.approx(np.trace(J), abs=1e-12)
        assert a.det == pytest.approx(np.linalg.det(J), abs=1e-12)
        growth = lambda q2: _numeric_growth(a.u, a.v, F, k, Du, Dv, q2)  # noqa: E731
        # most unstable q²: dense grid + bounded refinement, all with np.linalg.eigvals
        top = 4 * max(abs(a.h) / (Du * Dv), abs(a.trace) / (Du + Dv), 1e-8)
        grid = np.linspace(0, top, 801)
        values = growth(grid)
        i = int(values.argmax())
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        best = minimize_scalar(lambda p: -float(growth(p)), bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-14 * max(top, 1)})
        q2_num, g_num = (best.x, -best.fun) if -best.fun > values[i] else (grid[i], values[i])
        assert a.growth_max == pytest.approx(g_num, rel=1e-6, abs=1e-10)
        if abs(a.q2_max - q2_num) > 1e-4 * top:  # a flat maximum: the growth must still match
            assert growth(a.q2_max) == pytest.approx(g_num, rel=1e-6, abs=1e-10)
        # band edges: a real eigenvalue crosses zero there, positive inside
        if a.q2_band is not None:
            n_band += 1
            b_lo, b_hi = a.q2_band
            for edge in a.q2_band:
                eig = np.linalg.eigvals(J - edge * np.diag([Du, Dv]))
                assert np.min(np.abs(eig)) < 1e-9 * max(1.0, np.abs(eig).max())
            mid = (b_lo + b_hi) / 2
            assert np.linalg.eigvals(J - mid * np.diag([Du, Dv])).real.max() > 0
        # the Turing flag from eigenvalues alone
        stable_at_zero = np.linalg.eigvals(J).real.max() < 0
        if abs(g_num) > 1e-9:
            assert a.turing_unstable == (stable_at_zero and g_num > 0)
        n_turing += a.turing_unstable
        # the critical ratio: just above it the Turing condition holds, just below it does not
        for factor, expected in ((1.001, True), (0.999, False)):
            b = turing_analysis(F, k, a.sigma_critical * factor * Dv, Dv)
            assert (b.q2_band is not None) == expected
    assert n_turing >= 10 and n_band >= 20  # the sample does exercise the Turing branch


def test_dispersion_matches_eigvals_and_trivial_state():
    F, k, Du, Dv = 0.05, 0.061, 2.0, 1.0
    q2 = np.linspace(0, 0.2, 11)
    lam = dispersion(q2, F, k, Du, Dv)
    a = turing_analysis(F, k, Du, Dv)
    for p, pair in zip(q2, lam):
        J = jacobian(a.u, a.v, F, k) - p * np.diag([Du, Dv])
        ref = np.sort_complex(np.linalg.eigvals(J))
        np.testing.assert_allclose(np.sort_complex(pair), ref, atol=1e-12)
    lam0 = dispersion(q2, F, k, Du, Dv, u=1.0, v=0.0)
    expected = np.sort(np.stack([-F - Du * q2, -(F + k) - Dv * q2], axis=-1), axis=-1)
    np.testing.assert_allclose(np.sort(lam0.real, axis=-1), expected, atol=1e-14)
    assert np.all(lam0.imag == 0)
    lam_sym = dispersion(sp.Symbol("q2"), F_, k_, sp.Symbol("D_u"), sp.Symbol("D_v"), 1, 0)
    assert sp.simplify(lam_sym[0] + lam_sym[1] - (-2 * F_ - k_ - sp.Symbol("q2") * (
        sp.Symbol("D_u") + sp.Symbol("D_v")))) == 0


def test_curves_agree_with_turing_analysis():
    F, k = turing_curve(2.0, n=50)
    inside = (F > 1e-4) & (k > 1e-4) & (k < saddle_node_k(F) - 1e-9)
    for Fi, ki in zip(F[inside], k[inside]):
        a = turing_analysis(Fi, ki, 2.0, 1.0, tol=1e-12)
        assert a.sigma_critical == pytest.approx(2.0, rel=1e-8)
    Fh, kh = hopf_curve(n=30)
    for Fi, ki in zip(Fh[:-1], kh[:-1]):
        assert turing_analysis(Fi, ki, 1.0, 1.0).trace == pytest.approx(0.0, abs=1e-12)


def test_classification_grid_agrees_with_pointwise_analysis():
    rng = np.random.default_rng(3)
    F = rng.uniform(1e-3, 0.12, 400)
    k = rng.uniform(0.0, 0.075, 400)
    codes = classify_fk(F, k, sigma=2.0)
    assert set(np.unique(codes)) <= {NO_STATE, STABLE, TURING, HOPF, HOPF_TURING}
    for Fi, ki, code in zip(F, k, codes):
        try:
            a = turing_analysis(Fi, ki, 2.0, 1.0)
        except NoSteadyStateError:
            assert code == NO_STATE
            continue
        turing = a.q2_band is not None
        expected = {(False, False): STABLE, (False, True): TURING, (True, False): HOPF,
                    (True, True): HOPF_TURING}[(a.trace > 0, turing)]
        assert code == expected
    # a point inside the pure-Turing sliver (just below the Hopf curve at F = 0.06)
    assert classify_fk(0.06, hopf_curve(0.06) - 1e-4) == TURING
    assert classify_fk(0.06, hopf_curve(0.06) - 1e-3) == STABLE


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("F,k,name", [(0.0, 0.05, "F"), (-0.01, 0.05, "F"),
                                      (float("nan"), 0.05, "F"), (0.03, -0.1, "k"),
                                      (0.03, float("inf"), "k"), ("0.03", 0.05, "F")])
def test_bad_kinetics_raise_value_error_naming_the_argument(F, k, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        steady_states(F, k)
    with pytest.raises(ValueError, match=rf"^{name} must"):
        turing_analysis(F, k, 2.0, 1.0)


@pytest.mark.parametrize("Du,Dv,name", [(0.0, 1.0, "Du"), (2.0, -1.0, "Dv"),
                                        (float("nan"), 1.0, "Du")])
def test_bad_diffusivities(Du, Dv, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        turing_analysis(0.03, 0.05, Du, Dv)


def test_no_state_is_an_explicit_error_not_nan():
    with pytest.raises(NoSteadyStateError, match="no non-trivial steady state"):
        turing_analysis(0.0367, 0.0649, 2.0, 1.0)
    assert classify_fk(0.0367, 0.0649) == NO_STATE


def test_curve_ranges_are_checked():
    with pytest.raises(ValueError, match="F must lie in"):
        hopf_curve(0.07)
    with pytest.raises(ValueError, match="sigma"):
        turing_hopf_point(1)
    with pytest.raises(ValueError, match="sigma"):
        turing_hopf_point(6)
    with pytest.raises(ValueError, match="F must"):
        saddle_node_k(0.0)


def test_small_feed_rates_keep_full_relative_precision():
    for F, k in [(1e-6, 0.0), (1e-8, 1e-5), (2e-5, 1e-3)]:
        states = steady_states(F, k)
        assert len(states) == 3
        for u, v in states[1:]:
            assert u * v == pytest.approx(F + k, rel=1e-12)
            assert u * (1 - u) == pytest.approx((F + k) ** 2 / F, rel=1e-12)
        a = turing_analysis(F, k, 2.0, 1.0)
        assert (a.u, a.v) == states[1]


def test_most_unstable_mode_closed_form_is_derived_and_matches_turing_analysis():
    import sympy as sp

    from rdmf.theory import hopf_curve, most_unstable_mode, turing_analysis
    from rdmf.theory.steady_states import Du_, Dv_
    m = most_unstable_mode()
    P, S = Du_ * Dv_, Du_ + Dv_
    expected = (-P * (Du_ - Dv_) ** 2 * m.p**2 + 2 * P * (S * m.tr - 2 * m.h) * m.p
                + m.h**2 - S * m.tr * m.h + S**2 * m.det)
    assert sp.simplify(m.quadratic - expected) == 0
    assert sp.simplify(m.lam_of_p - (m.h - 2 * P * m.p) / S) == 0
    for root in m.p_roots:
        assert sp.simplify(m.quadratic.subs(m.p, root)) == 0
    for F, dk, sigma in ((0.06, 2e-4, 2.0), (0.05, 1e-4, 2.0), (0.03, 5e-3, 8.0)):
        k = hopf_curve(F) - dk
        a = turing_analysis(F, k, sigma, 1.0)
        assert a.q2_band is not None
        q2, growth = m.numeric(a.trace, a.det, a.h, a.Du, a.Dv)
        assert abs(q2 - a.q2_max) < 1e-10 and abs(growth - a.growth_max) < 1e-12


def test_upper_state_focus_k_separates_complex_from_real_eigenvalues():
    from rdmf.theory import hopf_curve, jacobian, saddle_node_k, upper_state, upper_state_focus_k
    for F in (0.01, 0.03, 0.05):
        k_f = upper_state_focus_k(F)
        assert hopf_curve(F) < k_f < saddle_node_k(F)
        below, above = (hopf_curve(F) + k_f) / 2, (k_f + saddle_node_k(F)) / 2
        eig_below = np.linalg.eigvals(jacobian(*upper_state(F, below), F, below))
        eig_above = np.linalg.eigvals(jacobian(*upper_state(F, above), F, above))
        assert np.all(eig_below.real > 0) and np.all(np.abs(eig_below.imag) > 0)
        assert np.all(eig_above.real > 0) and np.all(eig_above.imag == 0)
    with pytest.raises(ValueError):
        upper_state_focus_k(0.07)
