"""Experiments: protocols, shard runner, tables, analysis helpers, README block."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from rdmf.experiments import protocols as P
from rdmf.experiments import runner, tables
from rdmf.experiments.analysis import (classify_channel, field_trajectories, learned_kinetics)
from rdmf.experiments.perf import gpu_benchmarks, is_gpu_record, rd_step_cost
from rdmf.experiments.readme import END, START, check_readme, render, update_readme


# --- protocols ---------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["ci", "default", "paper"])
def test_shard_ids_unique_and_same_budget_for_every_fusion(profile):
    for group in P.GROUPS:
        ids = [s.id for s in P.shards(profile, group)]
        assert len(ids) == len(set(ids)), (profile, group)
    for group in ("synthetic", "tvsum", "robustness"):
        by_fusion = {}
        for shard in P.shards(profile, group)[:3]:
            cfg = P.shard_config(profile, group, shard).replace(fusion="rd")
            by_fusion[shard.fusion] = cfg
        first = next(iter(by_fusion.values()))
        assert all(c == first for c in by_fusion.values()), (profile, group)


def test_ablation_variants_change_only_their_switch():
    from rdmf.train.config import flatten, to_dict
    base = flatten(to_dict(P.shard_config("paper", "ablations", P.Shard("synthetic", "rd", 0))))
    for variant, overrides in P.ABLATIONS.items():
        cfg = flatten(to_dict(P.shard_config("paper", "ablations",
                                             P.Shard("synthetic", "rd", 0, variant=variant))))
        for key, value in overrides.items():
            assert cfg[key] == (list(value) if isinstance(value, tuple) else value)
        changed = set(overrides) | {"model.rd.explicit_on_violation"}
        assert {k for k in cfg if cfg[k] != base[k]} <= changed


def test_shard_id_encodes_every_axis():
    s = P.Shard("tvsum", "cross_attention", 2017, domain="BK", fold="loo2")
    assert s.id == "tvsum_BK_loo2_cross_attention_seed2017"
    assert P.Shard("synthetic", "rd", 1, variant="K4", noise=2.0).id == "synthetic_noise2_rd-K4_seed1"


def test_paper_profile_states_its_deviations():
    for group in P.GROUPS:
        assert P.deviations("paper", group), group
    assert any("2000" in d for d in P.deviations("paper", "tvsum"))


def test_bad_group_profile_and_variant_are_clear_errors():
    with pytest.raises(ValueError, match="experiment group"):
        P.shards("ci", "qvhighlights")
    with pytest.raises(ValueError, match="profile"):
        P.shards("huge", "synthetic")
    with pytest.raises(ValueError, match="ablation variant"):
        P.shard_config("ci", "ablations", P.Shard("synthetic", "rd", 0, variant="nope"))
    with pytest.raises(ValueError, match="--part"):
        runner.select("ci", "synthetic", part=(2, 2))


def test_select_by_pattern_and_part():
    all_ = runner.select("paper", "tvsum")
    std = runner.select("paper", "tvsum", ["*_std_*"])
    assert len(std) == 30 and all(s.fold == "std" for s in std)
    parts = [runner.select("paper", "tvsum", part=(i, 3)) for i in range(3)]
    assert sorted(s.id for p in parts for s in p) == sorted(s.id for s in all_)


# --- TVSum folds and references (real data) ----------------------------------------------------
def test_tvsum_leave_one_video_out_folds(real_data_root):
    if not (real_data_root / "tvsum" / "tvsum_anno.json").is_file():
        pytest.skip("no TVSum in the data root")
    vals, trains = [], []
    for fold in ("std", "loo0", "loo1", "loo2", "loo3"):
        train, val = runner.tvsum_fold("BK", fold, str(real_data_root))
        assert len(train) == 4 and len(val) == 1
        assert val[0].vid not in {s.vid for s in train}
        vals.append(val[0].vid)
        trains.append({s.vid for s in train})
    assert len(set(vals)) == 5                         # every video is the val video once
    assert all(t | {v} == trains[0] | {vals[0]} for t, v in zip(trains, vals))
    with pytest.raises(ValueError, match="loo"):
        runner.tvsum_fold("BK", "loo4", str(real_data_root))


def test_tvsum_reference_rankings_match_design(real_data_root):
    from rdmf.experiments.references import tvsum_reference_rankings
    if not (real_data_root / "tvsum" / "tvsum_anno.json").is_file():
        pytest.skip("no TVSum in the data root")
    ref = tvsum_reference_rankings(real_data_root, n_random=30)
    assert round(ref["consensus"]["Avg"], 1) == 84.3          # docs/design.md §6
    assert 38 < ref["random"]["Avg"] < 46                     # docs/design.md §6: 42.1


# --- runner ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_run_shard_writes_result_and_skips_when_done(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "generated_data_dir", lambda: tmp_path / "data")
    monkeypatch.setattr(runner, "reports_dir", lambda profile: tmp_path / "reports" / profile)
    import dataclasses
    tiny = dataclasses.replace(P.BUDGETS["ci"]["synthetic"], epochs=1, n_train=16, n_val=8)
    monkeypatch.setitem(P.BUDGETS["ci"], "synthetic", tiny)
    shard = P.shards("ci", "synthetic")[0]
    res = runner.run_shard("ci", "synthetic", shard)
    assert res["status"] == "done" and res["epochs"] == P.budget("ci", "synthetic").epochs
    stored = tmp_path / "reports" / "ci" / "shards" / shard.id
    assert {p.name for p in stored.iterdir()} >= {"result.json", "config.yaml", "metrics.jsonl"}
    assert set(tables.SYNTH_COLUMNS) <= set(res["test"])
    assert not (tmp_path / "data" / "runs" / "ci" / shard.id / "last.ckpt").exists()

    def boom(*a, **k):
        raise AssertionError("a finished shard must not train again")
    monkeypatch.setattr("rdmf.train.train", boom)
    again = runner.run_shard("ci", "synthetic", shard)
    assert again == json.loads((stored / "result.json").read_text())

    # a forced re-run that is not recorded (a checkpoint for plots) leaves the stored result
    monkeypatch.undo()
    monkeypatch.setattr(runner, "generated_data_dir", lambda: tmp_path / "data")
    monkeypatch.setattr(runner, "reports_dir", lambda profile: tmp_path / "reports" / profile)
    monkeypatch.setitem(P.BUDGETS["ci"], "synthetic", tiny)
    before = {p.name: p.read_bytes() for p in stored.iterdir()}
    redo = runner.run_shard("ci", "synthetic", shard, force=True, record=False,
                            keep_checkpoints=True)
    assert redo["status"] == "done"
    assert {p.name: p.read_bytes() for p in stored.iterdir()} == before
    assert (tmp_path / "data" / "runs" / "ci" / shard.id / "best.ckpt").is_file()


def test_second_acquirer_of_a_shard_lock_is_busy_until_the_first_releases(tmp_path):
    first = runner.acquire_shard_lock(tmp_path / "shard")
    assert first is not None
    assert runner.acquire_shard_lock(tmp_path / "shard") is None   # same process, other holder
    probe = ("import sys; from pathlib import Path; from rdmf.experiments import runner; "
             "print(runner.acquire_shard_lock(Path(sys.argv[1])) is None)")
    other = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "shard")],
                           capture_output=True, text=True, check=True)
    assert other.stdout.strip() == "True"                          # another process
    first.release()
    second = runner.acquire_shard_lock(tmp_path / "shard")
    assert second is not None
    second.release()


def test_run_shard_returns_none_while_another_holder_has_the_shard(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "generated_data_dir", lambda: tmp_path / "data")
    monkeypatch.setattr(runner, "reports_dir", lambda profile: tmp_path / "reports" / profile)
    shard = P.shards("ci", "synthetic")[0]
    held = runner.acquire_shard_lock(runner.run_dir("ci", shard))

    def boom(*a, **k):
        raise AssertionError("a busy shard must not train")
    monkeypatch.setattr(runner, "shard_config", boom)
    assert runner.run_shard("ci", "synthetic", shard) is None
    held.release()


# --- tables ------------------------------------------------------------------------------------
def test_stat_mean_and_sample_std():
    assert tables.stat([1.0, 2.0, 3.0]) == {"mean": 2.0, "std": 1.0, "n": 3}
    assert tables.stat([5.0, None]) == {"mean": 5.0, "std": 0.0, "n": 1}
    assert tables.stat([None]) is None
    assert tables.fmt({"mean": 2.0, "std": 1.0, "n": 3}) == "2.00 ± 1.00"
    assert tables.fmt(None) == "–"


def _fake_result(shard, value, epochs=3):
    brief = {k: value for k in tables.SYNTH_COLUMNS}
    return {"status": "done", "shard": shard.to_dict(), "test": brief,
            "best": {"top5-mAP": value + 10, "mAP": value + 10}, "last": {"top5-mAP": value, "mAP": value},
            "history": [], "time_s": 1.0}


def test_synthetic_table_mean_std_over_seeds():
    results = {s.id: _fake_result(s, 10.0 + s.seed) for s in P.shards("paper", "synthetic_short")}
    t = tables.synthetic_table("paper", results, with_trivial=False, group="synthetic_short")
    rd = next(r for r in t["rows"] if r.get("fusion") == "rd")
    assert rd["cells"]["MR-full-mAP"] == {"mean": 11.0, "std": 1.0, "n": 3}
    md = tables.to_markdown(t)
    assert "11.00 ± 1.00" in md and "Deviations" in md


def test_tvsum_table_rows_and_gap():
    results = {s.id: _fake_result(s, 50.0) for s in P.shards("default", "tvsum")}
    t = tables.tvsum_table("default", results)
    row = next(r for r in t["rows"] if r.get("kind") == "honest_std" and r["fusion"] == "rd")
    pub = next(r for r in t["rows"] if r.get("kind") == "published_protocol" and r["fusion"] == "rd")
    assert row["cells"]["Avg"] == 50.0 and pub["cells"]["Avg"] == 60.0
    assert t["gap_to_best_published"]["gaps"][row["label"]] == round(50.0 - 88.1, 2)
    assert any(r["kind"] == "published" and r["cells"]["Avg"] == 88.1 for r in t["rows"])


# --- analysis ----------------------------------------------------------------------------------
def test_classify_channel_agrees_with_the_theory_map():
    from rdmf.theory import HOPF, HOPF_TURING, NO_STATE, STABLE, TURING, classify_fk
    names = {NO_STATE: "monostable", STABLE: "bistable", TURING: "Turing-capable",
             HOPF: "Hopf-unstable", HOPF_TURING: "Hopf-unstable"}
    rng = np.random.default_rng(0)
    for _ in range(150):
        F, k = rng.uniform(0.005, 0.1), rng.uniform(0.01, 0.07)
        sigma = float(rng.choice([2.0, 5.0, 10.0]))
        code = int(classify_fk(F, k, sigma))
        assert classify_channel(F, k, 0.2, 0.2 / sigma) == names[code], (F, k, sigma)
    assert classify_channel(0.04, 0.07, 0.2, 0.1) == "monostable"   # k > sqrt(F)/2 - F = 0.06


def _tiny_rd_model(**kw):
    from rdmf.model import build_model
    from rdmf.train.config import preset
    cfg = preset("synthetic", hidden=16, heads=2, ffn_dim=32, video_dim=12, text_dim=8,
                 rd_channels=4, num_queries=3, progress=False, **kw)
    torch.manual_seed(0)
    return build_model(cfg.model).eval()


def _samples(n=2, L=9):
    from rdmf.data.sample import Sample
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = np.arange(L, dtype=np.float32) * 2
        out.append(Sample(qid=i, vid=f"v{i}", query="q", video_feats=rng.standard_normal((L - i, 12)).astype(np.float32),
                          text_feats=rng.standard_normal((4, 8)).astype(np.float32),
                          duration_s=float(2 * (L - i)), clip_times_s=np.stack([t, t + 2], 1)[: L - i],
                          saliency=np.zeros((L - i, 3), np.float32), windows_s=np.array([[2.0, 6.0]], np.float32)))
    return out


def test_field_trajectories_end_in_the_forward_pass_fields():
    from rdmf.data.sample import collate
    model = _tiny_rd_model()
    samples = _samples()
    fields = field_trajectories(model, samples)
    assert fields["u"].shape == (9, 2, 4, 9)              # K + 1 steps, B, C, L
    batch = collate(samples)
    with torch.no_grad():
        x, t = model.video_proj(batch.video), model.text_proj(batch.text)
        _, ref = model.fusion.rd(x, batch.video_mask, t, batch.text_mask, return_fields=True)
    np.testing.assert_allclose(fields["u"][-1], ref["u"].numpy(), atol=1e-6)
    np.testing.assert_allclose(fields["v"][-1], ref["v"].numpy(), atol=1e-6)
    np.testing.assert_allclose(fields["v"][0], ref["v0"].numpy(), atol=1e-6)


def test_learned_kinetics_scales_and_errors():
    model = _tiny_rd_model()
    kin = learned_kinetics(model, _samples())
    np.testing.assert_allclose(kin["T(F+k)"], kin["T"] * (kin["F"] + kin["k"]), rtol=1e-6)
    np.testing.assert_allclose(kin["diffusion_length"], np.sqrt(2 * kin["Du"] * kin["T"]), rtol=1e-6)
    assert kin["T"] == pytest.approx(8 * kin["dt"])
    assert len(kin["class"]) == 4
    with pytest.raises(ValueError, match="only an RDMF model"):
        learned_kinetics(_tiny_rd_model(fusion="concat"))


# --- perf --------------------------------------------------------------------------------------
def test_rd_step_cost_rows_and_gpu_record_filter(tmp_path):
    rows = rd_step_cost((1, 2), batch=2, channels=2, clips=5, repeats=1)
    assert [r["K"] for r in rows] == [1, 2] and all(r["forward_s"] > 0 for r in rows)
    assert is_gpu_record({"device": "cuda:0"}) and is_gpu_record({"gpu": "NVIDIA H100"})
    assert not is_gpu_record({"device": "cpu"}) and not is_gpu_record([1])
    (tmp_path / "cpu.json").write_text(json.dumps({"device": "cpu"}))
    (tmp_path / "gpu.json").write_text(json.dumps({"device": "cuda", "gpu": "H100"}))
    assert [e["file"] for e in gpu_benchmarks(tmp_path)] == ["gpu.json"]


# --- README block ------------------------------------------------------------------------------
def _headline():
    cell = {"mean": 12.5, "std": 0.5, "n": 3}
    bench = {"title": "Benchmark: synthetic v5 (bench), test split", "generator_version": "5",
             "settings_hash": "abc", "status": {"done": 3, "failed": 0, "planned": 40},
             "grid_status": {"done": 21, "failed": 0, "planned": 21},
             "models": {"rd": {"MR-full-mAP": cell, "HL-min-VeryGood-mAP": cell}},
             "labels": {"rd": "RDMF (rd)"}, "by_type": {}, "trivial_best_mr": 7.7,
             "verdicts": ["rd wins over x on MR mAP: +1.00 [+0.50, +1.50] (...)."],
             "missing_primary": []}
    return {"profile": "paper", "bench": bench,
            "status": {"synthetic": {"done": 9, "failed": 0, "planned": 9}},
            "synthetic": {f: {"MR-full-mAP": cell, "HL-min-VeryGood-mAP": cell}
                          for f in ("rd", "concat", "cross_attention")},
            "tvsum": {"rd/honest_std": {"Avg": 60.0, "domains_done": 10}},
            "tvsum_best_published": ["TR-DETR", 88.1], "tvsum_references": {},
            "youtube": {}, "deviations": {"synthetic": ["12 epochs"]}}


def test_readme_block_check_fails_when_numbers_differ(tmp_path, monkeypatch):
    import rdmf.experiments.readme as R
    monkeypatch.setattr(R, "generate", lambda profile="paper": render(_headline()))
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nintro\n")
    update_readme("paper", readme)
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n") and START in text and END in text
    assert "12.50 ± 0.50" in text and "60.00" in text and "rd wins over x" in text
    assert check_readme("paper", readme)[0]
    readme.write_text(text.replace("60.00", "61.00"))
    ok, message = check_readme("paper", readme)
    assert not ok and "differs" in message
    update_readme("paper", readme)                   # rewrites only the block
    assert readme.read_text() == text


def test_repository_readme_matches_reports():
    """The README's headline numbers are the ones in reports/paper/tables/headline.json."""
    from rdmf.experiments.readme import headline_path
    if not headline_path("paper").is_file():
        pytest.fail("reports/paper/tables/headline.json is missing: run `rdmf experiments tables "
                    "--profile paper` and `rdmf experiments readme`")
    ok, message = check_readme("paper")
    assert ok, message


