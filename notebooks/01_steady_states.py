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
# # 01 · Gray-Scott: steady states, existence and Hopf curves, the Bogdanov-Takens point
#
# The fusion layer of RDMF runs the Gray-Scott reaction-diffusion model on the lattice of video clips:
#
# $$
# u_t = D_u \nabla^2 u - u v^2 + F(1-u), \qquad
# v_t = D_v \nabla^2 v + u v^2 - (F+k)\,v .
# $$
#
# $u$ is a substrate fed at rate $F$, $v$ an autocatalyst removed at rate $F+k$. Before any
# diffusion, the reaction alone decides which homogeneous states exist and which are stable. This
# notebook derives them with SymPy (`rdmf.theory` computes, the notebook explains) and draws the
# $(F, k)$ bifurcation diagram that every later notebook refers to. Notebook 02 adds diffusion.


# %% [markdown]
# **Learning objectives.** After this notebook you can
#
# - derive the homogeneous steady states of the Gray-Scott reaction and the curve $k = \sqrt F/2 - F$
#   where they appear, in SymPy;
# - compute the trace and determinant of the reaction Jacobian on a state and read its stability
#   from them;
# - derive the Hopf curve and the Bogdanov-Takens point, and tell where an unstable upper state is a
#   focus (complex eigenvalues) and where a node (real ones);
# - read the $(F, k)$ bifurcation diagram that the later notebooks use.

# %% tags=["parameters"]
profile = "ci"

# %%
import numpy as np
import sympy as sp
import matplotlib.pyplot as plt

from rdmf.figures import apply_style, save_figure
from rdmf.theory import (bogdanov_takens_point, hopf_curve, hopf_F, jacobian, params_from_state,
                         reaction, saddle_node_k, steady_states, trace_det_closed_form,
                         upper_state, upper_state_focus_k)
from rdmf.theory.plot import draw_fk_map
from rdmf.theory.profiles import theory_settings
from rdmf.theory.steady_states import F_ as F, k_ as k, v_ as v

apply_style()
settings = theory_settings(profile)
settings

# %% [markdown]
# ## 1. Homogeneous steady states
#
# Setting the reaction terms to zero: from $v_t = 0$ either $v = 0$ (then $u = 1$: the **trivial
# state** $(1, 0)$, which exists for every $F, k$) or
#
# $$ u v = F + k . $$
#
# Putting $uv^2 = (F+k) v$ into $u_t = 0$ gives $v = F(1-u)/(F+k)$, and then $u(1-u) = (F+k)^2/F$:
# a quadratic in $u$ with roots
#
# $$
# u_\mp = \frac{1 \mp d}{2}, \qquad v_\pm = \frac{F(1 \pm d)}{2(F+k)}, \qquad
# d = \sqrt{1 - \frac{4(F+k)^2}{F}} .
# $$
#
# `steady_states(F, k)` returns them in a fixed order: trivial, **upper** state (larger $v$, the
# minus sign in $u$), **saddle**. With SymPy symbols it returns the closed forms, which we check:

# %%
states = steady_states(F, k)
for name, (us, vs) in zip(["trivial", "upper", "saddle"], states):
    f, g = reaction(us, vs, F, k)
    assert sp.simplify(f) == 0 and sp.simplify(g) == 0          # a steady state
    if name != "trivial":
        assert sp.simplify(us * vs - (F + k)) == 0               # u v = F + k
    print(f"{name:8s} u = {sp.simplify(us)}\n         v = {sp.simplify(vs)}")

# %% [markdown]
# ## 2. Existence: the saddle-node curve
#
# The two non-trivial states are real iff $d^2 \ge 0$, i.e. $F \ge 4(F+k)^2$, i.e.
#
# $$ k \le k_{SN}(F) = \tfrac{1}{2}\sqrt{F} - F . $$
#
# On the curve they merge ($d = 0$, $u = 1/2$, $v = 2(F+k) = \sqrt F$) in a saddle-node
# bifurcation; beyond it only $(1, 0)$ is left. $k_{SN}$ is largest, $1/16$, at $F = 1/16$.

