"""Measurements that check the integrators against theory (notebooks 03 and 04, tests).

- :func:`measure_growth_rate`: the growth rate of a small perturbation of one lattice mode,
  measured from a simulation and set beside the scheme's predicted discrete-time rate.
- :func:`dominant_mode` / :func:`pattern_run`: which lattice mode a Turing pattern selects.
- :func:`mol_reference` and :func:`convergence_study`: errors of each scheme under step
  refinement against an independent high-accuracy solution of the semi-discrete (method of
  lines) ODE (SciPy DOP853).
- :func:`pypde_1d` / :func:`pypde_2d`: the same problem solved by py-pde, an independent
  integrator.
- :func:`invariant_region_runs`: random semi-implicit runs checked against the invariant region.
- :func:`pearson_gallery`: 2-D patterns grown from a finite seed (Pearson 1993).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from rdmf.profiles import profile_settings

from . import linear
from .dct import laplacian_basis
from .gray_scott import integrate, lattice_mask
from .grid2d import integrate_2d


# the kinetics the notebooks and tests use (lattice units: one clip = 1, dt in the same units)
TURING_WIDE = dict(F=0.06, k=0.062, Du=0.5, Dv=0.05)    # Hopf-stable, wide Turing band
TURING_NARROW = dict(F=0.06, k=0.062, Du=0.5, Dv=0.2)   # narrow band: sharp mode selection
STABLE = dict(F=0.06, k=0.062, Du=0.3, Dv=0.3)          # Du = Dv: no Turing instability


def settings(profile: str) -> dict:
    """Per-profile sizes for notebooks 03 and 04 (``ci``: seconds on one core), from
    :data:`rdmf.profiles.PROFILES`."""
    return profile_settings(profile, "numerics")


# --------------------------------------------------------------------------- modes
def mode_vector(L: int, m: int, boundary: str = "reflecting",
                dtype=torch.float64) -> torch.Tensor:
    """Unit lattice eigenvector (L,) of mode m: cos(π m (j + ½)/L) (reflecting) or
    cos(2π m j/L) (periodic), normalised."""
    if not 0 <= m < L:
        raise ValueError(f"mode m must be in [0, {L - 1}] for a lattice of L = {L} sites, got {m}")
    j = torch.arange(L, dtype=dtype)
    if boundary == "reflecting":
        x = torch.cos(math.pi * m * (j + 0.5) / L)
    elif boundary == "periodic":
        x = torch.cos(2 * math.pi * m * j / L)
    else:
        raise ValueError(f"boundary must be 'reflecting' or 'periodic', got {boundary!r}")
    return x / x.norm()


def mode_power(x: torch.Tensor, boundary: str = "reflecting") -> torch.Tensor:
    """Power per lattice mode (..., L) of a field (..., L); periodic cos/sin pairs are summed so
    index m is the wavenumber m (m > L/2 is zero)."""
    L = x.shape[-1]
    V, _ = laplacian_basis(L, boundary, dtype=x.dtype, device=x.device)
    c2 = (x @ V) ** 2
    if boundary == "reflecting":
        return c2
    out = torch.zeros_like(c2)
    out[..., 0] = c2[..., 0]
    for q in range(1, (L + 1) // 2):
        out[..., q] = c2[..., 2 * q - 1] + c2[..., 2 * q]
    if L % 2 == 0:
        out[..., L // 2] = c2[..., L - 1]
    return out


def dominant_mode(x: torch.Tensor, boundary: str = "reflecting") -> int:
    """The non-constant lattice mode (m ≥ 1) holding most of the power of a field (L,)."""
    p = mode_power(x.reshape(-1).to(torch.float64), boundary)
    return int(torch.argmax(p[1:])) + 1


# --------------------------------------------------------------------------- growth rates
@dataclass(frozen=True)
class GrowthMeasurement:
    F: float
    k: float
    Du: float
    Dv: float
    L: int
    m: int
    dt: float
    scheme: str
    measured: float        # from the simulation
    predicted: float       # ln max|eig G_m| / dt
    continuous: float      # max Re eig(J − μ D): what the scheme approximates
    oscillating: bool      # whether the recorded mode amplitude changed sign
    method: str            # "log-slope" or "prony" (see measure_growth_rate)
    steps_used: int        # length of the linear window that was recorded

    @property
    def rel_error(self) -> float:
        return abs(self.measured - self.predicted) / abs(self.predicted)


def measure_growth_rate(F: float, k: float, Du: float, Dv: float, L: int, m: int,
                        dt: float, scheme: str = "semi_implicit", *, steps: int = 1500,
                        eps: float = 1e-6, state="upper", boundary: str = "reflecting",
                        seed: int = 0, window: float = 1e4, lower: float | None = None
                        ) -> GrowthMeasurement:
    """Perturb the homogeneous ``state`` along lattice mode m, integrate, and measure the rate.

    The perturbation ``eps (a, b) φ_m`` (random a, b) is integrated by the real integrator in
    float64; its projection ``w_n`` (2,) on ``φ_m`` is recorded every step while
    ``lower < |w_n| < window · eps`` (the linear regime, above round-off; ``lower`` defaults to
    ``max(1e−3 eps, 1e−11)``: dense DCT products leave ~1e−15 of round-off per step) and the rest of the
    field (round-off grown in other, faster modes) stays below 1 % of ``|w_n|``. Over the second half of
    that window the rate is

    - ``"log-slope"``: the least-squares slope of ``ln |w_n|`` against t (the classic
      measurement; used when the components of w keep their sign and ``ln |w_n|`` is a straight
      line to 1e−4: one real positive eigenvalue dominates the window);
    - ``"prony"``: otherwise (the mode oscillates, or both eigenvalues still show in a short
      window of a fast-decaying mode): by Cayley-Hamilton both components obey
      ``w_{n+2} = τ w_{n+1} − δ w_n``; τ and δ are fitted by least squares to the recorded
      series and the rate is ``ln max|root of z² − τ z + δ| / dt``.
    """
    u_s, v_s = linear.base_state(F, k, state)
    phi = mode_vector(L, m, boundary)
    gen = torch.Generator().manual_seed(seed)
    a, b = (torch.rand(2, generator=gen, dtype=torch.float64) * 2 - 1).tolist()
    u0 = (u_s + eps * a * phi).reshape(1, 1, L)
    v0 = (v_s + eps * b * phi).reshape(1, 1, L)
    _, _, traj = integrate(u0, v0, F, k, Du, Dv, dt, steps, boundary=boundary, scheme=scheme,
                           check=scheme != "explicit", return_trajectory=True)
    U = torch.stack([t[0].reshape(L) for t in traj]) - u_s
    V = torch.stack([t[1].reshape(L) for t in traj]) - v_s
    w = torch.stack([U @ phi, V @ phi], dim=1).numpy()  # (steps, 2)
    norm = np.linalg.norm(w, axis=1)
    # the rest of the field: round-off seeded in faster-growing modes (and, quadratically, their
    # harmonics); stop before it reaches 1 % of the measured mode
    total = (U.pow(2).sum(1) + V.pow(2).sum(1)).numpy()
    rest = np.sqrt(np.maximum(total - norm**2, 0.0))
    lower = max(1e-3 * eps, 1e-11) if lower is None else lower
    outside = np.nonzero((norm >= window * eps) | (norm <= lower) | (rest > 0.01 * norm))[0]
    n_end = int(outside[0]) if len(outside) else len(w)
    if n_end < 12:
        raise ValueError(f"mode {m}: the perturbation left the linear window after {n_end} "
                         "steps; lower eps or dt")
    half = w[n_end // 2:n_end]
    t = dt * np.arange(len(half))
    signs = np.sign(half)
    oscillating = bool((signs[1:] != signs[:-1]).any())
    method = "prony"
    if not oscillating:
        log_norm = np.log(np.linalg.norm(half, axis=1))
        slope, icpt = np.polyfit(t, log_norm, 1)
        # a clean exponential: the straight line explains ln|w| to 1e-4 everywhere
        if np.abs(log_norm - (slope * t + icpt)).max() < 1e-4:
            rate, method = float(slope), "log-slope"
    if method == "prony":
        X = np.concatenate([np.stack([half[1:-1, i], -half[:-2, i]], 1) for i in range(2)])
        y = np.concatenate([half[2:, i] for i in range(2)])
        (tau, delta), *_ = np.linalg.lstsq(X, y, rcond=None)
        rate = math.log(np.abs(np.roots([1.0, -tau, delta])).max()) / dt
    from ..theory.lattice import mode_wavenumbers_sq
    mu = mode_wavenumbers_sq(L, boundary)[m]
    pred = float(linear.growth_rates(F, k, Du, Dv, [mu], scheme, dt, state)[0])
    cont = float(linear.growth_rates(F, k, Du, Dv, [mu], "continuous", dt, state)[0])
    return GrowthMeasurement(F, k, Du, Dv, L, m, dt, scheme, float(rate), pred, cont,
                             oscillating, method, n_end)


# --------------------------------------------------------------------------- patterns
@dataclass
class PatternRun:
    u: np.ndarray            # (L,) final u
    v: np.ndarray            # (L,) final v
    formed_mode: int         # dominant lattice mode of v when the pattern formed
    formed_step: int | None  # first checked step with max |v − v*| ≥ form_amplitude (None: never)
    final_mode: int          # dominant lattice mode of the final v (after nonlinear coarsening)
    predicted_mode: int      # most unstable mode of the scheme's discrete dispersion
    unstable_modes: np.ndarray
    amplitude: float         # max |v − v*| at the end


def pattern_run(F: float, k: float, Du: float, Dv: float, L: int, dt: float, steps: int, *,
                scheme: str = "semi_implicit", boundary: str = "reflecting",
                noise: float = 1e-6, seed: int = 0, form_amplitude: float = 0.05,
                chunk: int = 50) -> PatternRun:
    """Start at the upper homogeneous state plus white noise and integrate ``steps`` steps.

    The pattern "forms" at the first multiple of ``chunk`` steps where ``max |v − v*|`` reaches
    ``form_amplitude``: its dominant mode then is the one linear theory selects; later the
    nonlinear pattern may coarsen or split by a mode or two (``final_mode``).
    """
    from ..theory.lattice import discrete_dispersion

    u_s, v_s = linear.base_state(F, k)
    gen = torch.Generator().manual_seed(seed)
    u = u_s + noise * torch.randn(1, 1, L, generator=gen, dtype=torch.float64)
    v = v_s + noise * torch.randn(1, 1, L, generator=gen, dtype=torch.float64)
    formed_mode, formed_step, done = 0, None, 0
    while done < steps:
        n = min(chunk, steps - done)
        u, v = integrate(u, v, F, k, Du, Dv, dt, n, boundary=boundary, scheme=scheme)
        done += n
        if formed_step is None and float((v - v_s).abs().max()) >= form_amplitude:
            formed_step, formed_mode = done, dominant_mode(v.reshape(L), boundary)
    disp = discrete_dispersion(F, k, Du, Dv, L, boundary, scheme=scheme, dt=dt)
    v_np = v.reshape(L).numpy()
    return PatternRun(u.reshape(L).numpy(), v_np, formed_mode, formed_step,
                      dominant_mode(v.reshape(L), boundary), disp.most_unstable, disp.unstable,
                      float(np.abs(v_np - v_s).max()))


# --------------------------------------------------------------------------- references
def laplacian_matrix(L: int, boundary: str = "reflecting", dx: float = 1.0) -> np.ndarray:
    """The (L, L) lattice Laplacian as a dense matrix (reference implementation)."""
    A = -2.0 * np.eye(L) + np.eye(L, k=1) + np.eye(L, k=-1)
    if boundary == "reflecting":
        A[0, 0] += 1.0
        A[-1, -1] += 1.0
    else:
        A[0, -1] += 1.0
        A[-1, 0] += 1.0
    return A / dx**2


def mol_reference(u0: np.ndarray, v0: np.ndarray, F: float, k: float, Du: float, Dv: float,
                  T: float, boundary: str = "reflecting", dx: float = 1.0,
                  rtol: float = 1e-12, atol: float = 1e-13) -> tuple[np.ndarray, np.ndarray]:
    """Solve the semi-discrete ODE system (lattice Laplacian, exact in time) with SciPy DOP853.

    The limit every scheme converges to as dt → 0; independent of the torch code.
    """
    from scipy.integrate import solve_ivp

    L = len(u0)
    A = laplacian_matrix(L, boundary, dx)

    def rhs(_, y):
        u, v = y[:L], y[L:]
        uvv = u * v * v
        return np.concatenate([Du * A @ u - uvv + F * (1 - u), Dv * A @ v + uvv - (F + k) * v])

    sol = solve_ivp(rhs, (0.0, T), np.concatenate([u0, v0]), method="DOP853", rtol=rtol,
                    atol=atol)
    if not sol.success:
        raise RuntimeError(f"reference ODE solve failed: {sol.message}")
    return sol.y[:L, -1], sol.y[L:, -1]


@dataclass
class Convergence:
    dts: list[float]
    errors: dict[str, list[float]]        # scheme -> max-norm error at T per dt
    orders: dict[str, float]              # least-squares slope of log error vs log dt
    seconds_per_step: dict[str, float] = field(default_factory=dict)


def smooth_initial_condition(L: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth, seeded (u, v) on L sites: trivial state with a Gaussian bump of v."""
    rng = np.random.default_rng(seed)
    x = np.arange(L) + 0.5
    c = L * (0.35 + 0.3 * rng.random())
    bump = np.exp(-((x - c) / (0.12 * L)) ** 2)
    return 1.0 - 0.5 * bump, 0.25 * bump + 0.02 * rng.random()


