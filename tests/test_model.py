"""The model: shapes, fusion switch, padding invariance, spans, matcher, losses."""

from __future__ import annotations

import itertools

import pytest
import torch

from rdmf.data.sample import collate
from rdmf.model import build_fusion, build_model
from rdmf.model.losses import Criterion, saliency_pairs
from rdmf.model.matcher import HungarianMatcher
from rdmf.model.span_utils import cxw_to_xx, generalized_iou, pairwise_iou, spans_to_windows, xx_to_cxw
from rdmf.train.config import run_config
from rdmf.train.toy import toy_samples

SMALL = dict(hidden=32, heads=4, ffn_dim=64, enc_layers=1, dec_layers=2, rd_channels=4,
             video_dim=16, text_dim=8)


def _model(fusion, **changes):
    torch.manual_seed(0)
    return build_model(run_config(fusion=fusion, **{**SMALL, **changes}).model).eval()


@pytest.mark.parametrize("fusion", ["rd", "concat", "cross_attention"])
def test_output_shapes_and_aux(fusion):
    batch = collate(toy_samples(3, seed=1))
    out = _model(fusion)(batch.video, batch.video_mask, batch.text, batch.text_mask, negatives=True)
    B, L = batch.video.shape[:2]
    assert out["pred_spans"].shape == (B, 10, 2) and out["pred_logits"].shape == (B, 10, 2)
    assert out["saliency"].shape == (B, L) and out["saliency_neg"].shape == (B, L)
    assert len(out["aux"]) == 1  # dec_layers - 1
    assert ((out["pred_spans"] > 0) & (out["pred_spans"] < 1)).all()


def test_hd_only_model_has_no_decoder():
    model = _model("rd", hd_only=True)
    assert not hasattr(model, "decoder")
    batch = collate(toy_samples(2))
    out = model(batch.video, batch.video_mask, batch.text, batch.text_mask)
    assert set(out) == {"saliency"}


def test_unknown_fusion_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown fusion 'gated'.*rd, concat, cross_attention"):
        run_config(fusion="gated")
    with pytest.raises(ValueError, match="unknown fusion"):
        build_fusion("gated", dim=8, heads=2, ffn_dim=8, dropout=0.0)


def test_mismatched_feature_dims_are_named():
    model = _model("concat")
    batch = collate(toy_samples(2, video_dim=20))
    with pytest.raises(ValueError, match="video features have 20 dims.*built for 16"):
        model(batch.video, batch.video_mask, batch.text, batch.text_mask)


@pytest.mark.parametrize("fusion", ["rd", "concat", "cross_attention"])
def test_padding_does_not_change_predictions(fusion):
    model = _model(fusion)
    samples = toy_samples(3, seed=4)
    together = model(*_tensors(collate(samples)))
    for i, sample in enumerate(samples):
        alone = model(*_tensors(collate([sample])))
        L = sample.num_clips
        assert torch.allclose(together["saliency"][i, :L], alone["saliency"][0], atol=1e-4)
        assert torch.allclose(together["pred_spans"][i], alone["pred_spans"][0], atol=1e-4)
        assert torch.allclose(together["pred_logits"][i], alone["pred_logits"][0], atol=1e-4)


def _tensors(batch):
    return batch.video, batch.video_mask, batch.text, batch.text_mask


def test_span_conversions_and_giou():
    spans = torch.tensor([[0.5, 0.2], [0.1, 0.2]])
    assert torch.allclose(xx_to_cxw(cxw_to_xx(spans)), spans)
    a = torch.tensor([[0.0, 2.0]])
    b = torch.tensor([[1.0, 3.0], [4.0, 5.0]])
    iou, _ = pairwise_iou(a, b)
    assert torch.allclose(iou, torch.tensor([[1 / 3, 0.0]]))
    # GIoU of disjoint [0,2], [4,5]: 0 − (5 − 3) / 5
    assert torch.allclose(generalized_iou(a, b), torch.tensor([[1 / 3, -0.4]]))


def test_windows_are_clamped_and_rounded_to_the_clip_grid():
    spans = torch.tensor([[0.5, 0.21], [0.99, 0.2], [0.0, 0.001], [0.999, 0.0001]])
    windows = spans_to_windows(spans, duration_s=150.0, clip_len_s=2.0)  # 59.25 → 60, 90.75 → 90
    assert windows.tolist() == [[60.0, 90.0], [134.0, 150.0], [0.0, 2.0], [148.0, 150.0]]


