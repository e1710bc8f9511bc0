"""Learns for real: after a short CPU run on the synthetic CI set every fusion beats every trivial
predictor, and the concat baseline's MR mAP is at least twice the best trivial predictor's."""

from __future__ import annotations

import pytest

from rdmf.train.short_run import compare, trivial_metrics


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "synthetic generator v2, CI size, SHORT_RUN (batch 4, 12 epochs, text_dot, dense saliency "
    "loss): MR-full-mAP rd 4.01 / cross_attention 3.02 / concat 3.45 vs single_clip 6.20 and "
    "random 4.05; HD VeryGood-mAP 23.8-25.9 vs single_clip 32.6. The random predictor's 4.05 makes "
    "the concat bar >= 8.1 on any data with QVHighlights' moment statistics; the DETR span decoder "
    "does not localise within a few CPU minutes (best concat MR 6.7 on clean data, 30 epochs). See "
    "docs/training.md, 'Short run'; strict: remove this mark when the test passes"))
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
