"""Batched runs (:mod:`rdmf.train.batched`): R runs vectorised over runs equal R one-by-one
engine runs (float64, dropout off), and each run is evaluated on its own val video."""

from __future__ import annotations

import math

import pytest
import torch

from rdmf.train import engine
from rdmf.train.batched import BatchedRun, clip_per_run, train_batched
from rdmf.train.checkpoint import LAST, load_checkpoint
from rdmf.train.config import run_config
from rdmf.train.toy import toy_highlight_samples

STEPS = 20


def _config(fusion: str, kind: str = "all_pairs", **changes):
    return run_config({"data.dataset": "tvsum", "data.max_clips": None, "model.hd_only": True,
                       "model.fusion": fusion, "model.hidden": 16, "model.heads": 2,
                       "model.ffn_dim": 32, "model.enc_layers": 1, "model.cross_layers": 1,
                       "model.rd.channels": 4, "model.rd.steps": 4, "model.dropout": 0.0,
                       "model.input_dropout": 0.0, "loss.saliency_loss": kind,
                       "optim.batch_size": 4, "optim.epochs": STEPS, "optim.lr": 1e-3,
                       "optim.grad_clip": 0.1, "eval.every": 10, "progress": False,
                       "device": "cpu", **changes})


def _runs() -> list[BatchedRun]:
    """3 runs: other seeds, other videos, one with 3 train videos (a filler slot in its
    batch) and 2 val videos."""
    return [BatchedRun(0, toy_highlight_samples(4, seed=10), toy_highlight_samples(1, seed=11), "a"),
            BatchedRun(1, toy_highlight_samples(3, seed=20, num_clips=16),
                       toy_highlight_samples(2, seed=21), "b"),
            BatchedRun(7, toy_highlight_samples(4, seed=30, num_clips=9),
                       toy_highlight_samples(1, seed=31), "c")]


@pytest.fixture()
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.mark.parametrize("fusion,kind", [("concat", "all_pairs"), ("cross_attention", "listwise"),
                                         ("cross_attention", "pair_hinge"), ("rd", "all_pairs")])
def test_batched_runs_equal_one_by_one_engine_runs(fusion, kind, float64, tmp_path):
    config = _config(fusion, kind)
    runs = _runs()
    result = train_batched(config, runs)
    assert result.steps == STEPS
    for r, run in enumerate(runs):
        folder = tmp_path / f"run{r}"
        summary = engine.train(config.replace({"seed": run.seed}), folder,
                               datasets=(run.train, run.val))
        alone = load_checkpoint(folder / LAST)["model"]
        batched = result.stack.state_dict(r)
        assert set(alone) == set(batched)
        for name, value in alone.items():
            assert value.dtype == torch.float64
            assert batched[name].dtype == value.dtype
            # relative to the tensor's largest entry; the floor covers tensors that stay at
            # rounding noise (~1e-12) because a ranking loss cannot see them (a bias that shifts
            # every score of a video alike)
            scale = value.abs().max().clamp(min=1e-3)
            assert (batched[name] - value).abs().max() / scale < 1e-6, (run.name, name)
        # the same metrics on the run's own val videos, at every evaluated epoch
        mine = result.runs[r]
        assert mine["last"]["top5-mAP"] == summary["last"]["val"]["top5-mAP"]
        assert mine["best_epoch"] == summary["best_epoch"]
        assert math.isclose(mine["history"][-1]["train_loss"], summary["last"]["train_loss"],
                            rel_tol=1e-6)


def test_training_moved_every_run_differently(float64):
    result = train_batched(_config("concat"), _runs(), evaluate=False)
    first = [result.stack.state_dict(r)["saliency_head.linear.weight"] for r in range(3)]
    assert not torch.allclose(first[0], first[1]) and not torch.allclose(first[1], first[2])
    assert all("val" not in row for row in result.runs[0]["history"])


def test_per_run_clipping_is_clip_grad_norm_of_each_run():
    torch.manual_seed(0)
    grads = [torch.randn(3, 4, 5), torch.randn(3, 7)]
    grads[0][2] *= 1e-3                               # run 2 is below the limit
    grads[1][2] *= 1e-3
    expected = []
    for r in range(3):
        own = [g[r].clone().requires_grad_() for g in grads]
        for t in own:
            t.grad = t.detach().clone()
        norm = torch.nn.utils.clip_grad_norm_(own, 0.5)
        expected.append(([t.grad for t in own], norm))
    norms = clip_per_run(grads, 0.5)
    for r, (clipped, norm) in enumerate(expected):
        assert torch.allclose(norms[r], norm)
        for g, want in zip(grads, clipped):
            assert torch.allclose(g[r], want)


def test_outside_the_scope_is_refused():
    runs = _runs()
    with pytest.raises(ValueError, match="model.hd_only"):
        train_batched(_config("concat", **{"model.hd_only": False}), runs)
    with pytest.raises(ValueError, match="query_negatives"):
        train_batched(_config("concat", **{"loss.query_negatives": True}), runs)
    unequal = runs + [BatchedRun(3, toy_highlight_samples(9, seed=5), runs[0].val)]
    with pytest.raises(ValueError, match="same number of batches per epoch"):
        train_batched(_config("concat"), unequal)