def test_matcher_is_optimal():
    g = torch.Generator().manual_seed(0)
    matcher = HungarianMatcher()
    for _ in range(5):
        pred = torch.rand(1, 5, 2, generator=g) * 0.5 + 0.1
        logits = torch.randn(1, 5, 2, generator=g)
        target = torch.rand(3, 2, generator=g) * 0.5 + 0.1
        (rows, cols), = matcher(pred, logits, [target])
        prob = logits.softmax(-1)[0, :, 0]

        def cost(q, t):
            return (10 * (pred[0, q] - target[t]).abs().sum()
                    - generalized_iou(cxw_to_xx(pred[0, q:q + 1]), cxw_to_xx(target[t:t + 1]))[0, 0]
                    - 4 * prob[q])
        best = min(sum(cost(q, t) for t, q in enumerate(perm))
                   for perm in itertools.permutations(range(5), 3))
        got = sum(cost(int(q), int(t)) for q, t in zip(rows, cols))
        assert abs(float(got) - float(best)) < 1e-5


def test_saliency_pairs_follow_the_scores():
    saliency = torch.tensor([[0.0, 1.0, 3.0, 2.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0]])
    mask = torch.ones(3, 5, dtype=torch.bool)
    pos, neg, valid = saliency_pairs(saliency, mask, seeds=[1, 2, 3])
    assert valid.tolist() == [True, True, False]
    assert pos[0, 0] == 2 and neg[0, 0] == 1                   # hard pair: max and min relevant
    assert saliency[0, pos[0, 1]] > 0 and saliency[0, neg[0, 1]] == 0   # easy pair
    assert pos[1].tolist() == [4, 4] and neg[1].tolist() == [0, 0]      # no irrelevant clip
    again = saliency_pairs(saliency, mask, seeds=[1, 2, 3])
    assert torch.equal(again[0], pos) and torch.equal(again[1], neg)


def test_perfect_spans_have_zero_span_losses():
    config = run_config(**SMALL)
    target = [torch.tensor([[0.3, 0.2], [0.7, 0.1]])]
    spans = torch.full((1, 10, 2), 0.5)
    spans[0, 3], spans[0, 6] = target[0][0], target[0][1]
    logits = torch.zeros(1, 10, 2)
    logits[0, [3, 6], 0] = 20.0
    logits[0, :, 1] = 0.0
    out = {"pred_spans": spans, "pred_logits": logits, "saliency": torch.zeros(1, 4), "aux": []}
    total, terms = Criterion(config.loss)(out, target, torch.zeros(1, 4), torch.ones(1, 4, dtype=torch.bool))
    assert terms["span"] < 1e-6 and terms["giou"] < 1e-6
    # saliency hinge: equal scores on (pos, neg) cost the margin per pair; Moment-DETR's
    # normalisation sum / (B · pairs) · 2 makes that 2 × 0.2
    out["saliency"] = torch.zeros(1, 4)
    _, terms = Criterion(config.loss)(out, target, torch.tensor([[0.0, 2.0, 0.0, 0.0]]),
                                 torch.ones(1, 4, dtype=torch.bool), seeds=[0])
    assert abs(float(terms["saliency"]) - 0.4) < 1e-6


def test_text_dot_saliency_head_depends_on_the_query():
    model = _model("concat", saliency_head="text_dot")
    batch = collate(toy_samples(2, seed=5))
    out = model(*_tensors(batch))
    swapped = model(batch.video, batch.video_mask, batch.text.flip(0), batch.text_mask.flip(0))
    assert out["saliency"].shape == batch.video_mask.shape
    assert not torch.allclose(out["saliency"], swapped["saliency"])
    with pytest.raises(ValueError, match="saliency_head: unknown kind .mlp."):
        _model("concat", saliency_head="mlp")