# %%
kSN = saddle_node_k(F)
F_peak = sp.solve(sp.diff(kSN, F), F)[0]
print("k_SN(F) =", kSN, "| max at F =", F_peak, "with k =", kSN.subs(F, F_peak))
assert F_peak == sp.Rational(1, 16) and kSN.subs(F, F_peak) == sp.Rational(1, 16)
for Fi, ki in [(0.03, 0.05), (0.03, 0.06), (0.0367, 0.0649)]:
    found = [(round(a, 4), round(b, 4)) for a, b in steady_states(Fi, ki)]
    print(f"(F, k) = ({Fi}, {ki}): k_SN = {saddle_node_k(Fi):.4f}, states {found}")

# %% [markdown]
# ### The (0.04, 0.06) trap
#
# $(F, k) = (0.04, 0.06)$ looks like an innocent pair of round numbers, but
# $4(F+k)^2 = 4 \cdot 0.01 = 0.04 = F$: it lies **exactly on** the saddle-node curve, with the
# double root $(u, v) = (1/2, 1/5)$. In binary floating point neither 0.04 nor 0.06 is exact, and
# $d^2 = 1 - 4(F+k)^2/F$ comes out as $-2.2\cdot 10^{-16}$, so a naive float computation reports
# *no* non-trivial state (and `sqrt` of it is NaN).
#
# **The rule `rdmf.theory` follows:** a float is read as the decimal number its `repr` shows
# (`0.04` means $1/25$), and the existence question (the sign of $F - 4(F+k)^2$) is decided in
# exact rational arithmetic. A double root is listed once. Inputs that were themselves computed in
# floating point (e.g. $k = \sqrt F/2 - F$ in floats) can pass `tol=` (a relative tolerance on the
# discriminant). SymPy numbers are handled exactly.

# %%
d2_float = 1 - 4 * (0.04 + 0.06) ** 2 / 0.04
d2_exact = 1 - 4 * (sp.Rational("0.04") + sp.Rational("0.06")) ** 2 / sp.Rational("0.04")
print(f"float d^2 = 1 - 4(F+k)^2/F = {d2_float:.1e}")
print("exact d^2 =", d2_exact)
print("steady_states(0.04, 0.06) =", steady_states(0.04, 0.06))
print("exact:", steady_states(sp.Rational(1, 25), sp.Rational(3, 50)))
assert d2_float < 0 and d2_exact == 0
assert steady_states(0.04, 0.06) == [(1.0, 0.0), (0.5, 0.2)]

# %% [markdown]
# ## 3. Stability without diffusion: the Jacobian
#
# $$
# J = \begin{pmatrix} -v^2 - F & -2uv \\ v^2 & 2uv - (F+k) \end{pmatrix},
# \qquad J(1,0) = \operatorname{diag}(-F,\, -(F+k)) .
# $$
#
# So $(1, 0)$ is **always** stable. On a non-trivial state $uv = F + k$ simplifies everything:
#
# $$ \operatorname{tr} J = k - v^2, \qquad \det J = (F+k)(v^2 - F) . $$
#
# With $v^2 = F(1-u)/u$ this is $\det J = (F+k) F (1-2u)/u = \pm (F+k) F d/u$: positive on the
# upper state ($u < 1/2$), negative on the saddle (a saddle point, always unstable), zero on the
# saddle-node curve. The upper state is stable iff $\operatorname{tr}J<0$,
# i.e. $v^2 > k$.

# %%
trace, det = trace_det_closed_form()
assert sp.simplify(jacobian(1, 0, F, k) - sp.diag(-F, -(F + k))) == sp.zeros(2, 2)
for name, (us, vs) in zip(["upper", "saddle"], states[1:]):
    J = jacobian(us, vs, F, k)
    assert sp.simplify(J.trace() - trace.subs(v, vs)) == 0
    assert sp.simplify(J.det() - det.subs(v, vs)) == 0
