"""Per-query metrics equal the official aggregates on average; the paired bootstrap and Holm
adjustment against hand-computed cases and small simulations; the verdict sentences say "wins"
only when the interval excludes 0."""
from __future__ import annotations

import time

import numpy as np
import pytest

import official_reference as ref
from rdmf.eval import (evaluate_qvhighlights, moment_retrieval_scores, qvhighlights_clip_labels,
                       qvhighlights_highlight_scores, tvsum_top5_ap, youtube_ap)
from rdmf.experiments.stats import (HD_METRICS, MR_METRICS, holm, paired_bootstrap,
                                    per_query_metrics, per_video_ap, seed_mean)
from rdmf.experiments.verdicts import (Comparison, by_type, compare, mean_std, mean_std_table,
                                       sentence, verdict_paragraph)

MR_MAP = "MR-full-mAP"


# --- random QVHighlights-layout ground truth and submissions ----------------------------------
def random_ground_truth(rng: np.random.Generator, num_queries: int) -> list[dict]:
    """Rows with 1-3 windows of 2-80 s (every length range occurs) and 3 annotator scores."""
    rows = []
    for q in range(num_queries):
        num_clips = int(rng.integers(20, 75))
        windows, ids = [], set()
        for _ in range(int(rng.integers(1, 4))):
            length = int(rng.integers(1, min(40, num_clips)))
            start = int(rng.integers(0, num_clips - length + 1))
            windows.append([2.0 * start, 2.0 * (start + length)])
            ids.update(range(start, start + length))
        ids = sorted(ids)
        scores = rng.integers(0, 5, size=(len(ids), 3)).tolist()
        rows.append({"qid": 1000 + q, "duration": 2.0 * num_clips, "relevant_windows": windows,
                     "relevant_clip_ids": ids, "saliency_scores": scores})
    return rows


def random_submission(rng: np.random.Generator, gt: list[dict]) -> list[dict]:
    """Random windows (some copied from the GT, scores with ties) and saliency (ties, lengths
    off by up to 2 clips), rows in shuffled order."""
    rows = []
    for g in gt:
        windows = []
        for _ in range(int(rng.integers(1, 13))):
            if rng.random() < 0.3:
                s, e = g["relevant_windows"][int(rng.integers(len(g["relevant_windows"])))]
                s, e = s + rng.normal(0, 2), e + rng.normal(0, 2)
            else:
                s = rng.uniform(0, g["duration"] - 2)
                e = s + rng.uniform(2, 60)
            windows.append([round(float(min(s, e)), 2), round(float(max(s, e)), 2),
                            round(float(rng.random()), 1)])
        num_clips = int(g["duration"] / 2) + int(rng.integers(-2, 3))
        saliency = np.round(rng.random(num_clips), 1).tolist()
        rows.append({"qid": g["qid"], "pred_relevant_windows": windows,
                     "pred_saliency_scores": saliency})
    return [rows[i] for i in rng.permutation(len(rows))]


@pytest.mark.parametrize("seed", range(4))
def test_per_query_means_equal_the_official_brief(seed):
    rng = np.random.default_rng(seed)
    gt = random_ground_truth(rng, 60)
    rows = random_submission(rng, gt)
    per_query = per_query_metrics(rows, gt)
    brief = evaluate_qvhighlights(rows, gt)["brief"]
    reference = ref.evaluate(rows, gt)["brief"]
    assert set(per_query) == set(MR_METRICS) | set(HD_METRICS)
    for metric, values in per_query.items():
        assert values.shape == (len(gt),)
        mean = float(np.mean(values))
        # the official rounding: float(f"{100 * v:.2f}") of the fraction
        assert float(f"{mean:.2f}") == brief[metric] == reference[metric], metric
    for metric in ("MR-full-R1@0.5", "MR-full-R1@0.7") + tuple(m for m in HD_METRICS
                                                               if m.endswith("Hit1")):
        assert set(np.unique(per_query[metric])) <= {0.0, 100.0}