def test_dense_saliency_loss_is_bce_over_the_real_clips():
    config = run_config(**SMALL, loss_dense_saliency=2.0)
    scores = torch.tensor([[2.0, -1.0, 0.5, 9.0]])           # last clip is padding
    saliency = torch.tensor([[3.0, 0.0, 1.0, 4.0]])
    mask = torch.tensor([[True, True, True, False]])
    _, terms = Criterion(config.loss)({"saliency": scores}, [], saliency, mask, seeds=[0])
    # by hand: relevant = (1, 0, 1); BCE(s, y) = log(1 + e^s) - y s
    expected = sum(torch.log1p(torch.exp(torch.tensor(s))) - y * s
                   for s, y in [(2.0, 1), (-1.0, 0), (0.5, 1)]) / 3
    assert abs(float(terms["dense_saliency"]) - float(expected)) < 1e-6
    total_off, terms_off = Criterion(run_config(**SMALL).loss)({"saliency": scores}, [], saliency, mask,
                                                           seeds=[0])
    assert "dense_saliency" not in terms_off
    total_on, _ = Criterion(config.loss)({"saliency": scores}, [], saliency, mask, seeds=[0])
    assert abs(float(total_on - total_off) - 2.0 * float(expected)) < 1e-5
    with pytest.raises(ValueError, match="loss_dense_saliency"):
        run_config(**SMALL, loss_dense_saliency=-1.0)


def test_rd_kinetics_get_their_own_optimiser_group():
    from rdmf.train.engine import build_parts, kinetic_parameter_names
    config = run_config(fusion="rd", lr=2e-4, weight_decay=1e-3, rd_kinetics_lr_mult=7.0,
                        **SMALL)
    parts = build_parts(config, torch.device("cpu"))
    names = kinetic_parameter_names(parts.model)
    assert {n.rsplit(".", 1)[1] for n in names} == {"log_F", "log_k", "log_Du", "log_sigma",
                                                    "log_dt", "feed_gain"}
    weights, kinetics = parts.optimizer.param_groups
    assert kinetics["name"] == "rd_kinetics"
    assert kinetics["lr"] == pytest.approx(2e-4 * 7.0) and kinetics["weight_decay"] == 0.0
    assert weights["lr"] == pytest.approx(2e-4) and weights["weight_decay"] == pytest.approx(1e-3)
    params = dict(parts.model.named_parameters())
    assert {id(p) for p in kinetics["params"]} == {id(params[n]) for n in names}
    assert len(weights["params"]) + len(kinetics["params"]) == len(params)
    # fixed kinetics and other fusions: one group
    fixed = run_config(fusion="rd", rd_learn_kinetics=False, rd_text_kinetics=False,
                       rd_space_feed=False, **SMALL)
    assert len(build_parts(fixed, torch.device("cpu")).optimizer.param_groups) == 1
    assert len(build_parts(run_config(fusion="concat", **SMALL),
                           torch.device("cpu")).optimizer.param_groups) == 1


def test_saliency_readout_adds_the_rd_logit():
    model = _model("rd", rd_readout="saliency")
    batch = collate(toy_samples(3, seed=1))
    args = (batch.video, batch.video_mask, batch.text, batch.text_mask)
    before = model(*args)["saliency"]
    with torch.no_grad():
        model.fusion.rd.saliency_readout.bias.fill_(0.5)
    assert torch.allclose(model(*args)["saliency"], before + 0.5, atol=1e-5)


def test_weights_of_the_earlier_rd_layout_give_a_clear_error():
    from rdmf.model.rd_fusion import upgrade_earlier_layout
    from rdmf.train.engine import load_weights
    model = _model("rd")
    old = {k.replace("log_F", "raw_F"): v for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="ckpt: weights of the earlier RD-layer layout"):
        load_weights(model, old, "run/best.ckpt")
    with pytest.raises(ValueError, match="ckpt: weights do not match"):
        load_weights(model, {"x": torch.zeros(1)}, "run/best.ckpt")
    # a stored config of that layout still loads (re-expressed; residual read-out, no space feed)
    config = run_config({"model.rd": {"r_max": 0.45, "r_init": 0.25, "steps": 8,
                                      "scheme": "semi_implicit"}})
    assert config.model.rd.readout == "residual" and config.model.rd.Du_range[1] == pytest.approx(0.225)
    assert upgrade_earlier_layout({"r_max": 0.45, "r_init": 0.25})["reach_init"][0] <= 2.0
