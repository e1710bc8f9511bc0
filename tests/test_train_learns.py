"""Learns for real: after a short CPU run on the synthetic CI set every fusion beats every trivial
predictor, and the concat baseline's MR mAP is at least twice the best trivial predictor's.

Synthetic generator v4, CI size, seed 0; the short-run recipe ``rdmf.train.short_run.SHORT_RUN``
(the same for every fusion). About 2 min on 2 CPU cores."""

from __future__ import annotations

import pytest

from rdmf.train.short_run import compare, trivial_metrics


@pytest.mark.slow
def test_every_fusion_beats_the_trivial_predictors(tmp_path):
    floor = trivial_metrics()
    best_mr = max(m["MR-full-mAP"] for m in floor.values())
    best_hd = max(m["HL-min-VeryGood-mAP"] for m in floor.values())
    result = compare(tmp_path, seed=0)["fusions"]
    print({"trivial": floor, "fusions": result})
    for fusion, metrics in result.items():
        assert metrics["MR-full-mAP"] > best_mr, (fusion, metrics, floor)
        assert metrics["HL-min-VeryGood-mAP"] > best_hd, (fusion, metrics, floor)
    assert result["concat"]["MR-full-mAP"] >= 2 * best_mr, (result["concat"], floor)
