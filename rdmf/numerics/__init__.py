"""Batched PyTorch integrators of the Gray-Scott model (layout (B, C, L) on 1-D lattices,
(B, C, H, W) on 2-D grids), their exact-diffusion propagator, linear growth factors and the
validation helpers the notebooks use."""

from .gray_scott import (  # noqa: F401
    BOUNDARIES,
    SCHEMES,
    GrayScottParams,
    StabilityError,
    as_param,
    explicit_condition_violated,
    integrate,
    laplacian_1d,
    lattice_mask,
    react_semi_implicit,
    step_explicit,
    step_semi_implicit,
)
from .dct import DiffusionPropagator, laplacian_basis  # noqa: F401
from .grid2d import integrate_2d, laplacian_2d  # noqa: F401