def test_order_of_the_means_does_not_matter():
    """mAP: over queries per threshold then over thresholds = over thresholds per query then over
    queries; HD mAP: over (queries, annotators) = per query over annotators then over queries."""
    rng = np.random.default_rng(7)
    gt = random_ground_truth(rng, 40)
    rows = random_submission(rng, gt)
    per_query = per_query_metrics(rows, gt)
    by_qid = {r["qid"]: r for r in rows}
    official_mr = moment_retrieval_scores([by_qid[g["qid"]]["pred_relevant_windows"] for g in gt],
                                          [g["relevant_windows"] for g in gt])["full"]
    assert np.mean(per_query[MR_MAP]) / 100 == pytest.approx(official_mr["mAP"]["average"],
                                                             abs=1e-12)
    assert np.mean(per_query["MR-full-R1@0.5"]) / 100 == pytest.approx(official_mr["R1"]["0.5"],
                                                                       abs=1e-12)
    labels = [qvhighlights_clip_labels(g["duration"], g["relevant_clip_ids"], g["saliency_scores"])
              for g in gt]
    official_hd = qvhighlights_highlight_scores(
        [by_qid[g["qid"]]["pred_saliency_scores"] for g in gt], labels)["VeryGood"]
    assert np.mean(per_query["HL-min-VeryGood-mAP"]) / 100 == pytest.approx(
        official_hd["mAP"], abs=1e-12)
    assert np.mean(per_query["HL-min-VeryGood-Hit1"]) / 100 == pytest.approx(
        official_hd["Hit1"], abs=1e-12)


def test_per_query_values_follow_the_ground_truth_order():
    rng = np.random.default_rng(3)
    gt = random_ground_truth(rng, 20)
    rows = random_submission(rng, gt)
    shuffled = per_query_metrics(rows, gt)
    ordered = per_query_metrics(sorted(rows, key=lambda r: r["qid"]), gt)
    for metric in shuffled:
        np.testing.assert_array_equal(shuffled[metric], ordered[metric])
    reversed_gt = per_query_metrics(rows, gt[::-1])
    np.testing.assert_array_equal(reversed_gt[MR_MAP], shuffled[MR_MAP][::-1])
    from_iterators = per_query_metrics(iter(rows), iter(gt))
    np.testing.assert_array_equal(from_iterators[MR_MAP], shuffled[MR_MAP])


def test_per_query_hand_computed():
    gt = [{"qid": 1, "duration": 20.0, "relevant_windows": [[4.0, 10.0]],
           "relevant_clip_ids": [2, 3, 4], "saliency_scores": [[4, 4, 4], [2, 2, 2], [0, 0, 0]]},
          {"qid": 2, "duration": 20.0, "relevant_windows": [[0.0, 4.0]],
           "relevant_clip_ids": [0, 1], "saliency_scores": [[1, 1, 1], [4, 0, 0]]}]
    rows = [{"qid": 2, "pred_relevant_windows": [[10.0, 20.0, 1.0]],
             "pred_saliency_scores": [1.0] + [0.0] * 9},
            {"qid": 1, "pred_relevant_windows": [[4.0, 10.0, 0.9]],
             "pred_saliency_scores": [0.0, 0.0, 1.0] + [0.0] * 7}]
    per_query = per_query_metrics(rows, gt)
    np.testing.assert_array_equal(per_query[MR_MAP], [100.0, 0.0])
    np.testing.assert_array_equal(per_query["MR-full-R1@0.5"], [100.0, 0.0])
    # qid 1: clip 2 is the only VeryGood clip for every annotator and ranked first
    # qid 2: ranked first is clip 0 (not VeryGood); annotator 1 marks clip 1 VeryGood, which
    # is in the tie of the 9 other clips (one threshold: precision 1/10 at full recall, AP 1/10);
    # annotators 2 and 3 have no VeryGood clip (AP 0)
    assert per_query["HL-min-VeryGood-mAP"][0] == 100.0
    assert per_query["HL-min-VeryGood-Hit1"].tolist() == [100.0, 0.0]
    assert per_query["HL-min-VeryGood-mAP"][1] == pytest.approx(100 * (1 / 10) / 3)


def test_mr_only_and_hd_only_submissions():
    rng = np.random.default_rng(5)
    gt = random_ground_truth(rng, 10)
    rows = random_submission(rng, gt)
    mr = per_query_metrics([{k: v for k, v in r.items() if k != "pred_saliency_scores"}
                            for r in rows], gt)
    hd = per_query_metrics([{k: v for k, v in r.items() if k != "pred_relevant_windows"}
                            for r in rows], gt)
    assert set(mr) == set(MR_METRICS) and set(hd) == set(HD_METRICS)


