"""What a model costs: trainable parameters and training FLOPs per optimiser step.

FLOPs are counted by :class:`torch.utils.flop_counter.FlopCounterMode` over one forward and
backward pass of one training batch of real samples (the model's own batch size), the loss
included. The counter covers matrix products and convolutions (the bulk of every model here);
element-wise work (activations, the reaction terms, normalisations) is not counted, and neither
are the recurrent kernels of the GRU, whose matrix products :func:`gru_flops` adds by formula.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from .protocols import FLOORS, Shard, budget, floor_config, shard_config


def gru_flops(batch: int, length: int, width: int, layers: int = 1) -> int:
    """Multiply-add FLOPs (2 per MAC) of a bidirectional GRU's matrix products, forward and
    backward (3×): per direction and step 3 gates × (input + hidden) × hidden."""
    hidden = width // 2
    per_step = 2 * 3 * (width + hidden) * hidden * 2     # 2 FLOPs/MAC, 2 directions
    return int(3 * per_step * batch * length * layers)


def count_parameters(model: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _floor_step(name: str, samples: Sequence, config) -> tuple[int, int]:
    from rdmf.baselines.fit import TARGETS, floor_logits, padded_targets, relevance_targets
    from rdmf.baselines.models import build_floor
    from rdmf.data.sample import collate
    import torch.nn.functional as F
    chunk = list(samples[:config.batch_size])
    batch = collate(chunk)
    kw = ({"layers": config.conv_layers, "kernel": config.kernel} if name == "conv1d" else
          {"layers": config.gru_layers} if name == "bigru" else {})
    model = build_floor(name, batch.video.shape[-1], batch.text.shape[-1], config.width,
                        config.dropout, **kw)
    y = padded_targets(relevance_targets(chunk, TARGETS["synthetic"]), batch.video.shape[1])
    with FlopCounterMode(display=False) as counter:
        loss = F.binary_cross_entropy_with_logits(floor_logits(model, batch), y)
        loss.backward()
    flops = counter.get_total_flops()
    if name == "bigru":
        flops += gru_flops(len(chunk), batch.video.shape[1], config.width, config.gru_layers)
    return count_parameters(model), int(flops)


def _fusion_step(config, samples: Sequence) -> tuple[int, int]:
    from rdmf.data.sample import collate
    from rdmf.train.engine import build_parts, forward_batch, with_feature_dims
    config = with_feature_dims(config, samples, samples)
    parts = build_parts(config, torch.device("cpu"))
    batch = collate(list(samples[:config.optim.batch_size]))
    seeds = list(range(len(batch)))
    with FlopCounterMode(display=False) as counter:
        out = forward_batch(parts.model, batch, negatives=config.loss.query_negatives and len(batch) > 1)
        loss, _ = parts.criterion(out, batch.spans, batch.saliency, batch.video_mask, seeds)
        loss.backward()
    return count_parameters(parts.model), int(counter.get_total_flops())


def shard_cost(profile: str, group: str, shard: Shard, samples: Sequence) -> dict:
    """``{"n_params", "flops_per_step", "batch_size"}`` of a shard's model on ``samples``
    (training samples; the first batch is used)."""
    torch.manual_seed(0)
    if shard.fusion in FLOORS:
        config = floor_config(profile, group, shard)
        name = "per_clip" if shard.fusion == "per_clip_smooth" else shard.fusion
        params, flops = _floor_step(name, samples, config)
        batch = config.batch_size
    else:
        config = shard_config(profile, group, shard)
        params, flops = _fusion_step(config, samples)
        batch = config.optim.batch_size
    return {"n_params": params, "flops_per_step": flops, "batch_size": int(batch),
            "epochs": budget(profile, group).epochs}
