"""Annotation statistics: the numbers the synthetic generator copies from QVHighlights, computed
the same way for any QVHighlights-layout annotation file or any data set of samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rdmf.io import read_jsonl


def qvhighlights_stats(rows_or_path) -> dict:
    """Statistics of QVHighlights-layout annotation rows (or a jsonl path).

    Returns counts, duration summary, moments per query (mean and histogram 1, 2, >=3), moment
    lengths (mean, median, all values), saliency marginal over relevant clips (P(score=k), k=0..4),
    mean inter-annotator correlation and the relevant fraction of clips.
    """
    rows = read_jsonl(rows_or_path) if isinstance(rows_or_path, (str, Path)) else list(rows_or_path)
    rows = [r for r in rows if r.get("relevant_windows")]
    durations = np.array([float(r["duration"]) for r in rows])
    n_mom = np.array([len(r["relevant_windows"]) for r in rows])
    lengths = np.array([w[1] - w[0] for r in rows for w in r["relevant_windows"]], float)
    scores = np.array([s for r in rows for s in r.get("saliency_scores", [])], float)
    corr = float("nan")
    marginal = [float("nan")] * 5
    if len(scores):
        c = np.corrcoef(scores.T)
        corr = float(np.mean([c[i, j] for i in range(3) for j in range(i + 1, 3)]))
        marginal = (np.bincount(scores.astype(int).ravel(), minlength=5)[:5] / scores.size).tolist()
    rel = np.mean([len(r.get("relevant_clip_ids", [])) / (float(r["duration"]) / 2) for r in rows])
    return {
        "queries": len(rows), "windows": int(n_mom.sum()),
        "duration_mean_s": float(durations.mean()),
        "duration_150_fraction": float(np.mean(durations == 150)),
        "moments_per_query_mean": float(n_mom.mean()),
        "moments_per_query_hist": [float(np.mean(n_mom == 1)), float(np.mean(n_mom == 2)),
                                   float(np.mean(n_mom >= 3))],
        "moment_len_mean_s": float(lengths.mean()), "moment_len_median_s": float(np.median(lengths)),
        "moment_lengths_s": lengths,
        "saliency_marginal": marginal, "saliency_mean": float(scores.mean()) if len(scores) else float("nan"),
        "annotator_corr": corr, "relevant_fraction": float(rel),
    }


def dataset_stats(ds) -> dict:
    """Summary of a data set of samples: sizes, dimensions, lengths, labels."""
    samples = [ds[i] for i in range(len(ds))]
    if not samples:
        return {"samples": 0}
    clips = np.array([s.num_clips for s in samples])
    out = {
        "samples": len(samples),
        "video_dim": samples[0].video_feats.shape[1],
        "text_dim": samples[0].text_feats.shape[1],
        "clips_mean": round(float(clips.mean()), 2), "clips_min": int(clips.min()),
        "clips_max": int(clips.max()),
        "duration_mean_s": round(float(np.mean([s.duration_s for s in samples])), 2),
        "text_tokens_mean": round(float(np.mean([s.text_feats.shape[0] for s in samples])), 2),
    }
    n_win = np.array([len(s.windows_s) for s in samples])
    if n_win.any():
        lengths = np.concatenate([s.windows_s[:, 1] - s.windows_s[:, 0] for s in samples])
        out.update(moments_per_query=round(float(n_win.mean()), 3),
                   moment_len_mean_s=round(float(lengths.mean()), 2))
    sal = [s.saliency for s in samples if s.saliency is not None]
    if sal:
        out["annotators"] = int(sal[0].shape[1])
        out["saliency_mean"] = round(float(np.mean(np.concatenate(sal))), 3)
    return out
