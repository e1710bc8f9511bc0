"""The saliency ranking losses (``loss.saliency_loss``): values on hand-made examples, masking,
gradients where the reference hinge is flat, and a training step with each."""

from __future__ import annotations

import math

import pytest
import torch

from rdmf.model.losses import (SALIENCY_LOSSES, Criterion, all_pairs_hinge, listwise_softmax_ce,
                               saliency_pairs)
from rdmf.train import engine
from rdmf.train.config import run_config
from rdmf.train.toy import toy_highlight_samples

REAL3 = torch.tensor([[True, True, True]])


def test_all_pairs_value_by_hand():
    scores = torch.tensor([[0.5, 0.0, 0.1]])
    y = torch.tensor([[3.0, 1.0, 2.0]])
    # pairs with y_i > y_j: (0, 1) 0.2 − 0.5 → 0; (0, 2) 0.2 − 0.4 → 0; (2, 1) 0.2 − 0.1 = 0.1
    value = all_pairs_hinge(scores, y, REAL3, margin=0.2)
    assert torch.allclose(value, torch.tensor([0.1 / 3]))


def test_all_pairs_ties_give_no_pair_and_no_loss():
    value = all_pairs_hinge(torch.tensor([[0.3, -1.0]]), torch.tensor([[2.0, 2.0]]),
                            torch.tensor([[True, True]]), margin=0.2)
    assert float(value) == 0.0


def test_listwise_value_by_hand():
    scores = torch.tensor([[0.0, math.log(2.0)]], dtype=torch.float64)
    y = torch.tensor([[0.0, math.log(3.0)]], dtype=torch.float64)
    expected = -(0.25 * math.log(1 / 3) + 0.75 * math.log(2 / 3))   # p = (1/4, 3/4), q = (1/3, 2/3)
    mask = torch.tensor([[True, True]])
    assert abs(float(listwise_softmax_ce(scores, y, mask, 1.0)) - expected) < 1e-12
    # the temperature divides the annotators' scores: y / 0.5 with y halved is the same target
    assert abs(float(listwise_softmax_ce(scores, y / 2, mask, 0.5)) - expected) < 1e-12


@pytest.mark.parametrize("kind", ["all_pairs", "listwise"])
def test_padding_never_contributes(kind):
    scores = torch.tensor([[0.5, 0.0, 0.1]], requires_grad=True)
    y = torch.tensor([[3.0, 1.0, 2.0]])
    loss = {"all_pairs": lambda s, t, m: all_pairs_hinge(s, t, m, 0.2),
            "listwise": lambda s, t, m: listwise_softmax_ce(s, t, m, 1.0)}[kind]
    alone = loss(scores, y, REAL3)
    # the same video padded with clips of extreme scores and labels, and a fully padded sample
    padded_scores = torch.tensor([[0.5, 0.0, 0.1, -50.0, 80.0], [7.0, -3.0, 0.0, 1.0, 2.0]],
                                 requires_grad=True)
    padded_y = torch.tensor([[3.0, 1.0, 2.0, 5.0, -4.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    mask = torch.tensor([[True, True, True, False, False], [False] * 5])
    padded = loss(padded_scores, padded_y, mask)
    assert torch.allclose(padded[0], alone[0]) and float(padded[1].detach()) == 0.0
    padded.sum().backward()
    assert torch.isfinite(padded_scores.grad).all()
    assert (padded_scores.grad[~mask] == 0).all()


def _criterion(kind: str) -> Criterion:
    return Criterion(run_config({"loss.saliency_loss": kind}).loss)


def test_gradient_where_the_one_pair_hinge_is_flat():
    """TVSum-like labels (every clip scored > 0): the reference hinge compares only the best and
    worst clips; once they are a margin apart it is 0, while the clips in between are misordered."""
    y = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    grads = {}
    for kind in SALIENCY_LOSSES:
        scores = torch.tensor([[0.0, 5.0, 1.0, 10.0]], requires_grad=True)
        loss, terms = _criterion(kind)({"saliency": scores}, [], y, mask, seeds=[0])
        loss.backward()
        grads[kind] = (float(terms["saliency"].detach()), scores.grad.abs().sum().item())
    assert grads["pair_hinge"] == (0.0, 0.0)
    assert grads["all_pairs"][0] > 0 and grads["all_pairs"][1] > 0
    assert grads["listwise"][1] > 0


def test_pair_hinge_is_the_reference_recipe():
    """``pair_hinge`` is Moment-DETR's: the margin per picked pair, summed over the 2 pairs."""
    y = torch.tensor([[0.0, 2.0, 0.0, 1.0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    _, terms = _criterion("pair_hinge")({"saliency": torch.zeros(1, 4)}, [], y, mask, seeds=[3])
    pos, neg, valid = saliency_pairs(y, mask, seeds=[3])
    assert bool(valid[0]) and abs(float(terms["saliency"]) - 0.4) < 1e-6
    ranking = _criterion("pair_hinge").ranking_loss(torch.zeros(1, 4), y, mask, seeds=[3])
    assert torch.allclose(ranking, torch.tensor([0.4]))


def test_unknown_kind_and_bad_temperature_are_refused():
    with pytest.raises(ValueError, match="loss.saliency_loss: unknown kind 'ndcg'"):
        run_config({"loss.saliency_loss": "ndcg"})
    with pytest.raises(ValueError, match="saliency_temperature"):
        run_config({"loss.saliency_temperature": 0.0})


@pytest.mark.parametrize("kind", SALIENCY_LOSSES)
@pytest.mark.parametrize("fusion", ["rd", "cross_attention", "concat"])
def test_a_training_step_runs_with_each_loss(kind, fusion, tmp_path):
    data = toy_highlight_samples(4, seed=0), toy_highlight_samples(2, seed=1)
    config = run_config({"data.dataset": "tvsum", "data.max_clips": None, "model.hd_only": True,
                         "model.fusion": fusion, "model.hidden": 16, "model.heads": 2,
                         "model.ffn_dim": 32, "model.enc_layers": 1, "model.rd.channels": 4,
                         "loss.saliency_loss": kind, "optim.batch_size": 4, "optim.epochs": 2,
                         "optim.lr": 1e-3, "progress": False, "device": "cpu"})
    summary = engine.train(config, tmp_path, datasets=data)
    last = summary["last"]
    assert summary["epochs"] == 2 and math.isfinite(last["train_loss"])
    assert "top5-mAP" in last["val"]
    if kind != "pair_hinge":
        assert last["train"]["saliency"] > 0
