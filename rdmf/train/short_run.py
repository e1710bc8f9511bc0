"""A short CPU run of every fusion on the synthetic CI set next to the trivial predictors: the
"learns for real" check (tests/test_train_learns.py) and the numbers of its report
(benchmarks/short_run.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rdmf.data import build_dataset
from rdmf.data import trivial
from rdmf.eval import evaluate_qvhighlights

from .config import preset
from .engine import train

#: the short-run recipe: a narrow model, few epochs, measured to fit minutes on 2 CPU cores.
#: Changes to the reference training (all fusions alike), each measured on the v2 CI set (see
#: docs/training.md, "Short run"): QD-DETR's query-conditioned saliency read-out (``text_dot``)
#: and a dense per-clip relevance BCE (UMT / UniVTG) give the encoder a signal on every clip, not
#: only on 2 sampled pairs; batch 4 makes 4× the optimiser steps per epoch at about the same wall
#: time; no dropout and gradient clip 1.0 because a 64-d model trained for ~900 steps underfits.
SHORT_RUN = dict(hidden=64, heads=4, ffn_dim=256, dropout=0.0, input_dropout=0.0, lr=1e-3,
                 batch_size=4, epochs=12, grad_clip=1.0, saliency_head="text_dot",
                 loss_dense_saliency=1.0, decoder_queries="proposals", progress=False)
KEYS = ("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")


def trivial_metrics(size: str = "ci", data_seed: int = 0, clip_noise: float = 1.0) -> dict:
    """Brief metrics of every trivial predictor on the synthetic val split."""
    kw = {"size": size, "seed": data_seed, "clip_noise": clip_noise}
    train_set = list(build_dataset("synthetic", "train", **kw))
    val_set = list(build_dataset("synthetic", "val", **kw))
    gt = trivial.ground_truth_rows(val_set)
    return {name: {k: evaluate_qvhighlights(trivial.predict(name, train_set, val_set), gt)["brief"][k]
                   for k in KEYS} for name in trivial.PREDICTORS}


def compare(run_root: str | Path, fusions=("rd", "cross_attention", "concat"), seed: int = 0,
            **changes) -> dict:
    """Train each fusion with the short-run recipe; return their val metrics and timings."""
    settings = {**SHORT_RUN, **changes}
    settings["eval_every"] = settings["epochs"]
    out = {"settings": {**settings, "seed": seed}, "fusions": {}}
    for fusion in fusions:
        t0 = time.time()
        config = preset("synthetic", fusion=fusion, seed=seed, **settings)
        train(config, Path(run_root) / fusion)
        last = _last_row(Path(run_root) / fusion)
        out["fusions"][fusion] = {**{k: last["val"][k] for k in KEYS},
                                  "train_loss": round(last["train_loss"], 4),
                                  "wall_s": round(time.time() - t0, 1)}
    return out


def _last_row(run_dir: Path) -> dict:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1])
