"""The benchmark's tables and verdicts: every model on synthetic v5 test, per query type, with
costs, and the paired comparisons fixed in advance.

- :func:`bench_table`: per model (fusions, floors, temporal references, rd's no-reaction
  ablation) the four headline metrics, mean ± std over seeds, overall and per query type; the
  selected grid point, parameters, training FLOPs per step and wall time; the trivial
  predictors as floor rows.
- Primary comparisons (:data:`PRIMARY`), fixed before any run: rd vs the best attention baseline
  (``cross_attention``), rd vs ``per_clip_smooth``, rd vs its no-reaction ablation, each on MR
  mAP and HD mAP, decided on its own 95 % paired bootstrap interval (10,000 resamples of test
  queries, per-query metric averaged over seeds). Every other model against rd is a secondary
  comparison, Holm-adjusted together (:mod:`rdmf.experiments.verdicts`).
- Every verdict sentence comes from :func:`rdmf.experiments.verdicts.sentence`; nothing here is
  written by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .cells import FUSION_LABELS, stat
from .protocols import bench_models, budget, deviations, shards
from .runner import PER_QUERY_METRICS, group_status, load_results
from .selection import selection_table

RD_NO_REACTION = "rd-no_reaction"
SHORT = {"MR-full-mAP": "MR mAP", "MR-full-R1@0.5": "R1@0.5", "HL-min-VeryGood-mAP": "HD mAP",
         "HL-min-VeryGood-Hit1": "HIT@1"}
PRIMARY = (("rd", "cross_attention"), ("rd", "per_clip_smooth"), ("rd", RD_NO_REACTION))
DECIDING_METRICS = ("MR-full-mAP", "HL-min-VeryGood-mAP")
MODEL_LABELS = {**FUSION_LABELS, "per_clip": "per-clip MLP (floor)",
                "per_clip_smooth": "per-clip MLP + smoother (floor)",
                "conv1d": "1-D convolution (temporal reference)",
                "bigru": "BiGRU (temporal reference)",
                RD_NO_REACTION: "RDMF without reaction (diffusion only)"}


def model_key(shard_dict: dict) -> str:
    """``rd``, ``per_clip``, ... or ``rd-<variant>`` for an ablation."""
    variant = shard_dict.get("variant", "default")
    return shard_dict["fusion"] if variant == "default" else f"{shard_dict['fusion']}-{variant}"


PLATEAU_POINTS = 1.0


def plateau_epoch(curve) -> int | None:
    """The first epoch (1-based) whose val value is within :data:`PLATEAU_POINTS` of the
    curve's best (None for an empty curve)."""
    values = [v for v in curve if v is not None]
    if not values:
        return None
    best = max(values)
    return next(i for i, v in enumerate(curve, 1) if v is not None and v >= best - PLATEAU_POINTS)


def bench_results(profile: str, results: dict | None = None) -> dict[str, list[dict]]:
    """model key -> the done ``bench`` results, by seed."""
    results = load_results(profile) if results is None else results
    out: dict[str, list[dict]] = {}
    for shard in shards(profile, "bench"):
        res = results.get(shard.id)
        if res is not None and res.get("status") == "done":
            out.setdefault(model_key(res["shard"]), []).append(res)
    return {k: sorted(v, key=lambda r: r["shard"]["seed"]) for k, v in out.items()}


def _query_types(profile: str, n: int) -> np.ndarray:
    from rdmf.data import build_dataset, synth
    b = budget(profile, "bench")
    ds = build_dataset("synthetic", "test", size=b.size)
    types = synth.query_types(ds.folder, "test")
    qids = [ds[i].qid for i in range(min(n, len(ds)))]
    return np.array([types[q] for q in qids])


def per_query_arrays(runs: dict[str, list[dict]], metric: str, seeds: list[int],
                     split: str = "test") -> dict[str, np.ndarray]:
    """model -> (seeds, queries) per-query values of ``metric`` over the given seeds."""
    out = {}
    for model, results in runs.items():
        by_seed = {r["shard"]["seed"]: r for r in results}
        if all(s in by_seed and split in by_seed[s].get("per_query", {}) for s in seeds):
            out[model] = np.array([by_seed[s]["per_query"][split][metric] for s in seeds])
    return out


def common_seeds(runs: dict[str, list[dict]], models) -> list[int]:
    sets = [{r["shard"]["seed"] for r in runs.get(m, [])} for m in models]
    return sorted(set.intersection(*sets)) if sets and all(sets) else []


