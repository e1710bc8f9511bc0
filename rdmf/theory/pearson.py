"""Finite seeds versus infinitesimal noise on the trivial state (1, 0): the experiment behind the
statement that Pearson's (1993) self-replicating patterns are not Turing instabilities.

Where only (1, 0) exists, its eigenvalues with diffusion are −F − Du q² and −(F + k) − Dv q²,
negative for every q: any small enough perturbation decays. A finite seed (Pearson used a square
at (u, v) = (1/2, 1/4)) can still grow into a pattern, because the system is excitable/bistable
in the sense of finite amplitudes, not linearly unstable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..numerics import integrate
from ._checks import check_scalar


@dataclass(frozen=True)
class SeedExperiment:
    """Space-time records (T, L) of v for the noise run and the seed run, sampled every
    ``record_every`` steps (``times`` (T,) in units of dt)."""

    F: float
    k: float
    times: np.ndarray
    v_noise: np.ndarray
    v_seed: np.ndarray

    @staticmethod
    def pulses(v_row: np.ndarray, threshold: float = 0.1) -> int:
        """Number of separate pulses (runs of sites with v > threshold) in one (L,) row."""
        above = np.concatenate([[0], (np.asarray(v_row) > threshold).astype(int)])
        return int((np.diff(above) == 1).sum())


def finite_seed_experiment(F: float, k: float, *, Du: float = 0.2, Dv: float = 0.1, L: int = 256,
                           steps: int = 8000, dt: float = 1.0, noise: float = 0.01,
                           seed_width: int = 20, record_every: int = 100,
                           seed: int = 0) -> SeedExperiment:
    """Run two 1-D lattices (reflecting, Δx = 1, semi-implicit scheme) from (1, 0):

    - noise: v = noise·U(0, 1) everywhere (a small perturbation of the trivial state);
    - seed: the same noise plus a centred block of ``seed_width`` sites at (1/2, 1/4).

    Du = 0.2, Dv = 0.1 on Δx = 1 is Pearson's Du/Dv = 2 (his 2e−5, 1e−5 on Δx = 2.5/256).
    """
    F = check_scalar(F, "F", positive=True, allow_symbol=False)
    k = check_scalar(k, "k", allow_symbol=False)
    if L < seed_width + 2:
        raise ValueError(f"L must exceed seed_width + 1 = {seed_width + 1}, got {L}")
    if steps < record_every or record_every < 1:
        raise ValueError(f"need steps >= record_every >= 1, got {steps}, {record_every}")
    generator = torch.Generator().manual_seed(seed)
    u0 = torch.ones(2, 1, L, dtype=torch.float64)
    v0 = noise * torch.rand(1, 1, L, generator=generator, dtype=torch.float64).repeat(2, 1, 1)
    lo = (L - seed_width) // 2
    u0[1, 0, lo:lo + seed_width] = 0.5
    v0[1, 0, lo:lo + seed_width] = 0.25
    u, v = u0, v0
    records, times = [v[:, 0].numpy().copy()], [0]
    for start in range(0, steps - record_every + 1, record_every):
        u, v = integrate(u, v, F, k, Du, Dv, dt, record_every)
        records.append(v[:, 0].numpy().copy())
        times.append(start + record_every)
    stacked = np.stack(records)  # (T, 2, L)
    return SeedExperiment(F=F, k=k, times=np.asarray(times) * dt, v_noise=stacked[:, 0],
                          v_seed=stacked[:, 1])