def test_per_query_bad_submission_is_the_evaluators_error():
    rng = np.random.default_rng(6)
    gt = random_ground_truth(rng, 5)
    rows = random_submission(rng, gt)[:4]
    with pytest.raises(ValueError, match="qids do not match"):
        per_query_metrics(rows, gt)


def test_per_video_ap():
    rng = np.random.default_rng(0)
    scores = [rng.random(12) for _ in range(5)]
    users = [rng.integers(1, 6, size=(12, 20)) for _ in range(5)]
    ap = per_video_ap(scores, users, "tvsum")
    np.testing.assert_allclose(ap, [100 * tvsum_top5_ap(s, u) for s, u in zip(scores, users)])
    # youtube by hand: ranked labels [1, 0, 1]; trapezoids 0.5 * (1 + 1) / 2 + 0 +
    # 0.5 * (1/2 + 2/3) / 2
    ap = per_video_ap([[3.0, 2.0, 1.0]], [[1, -1, 1]], "youtube")
    assert ap[0] == pytest.approx(100 * (0.5 + 0.5 * (0.5 + 2 / 3) / 2))
    assert ap[0] == pytest.approx(100 * youtube_ap([3.0, 2.0, 1.0], [1, -1, 1]))
    with pytest.raises(ValueError, match="unknown dataset"):
        per_video_ap(scores, users, "charades")
    with pytest.raises(ValueError, match="5 score arrays but 4"):
        per_video_ap(scores, users[:4], "tvsum")


