"""Figures of the comparison tables (notebook 07 and the README headline figure)."""

from __future__ import annotations

import numpy as np

from rdmf.data.tvsum import TVSUM_DOMAINS

from .cells import FUSION_LABELS, value

COLORS = {"rd": "tab:red", "concat": "tab:blue", "cross_attention": "tab:green"}


def _mean_std(cell):
    if cell is None:
        return np.nan, 0.0
    if isinstance(cell, dict):
        return cell["mean"], cell["std"]
    return float(cell), 0.0


def synthetic_figure(table: dict, metrics=("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP",
                                           "HL-min-VeryGood-Hit1")):
    """Bars (mean ± std over seeds) per fusion; trivial predictors as dashed floor marks."""
    import matplotlib.pyplot as plt
    ours = [r for r in table["rows"] if r["kind"] == "ours"]
    floor = [r for r in table["rows"] if r["kind"] == "floor"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = np.arange(len(metrics))
    w = 0.8 / max(len(ours), 1)
    for i, row in enumerate(ours):
        ms = [_mean_std(row["cells"].get(m)) for m in metrics]
        ax.bar(x + (i - (len(ours) - 1) / 2) * w, [m for m, _ in ms], w, yerr=[s for _, s in ms],
               color=COLORS.get(row["fusion"]), label=row["label"], capsize=3)
    for m_i, m in enumerate(metrics):
        vals = [value(r["cells"].get(m)) for r in floor if r["cells"].get(m) is not None]
        if vals:
            ax.hlines(max(vals), m_i - 0.45, m_i + 0.45, color="k", ls="--", lw=1,
                      label="best trivial predictor" if m_i == 0 else None)
    ax.set_xticks(x, ["MR mAP", "R1@0.5", "HD mAP", "HIT@1"][:len(metrics)])
    ax.set_ylabel("%")
    ax.set_title(f"synthetic set, test split ({table['profile']} profile)")
    ax.legend(fontsize=7)
    return fig


def robustness_figure(table: dict):
    """MR mAP and HD mAP vs clip noise, one line per fusion (error bars = seed std)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric, name in zip(axes, ("MR-full-mAP", "HL-min-VeryGood-mAP"), ("MR mAP", "HD mAP")):
        cols = [c for c in table["columns"] if c.startswith(metric + " @")]
        noises = [float(c.rsplit(" ", 1)[1]) for c in cols]
        for row in table["rows"]:
            ms = [_mean_std(row["cells"].get(c)) for c in cols]
            ax.errorbar(noises, [m for m, _ in ms], yerr=[s for _, s in ms], marker="o",
                        color=COLORS.get(row.get("fusion")), label=row["label"], capsize=3)
        ax.set(xlabel="clip noise (1 = default set)", ylabel=f"test {name} (%)", title=name)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"robustness to clip noise ({table['profile']} profile)", fontsize=10)
    fig.tight_layout()
    return fig


def tvsum_figure(table: dict):
    """Per-domain top-5 mAP of the honest and published-protocol rows, with references."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 3.8))
    rows = [r for r in table["rows"] if r["kind"] in ("published_protocol", "honest_std")]
    x = np.arange(len(TVSUM_DOMAINS))
    w = 0.8 / max(len(rows), 1)
    for i, row in enumerate(rows):
        vals = [_mean_std(row["cells"].get(d))[0] for d in TVSUM_DOMAINS]
        ax.bar(x + (i - (len(rows) - 1) / 2) * w, vals, w, color=COLORS.get(row["fusion"]),
               alpha=1.0 if row["kind"] == "honest_std" else 0.45,
               label=row["label"].replace(" — ", "\n"))
    for row in table["rows"]:
        if row["kind"] == "reference" and "standard" in row["label"]:
            ax.plot(x, [row["cells"][d] for d in TVSUM_DOMAINS], ls="--" if "random" in row["label"] else ":",
                    color="k", marker="_", lw=1, label=row["label"])
    ax.set_xticks(x, TVSUM_DOMAINS)
    ax.set_ylabel("top-5 mAP (%)")
    ax.set_title(f"TVSum per domain ({table['profile']} profile)")
    ax.legend(fontsize=6, ncol=3, loc="lower center", bbox_to_anchor=(0.5, -0.55))
    return fig


def ablation_figure(table: dict, metric: str = "MR-full-mAP", second: str = "HL-min-VeryGood-mAP"):
    import matplotlib.pyplot as plt
    rows = table["rows"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(rows) + 1.2), sharey=True)
    y = np.arange(len(rows))
    for ax, m in zip(axes, (metric, second)):
        ms = [_mean_std(r["cells"].get(m)) for r in rows]
        ax.barh(y, [a for a, _ in ms], xerr=[s for _, s in ms], color=["tab:red" if r["variant"] == "default"
                                                                      else "0.6" for r in rows])
        for yi, (a, _) in zip(y, ms):  # a run without a number is labelled, not left blank
            if np.isnan(a):
                ax.text(0.01, yi, "failed: no result", transform=ax.get_yaxis_transform(),
                        va="center", ha="left", fontsize=8, color="tab:red", style="italic")
        ax.set_xlabel(f"test {m} (%)")
    axes[0].set_yticks(y, [r["variant"] + (" (failed)" if np.isnan(_mean_std(r["cells"].get(metric))[0])
                                           else "") for r in rows])
    axes[0].invert_yaxis()
    fig.suptitle(f"RDMF ablations, synthetic set ({table['profile']} profile)", fontsize=10)
    fig.tight_layout()
    return fig


