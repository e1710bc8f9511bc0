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
# # 08 · Performance: what the three fusions cost
#
# Training and inference throughput of `rd`, `concat` and `cross_attention` on a CPU, the cost of
# the RD integration as the number of steps $K$ grows, and memory. Timings belong to a machine and
# its load, not to the science, so this notebook times nothing itself: `benchmarks/bench_cpu.py`
# measures them (medians over repeats on random inputs of a fixed shape, one torch thread) and
# writes `reports/benchmarks/cpu_performance.json`, which names the machine; the notebook reads and
# plots that file (re-run the script to measure your machine). Parameter counts and the memory of
# the tensors saved for backward are exact and are computed here.


# %% [markdown]
# **Learning objectives.** After this notebook you can
#
# - measure training and inference throughput of the three fusions on the same input;
# - explain how the RD layer's cost grows with the number of steps $K$ and the lattice length;
# - count the memory a training step saves for the backward pass.

# %% tags=["parameters"]
profile = "ci"

# %%
import warnings
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto in a kernel

import json
import numpy as np
import matplotlib.pyplot as plt
import torch

from rdmf.figures import apply_style, save_figure
from rdmf.io import read_json
from rdmf.paths import repo_root, reports_dir
from rdmf.reports import write_report_json
from rdmf.experiments.perf import activation_memory_mb, gpu_benchmarks
from rdmf.model.fusion import FUSIONS

torch.set_num_threads(1)
apply_style()
bench = read_json(repo_root() / "reports" / "benchmarks" / "cpu_performance.json")
S = bench["settings"]
m = bench["machine"]
print(f"timings measured by benchmarks/bench_cpu.py on {bench['date']}: {m['processor']}, "
      f"{m['cpu_count']} cores, torch {m['torch']}, {m['torch_threads']} thread")
print("settings:", {k: v for k, v in S.items()})

# %% [markdown]
# ## 1. Training and inference throughput on CPU

# %%
thr = bench["throughput"]
print(f"batch {S['batch']}, {S['clips']} clips, hidden {S['hidden']}, one thread")
print(f"{'fusion':16s} {'params':>9s} {'train step s':>13s} {'train samp/s':>13s} {'infer samp/s':>13s}")
for r in thr:
    print(f"{r['fusion']:16s} {r['params']:9d} {r['train_step_s']:13.3f} {r['train_samples_per_s']:13.1f} "
          f"{r['infer_samples_per_s']:13.1f}")
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, key, title in zip(axes, ("train_samples_per_s", "infer_samples_per_s"), ("training", "inference")):
    ax.bar([r["fusion"] for r in thr], [r[key] for r in thr], color=["tab:red", "tab:blue", "tab:green"])
    ax.set(ylabel="samples / s (1 CPU thread)", title=title)
save_figure(fig, "08_throughput", profile)
assert [r["fusion"] for r in thr] == list(FUSIONS)
assert all(r["train_step_s"] > 0 and r["infer_s"] > 0 for r in thr)

# %% [markdown]
# ## 2. Cost of the RD integration vs K
#
# The integration alone (semi-implicit scheme, $B \times C \times L$ = batch × 16 channels × 75
# clips), forward and forward + backward. Each step is a handful of elementwise operations and a
# 3-point Laplacian, so the cost should grow linearly in $K$; backward stores every intermediate
# field (autograd through the loop), so its memory grows linearly in $K$ too.

# %%
cost = bench["rd_step_cost"]
Ks = np.array([c["K"] for c in cost], float)
fw = np.array([c["forward_s"] for c in cost]); fb = np.array([c["forward_backward_s"] for c in cost])
slope_f, slope_fb = np.polyfit(Ks, fw, 1)[0], np.polyfit(Ks, fb, 1)[0]
print(f"per RD step: forward {1e3 * slope_f:.2f} ms, forward+backward {1e3 * slope_fb:.2f} ms "
      f"(batch {S['rd_batch']}, {S['rd_channels']} channels, {S['clips']} clips)")
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(Ks, 1e3 * fw, marker="o", label="forward")
ax.plot(Ks, 1e3 * fb, marker="s", label="forward + backward")
ax.set(xlabel="K (steps)", ylabel="ms", title="RD integration cost vs K")
ax.legend()
save_figure(fig, "08_rd_cost", profile)
assert fb[-1] > fb[0], "the integration should cost more with more steps"

