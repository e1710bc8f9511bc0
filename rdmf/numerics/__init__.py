"""Batched PyTorch integrators of the Gray-Scott model (layout (B, C, L) on 1-D lattices)."""

from .gray_scott import (  # noqa: F401
    SCHEMES,
    GrayScottParams,
    integrate,
    laplacian_1d,
    lattice_mask,
    step_explicit,
    step_semi_implicit,
)
