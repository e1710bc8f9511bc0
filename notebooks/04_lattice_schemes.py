# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,rdmf,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · The discrete lattice of the fusion layer, and the schemes that integrate on it
#
# The RDMF layer does not solve the Gray-Scott PDE: it runs a few dozen steps of a time stepper on
# a short 1-D lattice — one site per 2-second clip, $L$ = 10 to 75 sites (up to ~320 for TVSum),
# reflecting ends at each video's true length. This notebook looks at what that changes:
#
# 1. the lattice replaces $q^2$ by a finite set of eigenvalues — on short lattices **no mode may be
#    unstable at all**;
# 2. forward Euler cannot be made safe by any fixed step (a one-site counterexample);
# 3. the semi-implicit default keeps $u \in [0,1]$, $v \ge 0$ and a bound on $v$ for **any** step —
#    derived in SymPy, verified on random runs;
# 4. the scheme (and its step) changes the dispersion relation itself;
# 5. convergence order and cost of the three integrators (`semi_implicit`, `explicit`, `dct`).


# %% [markdown]
# **Learning objectives.** After this notebook you can
#
# - compute the spectrum of the discrete Laplacian on a short reflecting lattice and say which
#   patterns fit on it;
# - show why forward Euler has no step that keeps Gray-Scott bounded, and prove the semi-implicit
#   step's invariant region from sums of non-negative terms;
# - compute how a scheme and its step change the dispersion relation;
# - measure convergence orders and the cost per step of the three schemes.

# %% tags=["parameters"]
profile = "ci"

# %%
import numpy as np
import matplotlib.pyplot as plt
import sympy as sp
import torch

from rdmf.figures import SCHEME_COLORS, SCHEME_LINESTYLES, apply_style, save_figure
from rdmf.io import read_json
from rdmf.reports import write_report_json
from rdmf.paths import repo_root, reports_dir
from rdmf.numerics import StabilityError, integrate
from rdmf.numerics.validation import (TURING_NARROW, convergence_study, invariant_region_runs,
                                      pattern_run, settings)
from rdmf.theory import (continuous_band, discrete_dispersion, explicit_counterexample,
                         explicit_diffusion_bound, explicit_exit_state, invariant_v_bound,
                         lattice_eigenvalues, min_unstable_length, semi_implicit_invariant_region)
from rdmf.theory import schemes as S

torch.set_num_threads(1)
apply_style()
cfg = settings(profile)
results = {}

# %% [markdown]
# ## 1. The lattice spectrum
#
# On $N$ cell-centred sites with reflecting ends, the discrete Laplacian has eigenvectors
# $\cos(\pi m (j + \tfrac12)/N)$ (the DCT-II basis) and eigenvalues
# $\Lambda_m = -4 \sin^2(\pi m / 2N)$, $m = 0..N-1$; periodic lattices have
# $-4\sin^2(\pi m / N)$. Mode $m$ has continuum wavenumber $q_m = \pi m / N$, but the lattice
# "sees" $|\Lambda_m| = 4\sin^2(q_m/2) < q_m^2$ — equal for long waves, saturating at 4 for the
# checkerboard.

# %%
N = 8
for b in ("reflecting", "periodic"):
    print(f"{b:10s} N = {N}:", np.round(lattice_eigenvalues(N, b), 4))
print("exact, N = 3:", lattice_eigenvalues(3, exact=True))
fig, ax = plt.subplots(figsize=(6, 3.3))
q = np.linspace(0, np.pi, 200)
ax.plot(q, q**2, "k--", lw=1, label="continuum  q²")
ax.plot(q, 4 * np.sin(q / 2) ** 2, "C0-", lw=1, label="lattice  4 sin²(q/2)")
m = np.arange(N)
ax.plot(np.pi * m / N, -lattice_eigenvalues(N), "C0o", label=f"reflecting modes, N = {N}")
ax.set_xlabel("q = π m / N"); ax.set_ylabel("|Λ|"); ax.legend(fontsize=8)
figure_path = save_figure(fig, "04_lattice_spectrum", profile)
assert figure_path.is_file()