# --- seed_mean, paired bootstrap, Holm ---------------------------------------------------------
def test_seed_mean_and_its_errors():
    np.testing.assert_array_equal(seed_mean([[1.0, 2.0], [3.0, 6.0]]), [2.0, 4.0])
    np.testing.assert_array_equal(seed_mean([1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"rd: expected a \(seeds, queries\) array"):
        seed_mean(np.zeros((2, 3, 4)), "rd")
    with pytest.raises(ValueError, match="empty"):
        seed_mean(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="rd: 1 non-finite value.*seed 1, query 0"):
        seed_mean([[1.0, 2.0], [np.nan, 3.0]], "rd")


def test_identical_arrays_give_zero():
    a = np.random.default_rng(0).normal(size=300)
    assert paired_bootstrap(a, a.copy()) == {"diff": 0.0, "low": 0.0, "high": 0.0, "p": 1.0}


def test_clear_difference_excludes_zero():
    rng = np.random.default_rng(1)
    b = rng.normal(size=500)
    a = b + 1.0 + rng.normal(0, 0.5, size=500)
    r = paired_bootstrap(a, b)
    assert 0 < r["low"] < r["diff"] < r["high"]
    assert r["diff"] == pytest.approx(np.mean(a - b))
    assert r["p"] == 0.0
    swapped = paired_bootstrap(b, a)
    assert swapped["high"] < 0 and swapped["p"] == 0.0


def test_hand_computed_two_queries():
    """d = (0, 2): the resampled mean is 0, 1 or 2 with probabilities 1/4, 1/2, 1/4, so the 95 %
    interval is [0, 2] and p = 2 * P(mean <= 0) = 1/2."""
    r = paired_bootstrap([1.0, 3.0], [1.0, 1.0], n_resamples=20_000, seed=3)
    assert r["diff"] == 1.0 and r["low"] == 0.0 and r["high"] == 2.0
    assert r["p"] == pytest.approx(0.5, abs=0.03)
    single = paired_bootstrap([2.5], [1.0], n_resamples=100)
    assert single == {"diff": 1.5, "low": 1.5, "high": 1.5, "p": 0.0}


def test_bootstrap_is_deterministic_for_a_seed():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    assert paired_bootstrap(a, b, seed=4) == paired_bootstrap(a, b, seed=4)
    assert paired_bootstrap(a, b, seed=4)["low"] != paired_bootstrap(a, b, seed=5)["low"]


def test_bootstrap_is_fast():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        paired_bootstrap(a, b, n_resamples=10_000)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0, f"10,000 resamples of 1,000 queries took {best:.2f} s"


def test_coverage_and_false_positive_rate_are_sane():
    """Normal per-query differences with mean 0.3 (coverage of the 95 % interval) and 0 (how
    often p < 0.05): 200 simulated data sets of 100 queries each."""
    rng = np.random.default_rng(11)
    covered, rejected = 0, 0
    for trial in range(200):
        d = rng.normal(0.3, 1.0, size=100)
        r = paired_bootstrap(d, np.zeros_like(d), n_resamples=1000, seed=trial)
        covered += r["low"] <= 0.3 <= r["high"]
        null = rng.normal(0.0, 1.0, size=100)
        rejected += paired_bootstrap(null, np.zeros_like(null), n_resamples=1000,
                                     seed=trial)["p"] < 0.05
    assert 0.88 <= covered / 200 <= 0.99
    assert 0.01 <= rejected / 200 <= 0.11


def test_bootstrap_input_errors():
    with pytest.raises(ValueError, match="same queries: 3 against 2"):
        paired_bootstrap([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="1-D"):
        paired_bootstrap(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        paired_bootstrap([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="no queries"):
        paired_bootstrap([], [])
    with pytest.raises(ValueError, match="confidence"):
        paired_bootstrap([1.0], [2.0], confidence=95)
    with pytest.raises(ValueError, match="n_resamples"):
        paired_bootstrap([1.0], [2.0], n_resamples=0)


def test_holm_hand_computed():
    # sorted: a 0.01 * 3 = 0.03; c 0.03 * 2 = 0.06; b max(0.06, 0.04 * 1) = 0.06
    assert holm({"a": 0.01, "b": 0.04, "c": 0.03}) == pytest.approx(
        {"a": 0.03, "b": 0.06, "c": 0.06})
    assert holm({"x": 0.5, "y": 0.6}) == {"x": 1.0, "y": 1.0}
    assert holm({"only": 0.02}) == {"only": 0.02}
    assert holm({}) == {}
    assert list(holm({"z": 0.2, "a": 0.1})) == ["z", "a"]
    with pytest.raises(ValueError, match="'bad'"):
        holm({"bad": 1.5})


def test_holm_is_monotone_capped_and_a_step_down_test():
    rng = np.random.default_rng(0)
    for _ in range(200):
        m = int(rng.integers(1, 8))
        raw = {f"h{i}": float(v) for i, v in enumerate(np.round(rng.random(m) ** 3, 3))}
        adj = holm(raw)
        keys = sorted(raw, key=raw.get)
        assert all(adj[k] >= raw[k] and adj[k] <= 1.0 for k in raw)
        assert all(adj[a] <= adj[b] for a, b in zip(keys, keys[1:]))
        # step-down: reject the i-th smallest while p_(i) < alpha / (m - i), stop at the first
        # failure; the rejected set equals {adjusted p < alpha}
        alpha, rejected = 0.05, set()
        for i, k in enumerate(keys):
            if raw[k] >= alpha / (m - i):
                break
            rejected.add(k)
        assert rejected == {k for k in raw if adj[k] < alpha}


# --- verdicts ----------------------------------------------------------------------------------
def comparison(**fields) -> Comparison:
    base = dict(model_a="rd", model_b="cross_attention", metric=MR_MAP, diff=3.1234, low=1.049,
                high=5.2, p=0.0, p_adjusted=None, primary=True, n_queries=1000, n_seeds_a=5,
                n_seeds_b=5)
    return Comparison(**{**base, **fields})


def test_sentences():
    assert sentence(comparison()) == (
        "rd wins over cross_attention on MR mAP: +3.12 [+1.05, +5.20] (95 % paired bootstrap "
        "over 1000 test queries, 5 seeds).")
    assert sentence(comparison(diff=-3.0, low=-5.0, high=-1.0, metric="HL-min-VeryGood-Hit1")
                    ).startswith("rd loses to cross_attention on HIT@1: -3.00 [-5.00, -1.00]")
    assert sentence(comparison(diff=-0.4, low=-2.1, high=1.3)) == (
        "no decided difference between rd and cross_attention on MR mAP: -0.40 [-2.10, +1.30] "
        "(95 % paired bootstrap over 1000 test queries, 5 seeds).")
    assert sentence(comparison(primary=False, p_adjusted=0.0123, metric="MR-full-R1@0.5")) == (
        "rd wins over cross_attention on R1@0.5: +3.12 [+1.05, +5.20] (95 % paired bootstrap "
        "over 1000 test queries, 5 seeds; Holm-adjusted p = 0.012).")
    # a secondary comparison whose interval excludes 0 but whose adjusted p does not decide
    assert sentence(comparison(primary=False, p_adjusted=0.2, metric="HL-min-VeryGood-mAP")) == (
        "no decided difference between rd and cross_attention on HD mAP: +3.12 [+1.05, +5.20] "
        "(95 % paired bootstrap over 1000 test queries, 5 seeds; Holm-adjusted p = 0.200).")
    assert "p < 0.001" in sentence(comparison(primary=False, p_adjusted=0.0))
    assert "3 and 1 seeds" in sentence(comparison(n_seeds_a=3, n_seeds_b=1))
    assert "1 seed)" in sentence(comparison(n_seeds_a=1, n_seeds_b=1))
    assert "[+0.00, +0.00]" in sentence(comparison(diff=-0.001, low=-0.004, high=0.001))


def test_wins_only_when_the_interval_excludes_zero():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        low, high = np.sort(rng.normal(0, 2, size=2))
        primary = bool(rng.random() < 0.5)
        c = comparison(diff=float((low + high) / 2), low=float(low), high=float(high),
                       p=float(rng.random()), primary=primary,
                       p_adjusted=None if primary else float(rng.random() * 0.1))
        text = sentence(c)
        assert ("wins" in text) == (c.winner == "rd")
        if "wins" in text:
            assert c.low > 0 and text.startswith("rd wins over cross_attention")
        if "loses" in text:
            assert c.high < 0
        if primary:
            assert ("no decided difference" in text) == (low <= 0 <= high)


def test_compare_decides_and_adjusts():
    rng = np.random.default_rng(0)
    base = rng.normal(30, 10, size=(1, 400))
    per_query = {"rd": base + 3 + rng.normal(0, 2, size=(5, 400)),
                 "cross_attention": base + rng.normal(0, 2, size=(5, 400)),
                 "concat": base + rng.normal(0, 2, size=(5, 400)),
                 "gated": base + rng.normal(0, 2, size=(3, 400))}
    pairs = [("rd", "cross_attention"), ("rd", "concat"), ("concat", "cross_attention"),
             ("gated", "concat")]
    comps = compare(per_query, pairs, MR_MAP, primary_pairs=[("rd", "cross_attention")],
                    n_resamples=2000)
    assert [(c.model_a, c.model_b) for c in comps] == pairs
    assert comps[0].primary and comps[0].p_adjusted is None and comps[0].winner == "rd"
    secondary = {f"{c.model_a} vs {c.model_b}": c.p for c in comps[1:]}
    assert {f"{c.model_a} vs {c.model_b}": c.p_adjusted for c in comps[1:]} == holm(secondary)
    assert comps[1].winner == "rd"
    assert comps[2].winner is None and comps[2].diff == pytest.approx(
        np.mean(per_query["concat"].mean(0) - per_query["cross_attention"].mean(0)))
    assert (comps[3].n_seeds_a, comps[3].n_seeds_b, comps[3].n_queries) == (3, 5, 400)
    text = verdict_paragraph(comps)
    lines = text.split("\n")
    assert len(lines) == 4 and all(line.startswith("- ") for line in lines)
    assert lines[0].startswith("- rd wins over cross_attention on MR mAP: +")
    assert "5 seeds)." in lines[0] and "Holm-adjusted" in lines[1]
    assert text == verdict_paragraph(compare(per_query, pairs, MR_MAP,
                                             primary_pairs=[("rd", "cross_attention")],
                                             n_resamples=2000))


def test_compare_wins_only_when_the_interval_excludes_zero():
    rng = np.random.default_rng(1)
    for trial in range(40):
        shift = rng.normal(0, 0.3)
        per_query = {"a": rng.normal(shift, 1, size=(2, 50)), "b": rng.normal(0, 1, size=(2, 50)),
                     "c": rng.normal(0, 1, size=(2, 50))}
        comps = compare(per_query, [("a", "b"), ("a", "c"), ("b", "c")], MR_MAP,
                        primary_pairs=[("a", "b")] if trial % 2 else (), n_resamples=500,
                        seed=trial)
        for c in comps:
            if "wins" in sentence(c):
                assert c.low > 0
            if "loses" in sentence(c):
                assert c.high < 0


def test_compare_input_errors_name_model_and_metric():
    good = np.zeros((2, 10))
    with pytest.raises(ValueError, match="model 'b', metric 'MR-full-mAP': 9 queries but model "
                                         "'a' has 10"):
        compare({"a": good, "b": np.zeros((2, 9))}, [("a", "b")], MR_MAP)
    nan = good.copy()
    nan[1, 4] = np.nan
    with pytest.raises(ValueError, match="model 'b', metric 'HL-min-VeryGood-mAP': 1 non-finite "
                                         "value.*seed 1, query 4"):
        compare({"a": good, "b": nan}, [("a", "b")], "HL-min-VeryGood-mAP")
    with pytest.raises(ValueError, match="model 'c' has no per-query values"):
        compare({"a": good, "b": good}, [("a", "c")], MR_MAP)
    with pytest.raises(ValueError, match="not among the compared pairs"):
        compare({"a": good, "b": good}, [("a", "b")], MR_MAP, primary_pairs=[("b", "a")])
    with pytest.raises(ValueError, match="two different models"):
        compare({"a": good}, [("a", "a")], MR_MAP)
    with pytest.raises(ValueError, match="listed twice"):
        compare({"a": good, "b": good}, [("a", "b"), ("a", "b")], MR_MAP)
    with pytest.raises(ValueError, match="no pairs"):
        compare({"a": good, "b": good}, [], MR_MAP)


def test_mean_std_table():
    per_query = {"rd": {MR_MAP: np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]),
                        "HL-min-VeryGood-Hit1": np.array([[0.0, 100.0, 100.0],
                                                          [100.0, 100.0, 100.0]])},
                 "concat": {MR_MAP: np.array([[1.0, 2.0, 3.0]]),
                            "HL-min-VeryGood-Hit1": np.array([[0.0, 0.0, 100.0]])}}
    cells = mean_std(per_query, [MR_MAP, "HL-min-VeryGood-Hit1"])
    # per-seed aggregates rd: 2, 4 -> 3 ± sqrt(2); Hit1: 66.67, 100 -> 83.33 ± 23.57
    assert cells["rd"][MR_MAP] == {"mean": 3.0, "std": 1.41, "n": 2}
    assert cells["rd"]["HL-min-VeryGood-Hit1"] == {"mean": 83.33, "std": 23.57, "n": 2}
    assert cells["concat"][MR_MAP] == {"mean": 2.0, "std": 0.0, "n": 1}
    assert mean_std_table(per_query, [MR_MAP, "HL-min-VeryGood-Hit1"]).split("\n") == [
        "| model | MR mAP | HIT@1 |", "|---|---:|---:|", "| rd | 3.00 ± 1.41 | 83.33 ± 23.57 |",
        "| concat | 2.00 | 33.33 |"]
    with pytest.raises(ValueError, match="model 'rd': no per-query values of metric 'x'"):
        mean_std(per_query, ["x"])
    per_query["concat"][MR_MAP] = np.array([[1.0, np.inf, 3.0]])
    with pytest.raises(ValueError, match="model 'concat', metric 'MR-full-mAP'"):
        mean_std(per_query, [MR_MAP])


def test_by_type_splits_the_query_axis():
    per_query = {"rd": {MR_MAP: np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])},
                 "concat": {MR_MAP: np.array([[0.0, 0.0, 0.0, 1.0]])}}
    split = by_type(per_query, ["object", "action", "object", "scene"])
    assert list(split) == ["action", "object", "scene"]
    np.testing.assert_array_equal(split["object"]["rd"][MR_MAP], [[1.0, 3.0], [5.0, 7.0]])
    np.testing.assert_array_equal(split["scene"]["concat"][MR_MAP], [[1.0]])
    np.testing.assert_array_equal(by_type(np.arange(3.0), ["b", "a", "b"])["b"], [0.0, 2.0])
    # every table and verdict can be given per type
    models = {model: metrics[MR_MAP] for model, metrics in split["object"].items()}
    (c,) = compare(models, [("rd", "concat")], MR_MAP, n_resamples=200)
    assert c.n_queries == 2 and "over 2 test queries" in sentence(c)
    assert "| rd | 4.00 ± 2.83 |" in mean_std_table(split["object"], [MR_MAP])
    with pytest.raises(ValueError, match="'rd' / 'MR-full-mAP': 4 queries but 3 query types"):
        by_type(per_query, ["a", "b", "c"])
