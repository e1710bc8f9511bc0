"""Exact lattice diffusion ``exp(t D Δ)`` in the Laplacian's eigenbasis (DCT-II or real Fourier).

The discrete Laplacian of a lattice of ``n`` sites is diagonalised by an orthonormal basis
``V`` (n, n)::

    Δ = V diag(λ) Vᵀ / dx²,   exp(t D Δ) = V diag(exp(t D λ / dx²)) Vᵀ

- reflecting (cell-centred Neumann): ``V[j, m] = c_m cos(π m (j + 1/2) / n)`` (the orthonormal
  DCT-II), ``λ_m = −4 sin²(π m / (2 n))``, m = 0..n−1;
- periodic: the real Fourier basis (1, cos, sin pairs, and the alternating mode for even n),
  ``λ = −4 sin²(π j / n)``.

Because ``exp(t D Δ)`` has non-negative entries and rows summing to one (reflecting) it is a
Markov operator for every ``t``: exact diffusion keeps every field inside ``[min, max]`` of its
input, with no step-size bound. That is what makes the ``dct`` splitting scheme of
:func:`rdmf.numerics.integrate` bounded for any ``dt``.

Ragged batches (videos of different lengths) use one basis per distinct length, assembled into a
(B, L, L) tensor whose padded rows and columns are zero; padded sites are returned unchanged.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from .params import as_param

#: the lattice boundary conditions every solver and every lattice formula accepts
BOUNDARIES = ("reflecting", "periodic")


@lru_cache(maxsize=256)
def _basis_np(n: int, boundary: str) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal eigenbasis (n, n) (columns = modes) and eigenvalues (n,) of the unit-spacing
    Laplacian, float64, modes ordered by decreasing eigenvalue (0 first)."""
    j = np.arange(n, dtype=np.float64)
    if boundary == "reflecting":
        m = np.arange(n, dtype=np.float64)
        V = np.cos(np.pi * np.outer(j + 0.5, m) / n) * math.sqrt(2.0 / n)
        V[:, 0] = 1.0 / math.sqrt(n)
        lam = -4.0 * np.sin(np.pi * m / (2 * n)) ** 2
        return V, lam
    if boundary != "periodic":
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    cols, lams = [np.full(n, 1.0 / math.sqrt(n))], [0.0]
    for q in range(1, (n + 1) // 2):
        angle = 2 * np.pi * q * j / n
        cols += [np.cos(angle) * math.sqrt(2.0 / n), np.sin(angle) * math.sqrt(2.0 / n)]
        lams += [-4.0 * math.sin(math.pi * q / n) ** 2] * 2
    if n % 2 == 0:
        cols.append(np.cos(np.pi * j) / math.sqrt(n))
        lams.append(-4.0)
    return np.stack(cols, axis=1), np.asarray(lams)


def laplacian_basis(n: int, boundary: str = "reflecting", *, dtype=torch.float64,
                    device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenbasis ``V`` (n, n) and eigenvalues ``λ`` (n,) of the unit-spacing lattice Laplacian.

    ``V`` is orthonormal (``Vᵀ V = I``) and ``Δ V = V diag(λ)``; mode 0 is the constant.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n (number of lattice sites) must be an integer ≥ 1, got {n}")
    V, lam = _basis_np(int(n), boundary)
    return (torch.as_tensor(V, dtype=dtype, device=device),
            torch.as_tensor(lam, dtype=dtype, device=device))


def batched_basis(lengths: list[int], L: int, boundary: str = "reflecting", *,
                  dtype=torch.float64, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L, L) bases and (B, L) eigenvalues for a ragged batch; zeros on padding.

    Sample ``b`` holds the basis of its true length ``n_b`` in ``V[b, :n_b, :n_b]``; its padded
    modes have eigenvalue 0 and a zero basis vector, so they carry nothing.
    """
    B = len(lengths)
    V = torch.zeros(B, L, L, dtype=dtype, device=device)
    lam = torch.zeros(B, L, dtype=dtype, device=device)
    cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for b, n in enumerate(lengths):
        n = int(n)
        if n == 0:
            continue
        if n not in cache:
            cache[n] = laplacian_basis(n, boundary, dtype=dtype, device=device)
        V[b, :n, :n], lam[b, :n] = cache[n]
    return V, lam


class DiffusionPropagator:
    """Exact diffusion over one step, ``x ← exp(dt D Δ) x``, per sample and channel.

    Args:
        mask: (B, L) bool (True on real sites, real sites first) or None (all real).
        L: lattice length (last dimension of the fields).
        D: diffusion coefficient — scalar, (C,), (B, C) or (B|1, C|1, 1); may require grad.
        dt: time step, same forms as ``D``; may require grad.
        dx: lattice spacing.
        like: a (B, C, L) tensor giving batch size, channels, dtype and device.
        boundary: ``"reflecting"`` (DCT-II) or ``"periodic"`` (real Fourier).

    ``__call__(x)`` maps a (B, C, L) field to (B, C, L); padded sites are returned unchanged.
    Cost per call: two (L × L) matrix products per sample and channel.

    The exact operator keeps every row inside [min, max] of its real sites (a Markov operator);
    the floating-point transform can leave that interval by a few ulps, so each row is clamped
    back to it with a straight-through clamp (values clamped, gradients those of the transform),
    which makes the invariant region hold in floating point too.
    """

    def __init__(self, mask: torch.Tensor | None, L: int, D, dt, dx: float = 1.0, *,
                 like: torch.Tensor, boundary: str = "reflecting"):
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        if like.dim() != 3 or like.shape[-1] != L:
            raise ValueError(f"like must be (B, C, L) with L = {L}, got {tuple(like.shape)}")
        if not (math.isfinite(dx) and dx > 0):
            raise ValueError(f"dx must be finite and > 0, got {dx}")
        dtype, device = like.dtype, like.device
        self.mask = mask
        if mask is None:
            V, lam = laplacian_basis(L, boundary, dtype=dtype, device=device)
            self.V, self.lam = V, lam.reshape(1, 1, L)  # shared basis
            self.batched = False
        else:
            if mask.shape != (like.shape[0], L):
                raise ValueError(f"mask must be (B, L) = ({like.shape[0]}, {L}), got "
                                 f"{tuple(mask.shape)}")
            lengths = mask.sum(dim=1).tolist()
            if len(set(lengths)) == 1 and lengths[0] == L:
                V, lam = laplacian_basis(L, boundary, dtype=dtype, device=device)
                self.V, self.lam = V, lam.reshape(1, 1, L)
                self.batched = False
                self.mask = None
            else:
                V, lam = batched_basis(lengths, L, boundary, dtype=dtype, device=device)
                self.V, self.lam = V, lam.unsqueeze(1)  # (B, L, L), (B, 1, L)
                self.batched = True
        D_, dt_ = as_param(D, "D", like), as_param(dt, "dt", like)
        # (B|1, C|1, L): the factor by which each mode is multiplied over one step
        self.decay = torch.exp(dt_ * D_ * self.lam / (dx * dx))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.batched:
            coeffs = torch.einsum("bcl,blm->bcm", x, self.V)
            out = torch.einsum("bcm,blm->bcl", coeffs * self.decay, self.V)
            keep = self.mask.unsqueeze(1)
            return torch.where(keep, _within_range(out, x, keep), x)
        coeffs = x @ self.V
        return _within_range((coeffs * self.decay) @ self.V.transpose(0, 1), x, None)


def _within_range(out: torch.Tensor, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
    """``out`` clamped to [min, max] of each row of ``x`` over its real sites (``keep``), with the
    gradient of ``out`` (straight-through): removes the transform's rounding, nothing else."""
    with torch.no_grad():
        if keep is None:
            lo, hi = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
        else:
            lo = torch.where(keep, x, torch.inf).amin(-1, keepdim=True)
            hi = torch.where(keep, x, -torch.inf).amax(-1, keepdim=True)
        correction = torch.minimum(torch.maximum(out, lo), hi) - out
    return out + correction
