"""rdmf.theory extras: the map drawing helper, profile settings, the finite-seed experiment."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rdmf.theory import HOPF, NO_STATE, STABLE, TURING, fk_grid, jacobian  # noqa: E402
from rdmf.theory.plot import REGION_COLORS, draw_fk_map, scatter_fk  # noqa: E402
from rdmf.theory.profiles import theory_settings  # noqa: E402


def test_draw_fk_map_draws_regions_curves_and_points():
    fig, ax = plt.subplots()
    try:
        artists = draw_fk_map(ax, 2.0, n=60)
        expected = {"image", "saddle_node", "hopf", "turing", "bt", "turing_hopf", "legend"}
        assert expected <= set(artists)
        image = artists["image"].get_array()
        assert image.shape == (60, 60)
        assert ax.get_xlim() == (0.0, 0.075) and ax.get_ylim() == (0.0, 0.12)
        # x is k, y is F: the saddle-node line holds k = sqrt(F)/2 - F
        k_line, F_line = artists["saddle_node"].get_data()
        np.testing.assert_allclose(k_line, np.sqrt(F_line) / 2 - F_line)
        points = scatter_fk(ax, [0.05], [0.06])
        np.testing.assert_allclose(points.get_offsets()[0], [0.06, 0.05])
    finally:
        plt.close(fig)


def test_draw_fk_map_without_diffusion_has_no_turing():
    fig, ax = plt.subplots()
    try:
        artists = draw_fk_map(ax, None, n=80)
        assert "turing" not in artists and "turing_hopf" not in artists
        assert set(np.unique(artists["image"].get_array())) <= {NO_STATE, STABLE, HOPF}
    finally:
        plt.close(fig)
    assert len(REGION_COLORS) == 5


def test_fk_grid_shapes_and_turing_present():
    F, k, codes = fk_grid(2.0, F_range=(0.04, 0.1), k_range=(0.055, 0.064), n=200)
    assert F.shape == k.shape == codes.shape == (200, 200)
    assert (codes == TURING).sum() > 50
    with pytest.raises(ValueError, match="increasing"):
        fk_grid(2.0, F_range=(0.1, 0.04))


def test_profiles():
    assert theory_settings("ci")["map_n"] < theory_settings("paper")["map_n"]
    with pytest.raises(ValueError, match="unknown profile"):
        theory_settings("fast")


def test_jacobian_numpy_checks_parameters():
    J = jacobian(np.array([0.5, 1.0]), np.array([0.2, 0.0]), 0.04, 0.06)
    assert J.shape == (2, 2, 2)
    np.testing.assert_allclose(J[1], np.diag([-0.04, -0.1]))
    with pytest.raises(ValueError, match="F must"):
        jacobian(0.5, 0.2, -0.04, 0.06)


def test_finite_seed_grows_where_noise_decays():
    from rdmf.theory.pearson import SeedExperiment, finite_seed_experiment
    exp = finite_seed_experiment(0.035, 0.059, L=128, steps=3000, record_every=500)
    assert exp.v_noise.shape == exp.v_seed.shape == (7, 128)
    assert exp.v_noise[-1].max() < 1e-6                  # (1, 0) is linearly stable
    assert SeedExperiment.pulses(exp.v_seed[-1]) >= 2    # the finite seed replicates
    with pytest.raises(ValueError, match="F must"):
        finite_seed_experiment(0.0, 0.059)
