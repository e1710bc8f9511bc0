"""The integrators against theory and against independent integrators (SciPy, py-pde)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdmf.numerics import integrate
from rdmf.numerics.validation import (
    convergence_study,
    invariant_region_runs,
    measure_growth_rate,
    ours_vs_pypde_1d,
    ours_vs_pypde_2d,
    pattern_run,
)

# (F, k, Du, Dv, L, m, dt, state): Turing-unstable modes of the upper state (real, growing),
# damped oscillating modes of a Hopf-stable state without Turing instability, and decaying
# modes of the trivial state (1, 0)
GROWTH_CASES = [
    (0.06, 0.062, 0.5, 0.05, 40, 9, 0.5, "upper"),
    (0.06, 0.062, 0.5, 0.05, 40, 3, 0.8, "upper"),
    (0.06, 0.062, 0.5, 0.05, 40, 30, 0.5, "upper"),  # a decaying mode of an unstable state
    (0.03, 0.055, 1.0, 0.1, 20, 3, 0.5, "upper"),
    (0.04, 0.06, 0.2, 0.1, 16, 2, 1.0, "upper"),
    (0.06, 0.062, 0.1, 0.1, 16, 2, 1.0, "upper"),
    (0.06, 0.062, 0.3, 0.3, 24, 5, 1.5, "upper"),
    (0.04, 0.06, 0.2, 0.1, 16, 2, 1.0, "trivial"),
    (0.02, 0.05, 0.4, 0.2, 12, 7, 0.5, "trivial"),
]


@pytest.mark.parametrize("scheme", ["semi_implicit", "explicit", "dct"])
@pytest.mark.parametrize("case", GROWTH_CASES)
def test_measured_growth_rate_equals_discrete_prediction(case, scheme):
    F, k, Du, Dv, L, m, dt, state = case
    g = measure_growth_rate(F, k, Du, Dv, L, m, dt, scheme, state=state, steps=1500)
    assert g.rel_error < 0.01, g
    # and the discrete-time factor, not the continuous rate, is what is measured: for these
    # steps the two differ by more than the 1 % tolerance in most cases
    if abs(g.continuous - g.predicted) > 0.05 * abs(g.predicted):
        assert abs(g.measured - g.continuous) > 0.02 * abs(g.continuous)


def test_turing_run_forms_the_predicted_wavelength():
    p = pattern_run(0.06, 0.062, 0.5, 0.2, 48, 1.0, 1300, noise=1e-6, form_amplitude=1e-2)
    assert p.formed_step is not None
    assert abs(p.formed_mode - p.predicted_mode) <= 1, p
    assert p.amplitude > 0.05  # a real pattern, not noise


def test_stable_run_decays_to_the_homogeneous_state():
    # Du = Dv: no Turing instability; the upper state of (0.06, 0.062) is Hopf-stable
    p = pattern_run(0.06, 0.062, 0.3, 0.3, 32, 1.0, 1500, noise=1e-3, form_amplitude=1.0)
    assert len(p.unstable_modes) == 0
    assert p.amplitude < 1e-5


def test_short_lattice_has_no_unstable_mode_and_decays():
    from rdmf.theory import discrete_dispersion, min_unstable_length

    F, k, Du, Dv = 0.07, 0.06, 5.0, 1.5  # narrow band at long wavelengths
    N_min = min_unstable_length(F, k, Du, Dv)
    assert N_min is not None and N_min > 4
    short = discrete_dispersion(F, k, Du, Dv, N_min - 1)
    assert len(short.unstable) == 0
    assert len(discrete_dispersion(F, k, Du, Dv, N_min).unstable) > 0
    p = pattern_run(F, k, Du, Dv, N_min - 1, 1.0, 400, scheme="dct", noise=1e-3,
                    form_amplitude=1.0)
    assert p.amplitude < 1e-4


def test_py_pde_agrees_in_1d():
    d = ours_vs_pypde_1d(0.04, 0.06, 0.2, 0.1, 24, 20.0, dts=(0.04, 0.02))
    assert d["mol_reference"] < 1e-7  # the same semi-discrete problem
    assert d["field_range"] > 0.3      # something happened
    for s in ("semi_implicit", "dct"):
        e1, e2 = d[s]
        assert e2 < 5e-3 and 1.8 < e1 / e2 < 2.2, (s, d[s])  # O(dt): halves with dt


def test_py_pde_agrees_in_2d():
    d = ours_vs_pypde_2d(0.04, 0.06, 0.2, 0.1, 12, 20.0, dts=(0.04, 0.02))
    assert d["field_range"] > 0.1
    for s in ("semi_implicit", "dct"):
        e1, e2 = d[s]
        assert e2 < 5e-3 and 1.8 < e1 / e2 < 2.2, (s, d[s])


def test_first_order_convergence_under_step_refinement():
    c = convergence_study(0.04, 0.06, 0.2, 0.1, 16, 16.0, [0.5, 0.25, 0.125, 0.0625])
    for scheme, errors in c.errors.items():
        assert all(e2 < e1 for e1, e2 in zip(errors, errors[1:])), (scheme, errors)
        last_order = np.log2(errors[-2] / errors[-1])
        assert 0.85 < last_order < 1.15, (scheme, errors)


def test_semi_implicit_invariant_region_on_random_runs():
    chk = invariant_region_runs(32, 100, seed=3)
    assert chk.u_min >= 0 and chk.u_max <= 1 and chk.v_min >= 0
    assert chk.max_v_over_bound <= 1 + 1e-12
    assert chk.explicit_failures > 0  # the same runs break forward Euler
    chk_dct = invariant_region_runs(32, 100, seed=3, scheme="dct")
    assert chk_dct.u_min >= 0 and chk_dct.u_max <= 1 + 1e-12 and chk_dct.v_min >= 0
    assert chk_dct.max_v_over_bound <= 1 + 1e-12


def test_semi_implicit_bounded_where_explicit_fails_one_site():
    u = torch.ones(1, 1, 1, dtype=torch.float64)
    v = torch.ones(1, 1, 1, dtype=torch.float64)
    dt = 1 / 1.01
    ue, _ = integrate(u, v, 0.01, 0.01, 0.0, 0.0, dt, 2, scheme="explicit", check=False)
    us, vs = integrate(u, v, 0.01, 0.01, 0.0, 0.0, dt, 200, scheme="semi_implicit")
    assert ue.item() < 0
    assert 0 <= us.item() <= 1 and vs.item() >= 0
    assert vs.item() <= max(1.0, (1 + dt * 0.01) / (dt * 0.02))
