"""The benchmark protocol: grid → selection on val → seeds; floors as shards with per-query
metrics; the necessity criteria; the benchmark table's verdicts come from the numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rdmf.experiments import necessity, protocols as P, runner, selection
from rdmf.experiments.bench_tables import PRIMARY, bench_results, verdicts


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "generated_data_dir", lambda: tmp_path / "data")
    monkeypatch.setattr(runner, "reports_dir", lambda profile: tmp_path / "reports" / profile)
    return tmp_path


def test_every_model_has_the_same_grid_and_the_bench_waits_for_it():
    b = P.budget("paper", "bench_grid")
    grid = P.shards("paper", "bench_grid")
    assert len(grid) == len(b.models) * len(b.grid["lr"]) * len(b.grid["width"])
    for model in b.models:
        assert sorted(s.grid for s in grid if s.fusion == model) == sorted(P.grid_points(b))
    assert P.parse_grid_point("lr0.0003-w128") == {"lr": 3e-4, "width": 128}
    with pytest.raises(ValueError, match="grid point"):
        P.parse_grid_point("w64")


def _fake_result(shard, val):
    return {"shard": shard.to_dict(), "status": "done", "best": {"MR-full-mAP": val},
            "data_version": runner.data_version(shard)}


def test_selection_uses_val_only_and_needs_the_whole_grid(monkeypatch):
    grid = P.shards("paper", "bench_grid")
    results = {}
    for i, s in enumerate(grid):
        if s.fusion == "bigru":
            results[s.id] = _fake_result(s, 10.0 + (s.grid == "lr0.003-w64"))
            results[s.id]["test"] = {"MR-full-mAP": 99.0 if s.grid == "lr0.001-w64" else 0.0}
        elif s.fusion == "rd" and i % 2:
            results[s.id] = _fake_result(s, 5.0)
    chosen = selection.selected_points("paper", results)
    assert chosen == {"bigru": "lr0.003-w64"}          # rd's grid is unfinished: not selected
    monkeypatch.setattr(P, "selected_points", lambda profile, results=None: chosen)
    bench = P.shards("paper", "bench")
    assert {s.fusion for s in bench} == {"bigru"} and len(bench) == len(P.budget("paper", "bench").seeds)
    assert all(s.grid == "lr0.003-w64" for s in bench)


@pytest.mark.slow
def test_a_floor_shard_stores_per_query_metrics_that_average_to_its_brief(isolated, monkeypatch):
    tiny = dataclasses.replace(P.BUDGETS["ci"]["bench_grid"], epochs=1, n_train=24, n_val=12)
    monkeypatch.setitem(P.BUDGETS["ci"], "bench_grid", tiny)
    shard = next(s for s in P.shards("ci", "bench_grid") if s.fusion == "per_clip_smooth")
    res = runner.run_shard("ci", "bench_grid", shard)
    assert res["status"] == "done" and res["best_epoch"] == 1 and res["n_params"] > 0
    assert res["smooth_width"] in res["config"]["floor"]["smooth_widths"]
    for split, brief in (("val", res["best"]), ("test", res["test"])):
        pq = res["per_query"][split]
        assert len(pq["qid"]) == 12
        for metric in runner.PER_QUERY_METRICS:
            assert round(float(np.mean(pq[metric])), 2) == pytest.approx(brief[metric], abs=0.006)
    stored = isolated / "reports" / "ci" / "shards" / shard.id / "result.json"
    assert stored.is_file()


def _pq(values):
    return {"MR-full-mAP": np.asarray(values[0], float),
            "HL-min-VeryGood-mAP": np.asarray(values[1], float)}


def test_necessity_criteria_pass_and_fail_for_the_stated_reasons():
    rng = np.random.default_rng(0)
    n = 400
    strong = _pq([rng.uniform(40, 60, n), rng.uniform(45, 55, n)])
    weak = _pq([rng.uniform(5, 25, n), rng.uniform(25, 35, n)])
    per_query = {"per_clip": weak, "per_clip_smooth": weak, "conv1d": strong,
                 "bigru": _pq([rng.uniform(0, 10, n), rng.uniform(0, 10, n)])}
    verdict = necessity.criteria(per_query, n_resamples=2000)
    assert verdict["passed"] and verdict["best_temporal"] == "conv1d"
    # a smoother that closes the HD gap fails the check, and says which part
    per_query["per_clip_smooth"] = _pq([rng.uniform(5, 25, n), rng.uniform(42, 52, n)])
    verdict = necessity.criteria(per_query, n_resamples=2000)
    assert not verdict["passed"] and not verdict["per_clip_smooth"]["hd_gap_ok"]
    assert verdict["per_clip"]["hd_gap_ok"]
    # an unlearnable task fails whatever the floors do
    low = {k: _pq([v["MR-full-mAP"] * 0.5, v["HL-min-VeryGood-mAP"]]) for k, v in per_query.items()}
    assert not necessity.criteria(low, n_resamples=2000)["learnable"]["ok"]


def test_verdicts_compare_rd_with_every_model_and_mark_the_primary_pairs(monkeypatch):
    rng = np.random.default_rng(1)
    n, seeds = 60, (0, 1)
    runs = {}
    for model, shift in (("rd", 5.0), ("cross_attention", 0.0), ("per_clip_smooth", -20.0),
                         ("rd-no_reaction", 4.9), ("conv1d", 5.0)):
        fusion, _, variant = model.partition("-")
        runs[model] = [{"shard": {"fusion": fusion, "variant": variant or "default", "seed": s},
                        "per_query": {"test": {"qid": list(range(n)),
                                               "MR-full-mAP": list(rng.uniform(20, 40, n) + shift),
                                               "HL-min-VeryGood-mAP": list(rng.uniform(20, 40, n) + shift)}}}
                       for s in seeds]
    from rdmf.experiments import bench_tables
    monkeypatch.setattr(bench_tables, "_query_types",
                        lambda profile, k: np.array(["single", "sequence"] * (k // 2)))
    out = verdicts("paper", runs, n_resamples=2000)
    assert out["seeds"] == [0, 1] and out["missing_primary"] == []
    primary = [c for c in out["comparisons"] if c["primary"]]
    assert {(c["model_a"], c["model_b"]) for c in primary} == set(PRIMARY)
    assert all(c["p_adjusted"] is not None for c in out["comparisons"] if not c["primary"])
    text = " ".join(out["sentences"])
    assert "rd wins over per_clip_smooth on MR mAP" in text
    assert set(out["by_type"]) == {"single", "sequence"}
    for c in out["comparisons"]:
        assert ("wins" in c["sentence"]) == (c["low"] > 0 or c["high"] < 0) or "no decided" in c["sentence"]


def test_bench_results_group_by_model_and_seed(monkeypatch):
    shards = [P.Shard("synthetic", "rd", s, grid="lr0.001-w64", tag="bench") for s in (1, 0)]
    monkeypatch.setattr("rdmf.experiments.bench_tables.shards", lambda profile, group: shards)
    results = {s.id: {"shard": s.to_dict(), "status": "done"} for s in shards}
    out = bench_results("paper", results)
    assert [r["shard"]["seed"] for r in out["rd"]] == [0, 1]


def test_plateau_epoch_is_the_first_within_one_point_of_the_best():
    from rdmf.experiments.bench_tables import plateau_epoch
    assert plateau_epoch([10.0, 20.0, 29.5, 30.0, 29.0]) == 3
    assert plateau_epoch([None, 5.0]) == 2 and plateau_epoch([]) is None


def test_costs_count_parameters_and_training_flops_of_every_model():
    from rdmf.experiments.costs import gru_flops, shard_cost
    from rdmf.experiments.runner import shard_data
    grid = P.shards("ci", "bench_grid")
    train, _, _ = shard_data("ci", "bench_grid", grid[0])
    costs = {s.fusion: shard_cost("ci", "bench_grid", s, train[:16]) for s in grid}
    assert all(c["n_params"] > 0 and c["flops_per_step"] > 0 for c in costs.values())
    assert costs["per_clip"] == costs["per_clip_smooth"]          # the smoother has no weights
    assert costs["conv1d"]["flops_per_step"] > costs["per_clip"]["flops_per_step"]
    assert gru_flops(2, 10, 8) == 2 * gru_flops(1, 10, 8)
