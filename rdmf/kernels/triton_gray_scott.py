"""Fused Triton kernels: K semi-implicit Gray-Scott steps per launch, forward and adjoint.

Layout is (B, C, L) as in :mod:`rdmf.numerics.gray_scott`, flattened to R = B·C rows of L sites.
Each program owns ``BLOCK_R`` whole rows (``BLOCK_L`` = next power of two ≥ L columns), loads its
states once, keeps them in registers for all K steps and writes them once: the Laplacian's
neighbours never leave the chip. Rows are independent, so no program ever waits for another.

Neighbour access. Registers cannot be indexed by shifted offsets, so each step needs an exchange
between the threads of a program. Two interchangeable implementations (``USE_GATHER``):

- scratch line (default): the program stores its u and v rows to a private scratch line in
  global memory (one line per program of the persistent grid), a CTA barrier (``tl.debug_barrier``, bar.sync: global writes of the CTA become
  visible to it) orders the store before the shifted loads, and a second barrier orders those
  loads before the next overwrite. The line is re-used for all steps, so it stays in L1/L2; it
  compiles to plain loads/stores (checked with ptxas for sm_90: no register spill in the forward).
- ``tl.gather`` along the row (optional): fine for short rows, but Triton 3.9 lowers a 4096-long
  gather to ~65 000 warp shuffles per program and ptxas needs minutes; kept for comparison at
  L ≤ 128 only.

Reflecting boundaries at each row's true length ``n``: for a real site i < n the neighbours are
``max(i−1, 0)`` and ``min(i+1, n−1)`` (the ghost is the site itself); padded sites i ≥ n are never
updated and never read by real sites. This is exactly the reference's masked Laplacian.

Backward (adjoint of one step, derived in docs/cuda.md). With a = 1 + dt(v² + F), b = 1 + dt(F + k),
u' = (u + r_u Δu + dt F)/a, v' = (v + r_v Δv + dt u' v²)/b, r = D dt/dx² and incoming ḡu', ḡv'::

    λ_v = ḡv' / b
    λ_u = (ḡu' + dt v² λ_v) / a
    ḡu  = λ_u + r_u Δλ_u                       (Δ is symmetric on the masked lattice)
    ḡv  = λ_v + r_v Δλ_v + 2 dt u' v (λ_v − λ_u)
    ∂F += dt (λ_u (1 − u') − λ_v v'),  ∂k += −dt λ_v v'
    ∂Du += λ_u dt Δu/dx²,  ∂Dv += λ_v dt Δv/dx²
    ∂dt += λ_u (Du Δu/dx² + F − u'(v² + F)) + λ_v (Dv Δv/dx² + u' v² − v'(F + k))

The states the adjoint needs are recomputed on chip: the forward stores a checkpoint every
``S`` steps (only when gradients are needed), and the backward replays each step from the last
checkpoint before it (O(K·S/2) extra steps, K/S stored states instead of K).

All arithmetic is in float32 (float64 for float64 states); states may be stored as float32,
bfloat16, float16 or float64.
"""

from __future__ import annotations

import os

import torch
import triton
import triton.language as tl

MAX_L = 4096  # beyond, the backward spills registers heavily (ptxas, sm_90): fall back
DEFAULT_CHECKPOINT_EVERY = 4
HAS_GATHER = hasattr(tl, "gather")
STATE_DTYPES = (torch.float32, torch.bfloat16, torch.float16, torch.float64)