def convergence_study(F: float, k: float, Du: float, Dv: float, L: int, T: float,
                      dts: list[float], schemes=("semi_implicit", "explicit", "dct"), *,
                      boundary: str = "reflecting", seed: int = 0) -> Convergence:
    """Max-norm error at time T of each scheme for each dt against :func:`mol_reference`."""
    u0, v0 = smooth_initial_condition(L, seed)
    u_ref, v_ref = mol_reference(u0, v0, F, k, Du, Dv, T, boundary)
    U0 = torch.tensor(u0).reshape(1, 1, L)
    V0 = torch.tensor(v0).reshape(1, 1, L)
    errors = {s: [] for s in schemes}
    for dt in dts:
        steps = round(T / dt)
        if abs(steps * dt - T) > 1e-9 * T:
            raise ValueError(f"T = {T} is not a multiple of dt = {dt}")
        for s in schemes:
            u, v = integrate(U0, V0, F, k, Du, Dv, dt, steps, boundary=boundary, scheme=s,
                             check=s != "explicit")
            err = max(np.abs(u.reshape(L).numpy() - u_ref).max(),
                      np.abs(v.reshape(L).numpy() - v_ref).max())
            errors[s].append(float(err))
    orders = {s: float(np.polyfit(np.log(dts), np.log(errors[s]), 1)[0]) for s in schemes}
    return Convergence(list(dts), errors, orders)


