from .lattice import (  # noqa: F401  (numerics engineer: the discrete lattice)
    continuous_band,
    discrete_dispersion,
    lattice_eigenvalues,
    min_unstable_length,
    mode_wavelength,
    mode_wavenumbers_sq,
)
from .schemes import (  # noqa: F401  (numerics engineer: what the time steppers guarantee)
    amplification_matrix,
    explicit_counterexample,
    explicit_diffusion_bound,
    invariant_v_bound,
    semi_implicit_invariant_region,
)