# %% [markdown]
# ## 2. Mode quantisation: short lattices have no unstable mode
#
# A Turing-unstable state grows only the modes whose $|\Lambda_m|$ falls inside the unstable band
# $(q_1^2, q_2^2)$ of the dispersion relation. The smallest non-zero lattice value is
# $|\Lambda_1| = 4\sin^2(\pi/2N) \approx (\pi/N)^2$, so a lattice shorter than roughly
# $\pi / q_2$ sites has **no unstable mode**, whatever the kinetics say in the continuum. For the
# narrow-band case $(F, k, D_u, D_v) = (0.06, 0.062, 0.5, 0.2)$:

# %%
case = TURING_NARROW
band = continuous_band(**case)
N_min = min_unstable_length(**case)
print(f"unstable band q² ∈ ({band[0]:.4f}, {band[1]:.4f}); shortest lattice with an unstable mode: N = {N_min}")
for N_ in (N_min - 1, N_min, 2 * N_min, 48):
    d = discrete_dispersion(**case, N=N_)
    print(f"N = {N_:2d}: unstable modes {d.unstable.tolist()}")
assert len(discrete_dispersion(**case, N=N_min - 1).unstable) == 0
# diffusion sets the length scale: scaling Du and Dv by s scales the band by 1/s
scales = [1, 4, 16, 64]
lengths = [min_unstable_length(case["F"], case["k"], s * case["Du"], s * case["Dv"]) for s in scales]
for s, n in zip(scales, lengths):
    print(f"Du, Dv × {s:2d}: shortest patterning lattice N = {n}")
assert all(b > a for a, b in zip(lengths, lengths[1:]))
results["N_min"] = dict(zip(map(str, scales), lengths))

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
q2 = np.linspace(0, 0.45, 300)
from rdmf.numerics.linear import growth_rates
ax.plot(q2, growth_rates(**case, mu=q2, scheme="continuous"), "k-", lw=1, label="continuum")
for N_, style in ((N_min - 1, "C3s"), (2 * N_min, "C0o")):
    d = discrete_dispersion(**case, N=N_)
    keep = d.q2 < 0.45
    ax.plot(d.q2[keep], d.rate[keep], style, label=f"lattice modes, N = {N_}")
ax.axhline(0, color="grey", lw=0.5); ax.set_xlabel("q² = |Λ_m|"); ax.set_ylabel("growth rate")
ax.legend(fontsize=8); ax.set_title("(F, k, Du, Dv) = (0.06, 0.062, 0.5, 0.2)")
figure_path = save_figure(fig, "04_mode_quantisation", profile)
assert figure_path.is_file()

# %% [markdown]
# Simulation agrees: from the upper state plus noise, a lattice one site too short relaxes back to
# the homogeneous state; a longer one forms a pattern.

# %%
short = pattern_run(**case, L=N_min - 1, dt=1.0, steps=1500, noise=1e-3, form_amplitude=1.0)
longer = pattern_run(**case, L=2 * N_min, dt=1.0, steps=1500, noise=1e-3, form_amplitude=1.0)
print(f"N = {N_min - 1}: final max |v − v*| below 1e-6: {short.amplitude < 1e-6}")
print(f"N = {2 * N_min}: final max |v − v*| = {longer.amplitude:.3f}, mode {longer.final_mode}")
assert short.amplitude < 1e-6 and longer.amplitude > 0.05

# %% [markdown]
# For the layer this means: on a 10-clip video a channel whose diffusion is large compared with
# its kinetics cannot form segments by Turing instability at all; it can only smooth and
# threshold. Finite-amplitude (Pearson-type) fronts do not need an unstable mode, so they still
# can.
#
# ## 3. Forward Euler: no fixed step keeps it bounded
#
# Diffusion alone: one explicit step multiplies a Fourier mode by
# $g = 1 - 4 r \sum_i \sin^2(\theta_i/2)$, $r = D\,\Delta t / \Delta x^2$; $|g| \le 1$ for every
# mode iff $r \le 1/(2d)$ — also exactly the condition for the new value to be a convex
# combination of old ones (a discrete maximum principle):

# %%
g, thetas = S.explicit_diffusion_factor(1)
print("1-D factor:", g)
print("bound 1-D:", explicit_diffusion_bound(1), "  bound 2-D:", explicit_diffusion_bound(2))