def test_synthetic_results_of_another_generator_version_are_stale():
    from rdmf.data import synth
    shard = P.Shard("synthetic", "rd", 0)
    assert runner.is_stale({"shard": shard.to_dict(), "data_version": "0"})
    assert not runner.is_stale({"shard": shard.to_dict(), "data_version": str(synth.GENERATOR_VERSION)})
    tv = P.Shard("tvsum", "rd", 0, domain="BK", fold="std")
    assert not runner.is_stale({"shard": tv.to_dict(), "data_version": None})


def test_ablation_summary_is_computed_from_the_cells():
    from rdmf.experiments.tables import ablation_summary
    def cell(m, n=1):
        return {"mean": m, "std": 0.0, "n": n}
    table = {"rows": [
        {"label": "RDMF (semi-implicit)", "variant": "default", "cells": {"MR-full-mAP": cell(23.6)}},
        {"label": "no reaction (diffusion only)", "variant": "no_reaction",
         "cells": {"MR-full-mAP": cell(28.56)}},
        {"label": "K = 4", "variant": "K4", "cells": {"MR-full-mAP": cell(20.0)}},
        {"label": "explicit Euler (FAILED: StabilityError)", "variant": "explicit_euler",
         "cells": {"MR-full-mAP": None}, "failed": ["StabilityError"]},
    ]}
    text = ablation_summary(table)
    assert "Full layer: MR-full-mAP 23.60 (1 seed)." in text
    assert "Best variant: no reaction, 28.56 against the full layer's 23.60." in text
    assert "Above the full layer: no reaction 28.56 (+4.96)." in text
    assert "K = 4 20.00 (-3.60)" in text and "Failed (no number): explicit Euler." in text
    assert "no spread estimate" in text
    table["rows"][1]["cells"]["MR-full-mAP"] = cell(10.0)
    assert "No variant beats the full layer." in ablation_summary(table)


