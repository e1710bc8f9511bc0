"""Does the synthetic benchmark need temporal context? The necessity check of the generator.

Fits the floors that see one clip at a time (``per_clip``, ``per_clip_smooth``) and the temporal
references (``conv1d``, ``bigru``) with the same settings on a synthetic split and tests, with
paired bootstrap intervals over its queries:

- each floor scores at most half the MR mAP of the best temporal reference, and at least
  ``HD_GAP`` points below it on HD mAP, with paired 95 % intervals of both differences
  excluding 0;
- the best temporal reference reaches at least ``MR_LEARNABLE`` MR mAP (the task is learnable).

It runs on **val** while the generator is designed (no fusion is trained on a version before it
is frozen) and once on **test** after the freeze. :func:`run` writes
``reports/synthetic/necessity_<size>_v<version>_<split>.json``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Sequence

import numpy as np

FLOOR_MODELS = ("per_clip", "per_clip_smooth")
TEMPORAL_MODELS = ("conv1d", "bigru")
MR, HD = "MR-full-mAP", "HL-min-VeryGood-mAP"
MR_FRACTION = 0.5     # a floor's MR mAP at most this fraction of the best temporal reference's
HD_GAP = 10.0         # ... and at least this many HD mAP points below it
MR_LEARNABLE = 40.0   # the best temporal reference reaches at least this MR mAP


def _types(folder, split: str, samples) -> np.ndarray:
    from rdmf.data.synth import query_types
    types = query_types(folder, split)
    return np.array([types[s.qid] for s in samples])


def criteria(per_query: dict[str, dict[str, np.ndarray]], *, n_resamples: int = 10_000,
             seed: int = 0) -> dict:
    """The verdict of the check from per-query metrics (model -> metric -> (queries,))."""
    from .stats import paired_bootstrap
    means = {m: {k: float(np.mean(v)) for k, v in per_query[m].items()} for m in per_query}
    best = max(TEMPORAL_MODELS, key=lambda m: (means[m][MR], m))
    checks = {"best_temporal": best,
              "learnable": {"value": round(means[best][MR], 2), "threshold": MR_LEARNABLE,
                            "ok": means[best][MR] >= MR_LEARNABLE}}
    for floor in FLOOR_MODELS:
        mr = paired_bootstrap(per_query[best][MR], per_query[floor][MR], n_resamples, seed)
        hd = paired_bootstrap(per_query[best][HD], per_query[floor][HD], n_resamples, seed)
        ratio = means[floor][MR] / means[best][MR] if means[best][MR] > 0 else float("inf")
        checks[floor] = {
            "mr_ratio": round(ratio, 4), "mr_ratio_ok": ratio <= MR_FRACTION,
            "mr_gap": {k: round(float(v), 2) for k, v in mr.items()},
            "mr_interval_ok": mr["low"] > 0,
            "hd_gap": {k: round(float(v), 2) for k, v in hd.items()},
            "hd_gap_ok": hd["diff"] >= HD_GAP and hd["low"] > 0}
    checks["passed"] = bool(checks["learnable"]["ok"] and all(
        checks[f]["mr_ratio_ok"] and checks[f]["mr_interval_ok"] and checks[f]["hd_gap_ok"]
        for f in FLOOR_MODELS))
    return checks


def run(size: str = "bench", split: str = "val", *, epochs: int = 20, width: int = 128,
        lr: float = 1e-3, seed: int = 0, models: Sequence[str] = FLOOR_MODELS + TEMPORAL_MODELS,
        write: bool = True, log=print) -> dict:
    """Fit the floors and temporal references on ``size`` (train; epoch and smoother width chosen
    on val) and apply :func:`criteria` on ``split`` (``val`` or ``test``)."""
    import torch
    from rdmf.baselines.fit import FloorConfig, evaluate_rows, fit_predict
    from rdmf.data import build_dataset, synth
    from rdmf.paths import repo_root
    from rdmf.reports import write_report_json
    from .runner import per_query

    torch.set_num_threads(1)
    data = {s: build_dataset("synthetic", s, size=size) for s in ("train", "val", split)}
    train, val, evaluated = (list(data[s]) for s in ("train", "val", split))
    types = _types(data[split].folder, split, evaluated)
    config = FloorConfig(epochs=epochs, width=width, lr=lr, seed=seed)
    per_q, results = {}, {}
    for name in models:
        t0 = time.time()
        res = fit_predict(name, train, val, evaluated if split != "val" else val[:1], config=config)
        rows = res.rows["test"] if split != "val" else res.rows["val"]
        pq = per_query(rows, evaluated)
        per_q[name] = {k: np.asarray(pq[k]) for k in (MR, HD, "MR-full-R1@0.5")}
        results[name] = {"all": evaluate_rows(rows, evaluated),
                         **{t: evaluate_rows([r for r, q in zip(rows, types) if q == t],
                                             [s for s, q in zip(evaluated, types) if q == t])
                            for t in synth.QUERY_TYPES},
                         "best_epoch": res.epoch, "smooth_width": res.smooth_width,
                         "curve": [h.get(res.metric) for h in res.history],
                         "time_s": round(time.time() - t0, 1)}
        log(f"{name}: {split} MR mAP {results[name]['all'][MR]:.2f}, HD mAP "
            f"{results[name]['all'][HD]:.2f} (epoch {res.epoch}, {results[name]['time_s']:.0f} s)")
    out = {"generator_version": synth.GENERATOR_VERSION, "settings_hash": synth.settings_hash(),
           "size": size, "split": split, "n_queries": len(evaluated),
           "query_types": {t: int((types == t).sum()) for t in synth.QUERY_TYPES},
           "config": asdict(config), "results": results, "criteria": criteria(per_q)}
    if write:
        path = repo_root() / "reports" / "synthetic" / f"necessity_{size}_v{synth.GENERATOR_VERSION}_{split}.json"
        write_report_json(path, out)
        out["path"] = str(path)
    return out
