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
# # 02 · Turing instability in Gray-Scott, and where Pearson's patterns really come from
#
# Notebook 01 found the homogeneous states and their stability under the reaction alone. Now add
# diffusion. A small perturbation of a homogeneous state $(u^*, v^*)$ with wavevector $q$,
# $\delta(u, v) \propto e^{\lambda t + i q\cdot x}$, grows at the eigenvalues $\lambda$ of
# $J - q^2 D$, $D = \operatorname{diag}(D_u, D_v)$:
#
# $$
# \lambda^2 - T(q^2)\,\lambda + \Delta(q^2) = 0,\qquad
# T = \operatorname{tr}J - q^2 (D_u + D_v),\qquad
# \Delta = \det J - q^2 h + q^4 D_u D_v,\qquad h = D_v J_{11} + D_u J_{22}.
# $$
#
# **Turing (diffusion-driven) instability** of a state: it is stable without diffusion
# ($\operatorname{tr}J < 0$, $\det J > 0$) but some $q^2 > 0$ has $\Delta(q^2) < 0$. Since $T(q^2)
# < 0$ for all $q$, this needs the minimum of $\Delta$ to be negative:
#
# $$ h > 0 \quad\text{and}\quad h^2 > 4 D_u D_v \det J, $$
#
# and the unstable band is $q^2 \in (q_-^2, q_+^2)$, $q_\pm^2 = \big(h \pm \sqrt{h^2 - 4 D_u D_v
# \det J}\big) / (2 D_u D_v)$. Only the upper state can be Turing-unstable ($(1,0)$ has $h < 0$, the
# saddle has $\det J < 0$). `rdmf.theory.turing_analysis` computes all of it.


# %% [markdown]
# **Learning objectives.** After this notebook you can
#
# - write the dispersion relation of a two-species reaction-diffusion system and derive Turing's
#   conditions and the unstable band from it;
# - compute the critical diffusion ratio $\sigma_c$ and explain why the substrate must diffuse
#   faster than the autocatalyst;
# - derive the most unstable wavenumber and its growth rate in closed form;
# - tell a Turing instability from a finite-amplitude pattern grown from a seed (Pearson's
#   experiments).

# %% tags=["parameters"]
profile = "ci"

# %%
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt

from rdmf.figures import apply_style, data_ylim, save_figure
from rdmf.theory import (REGIONS, NoSteadyStateError, classify_fk, dispersion_relation, fk_grid,
                         growth_rate, hopf_curve, saddle_node_k, turing_analysis, turing_hopf_point, turing_sliver_width, most_unstable_mode)
from rdmf.theory.pearson import SeedExperiment, finite_seed_experiment
from rdmf.theory.plot import draw_fk_map
from rdmf.theory.profiles import theory_settings
from rdmf.theory import jacobian
from rdmf.theory.steady_states import F_, Du_, Dv_, k_, lam_, q2_, u_, v_

import torch

torch.set_num_threads(1)  # the finite-seed demo (section 6) is tiny; leave the other core alone
apply_style()
settings = theory_settings(profile)
SIGMA = 2.0  # Du/Dv of Pearson (1993): Du = 2e-5, Dv = 1e-5

# %% [markdown]
# ## 1. The dispersion relation and the band, in SymPy
#
# The characteristic polynomial $\det(J - q^2 D - \lambda I)$, and the two roots of $\Delta(q^2)$,
# the edges of the unstable band:

# %%
char = dispersion_relation()
Delta = char.subs(lam_, 0)
edges = sp.solve(Delta, q2_)
print("Delta(q2) =", sp.collect(sp.expand(Delta), q2_))
assert len(edges) == 2
q2_star = sp.solve(sp.diff(Delta, q2_), q2_)[0]
J = jacobian(u_, v_, F_, k_)
h = Dv_ * J[0, 0] + Du_ * J[1, 1]
assert sp.simplify(q2_star - h / (2 * Du_ * Dv_)) == 0
assert sp.simplify(Delta.subs(q2_, q2_star) - (J.det() - h**2 / (4 * Du_ * Dv_))) == 0
print("min of Delta at q2 = h/(2 Du Dv), where Delta = det J - h^2/(4 Du Dv)")