def test_ablation_figure_labels_failed_runs():
    import matplotlib.pyplot as plt

    from rdmf.experiments.plots import ablation_figure
    table = {"profile": "ci", "rows": [
        {"label": "full", "variant": "default", "cells": {"MR-full-mAP": {"mean": 20.0, "std": 0.0},
                                                          "HL-min-VeryGood-mAP": {"mean": 40.0, "std": 0.0}}},
        {"label": "explicit", "variant": "explicit_euler", "cells": {}, "failed": ["x"]}]}
    fig = ablation_figure(table)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["default", "explicit_euler (failed)"]
    assert sum(t.get_text() == "failed: no result" for ax in fig.axes for t in ax.texts) == 2
    plt.close(fig)


def _diagnosed_model(**changes):
    from rdmf.model import build_model
    from rdmf.train.config import run_config
    torch.manual_seed(0)
    return build_model(run_config(fusion="rd", hidden=32, heads=4, ffn_dim=64, rd_channels=6,
                                  video_dim=16, text_dim=8, **changes).model)


def test_rd_diagnostics_on_a_tiny_model():
    from rdmf.experiments import analysis as A
    from rdmf.train.toy import toy_samples
    samples = toy_samples(3, seed=0)
    model = _diagnosed_model()
    r2 = A.affine_r2(model, samples)
    assert r2.shape == (3,) and np.all((r2 <= 1 + 1e-9) & (r2 > -1))
    # without reaction, v_K IS the linearly diffused v0: R² = 1
    assert np.allclose(A.affine_r2(_diagnosed_model(rd_reaction=False), samples), 1.0, atol=1e-6)
    reaches = A.learned_reaches(model)
    assert np.allclose(reaches["u"], np.geomspace(1, 16, 6), rtol=1e-4)
    assert np.allclose(reaches["v"], reaches["u"] / np.sqrt(2), rtol=1e-4)
    kin = A.effective_kinetics(model, samples)
    assert kin["F"].shape == (3, 6) and len(kin["F_clips"]) == 3
    assert kin["F_clips"][1].shape == (6, samples[1].num_clips)
    assert np.all(kin["T(F+k)"] > 4)
    flash = A.flash_response(model, run=8)
    assert flash["single"].shape == (6,) and np.all(flash["none"] == 0)
    # the long-reach channels dissolve an isolated seed but keep a run of seeds
    assert flash["ratio"][-1] > 10 and flash["run"][-1] > 0.2
    fields = A.field_trajectories(model, samples)
    assert fields["u"].shape[0] == model.fusion.rd.steps + 1
    with pytest.raises(ValueError, match="run"):
        A.flash_response(model, run=0)


def test_rd_diagnostics_summary_holds_every_diagnostic():
    from rdmf.experiments import analysis as A
    from rdmf.train.toy import toy_samples
    samples = toy_samples(3, seed=0)
    out = A.diagnostics_summary(_diagnosed_model(), samples)
    assert out["n_samples"] == 3 and out["affine_r2"]["p10"] <= out["affine_r2"]["median"] <= 1
    assert len(out["reach_u_clips"]) == 6 and out["reach_u_clips"] == sorted(out["reach_u_clips"])
    assert sum(out["classes"].values()) == 6 and out["flash_ratio"]["max"] > 10
