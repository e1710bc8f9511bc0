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

from .config import FLAT_NAMES, PRESETS, flatten, preset
from .engine import train

#: the short-run recipe: the synthetic preset (a narrow model, batch 4, 12 epochs ≈ 900 steps,
#: measured to take about a minute per fusion on 2 CPU cores), the same for every fusion. Its
#: changes to the reference training are listed, with what each brought, in docs/training.md,
#: "Short run".
SHORT_RUN = {**{k: v for k, v in flatten(PRESETS["synthetic"]).items() if k != "data.dataset"},
             "progress": False}
KEYS = ("MR-full-mAP", "MR-full-R1@0.5", "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1")
#: the "learns for real" bar (fixed before the first fusion was trained on generator v5): a
#: fusion's val metric must exceed the best trivial predictor's by this many points, on both
LEARNS_MARGIN = {"MR-full-mAP": 5.0, "HL-min-VeryGood-mAP": 5.0}


def learns_failures(metrics: dict, floor: dict) -> list[str]:
    """Why ``metrics`` (one fusion's val metrics) miss the bar over the trivial predictors
    ``floor`` (name -> metrics); empty when it clears it."""
    failures = []
    for key, margin in LEARNS_MARGIN.items():
        best_name = max(floor, key=lambda n: floor[n][key])
        bar = floor[best_name][key] + margin
        if not metrics[key] > bar:
            failures.append(f"{key} {metrics[key]:.2f} ≤ {bar:.2f} (trivial {best_name} "
                            f"{floor[best_name][key]:.2f} + {margin:g})")
    return failures


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
    settings = {**SHORT_RUN, **{FLAT_NAMES.get(k, k): v for k, v in changes.items()}}
    settings["eval.every"] = settings["optim.epochs"]
    out = {"settings": {**settings, "seed": seed}, "fusions": {}}
    for fusion in fusions:
        t0 = time.time()
        config = preset("synthetic", {**settings, "model.fusion": fusion, "seed": seed})
        train(config, Path(run_root) / fusion)
        last = _last_row(Path(run_root) / fusion)
        out["fusions"][fusion] = {**{k: last["val"][k] for k in KEYS},
                                  "train_loss": round(last["train_loss"], 4),
                                  "wall_s": round(time.time() - t0, 1)}
    return out


def _last_row(run_dir: Path) -> dict:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1])