# %% [markdown]
# ## 2. The critical diffusion ratio
#
# Divide the Turing condition by $D_v$ and write $s = \sqrt{\sigma}$, $\sigma = D_u/D_v$:
# $J_{22} s^2 - 2\sqrt{\det J}\, s + J_{11} > 0$. On the upper state $J_{22} = F + k > 0$ and
# $J_{11} < 0$, so exactly one root is positive and the state is Turing-unstable iff
#
# $$
# \sigma > \sigma_c = \left(\frac{\sqrt{\det J} + \sqrt{-J_{12}J_{21}}}{J_{22}}\right)^2
# = \frac{v}{u}\left(\sqrt{\frac{1-2u}{1-u}} + \sqrt 2\right)^2
# $$
#
# (the last form in the state's coordinates, from notebook 01). $\sigma_c > 1$ wherever
# $\operatorname{tr}J<0$: **the substrate $u$ must diffuse faster than the autocatalyst $v$**.
# `sigma_critical` is reported by `turing_analysis`. A few states at $\sigma = 2$ ($D_v = 1$):

# %%
k_hopf_06 = hopf_curve(0.06)
points = {
    "stable": (0.06, 0.058),
    "Turing (sliver)": (0.06, round(k_hopf_06 - 2e-4, 5)),
    "Turing (beyond BT)": (0.09, round(saddle_node_k(0.09) - 1e-4, 5)),
    "Hopf": (0.03, 0.055),
    "Hopf + Turing": (0.0545, 0.062),
}
analyses = {}
print(f"{'region':19s} {'F':>6s} {'k':>8s} {'u':>6s} {'v':>6s} {'tr J':>9s} {'det J':>9s} "
      f"{'sigma_c':>7s} {'band q2':>17s} {'q2_max':>7s} {'growth':>8s}")
for name, (F, k) in points.items():
    a = turing_analysis(F, k, SIGMA, 1.0)
    analyses[name] = a
    region = REGIONS[int(classify_fk(F, k, SIGMA))]
    assert region == name.split(" (")[0], (name, region)
    band = "-" if a.q2_band is None else f"({a.q2_band[0]:.4f}, {a.q2_band[1]:.4f})"
    print(f"{name:19s} {F:6.4f} {k:8.5f} {a.u:6.3f} {a.v:6.3f} {a.trace:+9.5f} {a.det:9.6f} "
          f"{a.sigma_critical:7.3f} {band:>17s} {a.q2_max:7.4f} {a.growth_max:+8.5f}")
assert analyses["Turing (sliver)"].turing_unstable and not analyses["stable"].q2_band

# %% [markdown]
# ## 3. Dispersion curves
#
# Left: the largest growth rate $\max\operatorname{Re}\lambda(q^2)$ for those states. A stable state
# stays below zero for every $q$; a Turing-unstable state is stable at $q = 0$ and positive on a
# finite band; a Hopf-unstable state is already unstable at $q = 0$. Right: one state of the sliver
# as $\sigma$ crosses $\sigma_c$: the band is born at
# $q_c^2 = \sqrt{\det J/(D_u D_v)}$ and widens.
# (Units: $D_v = 1$; for Pearson's $D_v = 10^{-5}$ multiply $q^2$ by $10^5$.)

# %%
fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(11, 4))
q2 = np.linspace(0, 0.12, 600)
curves_l = []
for name, (F, k) in points.items():
    curves_l.append(growth_rate(q2, F, k, SIGMA, 1.0))
    ax_l.plot(q2, curves_l[-1], label=f"{name}: F={F}, k={k}")
ax_l.axhline(0, color="k", lw=0.8)
ax_l.set(xlabel="q² (Dv = 1)", ylabel="max Re λ", title=f"Dispersion at Du/Dv = {SIGMA:g}",
         ylim=data_ylim(curves_l))
ax_l.legend(fontsize=7)