def bench_curves_figure(table: dict, metric: str = "val MR mAP"):
    """Val curves of every benchmark model (one line per seed), the epoch budget marked."""
    import matplotlib.pyplot as plt
    rows = [r for r in table["rows"] if r.get("val_curves")]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for i, row in enumerate(rows):
        for j, curve in enumerate(row["val_curves"]):
            xs = [k for k, v in enumerate(curve, 1) if v is not None]
            ys = [v for v in curve if v is not None]
            ax.plot(xs, ys, color=f"C{i}", lw=1, alpha=0.8, label=row["model"] if j == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title("Benchmark: val curves (one line per seed)")
    if rows:
        ax.legend(fontsize=7, ncol=2)
    return fig


def bench_figure(table: dict, metrics=("MR-full-mAP", "HL-min-VeryGood-mAP")):
    """Test metrics per model and query type (mean ± std over seeds)."""
    import matplotlib.pyplot as plt
    groups = [("all", table["rows"])] + [(t, sub["rows"]) for t, sub in table.get("by_type", {}).items()]
    fig, axes = plt.subplots(1, len(metrics), figsize=(11, 4))
    for ax, metric in zip(axes, metrics):
        models = [r["model"] for r in table["rows"]]
        width = 0.8 / max(len(groups), 1)
        for g, (name, rows) in enumerate(groups):
            cells = {r["model"]: r["cells"].get(metric) for r in rows}
            means = [_mean_std(cells.get(m))[0] for m in models]
            stds = [_mean_std(cells.get(m))[1] for m in models]
            ax.bar([i + g * width for i in range(len(models))], means, width, yerr=stds,
                   label=name, capsize=2)
        ax.set_xticks([i + width * (len(groups) - 1) / 2 for i in range(len(models))])
        ax.set_xticklabels(models, rotation=45, ha="right", fontsize=7)
        ax.set_title(metric)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def all_figures(tables: dict) -> dict:
    """name -> figure for every table that has rows with numbers."""
    out = {"07_synthetic": synthetic_figure(tables["synthetic"]),
           "07_robustness": robustness_figure(tables["robustness"]),
           "07_ablations": ablation_figure(tables["ablations"])}
    if any(r.get("domains_done") for r in tables["tvsum"]["rows"]):
        out["07_tvsum"] = tvsum_figure(tables["tvsum"])
    if "bench" in tables:
        out["07_bench"] = bench_figure(tables["bench"])
        out["07_bench_curves"] = bench_curves_figure(tables["bench"])
    return out


__all__ = ["synthetic_figure", "robustness_figure", "tvsum_figure", "ablation_figure",
           "bench_figure", "bench_curves_figure", "all_figures", "FUSION_LABELS"]