print("tr J =", trace, "   det J =", sp.factor(det))
for Fi, ki in [(0.03, 0.05)]:
    for name, (us, vs) in zip(["upper", "saddle"], steady_states(Fi, ki)[1:]):
        print(f"{name:6s} at ({Fi}, {ki}): tr = {ki - vs**2:+.5f}, det = {(Fi + ki) * (vs**2 - Fi):+.6f}")

# %% [markdown]
# ## 4. The Hopf curve
#
# The upper state loses stability when $\operatorname{tr}J$ crosses zero with $\det J > 0$: a
# **Hopf bifurcation** (a pair of complex eigenvalues crosses the imaginary axis). $\operatorname{tr}
# J = 0$ means $v^2 = k$; with $uv = F+k$ and $u(1-u) = (F+k)^2/F$ this becomes
#
# $$ (F + k)^2 = F \sqrt{k}, \qquad k > F \;(\text{upper state}). $$
#
# It is easiest to see in the state's own coordinates: every non-trivial state $(u, v)$ is the
# steady state of exactly one $(F, k)$, namely $F = uv^2/(1-u)$, $k = uv - F$ (`params_from_state`).
# $\operatorname{tr}J = 0$ is then $v = u(1-u)$, so the Hopf curve is
# $F = u^3(1-u),\ k = u^2(1-u)^2$ for $0 < u \le 1/2$. Solved for $F$:
# $F_H(k) = \big(\sqrt k - 2k - \sqrt{k(1 - 4\sqrt k)}\big)/2$, $0 < k \le 1/16$.
# The upper state is stable for $k < k_H(F)$ and unstable for $k_H(F) < k < k_{SN}(F)$. In that
# band its eigenvalues $\lambda = \big(\operatorname{tr}J \pm \sqrt{(\operatorname{tr}J)^2 -
# 4\det J}\big)/2$ are complex only while $(\operatorname{tr}J)^2 < 4\det J$: just past the Hopf
# curve ($\operatorname{tr}J = 0$) the state is an unstable **focus** (growing oscillations), but
# near the fold $\det J \to 0$, so the eigenvalues become real and the state is an unstable
# **node** (monotone departure). `upper_state_focus_k(F)` finds the $k_f$ where they switch:

# %%
us = sp.symbols("u", positive=True)
Fh, kh = params_from_state(us, us * (1 - us))
print("Hopf curve:  F =", sp.factor(Fh), "  k =", sp.factor(kh))
assert sp.simplify(jacobian(us, us * (1 - us), Fh, kh).trace()) == 0
assert sp.simplify((Fh + kh) ** 2 - Fh * us * (1 - us)) == 0   # (F+k)^2 = F sqrt(k)
print("implicit form:", hopf_curve(symbolic=True))
for Fi in [0.01, 0.03, 0.05]:
    k_f = upper_state_focus_k(Fi)
    print(f"F = {Fi}: k_H = {hopf_curve(Fi):.5f} < k_f = {k_f:.5f} < k_SN = {saddle_node_k(Fi):.5f}"
          f"   (complex eigenvalues for k_H < k < k_f, real for k_f < k < k_SN)")
    assert hopf_curve(Fi) < k_f < saddle_node_k(Fi)

# %% [markdown]
# ## 5. The Bogdanov-Takens point
#
# The Hopf curve ends where it meets the saddle-node curve: there $\operatorname{tr}J = \det J = 0$
# (a double-zero eigenvalue, a **Bogdanov-Takens** point). $\det J = 0$ gives $v^2 = F$,
# $\operatorname{tr}J = 0$ gives $v^2 = k$, so $F = k$, and the saddle-node condition
# $F = 4(2F)^2$ gives $F = k = 1/16$, state $(1/2, 1/4)$. `bogdanov_takens_point()` solves the four
# equations ($f = g = \operatorname{tr}J = \det J = 0$) with SymPy:

# %%
bt = bogdanov_takens_point()
print("Bogdanov-Takens point (F, k) =", bt, "state", steady_states(*bt)[1:])
assert bt == (sp.Rational(1, 16), sp.Rational(1, 16))
assert steady_states(*bt)[1:] == [(sp.Rational(1, 2), sp.Rational(1, 4))]
assert abs(hopf_curve(1 / 16) - 1 / 16) < 1e-12 and hopf_F(sp.Rational(1, 16)) == sp.Rational(1, 16)

# %% [markdown]
# ## 6. The bifurcation figure
#
# Left: the $(F, k)$ plane in Pearson's orientation ($k$ across, $F$ up), reaction only. Grey: only
# $(1,0)$ exists; blue: the upper state is stable (together with $(1, 0)$: the medium is
# **bistable**); orange: the upper state is unstable (a focus past the Hopf curve, a node near the
# fold). Right: the steady-state $v$ along $k$ at
# $F = 0.03$: the upper branch (solid where stable, dashed where unstable) folds into the
# saddle branch at $k_{SN}$; $(1, 0)$ ($v = 0$) is stable throughout.

# %%
fig, (ax_map, ax_branch) = plt.subplots(1, 2, figsize=(11, 4.4))
draw_fk_map(ax_map, sigma=None, n=settings["map_n"])
ax_map.set_title("Reaction only: existence and Hopf curves")

F0 = 0.03
k_grid = np.linspace(0.02, 0.06, settings["branch_n"])
upper = np.full_like(k_grid, np.nan)
saddle = np.full_like(k_grid, np.nan)
for i, ki in enumerate(k_grid):
    found = steady_states(F0, ki)
    if len(found) == 3:
        upper[i], saddle[i] = found[1][1], found[2][1]
stable = k_grid < hopf_curve(F0)
ax_branch.plot(k_grid[stable], upper[stable], "C0-", label="upper state, stable")
ax_branch.plot(k_grid[~stable], upper[~stable], "C0--", label="upper state, unstable")
ax_branch.plot(k_grid, saddle, "C3:", label="saddle (unstable)")
ax_branch.plot(k_grid, 0 * k_grid, "k-", lw=2, label="(1, 0), stable")
k_sn = saddle_node_k(F0)
ax_branch.scatter([k_sn], [np.sqrt(F0)], color="k", zorder=5, label="saddle-node")
ax_branch.scatter([hopf_curve(F0)], [np.sqrt(hopf_curve(F0))], color="C1", zorder=5, label="Hopf")
k_f0 = upper_state_focus_k(F0)
ax_branch.axvline(k_f0, color="0.5", lw=0.8, ls=":", label="focus → node")
ax_branch.set(xlabel="k", ylabel="steady-state v", title=f"Branches at F = {F0}")
ax_branch.legend(fontsize=7)
save_figure(fig, "01_bifurcation", profile)
print(f"F = {F0}: Hopf at k = {hopf_curve(F0):.5f}, focus → node at k = {k_f0:.5f}, "
      f"fold at k = {k_sn:.5f}")

# %% [markdown]
# ## Summary
#
# | object | closed form | where in `rdmf.theory` |
# |---|---|---|
# | trivial state | $(1, 0)$, always stable | `steady_states` |
# | non-trivial states | $u = (1 \mp d)/2$, $uv = F+k$ | `steady_states` |
# | existence (saddle-node) | $k = \sqrt F/2 - F$ | `saddle_node_k` |
# | Jacobian on a state | $\operatorname{tr} = k - v^2$, $\det = (F+k)(v^2-F)$ | `jacobian`, `trace_det_closed_form` |
# | Hopf curve | $(F+k)^2 = F\sqrt k$, $k > F$ | `hopf_curve`, `hopf_F` |
# | focus → node (unstable upper state) | $(\operatorname{tr}J)^2 = 4\det J$ | `upper_state_focus_k` |
# | Bogdanov-Takens | $(1/16, 1/16)$, state $(1/2, 1/4)$ | `bogdanov_takens_point` |
#
# Floats are decided exactly (the $(0.04, 0.06)$ rule above). Notebook 02 adds diffusion: where the
# blue region can still be destabilised by a spatial mode (Turing), and where Pearson's patterns
# really live.