F_s, k_s = points["Turing (sliver)"]
sc = analyses["Turing (sliver)"].sigma_critical
q2r = np.linspace(0, 0.06, 600)
curves_r = []
for factor in (0.97, 1.0, 1.1, 1.5):
    curves_r.append(growth_rate(q2r, F_s, k_s, factor * sc, 1.0))
    ax_r.plot(q2r, curves_r[-1], label=f"σ = {factor:g} σ_c")
ax_r.axhline(0, color="k", lw=0.8)
ax_r.set(xlabel="q²", ylabel="max Re λ", title=f"(F, k) = ({F_s}, {k_s}), σ_c = {sc:.3f}",
         ylim=data_ylim(curves_r))
ax_r.legend(fontsize=7)
fig.tight_layout()
save_figure(fig, "02_dispersion", profile)
onset = turing_analysis(F_s, k_s, sc * (1 + 1e-9), 1.0)
print(f"at sigma_c: band collapses to q2 = {onset.q2_max:.5f}, "
      f"sqrt(det/(Du Dv)) = {np.sqrt(onset.det / (onset.Du * onset.Dv)):.5f}")

# %% [markdown]
# ### The most unstable wavenumber and its growth rate
#
# The table above prints `q2_max` and `growth`; here is where they come from. On a Turing band the
# largest eigenvalue is real, and it is largest where $d\lambda/dq^2 = 0$. Write $p = q^2$ and
# $G(\lambda, p) = \lambda^2 - T(p)\lambda + \Delta(p)$; along $G = 0$,
# $d\lambda/dp = -G_p/G_\lambda$, so the maximum has $G_p = 0$:
# $(D_u + D_v)\lambda - h + 2D_uD_v\,p = 0$. Solving that for $\lambda$ and putting it back into
# $G = 0$ leaves a quadratic in $p$ (`rdmf.theory.most_unstable_mode` does both steps in SymPy):

# %%
mode = most_unstable_mode()
print("lambda at the maximum:  lambda* =", mode.lam_of_p)
print("quadratic in p = q2:   ", mode.quadratic, "= 0")
print("roots: p = ", mode.p_roots[0], "\n       p = ", mode.p_roots[1])
for name in ("Turing (sliver)", "Turing (beyond BT)"):
    a = analyses[name]
    q2_closed, growth_closed = mode.numeric(a.trace, a.det, a.h, a.Du, a.Dv)
    print(f"{name:19s} closed form: q2_max = {q2_closed:.4f}, growth = {growth_closed:+.5f}; "
          f"table: {a.q2_max:.4f}, {a.growth_max:+.5f}")
    assert f"{q2_closed:.4f} {growth_closed:+.5f}" == f"{a.q2_max:.4f} {a.growth_max:+.5f}"
    assert abs(q2_closed - a.q2_max) < 1e-10 and abs(growth_closed - a.growth_max) < 1e-12

# %% [markdown]
# The wavelength of the pattern that grows first is $2\pi/q_{\max}$ (in units of $\sqrt{D_v}$).

# %% [markdown]
# ## 4. The Turing-Hopf point for Du/Dv = 2
#
# The Turing boundary ($\sigma_c(F, k) = \sigma$) meets the Hopf curve ($\operatorname{tr}J = 0$)
# where both hold. On the Hopf line $J_{22} = -J_{11} = F+k$, so $h = D_v(F+k)(\sigma - 1)$, and
# $\det J = (F+k)(k-F)$; the Turing condition becomes $(F+k)(\sigma-1)^2 = 4\sigma(k-F)$. With the
# Hopf parametrisation $F = u^3(1-u)$, $k = u^2(1-u)^2$ it is linear in $u$:
#
# $$ u = \frac{8 - (\sigma-3)^2}{8\sigma}, \qquad v = u(1-u). $$
#
# For $\sigma = 2$: $u = 7/16$, $v = 63/256$,
# $(F, k) = (3087/65536,\ 3969/65536) \approx (0.0471, 0.0606)$, exactly.

# %%
th = turing_hopf_point(2)
print("Turing-Hopf point (F, k) =", th, "≈", tuple(round(float(x), 5) for x in th),
      "| state (u, v) =", th.state)