# %% [markdown]
# With the reaction, positivity of $u$ after one step needs $\Delta t\,(v^2 + F) \le 1 - 2 r_u$ —
# a condition on the *current* $v$, which autocatalysis keeps raising. One site, no diffusion,
# $F = k = 1/100$, $u_0 = v_0 = 1$ and the largest step that the first step tolerates,
# $\Delta t = 1/(v_0^2 + F) = 100/101$, in exact rational arithmetic:

# %%
ce = explicit_counterexample()
for n, (u_n, v_n) in enumerate(ce.trajectory):
    print(f"step {n}: u = {str(u_n):>26s} ≈ {float(u_n):+.5f}   v ≈ {float(v_n):.5f}")
assert ce.first_negative_step == 2
(u0, v0), (u1, v1) = explicit_exit_state(sp.Rational(1, 10))
print(f"dt = 1/10: from (u, v) = (1, {v0}) ≈ (1, {float(v0):.3f}) one Euler step gives u = {u1}")

# %% [markdown]
# And for **any** fixed $\Delta t$ the state $(1, 2/\sqrt{\Delta t})$ — inside the region the
# semi-implicit scheme keeps invariant whenever $\Delta t < (2(F+k))^{-2}$ — is mapped to $u = -3$
# in one step. So the `explicit` scheme is kept only as an ablation and checks its condition at
# every step; a violation is an error (or a warning), never silent:

# %%
u = torch.ones(1, 1, 6, dtype=torch.float64)
try:
    integrate(u, u.clone(), 0.01, 0.01, 0.0, 0.0, 100 / 101, 5, scheme="explicit")
except StabilityError as err:
    print("StabilityError:", err)

# %% [markdown]
# ## 4. The semi-implicit step and its invariant region
#
# The default step treats the loss terms implicitly and everything else explicitly, $u$ first:
# $$u' = \frac{u + r_u(u_l - 2u + u_r) + \Delta t F}{1 + \Delta t (v^2 + F)},\qquad
# v' = \frac{v + r_v(v_l - 2v + v_r) + \Delta t\, u' v^2}{1 + \Delta t (F + k)} .$$
# `rdmf.theory.semi_implicit_invariant_region()` reduces each claim to an identity whose right side
# is a sum of non-negative terms when $u$'s $\in [0,1]$, $v$'s $\in [0, M]$, $r \le 1/2$:

# %%
R = semi_implicit_invariant_region()
show = {"numerator of u'  (u' ≥ 0)": R.u_nonneg, "den − num of u'  (u' ≤ 1)": R.u_le_one,
        "numerator of v'  (v' ≥ 0)": R.v_nonneg,
        "1 + dt F − dt u' v²  with u' at its bound": R.u_prod_bound}
for name, (lhs, rhs) in show.items():
    # the right side as built: a sum of terms, each a product of non-negative factors
    terms = sp.Add.make_args(rhs)
    print(f"{name}:\n    {sp.expand(lhs)}\n  = " + "\n    + ".join(str(t) for t in terms))
    assert sp.simplify(lhs - rhs) == 0
print("v-bound fixed point  v̄ =", R.v_bar)
print("all identities hold (SymPy simplify(lhs − rhs) == 0):", R.verify())
assert R.verify()

# %% [markdown]
# The RD layer's default scheme is the `dct` splitting: exact diffusion $e^{\Delta t D \Delta}$,
# then the reaction step above with $r_u = r_v = 0$. Both halves keep the region for **any**
# $\Delta t$ and $D$: the reaction identities no longer need $r \le 1/2$, and $D\Delta$ has rows
# summing to zero and $D\Delta + 2D I \ge 0$ entrywise, so $e^{t D \Delta}$ is a Markov operator.
# That is why the layer's diffusion reach $\sqrt{2 D_u T}$ is not capped
# (`rdmf.theory.splitting_invariant_region`).

# %%
from rdmf.theory import splitting_invariant_region  # noqa: E402

split_region = splitting_invariant_region(5)
print("D Δ (5 sites, reflecting):", split_region.generator.tolist())
print("row sums:", list(split_region.row_sums), "| splitting region holds for any dt, D:",
      split_region.verify())
assert split_region.verify()