# %% [markdown]
# ## 3. Memory
#
# Parameter counts (float32) and the memory of the tensors autograd saves for backward in one
# forward pass of a training step (counted exactly with saved-tensor hooks; shared storage counted
# once), for the same input shape. RDMF's own parameters are tiny (a few linear maps and $5C+1$
# kinetics); its activation memory grows with $K$ (section 2), the attention fusions' with the
# number of text tokens times clips.

# %%
mem = []
for f in FUSIONS:
    act = activation_memory_mb(f, batch=S["batch"], clips=S["clips"], hidden=S["hidden"])
    mem.append({"fusion": f, "activation_mb": act})
params = {r["fusion"]: r["params"] for r in thr}
for m in mem:
    m["params"] = params[m["fusion"]]
    m["param_mb"] = m["params"] * 4 / 2**20
write_report_json(reports_dir(profile) / "perf" / "memory.json", {"settings": S, "rows": mem})
print(f"{'fusion':16s} {'params':>9s} {'param MB':>9s} {'saved-for-backward MB':>22s}")
for m in mem:
    print(f"{m['fusion']:16s} {m['params']:9d} {m['param_mb']:9.2f} {m['activation_mb']:22.1f}")
assert all(m["activation_mb"] > 0 for m in mem)

# %% [markdown]
# ## 4. GPU

# %%
gpu = gpu_benchmarks()
if not gpu:
    print("No recorded GPU benchmark in reports/benchmarks/: the numbers in this notebook are CPU "
          "measurements.")
else:
    for entry in gpu:
        data = entry["data"]
        name = data.get("gpu") or data.get("device") or "GPU (not named in the file)"
        print(f"{entry['file']}: {name}")
        print(json.dumps(data, indent=1)[:2000])

# %% [markdown]
# ## 5. Training time of the stored paper-profile shards
#
# Wall-clock seconds per epoch of the shards in `reports/paper/shards/` (2 CPU cores shared by
# several jobs at the time: an upper bound, and comparable between fusions only roughly).

# %% tags=["nbval-ignore-output"]
from rdmf.experiments.runner import load_results
paper = load_results("paper")
per = {}
for r in paper.values():
    if r.get("status") != "done":
        continue
    key = (r["shard"]["dataset"], r["shard"]["fusion"])
    per.setdefault(key, []).extend(h["time_s"] for h in r["history"] if h.get("time_s"))
if not per:
    print("no stored paper-profile shards")
for (ds, f), t in sorted(per.items()):
    if t:   # (the floors record their time per run, not per epoch)
        print(f"{ds:10s} {f:16s} {np.median(t):7.2f} s / epoch (median over {len(t)} epochs)")

# %% [markdown]
# ## Exercise
#
# **Relative cost.** From the throughput rows of section 1, compute how many times slower (or
# faster) a training step of the RD fusion is than one of the `concat` fusion, and check that the
# ratio of step times equals the inverse ratio of training samples per second.
#
# **Solution** (hidden in the book: try the exercise first; the cell checks its result with `assert`).


# %% tags=["hide-input", "nbval-ignore-output"]
by_fusion = {r["fusion"]: r for r in thr}
ratio_time = by_fusion["rd"]["train_step_s"] / by_fusion["concat"]["train_step_s"]
ratio_rate = by_fusion["concat"]["train_samples_per_s"] / by_fusion["rd"]["train_samples_per_s"]
print(f"rd / concat training step time: {ratio_time:.2f}")
assert ratio_time > 0 and abs(ratio_time - ratio_rate) < 1e-4 * ratio_time  # the file keeps 6 digits


# %% [markdown]
# ## References
#
# - Lei, J., Berg, T. L. & Bansal, M. (2021). Moment-DETR. *NeurIPS*.
# - Moon, W. et al. (2023). QD-DETR. *CVPR*.
#
# The full list is in `docs/references.bib` (the book's bibliography page).