assert th == (sp.Rational(3087, 65536), sp.Rational(3969, 65536))
assert th.state == (sp.Rational(7, 16), sp.Rational(63, 256))
a_th = turing_analysis(float(th.F), float(th.k), 2.0, 1.0)
print(f"there: tr J = {a_th.trace:.1e}, sigma_c = {a_th.sigma_critical:.6f}")
F_w, width = turing_sliver_width(SIGMA)
print(f"pure-Turing sliver: widest {width.max():.2e} in k, at F = {F_w[width.argmax()]:.4f}")
assert 2e-4 < width.max() < 6e-4

# %% [markdown]
# ## 5. The (F, k) map for Du/Dv = 2
#
# The whole picture. Red, the **pure-Turing** region, is a sliver: it starts at the Turing-Hopf point
# (star), hugs the Hopf curve up to the Bogdanov-Takens point and then the saddle-node curve, and is
# nowhere wider than about $5\cdot10^{-4}$ in $k$. Purple: the upper state is Hopf-unstable and also
# has a Turing band. The zoom (middle) and the width along $F$ (right) make it visible.

# %%
fig, (ax_map, ax_zoom, ax_w) = plt.subplots(1, 3, figsize=(15, 4.4),
                                           gridspec_kw={"width_ratios": [1.1, 1.1, 0.8]})
draw_fk_map(ax_map, SIGMA, n=settings["map_n"])
ax_map.set_title("Du/Dv = 2: regions of the upper state")
zoom = dict(F_range=(0.04, 0.1), k_range=(0.055, 0.064))
draw_fk_map(ax_zoom, SIGMA, n=settings["zoom_n"], legend=False, **zoom)
ax_map.add_patch(plt.Rectangle((zoom["k_range"][0], zoom["F_range"][0]),
                               np.diff(zoom["k_range"])[0], np.diff(zoom["F_range"])[0],
                               fill=False, ec="k", lw=0.8))
ax_zoom.set_title("zoom: the pure-Turing sliver")
ax_zoom.xaxis.set_major_locator(plt.MaxNLocator(5))
ax_w.plot(F_w, width * 1e4, color="#e31a1c")
ax_w.axvline(1 / 16, color="k", ls=":", lw=0.8)
ax_w.set(xlabel="F", ylabel="width in k (×1e-4)", title="sliver width")
fig.tight_layout()
save_figure(fig, "02_fk_map", profile)

F_p, k_p, codes = fk_grid(SIGMA, F_range=(0.0, 0.08), k_range=(0.03, 0.07), n=settings["map_n"])
shares = np.bincount(codes.ravel(), minlength=len(REGIONS)) / codes.size
print("share of Pearson's window k in [0.03, 0.07], F in [0, 0.08]:")
for code_, name in REGIONS.items():
    print(f"  {name:14s} {shares[code_]:.3f}")
assert abs(shares[0] - 0.38) < 0.01 and abs(shares[1] - 0.56) < 0.01 and shares[2] < 0.01

# %% [markdown]
# ## 6. Why Pearson's famous patterns are not Turing instabilities
#
# Pearson (1993) mapped the $(F, k)$ plane at $D_u/D_v = 2$ by **seeding** a small square at
# $(u, v) = (1/2, 1/4)$ (plus 1 % noise) in a domain at the trivial state $(1, 0)$. That starting
# state is linearly stable for every $(F, k)$ and every wavenumber: its growth rates are
# $-F - D_u q^2$ and $-(F+k) - D_v q^2$. So nothing in these experiments grows from noise; every
# pattern is a *finite-amplitude* response to the seed. A Turing instability is a property of the
# upper state, and over most of Pearson's window that state either does not exist (grey: 38 % of
# the window $k \in [0.03, 0.07]$, $F \in [0, 0.08]$ printed above) or is stable with no Turing band
# (blue, 56 %); the pure-Turing sliver covers well under 1 %.
#
# * Beyond the saddle-node curve (grey) there is no other homogeneous state at all: the celebrated
#   self-replicating spots live here, near the curve.
# * In the bistable region (blue) both homogeneous states are linearly stable; patterns are fronts
#   and pulses between them, again triggered by the seed.
#
# Parameter sets popularised by later catalogues (names from Karl Sims' tutorial), classified by the
# package:

# %%
famous = {"mitosis (Sims)": (0.0367, 0.0649), "coral (Sims)": (0.0545, 0.062),
          "1-D pulse splitting (below)": (0.035, 0.059)}
for name, (F, k) in famous.items():
    region = REGIONS[int(classify_fk(F, k, SIGMA))]
    try:
        a = turing_analysis(F, k, SIGMA, 1.0)
        note = f"upper state tr J = {a.trace:+.5f}, sigma_c = {a.sigma_critical:.3f}"
    except NoSteadyStateError:
        note = f"only (1, 0): k > k_SN(F) = {saddle_node_k(F):.4f}"
    print(f"{name:28s} (F, k) = ({F}, {k}): {region:14s} {note}")

# %% [markdown]
# The experiment (1-D lattice, $\Delta x = 1$, $D_u = 0.2$, $D_v = 0.1$, i.e. Pearson's ratio, the
# package's semi-implicit integrator) at $(F, k) = (0.035, 0.059)$, beyond the saddle-node curve:
# the same 1 % noise on $(1, 0)$, once alone and once with a 20-site seed at $(1/2, 1/4)$. The noise
# decays, as linear theory demands; the seed splits into pulses that fill the domain: a pattern
# with no Turing instability anywhere.

# %%
exp = finite_seed_experiment(0.035, 0.059, L=settings["demo_L"], steps=settings["demo_steps"])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, field, title in ((axes[0], exp.v_noise, "noise on (1, 0)"),
                         (axes[1], exp.v_seed, "same noise + finite seed")):
    im = ax.imshow(field, origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=0.4,
                   extent=(0, field.shape[1], 0, exp.times[-1]))
    ax.set(xlabel="site", title=f"v(x, t): {title}")
    ax.grid(False)
axes[0].set_ylabel("t")
fig.colorbar(im, ax=axes, shrink=0.8, label="v")
save_figure(fig, "02_finite_seed", profile)
noise_max = float(exp.v_noise[-1].max())
pulses = SeedExperiment.pulses(exp.v_seed[-1])
print(f"noise run decayed (max v < 1e-6): {noise_max < 1e-6}; seed run: {pulses} pulses, "
      f"max v = {exp.v_seed[-1].max():.3f}")
assert noise_max < 1e-6 and pulses >= 5

# %% [markdown]
# ## Reading the map for the fusion layer
#
# The RDMF layer learns $(F_j, k_j, D_{u,j}/D_{v,j})$ per channel $j$ and integrates a finite time
# $T = K\,\Delta t$ on the lattice of clips, starting from $u_0$ (video evidence) and $v_0$ (text
# match seeds). Later notebooks (06) put the learned kinetics on this map
# (`rdmf.theory.plot.draw_fk_map`, `scatter_fk`). What each region means for the layer:
#
# * **no state** (grey): $(1, 0)$ is the only homogeneous state and is linearly stable. Weak,
#   isolated seeds decay; only strong, wide-enough seeds survive, and near the saddle-node curve they
#   can split and spread (pulse replication, section 6). A denoising, threshold-like regime.
# * **stable / bistable** (blue): $(1, 0)$ and the upper state are both stable. A seeded segment
#   either dies or invades its neighbourhood as a front: contiguous segments, the shape of a moment.
#   How far a front travels within $T$ is set by $\sqrt{2 D_u T}$ and the reaction time $1/(F+k)$.
# * **Hopf** (orange): the upper state oscillates in time; the output depends on where in the
#   oscillation $T$ ends. Usually unwanted.
# * **Turing** (red sliver) and **Hopf + Turing** (purple): the upper state breaks up into a
#   periodic pattern of wavelength $2\pi/q_{\max}$ clips (with $\Delta x = 1$), whatever the input:
#   structure invented by the layer. On short lattices no mode may fit the band (notebook 04).
#
# The regions are those of the continuum; on the lattice replace $q^2$ by the discrete Laplacian
# eigenvalues (notebook 04).
#
# ## Summary
#
# * Turing instability of the upper state: $\operatorname{tr}J<0$, $\det J>0$,
#   $h > 2\sqrt{D_u D_v\det J}$; band, most unstable $q^2$ and its growth: `turing_analysis`
#   (checked in the tests against `numpy.linalg.eigvals` on 200 random cases); the closed forms of
#   the last two: `most_unstable_mode`.
# * Critical ratio $\sigma_c = (v/u)\big(\sqrt{(1-2u)/(1-u)} + \sqrt2\big)^2 > 1$.
# * For $D_u/D_v = 2$ the Turing and Hopf lines meet exactly at $(3087/65536, 3969/65536)$,
#   state $(7/16, 63/256)$; the pure-Turing region is a sliver at most ~$5\cdot10^{-4}$ wide in $k$.
# * Pearson's celebrated patterns grow from finite seeds on the linearly stable state $(1, 0)$:
#   they are not Turing patterns.