# %% [markdown]
# The bound $v \le M$ rests on one more identity, printed below: with $v, v_l, v_r \le M$ and $u'$
# below its bound $\bar u' = (1 + \Delta t F)/(1 + \Delta t(v^2 + F))$, it splits
# $M(1 + \Delta t(F+k)) - \mathrm{num}(v')$ into non-negative pieces plus
# $M \Delta t (F+k) - (1 + \Delta t F)$:

# %%
lhs, rhs = R.v_le_M
sym = {x.name: x for x in rhs.free_symbols}
balance = sym["M"] * sym["dt"] * (sym["F"] + sym["k"]) - (1 + sym["dt"] * sym["F"])
pieces = sp.Add.make_args(rhs - balance)
print("M (1 + dt (F + k)) − numerator of v' =")
print("    " + "\n  + ".join(str(t) for t in pieces) + f"\n  + [{balance}]")
assert sp.simplify(lhs - (sum(pieces) + balance)) == 0 and len(pieces) == 5

# %% [markdown]
# Every term but the bracket is a product of non-negative factors ($M - v \ge 0$, $r_v \le 1/2$,
# $u' \le \bar u'$); so $v \le M$ survives a step as soon as the bracket is, that is as soon as
# $M \ge \bar v = (1 + \Delta t F)/(\Delta t (F + k))$: for every $\Delta t$ and $r \le 1/2$,
# $$u \in [0, 1],\quad v \ge 0,\quad v \le \max\big(\max v_0,\ (1 + \Delta t F)/(\Delta t (F + k))\big).$$
# (The DCT splitting inherits it with no $r$ condition: exact diffusion $e^{\Delta t D \Delta}$ has
# non-negative entries and unit row sums.) Random runs — random kinetics, $r_u, r_v \in (0, 1/2]$,
# $\Delta t \in [0.5, 50]$, random ragged lengths, all in one batch — stay inside; the same runs
# with forward Euler do not:

# %%
runs, steps = cfg["invariant_runs"], cfg["invariant_steps"]
chk = {s: invariant_region_runs(runs, steps, seed=1, scheme=s) for s in ("semi_implicit", "dct")}
for s, c in chk.items():
    print(f"{s:13s} {c.runs} runs × {steps} steps: min u ≥ 0: {c.u_min >= 0}, max u ≤ 1: {c.u_max <= 1 + 1e-12}, "
          f"min v ≥ 0: {c.v_min >= 0}, max v / bound = {c.max_v_over_bound:.3f}")
    assert c.u_min >= 0 and c.u_max <= 1 + 1e-12 and c.v_min >= 0 and c.max_v_over_bound <= 1 + 1e-12
print(f"forward Euler with the same steps left the region in {chk['semi_implicit'].explicit_failures} of {runs} runs")
results["invariant_region"] = {s: vars(c) for s, c in chk.items()}

# %% [markdown]
# ## 5. The scheme changes the dispersion relation
#
# Each scheme multiplies lattice mode $m$ by its own $2\times2$ matrix $G_m$
# (`rdmf.theory.amplification_matrix`, checked against `rdmf.numerics.linear` in the tests).
# For the semi-implicit step SymPy linearises the update around a steady state $(u_s, v_s)$ and
# finds $A\,G_m = B$ with

# %%
G = S.amplification_matrix("semi_implicit")
A, B = S.semi_implicit_factors()
print("A =", A.tolist())
print("B =", B.tolist())
print("A G − B = 0 at steady states:",
      sp.simplify((A * G - B).subs(S.steady_state_substitution())) == sp.zeros(2, 2))

# %% [markdown]
# At $\Delta t = 1$, with $(F, k, D_u, D_v) = (0.08, 0.06, 0.5, 0.15)$ — Turing-unstable in the
# continuum — the semi-implicit scheme keeps the continuum's unstable modes, the DCT splitting,
# whose exact diffusion damps short waves harder, has **none**, and forward Euler at
# $r_u = 1/2$ — the diffusion bound, met with equality — grows a spurious band of near-checkerboard
# modes: there $1 - 4 r_u = -1$ and the reaction pushes $|g|$ past 1, so $r \le 1/2$ is not
# sufficient once the reaction is on. The step is part of the model: learned kinetics must be
# read against the dispersion of the scheme and step the layer actually uses.

