"""What notebook 05 computes and draws: per-profile settings, the trivial-predictor table, the
synthetic-vs-real statistics table and the sample plots."""

from __future__ import annotations

import numpy as np

from rdmf.profiles import profile_settings

TABLE_KEYS = ("MR-full-mAP", "MR-full-R1@0.5", "MR-full-R1@0.7", "HL-min-VeryGood-mAP",
              "HL-min-VeryGood-Hit1")


def settings(profile: str) -> dict:
    """Notebook 05's settings of ``profile`` (:data:`rdmf.profiles.PROFILES`)."""
    return profile_settings(profile, "data")


def trivial_table(train, val, gt_rows) -> dict:
    """Official metrics (brief) of every trivial predictor: ``{name: {metric: value}}``."""
    from rdmf.eval import evaluate_qvhighlights

    from . import trivial
    out = {}
    for name in trivial.PREDICTORS:
        brief = evaluate_qvhighlights(trivial.predict(name, train, val), gt_rows)["brief"]
        out[name] = {key: brief[key] for key in TABLE_KEYS}
    return out


def markdown_table(table: dict, keys=TABLE_KEYS) -> str:
    lines = ["| predictor | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[k]:.2f}" for k in keys) + " |")
    return "\n".join(lines)


def compare_stats(synthetic: dict, real: dict | None, frozen: dict) -> list[tuple]:
    """Rows ``(statistic, synthetic, real train, frozen constant)`` for printing."""
    keys = [("queries", "queries"), ("duration mean (s)", "duration_mean_s"),
            ("fraction of 150-s videos", "duration_150_fraction"),
            ("moments per query", "moments_per_query_mean"),
            ("moment length mean (s)", "moment_len_mean_s"),
            ("moment length median (s)", "moment_len_median_s"),
            ("saliency mean (relevant clips)", "saliency_mean"),
            ("inter-annotator correlation", "annotator_corr"),
            ("relevant fraction of clips", "relevant_fraction")]
    rows = []
    for label, key in keys:
        rows.append((label, synthetic[key], None if real is None else real[key], frozen.get(key)))
    return rows


def plot_sample(sample, axes, *, scores=None, title: str = "") -> None:
    """Three stacked panels over time: features (first 64 dims), saliency (mean over
    annotators) with the ground-truth windows shaded, and optional per-clip scores."""
    t = sample.clip_times_s.mean(1)
    ax0, ax1 = axes[0], axes[1]
    feats = sample.video_feats[:, :64].T
    ax0.imshow(feats, aspect="auto", cmap="RdBu_r", interpolation="nearest",
               extent=[sample.clip_times_s[0, 0], sample.clip_times_s[-1, 1], 64, 0],
               vmin=-np.abs(feats).max(), vmax=np.abs(feats).max())
    ax0.set_ylabel("feature dim")
    ax0.set_title(title, fontsize=9)
    if sample.saliency is not None:
        ax1.plot(t, sample.saliency.mean(1), color="C1", label="saliency (mean)")
    for a, b in sample.windows_s:
        for ax in axes:
            ax.axvspan(a, b, color="C2", alpha=0.2, lw=0)
    ax1.set_ylabel("saliency")
    if scores is not None and len(axes) > 2:
        axes[2].plot(t, scores, color="C0")
        axes[2].set_ylabel("clip score")
    axes[-1].set_xlabel("time (s)")
