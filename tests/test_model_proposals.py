"""Decoder query variants: learned anchors (DAB-DETR) and two-stage dense proposals."""

from __future__ import annotations

import pytest
import torch

from rdmf.data.sample import collate
from rdmf.model import build_model
from rdmf.model.losses import Criterion
from rdmf.model.proposals import (clip_centers, gather_proposals, proposal_targets,
                                  select_proposals)
from rdmf.model.transformer import span_sine_embedding
from rdmf.train.config import run_config
from rdmf.train.toy import toy_samples

SMALL = dict(hidden=32, heads=4, ffn_dim=64, enc_layers=1, dec_layers=2, rd_channels=4,
             video_dim=16, text_dim=8)


def _model(fusion, **changes):
    torch.manual_seed(0)
    return build_model(run_config(fusion=fusion, **{**SMALL, **changes}).model).eval()


def _tensors(batch):
    return batch.video, batch.video_mask, batch.text, batch.text_mask


def test_unknown_decoder_queries_is_a_clear_error():
    with pytest.raises(ValueError, match="decoder_queries.*'grid'.*learned, anchors, proposals"):
        run_config(decoder_queries="grid")


def test_clip_centers_tile_the_real_clips():
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    assert torch.allclose(clip_centers(mask)[0], torch.tensor([0.125, 0.375, 0.625, 0.875]))
    assert torch.allclose(clip_centers(mask)[1, :2], torch.tensor([0.25, 0.75]))


def test_proposal_targets_mark_the_clips_inside_and_their_distances():
    mask = torch.ones(1, 10, dtype=torch.bool)
    # one moment over clips 2..4 (normalised [0.2, 0.5]); centres 0.25, 0.35, 0.45 are inside
    inside, dist = proposal_targets([torch.tensor([[0.35, 0.3]])], mask)
    assert inside[0].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert torch.allclose(dist[0, 2], torch.tensor([0.05, 0.25]))
    assert torch.allclose(dist[0, 4], torch.tensor([0.25, 0.05]))
    assert (dist[0, inside[0] == 0] == 0).all()
    # padded clips are never inside
    mask[0, 3:] = False
    inside, _ = proposal_targets([torch.tensor([[0.5, 1.0]])], mask)
    assert inside[0, 3:].sum() == 0 and inside[0, :3].sum() == 3


def test_select_proposals_suppresses_duplicates_and_skips_padding():
    logits = torch.tensor([[5.0, 4.0, 3.0, 2.0, 9.0]])
    windows = torch.tensor([[[0.0, 0.4], [0.0, 0.41], [0.5, 0.7], [0.8, 0.9], [0.0, 1.0]]])
    mask = torch.tensor([[True, True, True, True, False]])
    index = select_proposals(logits, windows, mask, k=3)
    # clip 4 is padding; clip 1 duplicates clip 0 (IoU 0.98) and is skipped
    assert index[0].tolist() == [0, 2, 3]
    # more queries than distinct windows: the skipped duplicate fills in
    assert select_proposals(logits, windows, mask, k=4)[0].tolist() == [0, 2, 3, 1]
    spans = gather_proposals(windows, index)
    assert torch.allclose(spans[0, 0], torch.tensor([0.2, 0.4]))


def test_span_sine_embedding_separates_center_and_width():
    a = span_sine_embedding(torch.tensor([[0.2, 0.1]]), 16)
    b = span_sine_embedding(torch.tensor([[0.2, 0.3]]), 16)
    assert a.shape == (1, 16)
    assert torch.allclose(a[:, :8], b[:, :8]) and not torch.allclose(a[:, 8:], b[:, 8:])


@pytest.mark.parametrize("queries", ["anchors", "proposals"])
@pytest.mark.parametrize("fusion", ["rd", "concat", "cross_attention"])
def test_query_variants_shapes_and_padding_invariance(fusion, queries):
    model = _model(fusion, decoder_queries=queries)
    samples = toy_samples(3, seed=4)
    together = model(*_tensors(collate(samples)))
    assert together["pred_spans"].shape == (3, 10, 2) and len(together["aux"]) == 1
    assert ((together["pred_spans"] > 0) & (together["pred_spans"] < 1)).all()
    for i, sample in enumerate(samples):
        alone = model(*_tensors(collate([sample])))
        assert torch.allclose(together["pred_spans"][i], alone["pred_spans"][0], atol=1e-4)
        assert torch.allclose(together["pred_logits"][i], alone["pred_logits"][0], atol=1e-4)


def test_anchor_decoder_starts_from_its_anchors():
    model = _model("concat", decoder_queries="anchors")
    out = model(*_tensors(collate(toy_samples(2, seed=1))))
    anchors = model.decoder.anchors.sigmoid()
    # the offset head starts at zero: every layer predicts the anchors themselves
    assert torch.allclose(out["pred_spans"][0], anchors, atol=1e-5)


def test_proposal_losses_train_the_proposal_head():
    model = _model("concat", decoder_queries="proposals")
    model.train()
    batch = collate(toy_samples(3, seed=2))
    out = model(*_tensors(batch))
    total, losses = Criterion(run_config().loss)(out, batch.spans, batch.saliency, batch.video_mask)
    assert {"proposal_class", "proposal_span"} <= set(losses)
    total.backward()
    grads = [p.grad for p in model.proposal_head.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
