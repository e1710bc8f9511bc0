"""Learns for real: after a short CPU run on the synthetic CI set every fusion should beat the
best trivial predictor by ``LEARNS_MARGIN`` points on MR mAP and on HD mAP (the bar was fixed
before the first fusion was trained on generator v5; on v5 the fusions miss it, recorded as a
strict expected failure with the measured numbers); and the same check fails for a model whose
fusion is the identity (the text never reaches the clips), so the check can fail.

Synthetic generator v5, CI size, seed 0; the short-run recipe ``rdmf.train.short_run.SHORT_RUN``
(the same for every fusion). Whether a fusion beats the per-clip floor is a result for the
tables (notebook 07), not a test. A few minutes on 2 CPU cores."""

from __future__ import annotations

import pytest

from rdmf.train.short_run import LEARNS_MARGIN, compare, learns_failures, trivial_metrics


@pytest.fixture(scope="module")
def floor():
    return trivial_metrics()


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "measured on generator v5 (seed 0, one thread): after the short run no fusion clears the HD "
    "bar (best trivial single_clip 21.86 + 5): rd 10.05 MR / 19.61 HD, cross_attention 9.03 / "
    "17.63, concat 7.91 / 20.87 against the bar 9.82 MR / 26.86 HD. The fusions do not learn "
    "v5's temporal structure at this budget (README, 'Honest status'); strict: a pass must "
    "remove this mark"))
def test_every_fusion_beats_the_trivial_predictors_by_the_margin(tmp_path, floor):
    result = compare(tmp_path, seed=0)["fusions"]
    print({"trivial": floor, "fusions": result, "margin": LEARNS_MARGIN})
    for fusion, metrics in result.items():
        assert not learns_failures(metrics, floor), (fusion, learns_failures(metrics, floor))




@pytest.mark.slow
def test_the_check_fails_when_the_fusion_is_the_identity(tmp_path, floor, monkeypatch):
    import torch

    from rdmf.model import model as model_module

    class Identity(torch.nn.Module):
        def forward(self, video, video_mask, text, text_mask, video_pos):
            return video, video_mask, video_pos, None   # clips unchanged, no text, no logit

    monkeypatch.setattr(model_module, "build_fusion", lambda name, **kw: Identity())
    metrics = compare(tmp_path, fusions=("concat",), seed=0)["fusions"]["concat"]
    print({"trivial": floor, "identity": metrics})
    assert learns_failures(metrics, floor), metrics


def test_the_check_names_what_is_missing():
    floor = {"a": {"MR-full-mAP": 10.0, "HL-min-VeryGood-mAP": 20.0},
             "b": {"MR-full-mAP": 4.0, "HL-min-VeryGood-mAP": 30.0}}
    assert learns_failures({"MR-full-mAP": 15.01, "HL-min-VeryGood-mAP": 35.01}, floor) == []
    failures = learns_failures({"MR-full-mAP": 15.0, "HL-min-VeryGood-mAP": 50.0}, floor)
    assert len(failures) == 1 and "MR-full-mAP" in failures[0] and "trivial a" in failures[0]