def verdicts(profile: str, runs: dict[str, list[dict]] | None = None,
             n_resamples: int = 10_000) -> dict[str, Any]:
    """The comparisons of rd against every other model on the deciding metrics (overall and per
    query type) over the seeds that every compared model has finished."""
    from .verdicts import compare, sentence
    runs = bench_results(profile) if runs is None else runs
    if "rd" not in runs:
        return {"seeds": [], "comparisons": [], "sentences": [],
                "note": "no finished rd run: nothing is compared yet"}
    others = [m for m in runs if m != "rd"]
    seeds = common_seeds(runs, ["rd", *others])
    if not seeds:   # compare what has the most seeds in common with rd
        seeds = common_seeds(runs, ["rd"])
        others = [m for m in others if set(seeds) <= {r["shard"]["seed"] for r in runs[m]}]
    pairs = [("rd", m) for m in others]
    primary = [p for p in PRIMARY if p in pairs]
    out: dict[str, Any] = {"seeds": seeds, "primary_pairs": [list(p) for p in PRIMARY],
                           "missing_primary": [list(p) for p in PRIMARY if p not in pairs],
                           "comparisons": [], "sentences": [], "by_type": {}}
    if not pairs:
        return out
    n = len(runs["rd"][0]["per_query"]["test"]["qid"])
    types = _query_types(profile, n)
    for metric in DECIDING_METRICS:
        arrays = per_query_arrays(runs, metric, seeds)
        comps = compare(arrays, pairs, metric, primary, n_resamples=n_resamples, unit="test queries")
        out["comparisons"] += [c.__dict__ | {"sentence": sentence(c)} for c in comps]
        out["sentences"] += [sentence(c) for c in comps]
        for qtype in sorted(set(types)):
            mask = types == qtype
            sub = {m: a[:, mask] for m, a in arrays.items()}
            tc = compare(sub, pairs, metric, primary, n_resamples=n_resamples,
                         unit=f"{qtype} test queries")
            out["by_type"].setdefault(qtype, []).extend(sentence(c) for c in tc)
    return out


def bench_table(profile: str, results: dict | None = None, *, with_verdicts: bool = True,
                costs: bool = True) -> dict:
    """The benchmark table (see the module docstring)."""
    results = load_results(profile) if results is None else results
    from rdmf.data import synth
    b = budget(profile, "bench")
    runs = bench_results(profile, results)
    st_grid, st = group_status(profile, ["bench_grid", "bench"]).values()
    table: dict[str, Any] = {
        "title": f"Benchmark: synthetic v{synth.GENERATOR_VERSION} ({b.size}), test split, "
                 f"best-val epoch of {b.epochs}, mean ± std over seeds",
        "profile": profile, "group": "bench", "status": st, "grid_status": st_grid,
        "deviations": deviations(profile, "bench"), "label_header": "model",
        "generator_version": synth.GENERATOR_VERSION, "settings_hash": synth.settings_hash(),
        "columns": list(PER_QUERY_METRICS) + ["params", "GFLOPs/step", "time_s", "grid"],
        "notes": ["SYNTHETIC data (docs/design.md §7): v5 query types `single` and `sequence` "
                  "(\"A, then B\"); per-type tables below."],
        "rows": [], "by_type": {}, "selection": selection_table(profile, results),
        "test_evaluations": {}}
    n_test = None
    order = [*bench_models(b), *(f"rd-{v}" for v in b.rd_variants)]
    for model in order:
        done = runs.get(model, [])
        cells: dict[str, Any] = {m: stat([r["test"].get(m) for r in done]) for m in PER_QUERY_METRICS}
        if done:
            cells["params"] = done[0].get("n_params")
            cells["time_s"] = stat([r.get("time_s") for r in done])
            cells["grid"] = done[0]["shard"].get("grid")
            n_test = len(done[0]["per_query"]["test"]["qid"])
        curves = [r.get("curve") or [] for r in done]
        table["rows"].append({"label": MODEL_LABELS.get(model, model), "kind": "model",
                              "model": model, "cells": cells,
                              "seeds": [r["shard"]["seed"] for r in done],
                              "best_epochs": [r.get("best_epoch") for r in done],
                              "val_curves": curves,
                              "plateau_epoch": max((plateau_epoch(c) for c in curves if c),
                                                   default=None)})
        table["test_evaluations"][model] = _test_evaluations(profile, model, results)
    if costs and runs:
        _add_costs(profile, table)
    plateaus = [r["plateau_epoch"] for r in table["rows"] if r["plateau_epoch"] is not None]
    if plateaus:
        table["notes"].append(
            f"Epoch budget {b.epochs} for every model; the largest plateau epoch among the val "
            f"curves (first epoch within {PLATEAU_POINTS:g} point of the curve's best) is "
            f"{max(plateaus)}: " + ("every model has converged within the budget."
                                    if max(plateaus) < b.epochs else
                                    "some model may still improve at the budget's last epoch."))
    if n_test:
        types = _query_types(profile, n_test)
        for qtype in sorted(set(types)):
            mask = types == qtype
            rows = []
            for row in table["rows"]:
                done = runs.get(row["model"], [])
                rows.append({"label": row["label"], "model": row["model"], "cells": {
                    m: stat([float(np.mean(np.asarray(r["per_query"]["test"][m])[mask]))
                             for r in done]) for m in PER_QUERY_METRICS}})
            table["by_type"][qtype] = {"n_queries": int(mask.sum()), "rows": rows}
    table["trivial"] = _trivial_rows(profile)
    if with_verdicts:
        table["verdicts"] = verdicts(profile, runs)
    return table


