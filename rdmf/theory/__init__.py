"""The symbolic theory of Gray-Scott (SymPy + NumPy): steady states, bifurcation curves,
Turing analysis, and the (F, k) region map. See docs/theory.md.

The drawing helpers live in :mod:`rdmf.theory.plot` (imported on demand: it needs Matplotlib).
"""

from .lattice import (  # noqa: F401  (the discrete lattice)
    continuous_band,
    discrete_dispersion,
    lattice_eigenvalues,
    min_unstable_length,
    mode_wavelength,
    mode_wavenumbers_sq,
)
from .schemes import (  # noqa: F401  (what the time steppers guarantee)
    amplification_matrix,
    explicit_counterexample,
    explicit_diffusion_bound,
    explicit_exit_state,
    invariant_v_bound,
    semi_implicit_invariant_region,
    splitting_invariant_region,
)

from .curves import (HOPF, HOPF_TURING, NO_STATE, REGIONS, STABLE, TURING, classify_fk, fk_grid,
                     hopf_curve, hopf_F, params_from_state, turing_curve, turing_sliver_width,
                     upper_state_arrays, upper_state_focus_k)
from .steady_states import (bogdanov_takens_point, jacobian, reaction, saddle_node_k,
                            steady_states, trace_det_closed_form, upper_state)
from .turing import (MostUnstableMode, NoSteadyStateError, TuringAnalysis, TuringHopfPoint,
                     dispersion, dispersion_relation, growth_rate, most_unstable_mode,
                     turing_analysis, turing_hopf_point)

__all__ = [
    "steady_states", "upper_state", "jacobian", "reaction", "trace_det_closed_form",
    "saddle_node_k", "bogdanov_takens_point",
    "turing_analysis", "TuringAnalysis", "NoSteadyStateError", "dispersion", "growth_rate",
    "dispersion_relation", "turing_hopf_point", "TuringHopfPoint", "most_unstable_mode",
    "MostUnstableMode", "upper_state_focus_k",
    "hopf_curve", "hopf_F", "turing_curve", "turing_sliver_width", "params_from_state",
    "classify_fk", "fk_grid", "upper_state_arrays", "REGIONS",
    "NO_STATE", "STABLE", "TURING", "HOPF", "HOPF_TURING",
    "lattice_eigenvalues", "discrete_dispersion", "continuous_band", "min_unstable_length",
    "mode_wavelength", "mode_wavenumbers_sq", "amplification_matrix", "explicit_counterexample",
    "explicit_diffusion_bound", "explicit_exit_state", "invariant_v_bound", "semi_implicit_invariant_region",
    "splitting_invariant_region",
]