# %%
case2 = dict(F=0.08, k=0.06, Du=0.5, Dv=0.15)
N2 = 64
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
d = discrete_dispersion(**case2, N=N2)
for ax in axes:
    ax.plot(d.q2, d.rate, "k-", lw=1, label="continuous time")
for s in ("explicit", "semi_implicit", "dct"):
    d_s = discrete_dispersion(**case2, N=N2, scheme=s, dt=1.0)
    for ax in axes:
        ax.plot(d_s.q2, d_s.rate, SCHEME_LINESTYLES[s], color=SCHEME_COLORS[s], lw=1.5,
                label=f"{s}, Δt = 1")
    print(f"{s:13s} Δt = 1: unstable modes {d_s.unstable.tolist()}")
print("continuous     : unstable modes", d.unstable.tolist())
assert len(discrete_dispersion(**case2, N=N2, scheme="dct", dt=1.0).unstable) == 0
assert discrete_dispersion(**case2, N=N2, scheme="explicit", dt=1.0).unstable.max() == N2 - 1
axes[0].set_xlim(0, 1); axes[0].set_ylim(-0.06, 0.02); axes[0].set_title("the Turing band")
axes[1].set_ylim(-0.3, 0.1); axes[1].set_title("all modes: explicit's spurious checkerboard band")
for ax in axes:
    ax.axhline(0, color="grey", lw=0.5); ax.set_xlabel("q² = |Λ_m|"); ax.set_ylabel("growth rate")
axes[0].legend(fontsize=8)
figure_path = save_figure(fig, "04_scheme_dispersion", profile)
assert figure_path.is_file()

# %% [markdown]
# ## 6. Convergence order under step refinement
#
# All three schemes converge to the same semi-discrete system (the lattice ODE). The reference is
# an independent SciPy DOP853 solution of that ODE (tolerance $10^{-12}$); the error is the max
# norm at $T$ for a smooth initial bump with $(F, k, D_u, D_v) = (0.04, 0.06, 0.2, 0.1)$.

# %%
conv = convergence_study(0.04, 0.06, 0.2, 0.1, cfg["conv_L"], cfg["conv_T"], cfg["conv_dts"])
print("dt:            " + "  ".join(f"{dt:8.4f}" for dt in conv.dts))
for s, errs in conv.errors.items():
    print(f"{s:13s}  " + "  ".join(f"{e:8.2e}" for e in errs) + f"   order ≈ {conv.orders[s]:.2f}")
    last = np.log2(errs[-2] / errs[-1])
    assert 0.8 < last < 1.2
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for s, errs in conv.errors.items():
    ax.loglog(conv.dts, errs, "o" + SCHEME_LINESTYLES[s], color=SCHEME_COLORS[s], label=s)
ax.loglog(conv.dts, [conv.errors["semi_implicit"][-1] * dt / conv.dts[-1] for dt in conv.dts],
          "k--", lw=0.8, label="slope 1")
ax.set_xlabel("Δt"); ax.set_ylabel("max error at T"); ax.legend(fontsize=8)
save_figure(fig, "04_convergence", profile)
results["convergence"] = {"dts": conv.dts, "errors": conv.errors, "orders": conv.orders}

# %% [markdown]
# All three are first order (the semi-implicit step is a linearly implicit Euler step; the DCT
# splitting is Lie splitting with a first-order reaction step). At equal $\Delta t$ forward Euler
# is the most accurate here; the others buy unconditional boundedness with a larger constant. The
# DCT splitting has no diffusion bound: it is the scheme to use when large $D\,\Delta t$ is wanted.
#
# ## 7. Cost per step
#
# Wall-clock time per step on a ragged batch shaped like a QVHighlights batch. Timings belong to
# a machine, not to the science, so this notebook does not time anything: it plots what
# `benchmarks/bench_cpu.py` measured (`reports/benchmarks/cpu_performance.json`, which names the
# machine; re-run the script to measure yours). The stencil schemes cost $O(L)$ per channel, the
# DCT splitting two dense $L \times L$ products, $O(L^2)$.