def _test_evaluations(profile: str, model: str, results: dict) -> int:
    """How many times the test split was evaluated for ``model``: every finished grid and
    benchmark shard evaluates it once (the grid's test numbers play no part in the selection)."""
    ids = {s.id for group in ("bench_grid", "bench") for s in shards(profile, group)
           if model_key(s.to_dict()) == model}
    return sum(1 for i in ids if (results.get(i) or {}).get("test") is not None)


def _add_costs(profile: str, table: dict) -> None:
    from .costs import shard_cost
    from .runner import shard_data
    for row in table["rows"]:
        shard = next((s for s in shards(profile, "bench") if model_key(s.to_dict()) == row["model"]),
                     None)
        if shard is None:
            continue
        train, _, _ = shard_data(profile, "bench", shard)
        cost = shard_cost(profile, "bench", shard, train)
        row["cells"]["params"] = cost["n_params"]
        row["cells"]["GFLOPs/step"] = round(cost["flops_per_step"] / 1e9, 3)
        row["batch_size"] = cost["batch_size"]


def _trivial_rows(profile: str) -> list[dict]:
    from rdmf.data import build_dataset, trivial
    from rdmf.eval import evaluate_qvhighlights
    b = budget(profile, "bench")
    train = list(build_dataset("synthetic", "train", size=b.size))[:b.n_train or None]
    test = list(build_dataset("synthetic", "test", size=b.size))[:b.n_val or None]
    rows = []
    for name in trivial.PREDICTORS:
        brief = evaluate_qvhighlights(trivial.predict(name, train, test),
                                      trivial.ground_truth_rows(test))["brief"]
        rows.append({"label": f"trivial: {name}", "kind": "floor",
                     "cells": {c: brief.get(c) for c in PER_QUERY_METRICS}})
    return rows


def to_markdown(table: dict) -> str:
    """The benchmark table, its per-type tables, the selection and the verdicts as markdown."""
    from .cells import fmt
    lines = [f"### {table['title']}", "",
             f"Generator v{table['generator_version']}, settings hash `{table['settings_hash']}`. "
             f"Grid shards: {table['grid_status']['done']} of {table['grid_status']['planned']}; "
             f"benchmark shards: {table['status']['done']} of {table['status']['planned']} planned "
             "(a model is planned once its grid is complete).", ""]
    if table.get("deviations"):
        lines += ["Deviations from the published protocol: " + "; ".join(table["deviations"]) + ".", ""]
    cols = table["columns"]
    lines.append("| model | " + " | ".join(SHORT.get(c, c) for c in cols) + " |")
    lines.append("|" + "---|" * (len(cols) + 1))
    for row in table["rows"] + table.get("trivial", []):
        lines.append("| " + " | ".join([row["label"]] + [fmt(row["cells"].get(c)) for c in cols]) + " |")
    for qtype, sub in table.get("by_type", {}).items():
        lines += ["", f"Query type `{qtype}` ({sub['n_queries']} test queries):", "",
                  "| model | " + " | ".join(SHORT.get(c, c) for c in PER_QUERY_METRICS) + " |",
                  "|" + "---|" * (len(PER_QUERY_METRICS) + 1)]
        for row in sub["rows"]:
            lines.append("| " + " | ".join([row["label"]] + [fmt(row["cells"].get(c))
                                                            for c in PER_QUERY_METRICS]) + " |")
    v = table.get("verdicts")
    if v is not None:
        lines += ["", "Verdicts (generated from the numbers; primary comparisons fixed in advance, "
                  "the others Holm-adjusted):", ""]
        lines += [f"- {s}" for s in v.get("sentences", [])] or ["- " + v.get("note", "none yet")]
        for qtype, sents in v.get("by_type", {}).items():
            lines += ["", f"Query type `{qtype}`:", ""] + [f"- {s}" for s in sents]
        if v.get("missing_primary"):
            lines += ["", "Primary comparisons not yet possible (runs missing): "
                      + ", ".join(f"{a} vs {b}" for a, b in v["missing_primary"]) + "."]
    lines += ["", "Selected grid points (val MR mAP at the best-val epoch, seed 0): "
              + "; ".join(f"{m} {v['selected'] or 'grid unfinished'}"
                          for m, v in table["selection"]["models"].items()) + "."]
    lines += ["", f"Test evaluations per model: {table['test_evaluations']} (every finished grid "
              "and benchmark shard evaluates test once; selection uses val only)."]
    for note in table.get("notes", []):
        lines += ["", note]
    return "\n".join(lines) + "\n"