# %% [markdown]
# ## Exercises
#
# 1. **Where states appear.** At $F = 0.04$, check with `steady_states` that three homogeneous
#    states exist just below $k_{SN}(F) = \sqrt F/2 - F$ and only $(1, 0)$ just above it.
# 2. **Stability on the Hopf curve.** On the Hopf parametrisation $F = u^3(1-u)$,
#    $k = u^2(1-u)^2$, $v = u(1-u)$, show in SymPy that $\det J = (F+k)(v^2 - F)$ factors as
#    $(F+k)\,u^2(1-u)(1-2u)$, so the curve is a Hopf curve ($\det J > 0$) exactly for $u < 1/2$.
# 3. **Focus or node.** At $F = 0.03$ compute the eigenvalues of $J$ on the upper state with NumPy,
#    once halfway between $k_H$ and $k_f$ and once halfway between $k_f$ and $k_{SN}$; check that
#    both are unstable, the first with complex and the second with real eigenvalues.
#
# **Solution** (hidden in the book: try the exercise first; the cell checks its result with `assert`).


# %% tags=["hide-input"]
# 1. where states appear
F_ex = 0.04
k_sn_ex = float(saddle_node_k(F_ex))
below, above = steady_states(F_ex, k_sn_ex - 1e-4), steady_states(F_ex, k_sn_ex + 1e-4)
print(f"k_SN({F_ex}) = {k_sn_ex:.4f}: {len(below)} states just below, {len(above)} just above")
assert len(below) == 3 and len(above) == 1

# 2. stability on the Hopf curve
u_h = sp.symbols("u", positive=True)
F_h, k_h = params_from_state(u_h, u_h * (1 - u_h))
det_h = (F_h + k_h) * ((u_h * (1 - u_h)) ** 2 - F_h)
print("det J on the Hopf curve =", sp.factor(det_h))
assert sp.simplify(det_h - (F_h + k_h) * u_h**2 * (1 - u_h) * (1 - 2 * u_h)) == 0

# 3. focus or node
F_ex = 0.03
k_H, k_f, k_SN = hopf_curve(F_ex), upper_state_focus_k(F_ex), saddle_node_k(F_ex)
for label, k_ex in (("focus side", (k_H + k_f) / 2), ("node side", (k_f + k_SN) / 2)):
    eig = np.linalg.eigvals(jacobian(*upper_state(F_ex, k_ex), F_ex, k_ex))
    print(f"{label}: k = {k_ex:.5f}, Re λ = {np.round(eig.real, 5).tolist()}, "
          f"complex: {bool(np.any(eig.imag != 0))}")
    assert np.all(eig.real > 0) and (np.any(eig.imag != 0) == (label == "focus side"))


# %% [markdown]
# ## References
#
# - Gray, P. & Scott, S. K. (1983, 1984). Autocatalytic reactions in the isothermal, continuous
#   stirred tank reactor. *Chemical Engineering Science* 38, 29–43 and 39, 1087–1097.
# - Pearson, J. E. (1993). Complex patterns in a simple system. *Science* 261, 189–192.
# - Murray, J. D. (2003). *Mathematical Biology II: Spatial Models and Biomedical Applications*,
#   3rd ed. Springer.
#
# The full list, with DOIs, is in `docs/references.bib` (the book's bibliography page).