# %%
bench = read_json(repo_root() / "reports" / "benchmarks" / "cpu_performance.json")
cost, shape = bench["scheme_cost"]["seconds_per_step"], bench["scheme_cost"]["shape"]
B, C, L = shape["B"], shape["C"], shape["L"]
print(f"measured by benchmarks/bench_cpu.py on {bench['date']}: {bench['machine']['processor']}, "
      f"torch {bench['machine']['torch']}, {bench['machine']['torch_threads']} thread")
for s, sec in cost.items():
    print(f"{s:13s} {1e3 * sec:.3f} ms per step  (B, C, L) = ({B}, {C}, {L})")
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(list(cost), [1e3 * c for c in cost.values()], color=[SCHEME_COLORS[s] for s in cost])
ax.set_ylabel("ms per step"); ax.set_title(f"(B, C, L) = ({B}, {C}, {L}), float32, CPU")
save_figure(fig, "04_scheme_cost", profile)
assert cost["dct"] > 0 and cost["semi_implicit"] > 0

# %%
path = reports_dir(profile) / "04_lattice_schemes.json"
write_report_json(path, results)  # floats rounded to 6 significant digits
print("wrote", path.relative_to(reports_dir(profile).parent.parent))

# %% [markdown]
# ## Exercises
#
# 1. **The explicit bound in three dimensions.** Diffusion alone, forward Euler on a cubic lattice:
#    derive the largest $r = D\Delta t/\Delta x^2$ that keeps $|g| \le 1$ for every mode and check
#    it against `explicit_diffusion_bound(3)`.
# 2. **Scaling the diffusivities.** Multiplying $D_u$ and $D_v$ by 4 divides the continuum band
#    edges $q^2$ by 4 (lengths double). Check it with `continuous_band` for the narrow Turing case.
# 3. **The $v$ bound.** For $F = 0.04$, $k = 0.06$, $\Delta t = 1$ and $\max v_0 = 0.3$, compute the
#    invariant bound on $v$ by hand and check it against `invariant_v_bound`; then check that a
#    semi-implicit run from random data in the region stays below it.
#
# **Solution** (hidden in the book: try the exercise first; the cell checks its result with `assert`).


# %% tags=["hide-input"]
# 1. the explicit bound in three dimensions: g = 1 - 4r(sin² + sin² + sin²) >= -1 needs 12 r <= 2
r_ex = sp.Rational(2, 12)
print("largest r in 3-D:", r_ex, "| package:", explicit_diffusion_bound(3))
assert explicit_diffusion_bound(3) == r_ex == sp.Rational(1, 6)

# 2. scaling the diffusivities
band_1 = continuous_band(**case)
band_4 = continuous_band(case["F"], case["k"], 4 * case["Du"], 4 * case["Dv"])
print("band:", tuple(round(b, 6) for b in band_1), "| with 4 D:", tuple(round(b, 6) for b in band_4))
assert np.allclose(np.array(band_4) * 4, band_1, rtol=1e-12)

# 3. the v bound
F_ex, k_ex, dt_ex = 0.04, 0.06, 1.0
bound = max(0.3, (1 + dt_ex * F_ex) / (dt_ex * (F_ex + k_ex)))
print(f"v bound = max(0.3, (1 + dt F)/(dt (F + k))) = {bound:.2f}")
assert abs(invariant_v_bound(0.3, F_ex, k_ex, dt_ex) - bound) < 1e-12
gen = torch.Generator().manual_seed(0)
u_ex = torch.rand(1, 2, 32, generator=gen, dtype=torch.float64)
v_ex = 0.3 * torch.rand(1, 2, 32, generator=gen, dtype=torch.float64)
u_T, v_T = integrate(u_ex, v_ex, F_ex, k_ex, 0.2, 0.1, dt_ex, 200, scheme="semi_implicit")
print(f"after 200 steps: u in [{u_T.min():.3f}, {u_T.max():.3f}], max v = {v_T.max():.3f}")
assert 0 <= u_T.min() and u_T.max() <= 1 and v_T.min() >= 0 and v_T.max() <= bound


# %% [markdown]
# ## References
#
# - Pearson, J. E. (1993). Complex patterns in a simple system. *Science* 261, 189–192.
# - Murray, J. D. (2003). *Mathematical Biology II*, 3rd ed. Springer.
#
# The full list, with DOIs, is in `docs/references.bib` (the book's bibliography page).