# %% [markdown]
# ## Exercises
#
# 1. **The critical ratio in the state's coordinates.** At the "stable" point $(0.06, 0.058)$,
#    check that `turing_analysis(...).sigma_critical` equals
#    $(v/u)\big(\sqrt{(1-2u)/(1-u)} + \sqrt 2\big)^2$ evaluated on its upper state.
# 2. **Band edges.** For the sliver state at $\sigma = 1.5\,\sigma_c$, check that both edges of
#    `q2_band` are roots of $\Delta(q^2) = \det J - q^2 h + q^4 D_u D_v$.
# 3. **A wavelength in Pearson's units.** For the sliver state at $\sigma = 2$, compute the
#    wavelength $2\pi/q_{\max}$ of the fastest mode for $D_v = 1$, and for Pearson's
#    $D_v = 10^{-5}$ (lengths scale with $\sqrt{D_v}$); check it against `wavelength_max`.
#
# **Solution** (hidden in the book: try the exercise first; the cell checks its result with `assert`).


# %% tags=["hide-input"]
# 1. the critical ratio in the state's coordinates
a_ex = turing_analysis(0.06, 0.058, SIGMA, 1.0)
closed = a_ex.v / a_ex.u * (np.sqrt((1 - 2 * a_ex.u) / (1 - a_ex.u)) + np.sqrt(2)) ** 2
print(f"sigma_c = {a_ex.sigma_critical:.6f}, closed form {closed:.6f}")
assert abs(a_ex.sigma_critical - closed) < 1e-12 and a_ex.sigma_critical > 1

# 2. band edges
a_ex = turing_analysis(F_s, k_s, 1.5 * sc, 1.0)
def Delta_ex(p):
    return a_ex.det - p * a_ex.h + p * p * a_ex.Du * a_ex.Dv
print("band:", tuple(round(e, 6) for e in a_ex.q2_band),
      "| Delta at the edges:", [f"{Delta_ex(e):.1e}" for e in a_ex.q2_band])
assert all(abs(Delta_ex(e)) < 1e-12 for e in a_ex.q2_band)

# 3. a wavelength in Pearson's units
a_ex = analyses["Turing (sliver)"]
lam_1 = 2 * np.pi / np.sqrt(a_ex.q2_max)
print(f"fastest wavelength: {lam_1:.2f} (Dv = 1), {lam_1 * np.sqrt(1e-5):.4f} (Dv = 1e-5)")
assert abs(lam_1 - a_ex.wavelength_max) < 1e-12


# %% [markdown]
# ## References
#
# - Turing, A. M. (1952). The chemical basis of morphogenesis. *Phil. Trans. R. Soc. Lond. B* 237,
#   37–72.
# - Pearson, J. E. (1993). Complex patterns in a simple system. *Science* 261, 189–192.
# - Murray, J. D. (2003). *Mathematical Biology II*, 3rd ed., ch. 2 (Turing instability). Springer.
#
# The full list, with DOIs, is in `docs/references.bib` (the book's bibliography page).