def interpreting() -> bool:
    """True when Triton runs kernels with its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@triton.jit
def _laplacians(x, y, li, ri, real, sp, cols2d, BLOCK_L: tl.constexpr,
                USE_GATHER: tl.constexpr):
    """Undivided masked Laplacians x[i-1] + x[i+1] − 2 x[i] of two (BLOCK_R, BLOCK_L) register
    tiles (zero off the real sites), neighbours at the indices li, ri."""
    if USE_GATHER:
        xl = tl.gather(x, li, 1)
        xr = tl.gather(x, ri, 1)
        yl = tl.gather(y, li, 1)
        yr = tl.gather(y, ri, 1)
    else:
        tl.debug_barrier()  # every thread has finished reading the previous exchange
        tl.store(sp + cols2d, x)
        tl.store(sp + BLOCK_L + cols2d, y)
        tl.debug_barrier()  # both rows are visible to every thread of the CTA
        xl = tl.load(sp + li)
        xr = tl.load(sp + ri)
        yl = tl.load(sp + BLOCK_L + li)
        yr = tl.load(sp + BLOCK_L + ri)
    return (tl.where(real, xl + xr - 2.0 * x, 0.0), tl.where(real, yl + yr - 2.0 * y, 0.0))


@triton.jit
def _step(u, v, F, dt, ru, rv, binv, li, ri, real, sp, cols2d, BLOCK_L: tl.constexpr,
          USE_GATHER: tl.constexpr):
    """One semi-implicit step of a register tile; returns (u', v') on real sites, (u, v) elsewhere."""
    lu, lv = _laplacians(u, v, li, ri, real, sp, cols2d, BLOCK_L, USE_GATHER)
    vv = v * v
    un = (u + ru * lu + dt * F) / (1.0 + dt * (vv + F))
    vn = (v + rv * lv + dt * un * vv) * binv
    return tl.where(real, un, u), tl.where(real, vn, v)


@triton.jit
def _tile(tile, slot, R, C, L, len_ptr, scratch_ptr, BLOCK_R: tl.constexpr,
          BLOCK_L: tl.constexpr):
    """Offsets, masks and neighbour indices of a (BLOCK_R, BLOCK_L) tile of rows; the scratch
    lines belong to the program (``slot``), not to the rows, so they stay few and cached."""
    rows = tile * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.arange(0, BLOCK_L)
    row_ok = rows < R
    n = tl.load(len_ptr + rows // C, mask=row_ok, other=0)
    cols2d = cols[None, :] + tl.zeros([BLOCK_R, BLOCK_L], tl.int32)
    io = row_ok[:, None] & (cols2d < L)
    real = io & (cols2d < n[:, None])
    li = tl.where(real, tl.maximum(cols2d - 1, 0), cols2d)
    ri = tl.where(real, tl.minimum(cols2d + 1, n[:, None] - 1), cols2d)
    offs = rows[:, None].to(tl.int64) * L + cols2d
    lines = slot * BLOCK_R + tl.arange(0, BLOCK_R)
    sp = scratch_ptr + lines[:, None].to(tl.int64) * (2 * BLOCK_L)
    return rows, row_ok, cols2d, io, real, li, ri, offs, sp


@triton.jit
def _params(rows, row_ok, F_ptr, k_ptr, Du_ptr, Dv_ptr, dt_ptr, inv_dx2):
    F = tl.load(F_ptr + rows, mask=row_ok, other=0.0)[:, None]
    k = tl.load(k_ptr + rows, mask=row_ok, other=0.0)[:, None]
    Du = tl.load(Du_ptr + rows, mask=row_ok, other=0.0)[:, None]
    Dv = tl.load(Dv_ptr + rows, mask=row_ok, other=0.0)[:, None]
    dt = tl.load(dt_ptr + rows, mask=row_ok, other=1.0)[:, None]
    ru = Du * dt * inv_dx2
    rv = Dv * dt * inv_dx2
    binv = 1.0 / (1.0 + dt * (F + k))
    return F, k, Du, Dv, dt, ru, rv, binv


@triton.jit
def _load_state(ptr, offs, io, IS_FP64: tl.constexpr):
    x = tl.load(ptr + offs, mask=io, other=0.0)
    if IS_FP64:
        y = x.to(tl.float64)
    else:
        y = x.to(tl.float32)
    return y


@triton.jit(do_not_specialize=["R", "C", "RL", "K", "S", "n_tiles"])
def gray_scott_forward_kernel(
        u0_ptr, v0_ptr, uo_ptr, vo_ptr, cku_ptr, ckv_ptr,
        F_ptr, k_ptr, Du_ptr, Dv_ptr, dt_ptr, len_ptr, scratch_ptr,
        R, C, L, RL, K, S, inv_dx2, n_tiles,
        BLOCK_R: tl.constexpr, BLOCK_L: tl.constexpr, SAVE: tl.constexpr,
        USE_GATHER: tl.constexpr, IS_FP64: tl.constexpr):
    """K steps of BLOCK_R rows; with SAVE, the state after every S-th step (S, 2S, ... < K) is
    written to the (K//S, R, L) checkpoint buffers in the compute dtype."""
    pid = tl.program_id(0)
    nprog = tl.num_programs(0)
    for tile in range(pid, n_tiles, nprog):  # persistent: the slot's scratch is private
        rows, row_ok, cols2d, io, real, li, ri, offs, sp = _tile(
            tile, pid, R, C, L, len_ptr, scratch_ptr, BLOCK_R, BLOCK_L)
        F, k, Du, Dv, dt, ru, rv, binv = _params(rows, row_ok, F_ptr, k_ptr, Du_ptr, Dv_ptr, dt_ptr,
                                                 inv_dx2)
        u = _load_state(u0_ptr, offs, io, IS_FP64)
        v = _load_state(v0_ptr, offs, io, IS_FP64)
        for s in range(K):
            if SAVE:
                if s > 0:
                    if s % S == 0:
                        c = s // S - 1
                        tl.store(cku_ptr + c.to(tl.int64) * RL + offs, u, mask=io)
                        tl.store(ckv_ptr + c.to(tl.int64) * RL + offs, v, mask=io)
            u, v = _step(u, v, F, dt, ru, rv, binv, li, ri, real, sp, cols2d, BLOCK_L, USE_GATHER)
        tl.store(uo_ptr + offs, u.to(uo_ptr.dtype.element_ty), mask=io)
        tl.store(vo_ptr + offs, v.to(vo_ptr.dtype.element_ty), mask=io)


@triton.jit(do_not_specialize=["R", "C", "RL", "K", "S", "n_tiles"])
def gray_scott_backward_kernel(
        u0_ptr, v0_ptr, cku_ptr, ckv_ptr, gu_ptr, gv_ptr, gu0_ptr, gv0_ptr, gp_ptr,
        F_ptr, k_ptr, Du_ptr, Dv_ptr, dt_ptr, len_ptr, scratch_ptr,
        R, C, L, RL, K, S, inv_dx2, n_tiles,
        BLOCK_R: tl.constexpr, BLOCK_L: tl.constexpr,
        USE_GATHER: tl.constexpr, IS_FP64: tl.constexpr):
    """Adjoint of K steps: (ḡu_K, ḡv_K) -> (ḡu0, ḡv0) and per-row ∂F, ∂k, ∂Du, ∂Dv, ∂dt written
    to gp (5, R). Padded sites pass their incoming gradient through unchanged."""
    pid = tl.program_id(0)
    nprog = tl.num_programs(0)
    for tile in range(pid, n_tiles, nprog):  # persistent: the slot's scratch is private
        rows, row_ok, cols2d, io, real, li, ri, offs, sp = _tile(
            tile, pid, R, C, L, len_ptr, scratch_ptr, BLOCK_R, BLOCK_L)
        F, k, Du, Dv, dt, ru, rv, binv = _params(rows, row_ok, F_ptr, k_ptr, Du_ptr, Dv_ptr, dt_ptr,
                                                 inv_dx2)
        lam_u = _load_state(gu_ptr, offs, io, IS_FP64)
        lam_v = _load_state(gv_ptr, offs, io, IS_FP64)
        if IS_FP64:
            zero_row = tl.zeros([BLOCK_R], tl.float64)
        else:
            zero_row = tl.zeros([BLOCK_R], tl.float32)
        gF = zero_row
        gk = zero_row
        gDu = zero_row
        gDv = zero_row
        gdt = zero_row
        n_seg = (K + S - 1) // S
        for cc in range(n_seg):
            c = n_seg - 1 - cc
            seg = tl.minimum(S, K - c * S)
            for jj in range(seg):
                j = seg - 1 - jj
                # replay the forward from checkpoint c up to step c·S + j
                if c == 0:
                    u = _load_state(u0_ptr, offs, io, IS_FP64)
                    v = _load_state(v0_ptr, offs, io, IS_FP64)
                else:
                    u = _load_state(cku_ptr + (c - 1).to(tl.int64) * RL, offs, io, IS_FP64)
                    v = _load_state(ckv_ptr + (c - 1).to(tl.int64) * RL, offs, io, IS_FP64)
                for t in range(j):
                    u, v = _step(u, v, F, dt, ru, rv, binv, li, ri, real, sp, cols2d, BLOCK_L, USE_GATHER)
                # the step itself, keeping its intermediates
                lu, lv = _laplacians(u, v, li, ri, real, sp, cols2d, BLOCK_L, USE_GATHER)
                vv = v * v
                ainv = 1.0 / (1.0 + dt * (vv + F))
                un = (u + ru * lu + dt * F) * ainv
                vn = (v + rv * lv + dt * un * vv) * binv
                # adjoint
                lv_ = tl.where(real, lam_v * binv, 0.0)
                lu_ = tl.where(real, (lam_u + dt * vv * lv_) * ainv, 0.0)
                dlu, dlv = _laplacians(lu_, lv_, li, ri, real, sp, cols2d, BLOCK_L, USE_GATHER)
                new_u = lu_ + ru * dlu
                new_v = lv_ + rv * dlv + 2.0 * dt * un * v * (lv_ - lu_)
                gF += tl.sum(tl.where(real, dt * (lu_ * (1.0 - un) - lv_ * vn), 0.0), axis=1)
                gk += tl.sum(tl.where(real, -dt * lv_ * vn, 0.0), axis=1)
                gDu += tl.sum(tl.where(real, lu_ * lu, 0.0), axis=1)
                gDv += tl.sum(tl.where(real, lv_ * lv, 0.0), axis=1)
                gdt += tl.sum(tl.where(real, lu_ * (Du * inv_dx2 * lu + F - un * (vv + F))
                                       + lv_ * (Dv * inv_dx2 * lv + un * vv - vn * (F + k)), 0.0),
                              axis=1)
                lam_u = tl.where(real, new_u, lam_u)
                lam_v = tl.where(real, new_v, lam_v)
        dt1 = tl.sum(dt, axis=1)
        tl.store(gu0_ptr + offs, lam_u.to(gu0_ptr.dtype.element_ty), mask=io)
        tl.store(gv0_ptr + offs, lam_v.to(gv0_ptr.dtype.element_ty), mask=io)
        tl.store(gp_ptr + rows, gF, mask=row_ok)
        tl.store(gp_ptr + R + rows, gk, mask=row_ok)
        tl.store(gp_ptr + 2 * R + rows, gDu * dt1 * inv_dx2, mask=row_ok)
        tl.store(gp_ptr + 3 * R + rows, gDv * dt1 * inv_dx2, mask=row_ok)
        tl.store(gp_ptr + 4 * R + rows, gdt, mask=row_ok)


# ---------------------------------------------------------------------------------------------
# Host-side launchers


def _next_pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


PROGRAMS_PER_SM = 4  # persistent grid: at most this many programs per SM, each loops over tiles


def _max_programs(device) -> int:
    """Size of the persistent grid. In the interpreter: half the tiles (rounded up), so that the
    tile loop of a program is exercised by the tests."""
    if device is None or device.type != "cuda":
        return -1
    return PROGRAMS_PER_SM * torch.cuda.get_device_properties(device).multi_processor_count


def launch_config(R: int, L: int, device=None) -> dict:
    """Tile and warp count: whole rows per program, ~1024 elements per program (one row when
    L > 512), 4 elements per thread (8 for 4096-long rows, at the 16-warp limit that keeps the
    backward within 128 registers per thread: ptxas for sm_90 reports 128 registers and no spill
    for the forward, 128 registers and ~0.4 kB spill for the backward).

    The grid is persistent: ``PROGRAMS_PER_SM`` × SMs programs at most, each looping over tiles
    ``pid, pid + grid, ...``, so that each program's private scratch lines (re-used for all its
    tiles) stay few and cache-resident instead of one line per row written back to DRAM.

    In the interpreter programs run one after another in NumPy, so tiles are made as large as
    possible there (fewer, bigger programs).
    """
    if L > MAX_L:
        raise ValueError(f"L = {L} exceeds the fused kernel's limit {MAX_L}")
    block_l = max(16, _next_pow2(L))
    target = 4096 if interpreting() else 1024
    block_r = max(1, min(_next_pow2(R), target // block_l))
    elements = block_r * block_l
    per_thread = 4 if elements <= 2048 else 8
    num_warps = min(16, max(1, elements // (32 * per_thread)))
    n_tiles = triton.cdiv(R, block_r)
    cap = _max_programs(device)
    programs = min(n_tiles, cap) if cap > 0 else max(1, (n_tiles + 1) // 2)
    return {"BLOCK_R": block_r, "BLOCK_L": block_l, "num_warps": num_warps,
            "n_tiles": n_tiles, "grid": (programs,)}


def compute_dtype(state_dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype of the kernels for a given storage dtype."""
    return torch.float64 if state_dtype == torch.float64 else torch.float32


def _scratch(cfg: dict, like: torch.Tensor, use_gather: bool) -> torch.Tensor:
    if use_gather:
        return torch.empty(1, dtype=like.dtype, device=like.device)
    rows = cfg["grid"][0] * cfg["BLOCK_R"]
    return torch.empty(rows * 2 * cfg["BLOCK_L"], dtype=like.dtype, device=like.device)


def gray_scott_forward(u0: torch.Tensor, v0: torch.Tensor, params: tuple[torch.Tensor, ...],
                       lengths: torch.Tensor, steps: int, dx: float = 1.0, *,
                       save_every: int | None = None, use_gather: bool | None = None):
    """Launch the forward kernel.

    Args:
        u0, v0: contiguous (B, C, L) states of one storage dtype.
        params: F, k, Du, Dv, dt as contiguous (B·C,) tensors in :func:`compute_dtype`.
        lengths: (B,) int32 true lengths.
        steps: K ≥ 1.
        save_every: checkpoint interval S (None: no checkpoints, inference).
        use_gather: neighbour exchange through ``tl.gather`` (default when available) or scratch.

    Returns:
        (u_K, v_K, ck_u, ck_v): states (B, C, L) in the storage dtype, checkpoints
        (K//S − [S | K], B·C, L) in the compute dtype (empty without ``save_every``).
    """
    B, C, L = u0.shape
    R = B * C
    acc = compute_dtype(u0.dtype)
    use_gather = bool(use_gather) and HAS_GATHER
    cfg = launch_config(R, L, u0.device)
    uo, vo = torch.empty_like(u0), torch.empty_like(v0)
    S = int(save_every) if save_every else max(1, steps)
    n_ck = (steps - 1) // S if save_every else 0
    cku = torch.empty((max(n_ck, 1), R, L) if n_ck else (1,), dtype=acc, device=u0.device)
    ckv = torch.empty_like(cku)
    scratch = _scratch(cfg, cku, use_gather)
    gray_scott_forward_kernel[cfg["grid"]](
        u0, v0, uo, vo, cku, ckv, *params, lengths, scratch,
        R, C, L, R * L, int(steps), S, 1.0 / (dx * dx), cfg["n_tiles"],
        BLOCK_R=cfg["BLOCK_R"], BLOCK_L=cfg["BLOCK_L"], SAVE=bool(save_every and n_ck),
        USE_GATHER=use_gather, IS_FP64=acc == torch.float64, num_warps=cfg["num_warps"])
    return uo, vo, cku, ckv


def gray_scott_backward(u0, v0, cku, ckv, gu, gv, params, lengths, steps: int, dx: float,
                        save_every: int, *, use_gather: bool | None = None):
    """Launch the adjoint kernel; returns (ḡu0, ḡv0, ḡparams (5, B·C) for F, k, Du, Dv, dt)."""
    B, C, L = u0.shape
    R = B * C
    acc = compute_dtype(u0.dtype)
    use_gather = bool(use_gather) and HAS_GATHER
    cfg = launch_config(R, L, u0.device)
    gu0, gv0 = torch.empty_like(u0), torch.empty_like(v0)
    gp = torch.empty((5, R), dtype=acc, device=u0.device)
    scratch = _scratch(cfg, gp, use_gather)
    gray_scott_backward_kernel[cfg["grid"]](
        u0, v0, cku, ckv, gu, gv, gu0, gv0, gp, *params, lengths, scratch,
        R, C, L, R * L, int(steps), int(save_every), 1.0 / (dx * dx), cfg["n_tiles"],
        BLOCK_R=cfg["BLOCK_R"], BLOCK_L=cfg["BLOCK_L"],
        USE_GATHER=use_gather, IS_FP64=acc == torch.float64, num_warps=cfg["num_warps"])
    return gu0, gv0, gp