def scheme_costs(B: int, C: int, L: int, steps: int, schemes=("semi_implicit", "explicit", "dct"),
                 *, dtype=torch.float32, device="cpu", seed: int = 0, repeats: int = 3,
                 ragged: bool = True) -> dict[str, float]:
    """Wall-clock seconds per step of each scheme on a (B, C, L) batch (best of ``repeats``).

    With ``ragged`` the batch has lengths spread over [L/2, L] (the masked path)."""
    gen = torch.Generator().manual_seed(seed)
    u0 = torch.rand(B, C, L, generator=gen).to(dtype=dtype, device=device)
    v0 = 0.3 * torch.rand(B, C, L, generator=gen).to(dtype=dtype, device=device)
    mask = None
    if ragged:
        lengths = torch.linspace(L // 2, L, B).round().long()
        mask = lattice_mask(lengths, L).to(device)
    out = {}
    for s in schemes:
        best = math.inf
        for _ in range(repeats):
            if device != "cpu":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            integrate(u0, v0, 0.04, 0.06, 0.2, 0.1, 0.5, steps, mask, scheme=s, check=False)
            if device != "cpu":
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
        out[s] = best / steps
    return out


# --------------------------------------------------------------------------- py-pde
def _import_pde():
    """Import py-pde with numba's JIT off: py-pde compiles its operators with numba, which
    costs ~20–30 s per operator on a slow CPU; on the tiny grids used here the pure-Python
    operators inside SciPy's adaptive solver take well under a second."""
    import os
    import sys

    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_DISABLE_JIT", "1")
    else:  # numba already imported: switch the JIT off for the operators py-pde builds now
        import numba
        numba.config.DISABLE_JIT = True
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pde
    return pde


def pypde_1d(u0: np.ndarray, v0: np.ndarray, F: float, k: float, Du: float, Dv: float,
             T: float, *, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Solve the same lattice problem with py-pde: a cell-centred grid of len(u0) unit cells,
    zero-flux (Neumann) boundaries, SciPy's adaptive solver (tolerance ``rtol``)."""
    pde = _import_pde()
    L = len(u0)
    grid = pde.CartesianGrid([[0.0, float(L)]], [L], periodic=False)
    return _pypde_solve(pde, grid, [u0, v0], F, k, Du, Dv, T, rtol)


def pypde_2d(u0: np.ndarray, v0: np.ndarray, F: float, k: float, Du: float, Dv: float,
             T: float, *, rtol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """py-pde on an (H, W) periodic grid of unit cells (SciPy's adaptive solver)."""
    pde = _import_pde()
    grid = pde.CartesianGrid([[0.0, float(u0.shape[0])], [0.0, float(u0.shape[1])]],
                             list(u0.shape), periodic=True)
    return _pypde_solve(pde, grid, [u0, v0], F, k, Du, Dv, T, rtol)


def _pypde_solve(pde, grid, fields, F, k, Du, Dv, T, rtol):
    import warnings

    bc = "periodic" if all(grid.periodic) else {"derivative": 0}
    eq = pde.PDE({"u": f"{Du!r} * laplace(u) - u * v**2 + {F!r} * (1 - u)",
                  "v": f"{Dv!r} * laplace(v) + u * v**2 - {F + k!r} * v"}, bc=bc)
    state = pde.FieldCollection([pde.ScalarField(grid, np.asarray(f, dtype=float))
                                 for f in fields])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = eq.solve(state, t_range=T, dt=0.1, solver="scipy", backend="numpy",
                          tracker=None, rtol=rtol, atol=rtol * 1e-2)
    return result[0].data.copy(), result[1].data.copy()


def ours_vs_pypde_1d(F: float, k: float, Du: float, Dv: float, L: int, T: float, *,
                     dts=(0.02, 0.01), seed: int = 0) -> dict:
    """Max-norm differences at T against py-pde, from :func:`smooth_initial_condition`.

    ``"mol_reference"``: our SciPy method-of-lines solution of the same lattice ODE (agreement
    to the solver tolerance says the spatial discretisations coincide); ``"semi_implicit"`` and
    ``"dct"``: lists of differences for each step in ``dts`` (first order: halving dt halves
    them); ``"field_range"``: the peak-to-peak range of py-pde's fields (the scale).
    """
    u0, v0 = smooth_initial_condition(L, seed)
    up, vp = pypde_1d(u0, v0, F, k, Du, Dv, T)
    ur, vr = mol_reference(u0, v0, F, k, Du, Dv, T)
    out = {"mol_reference": float(max(np.abs(ur - up).max(), np.abs(vr - vp).max())),
           "dts": list(dts)}
    U0, V0 = torch.tensor(u0).reshape(1, 1, L), torch.tensor(v0).reshape(1, 1, L)
    for s in ("semi_implicit", "dct"):
        out[s] = []
        for dt in dts:
            u, v = integrate(U0, V0, F, k, Du, Dv, dt, round(T / dt), scheme=s)
            out[s].append(float(max(np.abs(u.reshape(L).numpy() - up).max(),
                                    np.abs(v.reshape(L).numpy() - vp).max())))
    out["field_range"] = float(max(np.ptp(up), np.ptp(vp)))
    return out


def ours_vs_pypde_2d(F: float, k: float, Du: float, Dv: float, N: int, T: float, *,
                     dts=(0.02, 0.01), seed: int = 0) -> dict:
    """As :func:`ours_vs_pypde_1d` on an (N, N) periodic grid with a seeded square of side N/4."""
    u0, v0 = pearson_seed(N, seed, square=max(2, N // 4))
    up, vp = pypde_2d(u0, v0, F, k, Du, Dv, T)
    U0 = torch.tensor(u0).reshape(1, 1, N, N)
    V0 = torch.tensor(v0).reshape(1, 1, N, N)
    out = {"dts": list(dts)}
    for s in ("semi_implicit", "dct"):
        out[s] = []
        for dt in dts:
            u, v = integrate_2d(U0, V0, F, k, Du, Dv, dt, round(T / dt), scheme=s,
                                boundary="periodic")
            out[s].append(float(max(np.abs(u[0, 0].numpy() - up).max(),
                                    np.abs(v[0, 0].numpy() - vp).max())))
    out["field_range"] = float(max(np.ptp(up), np.ptp(vp)))
    return out


# --------------------------------------------------------------------------- 2-D gallery
# (F, k) of each panel; descriptive names of what they form on these grids
GALLERY = [
    ("self-replicating spots", 0.0367, 0.0649),
    ("worms", 0.046, 0.063),
    ("maze", 0.029, 0.057),
    ("spots", 0.030, 0.062),
    ("coral", 0.0545, 0.062),
    ("travelling waves", 0.014, 0.045),
]
GALLERY_DU, GALLERY_DV = 0.2, 0.1  # lattice units (Pearson's 2e-5, 1e-5 on a 2.5/256 grid ≈ 0.21)


def pearson_seed(N: int, seed: int = 0, *, noise: float = 0.01, square: int | None = None,
                 dtype=np.float64):
    """Pearson's initial condition on an (N, N) grid: (u, v) = (1, 0) with a central square of
    side ``square`` (default N/8, at least 2) set to (1/2, 1/4), plus ``noise`` relative
    uniform noise."""
    rng = np.random.default_rng(seed)
    u = np.ones((N, N), dtype=dtype)
    v = np.zeros((N, N), dtype=dtype)
    s = max(2, N // 8) if square is None else square
    a = N // 2 - s // 2
    u[a:a + s, a:a + s] = 0.5
    v[a:a + s, a:a + s] = 0.25
    u *= 1 + noise * (2 * rng.random((N, N)) - 1)
    v *= 1 + noise * (2 * rng.random((N, N)) - 1)
    return u, v


def pearson_gallery(N: int, steps: int, *, panels=GALLERY, dt: float = 1.0,
                    scheme: str = "semi_implicit", seed: int = 0) -> dict:
    """All panels in ONE batched 2-D run (per-sample (F, k)); returns v (P, N, N) and labels."""
    u0, v0 = pearson_seed(N, seed)
    P = len(panels)
    U0 = torch.tensor(u0, dtype=torch.float32).expand(P, 1, N, N).contiguous()
    V0 = torch.tensor(v0, dtype=torch.float32).expand(P, 1, N, N).contiguous()
    F = torch.tensor([[p[1]] for p in panels], dtype=torch.float32)
    k = torch.tensor([[p[2]] for p in panels], dtype=torch.float32)
    u, v = integrate_2d(U0, V0, F, k, GALLERY_DU, GALLERY_DV, dt, steps, scheme=scheme,
                        boundary="periodic")
    return {"v": v[:, 0].numpy(), "u": u[:, 0].numpy(), "panels": list(panels)}


# --------------------------------------------------------------------------- invariant region
@dataclass
class InvariantCheck:
    runs: int
    u_min: float
    u_max: float
    v_min: float
    max_v_over_bound: float     # max over runs of max v / max(max v0, (1 + dt F)/(dt (F + k)))
    explicit_failures: int      # runs where explicit Euler with the same dt left the region


def invariant_region_runs(runs: int, steps: int, L: int = 16, *, seed: int = 0,
                          scheme: str = "semi_implicit") -> InvariantCheck:
    """Random kinetics, random fields, r ∈ (0, 1/2], large dt ∈ [0.5, 50]: check the region.

    All runs go in one ragged batch (random lengths, per-sample parameters). The same runs
    with forward Euler are counted as failures when they leave u ∈ [0, 1], v ≥ 0 or blow up.
    """
    gen = torch.Generator().manual_seed(seed)
    rnd = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    F = 0.1 * rnd(runs, 1)
    k = 0.1 * rnd(runs, 1)
    dt = 0.5 * torch.exp(math.log(100.0) * rnd(runs, 1))
    r = 0.5 * (1 - rnd(runs, 2))           # (0, 1/2]
    Du, Dv = r[:, :1] / dt, r[:, 1:] / dt  # so that r_u, r_v ∈ (0, 1/2]
    u0 = rnd(runs, 1, L)
    v0 = 3 * rnd(runs, 1, L)
    lengths = torch.randint(2, L + 1, (runs,), generator=gen)
    mask = lattice_mask(lengths, L)
    u, v, traj = integrate(u0, v0, F, k, Du, Dv, dt, steps, mask, scheme=scheme,
                           return_trajectory=True)
    real = mask.unsqueeze(1)
    U = torch.stack([t[0] for t in traj])
    Vt = torch.stack([t[1] for t in traj])
    big = torch.finfo(U.dtype).max
    u_min = float(torch.where(real, U, big).min())
    u_max = float(torch.where(real, U, -big).max())
    v_min = float(torch.where(real, Vt, big).min())
    v0_max = torch.where(real, v0, -big).amax(dim=(1, 2))
    bound = torch.maximum(v0_max, ((1 + dt * F) / (dt * (F + k))).reshape(-1))
    v_max = torch.where(real, Vt, -big).amax(dim=(0, 2, 3))
    ratio = float((v_max / bound).max())
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            _, _, traj_e = integrate(u0, v0, F, k, Du, Dv, dt, steps, mask, scheme="explicit",
                                     check=False, return_trajectory=True)
    fails_any = torch.zeros(runs, dtype=torch.bool)
    for ue, ve in traj_e:
        bad = (~torch.isfinite(ue) | ~torch.isfinite(ve) | (ue < 0) | (ue > 1) | (ve < 0)) & real
        fails_any |= bad.any(dim=2).any(dim=1)
    fails = int(fails_any.sum())
    return InvariantCheck(runs, u_min, u_max, v_min, ratio, fails)
